/* Membership edits of a cluster in memory, shared by `etcdwiz member` and
 * the wizard's Members screen: add a member, take one out, move one to a
 * new host. Each refuses with a message that names the member and says
 * what to do instead; nothing is changed when it refuses. The caller
 * validates the result (cluster_validate) and applies it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"

static struct host *member_named(struct cluster *c, const char *name, size_t *at)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (strcmp(c->members[i].name, name) == 0) {
			if (at)
				*at = i;
			return &c->members[i];
		}
	return NULL;
}

enum wiz_err cluster_member_add(struct cluster *c, const char *name, const char *address,
				struct wiz_error *err)
{
	struct host *m;

	if (name[0] == '\0' || address[0] == '\0')
		return wiz_error_set(err, WIZ_ERR_INVALID, _("a new member needs a name and an address"));
	if (member_named(c, name, NULL) != NULL)
		return wiz_error_set(err, WIZ_ERR_INVALID,
				     _("%s is a member of cluster %s already; to move it to another address, replace it"),
				     name, c->name);
	for (size_t i = 0; i < c->n_members; i++)
		if (strcmp(c->members[i].address, address) == 0)
			return wiz_error_set(err, WIZ_ERR_INVALID, _("%s is the address of member %s already"),
					     address, c->members[i].name);
	c->members = xreallocarray(c->members, c->n_members + 1, sizeof *c->members);
	m = &c->members[c->n_members++];
	memset(m, 0, sizeof *m);
	m->name = xstrdup(name);
	m->address = xstrdup(address);
	m->ssh.sudo = -1;	/* the cluster's ssh.sudo */
	return WIZ_ERR_OK;
}

enum wiz_err cluster_member_take(struct cluster *c, const char *name, struct host *gone,
				 struct wiz_error *err)
{
	size_t i;

	if (member_named(c, name, &i) == NULL)
		return wiz_error_set(err, WIZ_ERR_NOTFOUND, _("%s is not a member of cluster %s"), name,
				     c->name);
	if (c->n_members == 1)
		return wiz_error_set(err, WIZ_ERR_INVALID,
				     _("%s is the only member of cluster %s: a cluster keeps at least one member"),
				     name, c->name);
	*gone = c->members[i];
	memmove(&c->members[i], &c->members[i + 1], (c->n_members - i - 1) * sizeof *c->members);
	c->n_members--;
	return WIZ_ERR_OK;
}

enum wiz_err cluster_member_move(struct cluster *c, const char *name, const char *address,
				 struct host *old, bool *pin_dropped, struct wiz_error *err)
{
	struct host *m = member_named(c, name, NULL);

	*pin_dropped = false;
	if (m == NULL)
		return wiz_error_set(err, WIZ_ERR_NOTFOUND, _("%s is not a member of cluster %s; add it instead"),
				     name, c->name);
	if (address[0] == '\0')
		return wiz_error_set(err, WIZ_ERR_INVALID, _("%s needs a new address"), name);
	if (strcmp(m->address, address) == 0)
		return wiz_error_set(err, WIZ_ERR_INVALID, _("%s is at %s already"), name, address);
	for (size_t i = 0; i < c->n_members; i++)
		if (strcmp(c->members[i].address, address) == 0)
			return wiz_error_set(err, WIZ_ERR_INVALID, _("%s is the address of member %s already"),
					     address, c->members[i].name);
	/* The old host as it was (its own strings, for the caller to free
	 * with cluster_host_free), reached where SSH reached it. */
	memset(old, 0, sizeof *old);
	old->name = xstrdup(m->name);
	old->address = m->address;
	old->ssh = m->ssh;
	old->ssh.user = m->ssh.user ? xstrdup(m->ssh.user) : NULL;
	old->ssh.identity_file = m->ssh.identity_file ? xstrdup(m->ssh.identity_file) : NULL;
	old->ssh.known_hosts = m->ssh.known_hosts ? xstrdup(m->ssh.known_hosts) : NULL;
	m->address = xstrdup(address);
	old->ssh_host = m->ssh_host;	/* where SSH reaches the old host */
	m->ssh_host = NULL;
	/* A new host has a new key: the old host's pin would refuse it. */
	if (kvlist_get(&c->host_keys, name) != NULL) {
		kvlist_unset(&c->host_keys, name);
		*pin_dropped = true;
	}
	return WIZ_ERR_OK;
}
