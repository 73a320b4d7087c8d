/* The live member list against the cluster file (membership.h). */
#include "config.h"

#include "install/membership.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/strutil.h"
#include "base/xmalloc.h"

static void members_free(struct live_cluster *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->members[i].name);
		free(l->members[i].peer_url);
		free(l->members[i].client_url);
	}
	free(l->members);
	free(l->asked);
	l->members = NULL;
	l->asked = NULL;
	l->n = 0;
}

void live_cluster_set(struct live_cluster *l, const struct etcd_member_list *list,
		      const char *asked)
{
	members_free(l);
	l->members = xcalloc(list->n_members ? list->n_members : 1, sizeof *l->members);
	l->n = list->n_members;
	for (size_t i = 0; i < list->n_members; i++) {
		const struct etcd_member *m = &list->members[i];
		struct live_member *lm = &l->members[i];

		lm->id = m->id;
		lm->name = xstrdup(m->name ? m->name : "");
		lm->peer_url = xstrdup(m->peer_urls.n ? m->peer_urls.items[0] : "");
		lm->client_url = xstrdup(m->client_urls.n ? m->client_urls.items[0] : "");
		lm->learner = m->is_learner;
	}
	l->asked = xstrdup(asked ? asked : "");
	l->known = l->running = true;
	l->why[0] = '\0';
}

void live_cluster_free(struct live_cluster *l)
{
	members_free(l);
	memset(l, 0, sizeof *l);
}

const struct live_member *live_find_peer(const struct live_cluster *l, const char *peer_url)
{
	for (size_t i = 0; l != NULL && i < l->n; i++)
		if (strcmp(l->members[i].peer_url, peer_url) == 0)
			return &l->members[i];
	return NULL;
}

const struct live_member *live_find_name(const struct live_cluster *l, const char *name)
{
	for (size_t i = 0; l != NULL && i < l->n && name[0]; i++)
		if (strcmp(l->members[i].name, name) == 0)
			return &l->members[i];
	return NULL;
}

size_t live_voters(const struct live_cluster *l)
{
	size_t n = 0;

	for (size_t i = 0; l != NULL && i < l->n; i++)
		n += !l->members[i].learner;
	return n;
}

char *member_peer_url(const struct host *m)
{
	return url_for("https", m->address, 2380);
}

enum member_change membership_change(const struct cluster *c, const struct live_cluster *l,
				     size_t i, const struct live_member **found)
{
	const struct host *m = &c->members[i];
	char *peer = member_peer_url(m);
	const struct live_member *lm = NULL;
	enum member_change r;

	if (l == NULL || !l->running) {
		r = MEMBER_BOOTSTRAP;
	} else if ((lm = live_find_peer(l, peer)) != NULL) {
		r = lm->learner ? MEMBER_PROMOTE : MEMBER_KEEP;
	} else if ((lm = live_find_name(l, m->name)) != NULL) {
		r = MEMBER_REPLACE;
	} else {
		r = MEMBER_ADD;
	}
	free(peer);
	if (found != NULL)
		*found = lm;
	return r;
}

bool membership_in_file(const struct cluster *c, const struct live_member *lm)
{
	bool in = false;

	for (size_t i = 0; i < c->n_members && !in; i++) {
		char *peer = member_peer_url(&c->members[i]);

		in = strcmp(peer, lm->peer_url) == 0 || strcmp(c->members[i].name, lm->name) == 0;
		free(peer);
	}
	return in;
}

/* etcdctl's spelling of a member id (hex), which admins paste. */
const char *member_hex_id(char *buf, uint64_t id)
{
	snprintf(buf, 17, "%016" PRIx64, id);
	return buf;
}

enum member_leave membership_leaves(const struct cluster *c, const struct live_cluster *l,
				    const struct live_member *lm)
{
	for (size_t i = 0; i < c->n_members; i++) {
		char *peer = member_peer_url(&c->members[i]);
		bool same_url = strcmp(peer, lm->peer_url) == 0;

		free(peer);
		if (same_url)
			return LEAVE_NO;
	}
	for (size_t i = 0; i < c->n_members; i++)
		if (lm->name[0] && strcmp(c->members[i].name, lm->name) == 0)
			return LEAVE_REPLACED;
	if (l->prune && (l->prune_only == NULL || strlist_contains(l->prune_only, lm->name)))
		return LEAVE_PRUNE;
	return LEAVE_NO;
}

char *membership_refusal(const struct cluster *c, const struct live_cluster *l)
{
	size_t voters = live_voters(l), healthy = 0;

	if (l == NULL || !l->running)
		return NULL;
	for (size_t k = 0; k < l->n; k++) {
		const struct live_member *lm = &l->members[k];

		if (!lm->learner && membership_leaves(c, l, lm) == LEAVE_NO && lm->viewed &&
		    lm->view.answered && lm->view.healthy)
			healthy++;
	}
	for (size_t k = 0; k < l->n; k++) {
		const struct live_member *lm = &l->members[k];
		enum member_leave why = membership_leaves(c, l, lm);
		size_t after;

		if (why == LEAVE_NO)
			continue;
		after = voters - (lm->learner ? 0 : 1);
		if (after == 0)
			return xasprintf(_("removing %s would leave the cluster with no voting member; nothing was removed"),
					 lm->name[0] ? lm->name : lm->peer_url);
		if (healthy < after / 2 + 1)
			return xasprintf(_("removing %s would leave %zu of %zu voting members healthy, fewer than the quorum of %zu; nothing was removed%s"),
					 lm->name[0] ? lm->name : lm->peer_url, healthy, after, after / 2 + 1,
					 why == LEAVE_REPLACED
						 ? _(": the cluster cannot lose another member now. Bring the unhealthy members back first; if quorum is lost already, the way back is a restore from a snapshot (docs/operations.md, \"Restoring\")")
						 : _(": bring the unhealthy members back first"));
		voters = after;
	}
	return NULL;
}

/* The file's name for a live member's URL, else its own name. */
static const char *name_for(const struct cluster *c, const struct live_member *lm)
{
	for (size_t i = 0; i < c->n_members; i++) {
		char *peer = member_peer_url(&c->members[i]);
		bool same = strcmp(peer, lm->peer_url) == 0;

		free(peer);
		if (same)
			return c->members[i].name;
	}
	return lm->name;
}

static void add_entry(char **list, const char *name, const char *url)
{
	char *next = xasprintf("%s%s%s=%s", *list, (*list)[0] ? "," : "", name, url);

	free(*list);
	*list = next;
}

char *membership_initial_cluster(const struct cluster *c, const struct live_cluster *l, size_t i)
{
	char *out;

	if (l == NULL || !l->running)
		return NULL;
	out = xstrdup("");
	for (size_t k = 0; k < l->n; k++)
		if (membership_leaves(c, l, &l->members[k]) == LEAVE_NO)
			add_entry(&out, name_for(c, &l->members[k]), l->members[k].peer_url);
	for (size_t k = 0; k <= i && k < c->n_members; k++) {
		enum member_change ch = membership_change(c, l, k, NULL);

		if ((ch == MEMBER_ADD || ch == MEMBER_REPLACE) &&
		    (k == i || l->joinable == NULL || strlist_contains(l->joinable, c->members[k].name))) {
			char *peer = member_peer_url(&c->members[k]);

			add_entry(&out, c->members[k].name, peer);
			free(peer);
		}
	}
	return out;
}

static const char *say(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static const char *say(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return buf;
}


static const char *role_of(const struct live_member *lm)
{
	if (lm->learner)
		return _("learner");
	if (lm->viewed && lm->view.leader)
		return _("leader");
	return _("voter");
}

static const char *health_of(const struct live_member *lm, char *buf, size_t n)
{
	if (!lm->name[0])
		return _("never started");
	if (!lm->viewed)
		return lm->in_file ? _("not asked (outside --limit, or its host is not connected)")
				   : _("not asked: not in the cluster file");
	if (!lm->view.answered)
		snprintf(buf, n, _("no answer (%s)"), lm->view.detail);
	else if (!lm->view.healthy)
		snprintf(buf, n, _("not healthy (%s)"), lm->view.detail);
	else
		snprintf(buf, n, _("healthy, etcd %s"), lm->view.version[0] ? lm->view.version : "?");
	return buf;
}

void membership_print(const struct cluster *c, const struct live_cluster *l, bool snapshot_first,
		      FILE *out)
{
	char buf[400], id[17];

	fprintf(out, "== %s ==\n", _("cluster"));
	if (l == NULL || !l->known) {
		fprintf(out, "  %s\n", _("not read"));
		return;
	}
	if (!l->running) {
		fprintf(out, "  %s%s%s\n", _("not running: the members in the file bootstrap a new cluster"),
			l->why[0] ? "; " : "", l->why);
		return;
	}
	fprintf(out, "  %s\n", l->asked[0] ? say(buf, sizeof buf, _("running (member list from %s)"), l->asked)
					    : _("running"));
	for (size_t k = 0; k < l->n; k++) {
		const struct live_member *lm = &l->members[k];
		char hb[200];

		fprintf(out, "  %-12s %s  %-8s %s\n", lm->name[0] ? lm->name : "?", member_hex_id(id, lm->id),
			role_of(lm), health_of(lm, hb, sizeof hb));
	}
	for (size_t i = 0; i < c->n_members; i++) {
		const struct live_member *lm;
		enum member_change ch = membership_change(c, l, i, &lm);

		switch (ch) {
		case MEMBER_ADD:
			fprintf(out, "  + %s\n", say(buf, sizeof buf,
				_("add %s as a learner, wait until it has caught up, promote it"),
				c->members[i].name));
			break;
		case MEMBER_PROMOTE:
			fprintf(out, "  + %s\n", say(buf, sizeof buf,
				_("%s is a learner already (id %s): start it if needed, promote it once it has caught up"),
				c->members[i].name, member_hex_id(id, lm->id)));
			break;
		case MEMBER_REPLACE:
			fprintf(out, "  ~ %s\n", say(buf, sizeof buf,
				_("replace %s: remove it (id %s, peer URL %s) first, then add it at %s as a learner, wait until it has caught up, promote it"),
				c->members[i].name, member_hex_id(id, lm->id), lm->peer_url, c->members[i].address));
			break;
		case MEMBER_BOOTSTRAP:
		case MEMBER_KEEP:
			break;
		}
	}
	for (size_t k = 0; k < l->n; k++) {
		const struct live_member *lm = &l->members[k];
		const char *name = lm->name[0] ? lm->name : lm->peer_url;

		if (membership_in_file(c, lm))
			continue;
		if (membership_leaves(c, l, lm) == LEAVE_PRUNE)
			fprintf(out, "  - %s\n", say(buf, sizeof buf,
				_("remove %s (id %s)%s; its manifest and data directory are moved aside on its host"),
				name, member_hex_id(id, lm->id), lm->viewed && lm->view.leader
					? _(", moving the leadership away first") : ""));
		else
			fprintf(out, "  ! %s\n", say(buf, sizeof buf,
				_("%s (id %s) is in the cluster but not in the cluster file: kept; 'apply --prune-members' removes it"),
				name, member_hex_id(id, lm->id)));
	}
	{
		char *no = membership_refusal(c, l);

		if (no != NULL)
			fprintf(out, "  ! %s: %s\n", _("refused"), no);
		free(no);
	}
	if (snapshot_first && membership_changes(c, l) > 0)
		fprintf(out, "  %s\n", _("a snapshot is taken first, from a healthy voting member, into the local backups (as 'etcdwiz backup' does)"));
}

size_t membership_changes(const struct cluster *c, const struct live_cluster *l)
{
	size_t n = 0;

	if (l == NULL || !l->running)
		return 0;
	for (size_t i = 0; i < c->n_members; i++) {
		enum member_change ch = membership_change(c, l, i, NULL);

		n += ch == MEMBER_ADD || ch == MEMBER_REPLACE || ch == MEMBER_PROMOTE;
	}
	for (size_t k = 0; k < l->n; k++)
		n += membership_leaves(c, l, &l->members[k]) == LEAVE_PRUNE;
	return n;
}
