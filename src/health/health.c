/* The health model: member records, histories, cluster evaluation, alerts
 * and the JSON snapshot. */
#include "config.h"

#include "health/health.h"

#include <gnutls/x509.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/i18n.h"
#include "base/xmalloc.h"

static const struct {
	const char *label, *json;
} badge_info[] = {
#define HEALTH_BADGE_ROW(id, label, json) { label, json },
	HEALTH_BADGE_INFO(HEALTH_BADGE_ROW)
#undef HEALTH_BADGE_ROW
};

static const struct {
	const char *label, *json;
} role_info[] = {
#define HEALTH_ROLE_ROW(id, label, json) { label, json },
	HEALTH_ROLE_INFO(HEALTH_ROLE_ROW)
#undef HEALTH_ROLE_ROW
};

const char *health_badge_label(enum health_badge b)
{
	return (unsigned)b < HEALTH_BADGE_COUNT ? _(badge_info[b].label) : "?";
}

const char *health_badge_json(enum health_badge b)
{
	return (unsigned)b < HEALTH_BADGE_COUNT ? badge_info[b].json : "?";
}

static const struct {
	const char *label, *json;
} pod_info[] = {
#define HEALTH_POD_ROW(id, label, json) { label, json },
	HEALTH_HOST_POD_INFO(HEALTH_POD_ROW)
#undef HEALTH_POD_ROW
};

const char *health_pod_label(enum health_pod p)
{
	return (unsigned)p < POD_COUNT ? _(pod_info[p].label) : "?";
}

const char *health_pod_json(enum health_pod p)
{
	return (unsigned)p < POD_COUNT ? pod_info[p].json : "?";
}

static const char *const transport_json[] = {
#define HEALTH_TRANSPORT_ROW(id, json) json,
	HEALTH_TRANSPORT_INFO(HEALTH_TRANSPORT_ROW)
#undef HEALTH_TRANSPORT_ROW
};

const char *health_transport_json(enum health_transport t)
{
	return (unsigned)t < TRANSPORT_COUNT ? transport_json[t] : "?";
}

bool health_member_observed(const struct health_member *m)
{
	return m->polled && (m->reachable || m->transport == TRANSPORT_OK);
}

char *health_member_unknown_reason(const struct health_member *m)
{
	const char *host = m->transport_host && m->transport_host[0] ? m->transport_host : m->name;

	if (!m->polled || m->reachable)
		return NULL;
	switch (m->transport) {
	case TRANSPORT_UNREACHABLE: return xasprintf(_("cannot reach %s"), host);
	case TRANSPORT_LOGIN: return xasprintf(_("cannot log in to %s"), host);
	default: return NULL;
	}
}

const char *health_role_label(enum health_role r)
{
	return (unsigned)r < ROLE_COUNT ? _(role_info[r].label) : "?";
}

const char *health_role_json(enum health_role r)
{
	return (unsigned)r < ROLE_COUNT ? role_info[r].json : "?";
}

/* ---- the host check ----------------------------------------------------- */

void health_host_init(struct health_host *h)
{
	memset(h, 0, sizeof *h);
	h->disk_total = NAN;
	h->disk_avail = NAN;
	h->pod = POD_UNKNOWN;
	h->pod_restarts = h->pod_last_exit = h->pod_ready = -1;
}

const char *health_pod_text(const struct health_host *h, char *buf, size_t size)
{
	bool restarting = strcmp(h->pod_reason, "CrashLoopBackOff") == 0;

	if (restarting && h->pod_last_exit >= 0)
		snprintf(buf, size, _("restarting (%d restarts, exit %d)"), h->pod_restarts, h->pod_last_exit);
	else if (restarting)
		snprintf(buf, size, _("restarting (%d restarts)"), h->pod_restarts);
	else if (h->pod != POD_RUNNING && h->pod_reason[0] != '\0')
		snprintf(buf, size, _("%s (%s)"), health_pod_label(h->pod), h->pod_reason);
	else if (h->pod == POD_RUNNING && h->pod_ready == 0 && h->pod_restarts > 0)
		snprintf(buf, size, _("running, not ready (%d restarts)"), h->pod_restarts);
	else if (h->pod == POD_RUNNING && h->pod_ready == 0)
		snprintf(buf, size, "%s", _("running, not ready"));
	else if (h->pod == POD_RUNNING && h->pod_restarts > 0 && h->pod_last_exit >= 0)
		snprintf(buf, size, _("running (%d restarts, last exit %d)"), h->pod_restarts, h->pod_last_exit);
	else
		snprintf(buf, size, "%s", health_pod_label(h->pod));
	return buf;
}

/* notAfter of one PEM certificate, or 0 when it does not parse. */
static int64_t pem_not_after(const char *pem, size_t len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem, (unsigned)len };
	int64_t t = 0;

	if (gnutls_x509_crt_init(&crt) < 0)
		return 0;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0) {
		time_t na = gnutls_x509_crt_get_expiration_time(crt);

		if (na != (time_t)-1)
			t = (int64_t)na;
	}
	gnutls_x509_crt_deinit(crt);
	return t;
}

/* A count or exit code from the host check: -1 when it is not one. */
static int small_int(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return end != s && *end == '\0' && v >= -1 && v <= 1000000 ? (int)v : -1;
}

void health_host_parse(const char *out, size_t len, struct health_host *h)
{
	const char *p = out, *end = out + len;

	health_host_init(h);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		char line[256];
		unsigned long long total, avail;

		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
		p += n + (eol != NULL);
		if (strncmp(line, "disk ", 5) == 0) {
			char *e1, *e2;

			total = strtoull(line + 5, &e1, 10);
			avail = strtoull(e1, &e2, 10);
			if (e1 != line + 5 && e2 != e1 && *e2 == '\0') {
				h->disk_total = (double)total;
				h->disk_avail = (double)avail;
			}
		} else if (strncmp(line, "kubelet ", 8) == 0) {
			snprintf(h->kubelet, sizeof h->kubelet, "%s", line + 8);
		} else if (strcmp(line, "pod running") == 0) {
			h->pod = POD_RUNNING;
		} else if (strcmp(line, "pod not-running") == 0) {
			h->pod = POD_NOT_RUNNING;
		} else if (strncmp(line, "podstatus ", 10) == 0) {
			const char *kv = line + 10, *eq = strchr(kv, '=');

			if (eq == NULL)
				continue;
			if (strncmp(kv, "state=", 6) == 0)
				snprintf(h->pod_state, sizeof h->pod_state, "%s", eq + 1);
			else if (strncmp(kv, "reason=", 7) == 0)
				snprintf(h->pod_reason, sizeof h->pod_reason, "%s", eq + 1);
			else if (strncmp(kv, "restarts=", 9) == 0)
				h->pod_restarts = small_int(eq + 1);
			else if (strncmp(kv, "last_exit=", 10) == 0)
				h->pod_last_exit = small_int(eq + 1);
			else if (strncmp(kv, "ready=", 6) == 0)
				h->pod_ready = strcmp(eq + 1, "true") == 0 ? 1 : strcmp(eq + 1, "false") == 0 ? 0 : -1;
		} else if (strcmp(line, "backuptimer") == 0) {
			h->backup_timer = true;
		} else if (strncmp(line, "backupnext ", 11) == 0 || strncmp(line, "backupnext2 ", 12) == 0) {
			/* systemd-analyze calendar with TZ=UTC: "Thu 2026-12-03 00:00:00 UTC". */
			bool second = line[10] == '2';
			struct tm tm = { 0 };
			const char *rest = strptime(line + (second ? 12 : 11), "%a %Y-%m-%d %H:%M:%S", &tm);

			if (rest != NULL)
				*(second ? &h->backup_next2 : &h->backup_next) = (int64_t)timegm(&tm);
		} else if (strncmp(line, "backuplast @", 12) == 0) {
			long long t = strtoll(line + 12, NULL, 10);

			h->backup_last = t > 0 ? t : 0;
		} else if (strncmp(line, "backup ", 7) == 0) {
			char *e1, *e2;
			long long t = strtoll(line + 7, &e1, 10);
			long count = strtol(e1, &e2, 10);

			if (e1 != line + 7 && e2 != e1 && *e2 == '\0' && t > 0 && count > 0) {
				h->backup_newest = t;
				h->backup_count = count > 100000 ? 100000 : (int)count;
			}
		} else if (strncmp(line, "cert ", 5) == 0) {
			/* The PEM runs to its END line. */
			static const char endmark[] = "-----END CERTIFICATE-----";
			const char *pem = p, *stop = p;
			int64_t t;

			while (stop < end) {
				const char *e2 = memchr(stop, '\n', (size_t)(end - stop));
				size_t ln = e2 ? (size_t)(e2 - stop) : (size_t)(end - stop);
				bool last = ln >= sizeof endmark - 1 &&
					    memcmp(stop, endmark, sizeof endmark - 1) == 0;

				stop += ln + (e2 != NULL);
				if (last)
					break;
			}
			t = pem_not_after(pem, (size_t)(stop - pem));
			p = stop;
			if (t != 0 && (h->cert_expiry == 0 || t < h->cert_expiry)) {
				h->cert_expiry = t;
				snprintf(h->cert_file, sizeof h->cert_file, "%s", line + 5);
			}
		}
	}
}

/* ---- cluster records ---------------------------------------------------- */

void health_cluster_init(struct health_cluster *c)
{
	memset(c, 0, sizeof *c);
}

struct health_member *health_cluster_add(struct health_cluster *c, const char *name,
					 const char *endpoint)
{
	struct health_member *m;

	c->members = xreallocarray(c->members, c->n_members + 1, sizeof *c->members);
	m = &c->members[c->n_members++];
	memset(m, 0, sizeof *m);
	m->name = xstrdup(name ? name : "");
	m->endpoint = xstrdup(endpoint ? endpoint : "");
	m->latency_ms = NAN;
	m->refresh_ms = NAN;
	m->fsync_p99 = m->commit_p99 = m->peer_rtt_p99 = NAN;
	return m;
}

static void member_free(struct health_member *m)
{
	free(m->name);
	free(m->endpoint);
	free(m->error);
	free(m->transport_host);
	etcd_status_free(&m->status);
	etcd_health_free(&m->health);
	etcd_version_free(&m->version);
}

void health_cluster_free(struct health_cluster *c)
{
	for (size_t i = 0; i < c->n_members; i++)
		member_free(&c->members[i]);
	free(c->members);
	etcd_member_list_free(&c->member_list);
	etcd_alarm_list_free(&c->alarms);
	memset(c, 0, sizeof *c);
}

void health_cluster_set_member_list(struct health_cluster *c,
				    const struct etcd_member_list *l)
{
	etcd_member_list_free(&c->member_list);
	c->member_list.header = l->header;
	c->member_list.members = xcalloc(l->n_members ? l->n_members : 1, sizeof *l->members);
	c->member_list.n_members = l->n_members;
	for (size_t i = 0; i < l->n_members; i++) {
		const struct etcd_member *s = &l->members[i];
		struct etcd_member *d = &c->member_list.members[i];

		d->id = s->id;
		d->is_learner = s->is_learner;
		d->name = xstrdup(s->name ? s->name : "");
		for (size_t k = 0; k < s->peer_urls.n; k++)
			strlist_push(&d->peer_urls, s->peer_urls.items[k]);
		for (size_t k = 0; k < s->client_urls.n; k++)
			strlist_push(&d->client_urls, s->client_urls.items[k]);
	}
	c->have_member_list = true;
}

void health_cluster_set_alarms(struct health_cluster *c, const struct etcd_alarm_list *l)
{
	etcd_alarm_list_free(&c->alarms);
	c->alarms.header = l->header;
	c->alarms.alarms = xcalloc(l->n_alarms ? l->n_alarms : 1, sizeof *l->alarms);
	if (l->n_alarms)
		memcpy(c->alarms.alarms, l->alarms, l->n_alarms * sizeof *l->alarms);
	c->alarms.n_alarms = l->n_alarms;
	c->have_alarms = true;
}

/* ---- one member's refresh ------------------------------------------------ */

static double window_p99(const struct metrics_histogram *now,
			 const struct metrics_histogram *before)
{
	struct metrics_histogram d;

	metrics_histogram_delta(now, before, &d);
	return metrics_histogram_quantile(0.99, &d);
}

static void update_metrics(struct health_member *m, const struct etcd_metrics *x, uint64_t t)
{
	const struct etcd_metrics *base = NULL;

	m->metrics = *x;
	m->have_metrics = true;
	/* Two baselines half a window apart: the quantile is taken over the
	 * last 2.5 to 5 minutes, as rate(x[5m]) would. Before the first
	 * rotation it covers everything since the server started. */
	if (!m->have_base[1] || t - m->base_t[1] >= HEALTH_RATE_WINDOW_MS / 2) {
		m->base[0] = m->base[1];
		m->base_t[0] = m->base_t[1];
		m->have_base[0] = m->have_base[1];
		m->base[1] = *x;
		m->base_t[1] = t;
		m->have_base[1] = true;
	}
	if (m->have_base[0])
		base = &m->base[0];
	m->fsync_p99 = window_p99(&x->wal_fsync, base ? &base->wal_fsync : NULL);
	m->commit_p99 = window_p99(&x->backend_commit, base ? &base->backend_commit : NULL);
	m->peer_rtt_p99 = metrics_peer_rtt_quantile(0.99, x, base);
}

static void push_counters(struct health_member *m, const struct etcd_metrics *x, uint64_t t)
{
	struct health_counter_point *last = NULL, *p;

	if (m->counters_n > 0)
		last = &m->counters[(m->counters_head + HEALTH_COUNTER_SLOTS - 1) %
				    HEALTH_COUNTER_SLOTS];
	if (last != NULL && t - last->t_ms < HEALTH_COUNTER_STEP_MS)
		return;
	p = &m->counters[m->counters_head];
	p->t_ms = t;
	p->have_leader_changes = x->have[METRICS_LEADER_CHANGES];
	p->leader_changes = x->value[METRICS_LEADER_CHANGES];
	p->have_proposals_failed = x->have[METRICS_PROPOSALS_FAILED];
	p->proposals_failed = x->value[METRICS_PROPOSALS_FAILED];
	m->counters_head = (m->counters_head + 1) % HEALTH_COUNTER_SLOTS;
	if (m->counters_n < HEALTH_COUNTER_SLOTS)
		m->counters_n++;
}

void health_member_update(struct health_member *m, const struct health_observation *o)
{
	struct health_point *pt;

	m->polled = true;
	m->t_ms = o->t_ms;
	m->reachable = o->status != NULL;
	m->transport = m->reachable ? TRANSPORT_OK : o->transport;
	free(m->transport_host);
	m->transport_host = m->transport != TRANSPORT_OK && o->transport_host
				    ? xstrdup(o->transport_host) : NULL;
	m->latency_ms = o->status != NULL ? o->latency_ms : NAN;
	m->refresh_ms = o->refresh_ms;
	free(m->error);
	m->error = o->error ? xstrdup(o->error) : NULL;
	if (o->status != NULL) {
		etcd_status_free(&m->status);
		etcd_status_copy(&m->status, o->status);
		m->have_status = true;
	}
	if (o->health != NULL) {
		etcd_health_free(&m->health);
		m->health.healthy = o->health->healthy;
		m->health.reason = xstrdup(o->health->reason ? o->health->reason : "");
		m->have_health = true;
	}
	if (o->version != NULL) {
		etcd_version_free(&m->version);
		m->version.server = xstrdup(o->version->server ? o->version->server : "");
		m->version.cluster = xstrdup(o->version->cluster ? o->version->cluster : "");
		m->have_version = true;
	}
	if (o->host != NULL) {
		m->host = *o->host;
		m->have_host = true;
	}
	if (o->metrics != NULL) {
		update_metrics(m, o->metrics, o->t_ms);
		push_counters(m, o->metrics, o->t_ms);
	}
	pt = &m->hist[m->hist_head];
	pt->t_ms = o->t_ms;
	pt->latency_ms = m->latency_ms;
	/* /metrics is read less often than the rest: its last p99s stand
	 * until the next scrape, as long as the member answers. */
	pt->fsync_p99 = m->have_metrics && o->status ? m->fsync_p99 : NAN;
	pt->commit_p99 = m->have_metrics && o->status ? m->commit_p99 : NAN;
	pt->db_size = o->metrics && o->metrics->have[METRICS_DB_TOTAL]
			      ? o->metrics->value[METRICS_DB_TOTAL]
		      : o->status ? (double)o->status->db_size
				  : NAN;
	m->hist_head = (m->hist_head + 1) % HEALTH_HISTORY;
	if (m->hist_n < HEALTH_HISTORY)
		m->hist_n++;
}

const struct health_point *health_member_point(const struct health_member *m, size_t i)
{
	if (i >= m->hist_n)
		return NULL;
	return &m->hist[(m->hist_head + HEALTH_HISTORY - m->hist_n + i) % HEALTH_HISTORY];
}

double health_member_increase(const struct health_member *m, int which, uint64_t now_ms,
			      uint64_t window_ms, uint64_t *span_ms)
{
	double inc = 0, prev = NAN;
	uint64_t first_t = 0, last_t = 0;
	size_t used = 0;

	for (size_t i = 0; i < m->counters_n; i++) {
		const struct health_counter_point *p =
			&m->counters[(m->counters_head + HEALTH_COUNTER_SLOTS - m->counters_n + i) %
				     HEALTH_COUNTER_SLOTS];
		bool have = which == 0 ? p->have_leader_changes : p->have_proposals_failed;
		double v = which == 0 ? p->leader_changes : p->proposals_failed;

		if (!have || p->t_ms + window_ms < now_ms)
			continue;
		if (used == 0)
			first_t = p->t_ms;
		else
			inc += v >= prev ? v - prev : v;	/* reset: counted from 0 */
		prev = v;
		last_t = p->t_ms;
		used++;
	}
	/* The newest sample, if it is newer than the last counter point. */
	if (m->have_metrics && m->t_ms > last_t && used > 0) {
		const struct etcd_metrics *x = &m->metrics;
		enum metrics_gauge g = which == 0 ? METRICS_LEADER_CHANGES
						  : METRICS_PROPOSALS_FAILED;

		if (x->have[g]) {
			double v = x->value[g];

			inc += v >= prev ? v - prev : v;
		}
	}
	if (span_ms != NULL)
		*span_ms = used > 0 && m->t_ms > first_t ? m->t_ms - first_t : 0;
	return used > 0 ? inc : NAN;
}

/* ---- evaluation ---------------------------------------------------------- */

static void add_alert(struct health_eval *e, const char *name, enum health_severity sev,
		      const char *member, char *summary)
{
	struct health_alert *a;

	e->alerts = xreallocarray(e->alerts, e->n_alerts + 1, sizeof *e->alerts);
	a = &e->alerts[e->n_alerts++];
	a->name = name;
	a->severity = sev;
	a->member = member ? xstrdup(member) : NULL;
	a->summary = summary;
}

static bool member_is_voting(const struct health_cluster *c, const struct health_member *m)
{
	if (m->have_status && m->status.is_learner)
		return false;
	if (c->have_member_list && m->have_status)
		for (size_t i = 0; i < c->member_list.n_members; i++)
			if (c->member_list.members[i].id == m->status.header.member_id)
				return !c->member_list.members[i].is_learner;
	return true;
}

static const char *member_label(const struct health_member *m)
{
	return m->name[0] ? m->name : m->endpoint;
}

/* "45 s", "12 min", "3.5 h", "2.0 d". */
static void span_text(int64_t s, char *buf, size_t len)
{
	if (s < 120)
		snprintf(buf, len, _("%lld s"), (long long)s);
	else if (s < 2 * 3600)
		snprintf(buf, len, _("%lld min"), (long long)(s / 60));
	else if (s < 2 * 86400)
		snprintf(buf, len, _("%.1f h"), (double)s / 3600.0);
	else
		snprintf(buf, len, _("%.1f d"), (double)s / 86400.0);
}

/* From the SSH check of the host: these matter even when etcd is down
 * (an expired certificate or a stopped kubelet is often why). */
static void host_alerts(struct health_eval *e, const struct health_member *m)
{
	const struct health_host *h = &m->host;
	const char *who = member_label(m);
	int64_t left;

	if (!m->have_host)
		return;
	left = h->cert_expiry - (int64_t)time(NULL);
	if (h->cert_expiry != 0 && left < HEALTH_CERT_WARN_S)
		add_alert(e, "CertificateExpiresSoon",
			  left < HEALTH_CERT_CRIT_S ? SEVERITY_CRITICAL : SEVERITY_WARNING, who,
			  left <= 0 ? xasprintf(_("member %s: %s has expired; fix it with 'etcdwiz certs rotate -f CLUSTER-FILE' (renews and installs, one member at a time)"),
						who, h->cert_file)
				    : xasprintf(_("member %s: %s expires in %.0f days; fix it with 'etcdwiz certs rotate -f CLUSTER-FILE' (renews and installs, one member at a time)"),
						who, h->cert_file, (double)left / 86400.0));
	if (h->disk_total > 0 && h->disk_avail / h->disk_total < HEALTH_DISK_FREE_WARN)
		add_alert(e, "DataDirLowSpace", SEVERITY_WARNING, who,
			  xasprintf(_("member %s: only %.1f%% free under the data directory"), who,
				    100.0 * h->disk_avail / h->disk_total));
	if (h->backup_timer) {
		int64_t now = (int64_t)time(NULL);
		/* From the last run to the next: a Mon..Fri schedule's weekend
		 * is one period, not a late snapshot. */
		int64_t period = h->backup_last && h->backup_next > h->backup_last ? h->backup_next - h->backup_last
										 : h->backup_next2 - h->backup_next;
		char age[32], every[32];

		if (period > 0 && h->backup_newest != 0 && now - h->backup_newest > 2 * period) {
			span_text(now - h->backup_newest, age, sizeof age);
			span_text(period, every, sizeof every);
			add_alert(e, "BackupTooOld", SEVERITY_WARNING, who,
				  xasprintf(_("member %s: its newest scheduled snapshot is %s old, more than twice its schedule's %s; see 'journalctl -u etcdwiz-backup' there"),
					    who, age, every));
		} else if (h->backup_newest == 0 && h->backup_last != 0 && now - h->backup_last > 900) {
			/* A schedule that never worked: its run left nothing. */
			span_text(now - h->backup_last, age, sizeof age);
			add_alert(e, "BackupTooOld", SEVERITY_WARNING, who,
				  xasprintf(_("member %s: no scheduled snapshot although its timer ran %s ago; see 'journalctl -u etcdwiz-backup' there"),
					    who, age));
		}
	}
	if (h->kubelet[0] && strcmp(h->kubelet, "active") != 0)
		add_alert(e, "KubeletNotActive", SEVERITY_CRITICAL, who,
			  xasprintf(_("member %s: kubelet is %s, so nothing restarts etcd"), who,
				    h->kubelet));
}

static void member_alerts(struct health_eval *e, const struct health_member *m, uint64_t now)
{
	const struct etcd_metrics *x = &m->metrics;
	const char *who = member_label(m);
	double total = NAN, in_use = NAN;

	host_alerts(e, m);
	if (!m->reachable)
		return;
	if ((m->have_metrics && x->have[METRICS_HAS_LEADER] && x->value[METRICS_HAS_LEADER] == 0) ||
	    (m->have_status && m->status.leader == 0))
		add_alert(e, "etcdNoLeader", SEVERITY_CRITICAL, who,
			  xasprintf(_("member %s has no leader"), who));
	if (!m->have_metrics)
		goto sizes;
	if (m->fsync_p99 > HEALTH_FSYNC_WARN)
		add_alert(e, "etcdHighFsyncDurations",
			  m->fsync_p99 > HEALTH_FSYNC_CRIT ? SEVERITY_CRITICAL : SEVERITY_WARNING, who,
			  xasprintf(_("member %s: 99th percentile WAL fsync is %.3f s"), who,
				    m->fsync_p99));
	if (m->commit_p99 > HEALTH_COMMIT_WARN)
		add_alert(e, "etcdHighCommitDurations", SEVERITY_WARNING, who,
			  xasprintf(_("member %s: 99th percentile backend commit is %.3f s"), who,
				    m->commit_p99));
	if (m->peer_rtt_p99 > HEALTH_PEER_RTT_WARN)
		add_alert(e, "etcdMemberCommunicationSlow", SEVERITY_WARNING, who,
			  xasprintf(_("member %s: 99th percentile peer round trip is %.3f s"), who,
				    m->peer_rtt_p99));
	{
		uint64_t span = 0;
		double inc = health_member_increase(m, 1, now, HEALTH_CHANGES_WINDOW_MS, &span);

		if (!isnan(inc) && span > 0 &&
		    inc / ((double)span / 1000.0) > HEALTH_FAILED_PROPOSALS_RATE)
			add_alert(e, "etcdHighNumberOfFailedProposals", SEVERITY_WARNING, who,
				  xasprintf(_("member %s: %.0f proposal failures in the last %.0f minutes"),
					    who, inc, (double)span / 60000.0));
	}
sizes:
	if (m->have_metrics && x->have[METRICS_DB_TOTAL])
		total = x->value[METRICS_DB_TOTAL];
	else if (m->have_status)
		total = (double)m->status.db_size;
	if (m->have_metrics && x->have[METRICS_DB_IN_USE])
		in_use = x->value[METRICS_DB_IN_USE];
	else if (m->have_status && m->status.db_size_in_use > 0)
		in_use = (double)m->status.db_size_in_use;
	if (m->have_metrics && x->have[METRICS_QUOTA] && x->value[METRICS_QUOTA] > 0 &&
	    total / x->value[METRICS_QUOTA] > HEALTH_QUOTA_CRIT)
		add_alert(e, "etcdDatabaseQuotaLowSpace", SEVERITY_CRITICAL, who,
			  xasprintf(_("member %s: the database uses %.1f%% of its quota"), who,
				    100.0 * total / x->value[METRICS_QUOTA]));
	if (total > 0 && in_use / total < HEALTH_FRAG_RATIO && in_use > HEALTH_FRAG_MIN_IN_USE)
		add_alert(e, "etcdDatabaseHighFragmentationRatio", SEVERITY_WARNING, who,
			  xasprintf(_("member %s: only %.1f%% of the database is in use; defragment it"),
				    who, 100.0 * in_use / total));
}

static const char *name_of_id(const struct health_cluster *c, uint64_t id, char *buf, size_t len)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].have_status && c->members[i].status.header.member_id == id &&
		    c->members[i].name[0])
			return c->members[i].name;
	for (size_t i = 0; c->have_member_list && i < c->member_list.n_members; i++)
		if (c->member_list.members[i].id == id && c->member_list.members[i].name[0])
			return c->member_list.members[i].name;
	snprintf(buf, len, "%" PRIx64, id);
	return buf;
}

void health_evaluate(const struct health_cluster *c, uint64_t now_ms, struct health_eval *e)
{
	uint64_t leaders[64] = { 0 };
	size_t polled = 0, claimers = 0, voting_records = 0, list_voting = 0;
	double max_changes = NAN;
	char idbuf[24];

	memset(e, 0, sizeof *e);
	e->roles = xcalloc(c->n_members ? c->n_members : 1, sizeof *e->roles);
	for (size_t i = 0; i < c->n_members; i++) {
		const struct health_member *m = &c->members[i];
		bool voting = member_is_voting(c, m);

		if (voting)
			voting_records++;
		if (m->polled)
			polled++;
		/* Not seen (not polled yet, or its transport failed): neither up
		 * nor down. */
		if (!health_member_observed(m)) {
			e->roles[i] = ROLE_UNKNOWN;
			if (voting)
				e->unknown++;
			continue;
		}
		if (!m->reachable) {
			e->roles[i] = ROLE_DOWN;
			continue;
		}
		if (voting)
			e->up++;
		if (m->status.leader != 0) {
			size_t k;

			for (k = 0; k < e->n_leaders && leaders[k] != m->status.leader; k++)
				;
			if (k == e->n_leaders && k < sizeof leaders / sizeof leaders[0])
				leaders[e->n_leaders++] = m->status.leader;
		}
		if (m->status.is_learner || !voting)
			e->roles[i] = ROLE_LEARNER;
		else if (m->status.leader != 0 && m->status.leader == m->status.header.member_id) {
			e->roles[i] = ROLE_LEADER;
			claimers++;
		} else
			e->roles[i] = ROLE_FOLLOWER;
	}
	/* Members of the cluster we do not poll still count: one we cannot see
	 * is not known to be up, nor to be down. */
	for (size_t i = 0; c->have_member_list && i < c->member_list.n_members; i++)
		if (!c->member_list.members[i].is_learner)
			list_voting++;
	e->voting = list_voting > voting_records ? list_voting : voting_records;
	e->unknown += e->voting - voting_records;
	e->quorum = e->voting / 2 + 1;
	if (e->n_leaders == 1)
		e->leader_id = leaders[0];
	e->one_leader = e->n_leaders == 1 && claimers <= 1;
	if (c->have_alarms)
		for (size_t i = 0; i < c->alarms.n_alarms; i++)
			if (c->alarms.alarms[i].type != ETCD_ALARM_NONE)
				e->n_alarms++;

	/* Alerts. */
	for (size_t i = 0; i < c->n_members; i++) {
		const struct health_member *m = &c->members[i];

		/* Only what was seen down: a member we cannot log in to is not. */
		if (m->polled && !m->reachable && health_member_observed(m) &&
		    member_is_voting(c, m))
			add_alert(e, "etcdMembersDown", SEVERITY_CRITICAL, member_label(m),
				  xasprintf(_("member %s is down: %s"), member_label(m),
					    m->error ? m->error : _("no answer")));
	}
	/* Quorum is known to be lost only when even the unknown members
	 * could not make it up. */
	if (polled > 0 && e->up + e->unknown < e->quorum)
		add_alert(e, "etcdInsufficientMembers", SEVERITY_CRITICAL, NULL,
			  xasprintf(_("only %zu of %zu members are up; quorum needs %zu"), e->up,
				    e->voting, e->quorum));
	for (size_t i = 0; i < c->n_members; i++) {
		double inc = health_member_increase(&c->members[i], 0, now_ms,
						    HEALTH_CHANGES_WINDOW_MS, NULL);

		if (!isnan(inc) && (isnan(max_changes) || inc > max_changes))
			max_changes = inc;
		member_alerts(e, &c->members[i], now_ms);
	}
	if (!isnan(max_changes) && max_changes >= HEALTH_LEADER_CHANGES)
		add_alert(e, "etcdHighNumberOfLeaderChanges", SEVERITY_WARNING, NULL,
			  xasprintf(_("%.0f leader changes in the last 15 minutes"), max_changes));
	for (size_t i = 0; c->have_alarms && i < c->alarms.n_alarms; i++) {
		const struct etcd_alarm *a = &c->alarms.alarms[i];
		const char *who = name_of_id(c, a->member_id, idbuf, sizeof idbuf);

		if (a->type == ETCD_ALARM_NOSPACE)
			add_alert(e, "NOSPACE", SEVERITY_CRITICAL, who,
				  xasprintf(_("alarm NOSPACE on member %s: the database is full and the cluster only accepts reads and deletes"),
					    who));
		else if (a->type == ETCD_ALARM_CORRUPT)
			add_alert(e, "CORRUPT", SEVERITY_CRITICAL, who,
				  xasprintf(_("alarm CORRUPT on member %s: its data differs from the other members"),
					    who));
		else if (a->type != ETCD_ALARM_NONE)
			add_alert(e, "UNKNOWN", SEVERITY_CRITICAL, who,
				  xasprintf(_("unknown alarm on member %s"), who));
	}

	/* The badge. */
	if (polled == 0) {
		e->badge = HEALTH_UNKNOWN;
		e->reason = xstrdup(_("no data yet"));
	} else if (e->up + e->unknown < e->quorum) {
		e->badge = HEALTH_NO_QUORUM;
		e->reason = xasprintf(_("%zu of %zu members up, quorum needs %zu"), e->up, e->voting,
				      e->quorum);
	} else if (e->up < e->quorum) {
		/* Too few seen to tell either way: no verdict. */
		e->badge = HEALTH_UNKNOWN;
		e->reason = xasprintf(_("%zu of %zu members observed"), e->voting - e->unknown,
				      e->voting);
	} else if (e->n_leaders == 0) {
		e->badge = HEALTH_NO_QUORUM;
		e->reason = xstrdup(_("no leader"));
	} else if (e->up < e->voting) {
		e->badge = HEALTH_DEGRADED;
		if (e->unknown > 0)
			e->reason = xasprintf(_("%zu of %zu members up, %zu not observed"), e->up,
					      e->voting, e->unknown);
		else
			e->reason = xasprintf(_("%zu of %zu members up"), e->up, e->voting);
	} else if (!e->one_leader) {
		e->badge = HEALTH_DEGRADED;
		e->reason = xasprintf(_("members disagree about the leader (%zu leaders reported)"),
				      e->n_leaders > claimers ? e->n_leaders : claimers);
	} else if (e->n_alarms > 0) {
		e->badge = HEALTH_DEGRADED;
		e->reason = xasprintf(P_("%zu alarm raised", "%zu alarms raised", e->n_alarms),
				      e->n_alarms);
	} else {
		e->badge = HEALTH_HEALTHY;
		e->reason = xasprintf(_("%zu of %zu members up, leader %s"), e->up, e->voting,
				      name_of_id(c, e->leader_id, idbuf, sizeof idbuf));
	}
}

void health_eval_free(struct health_eval *e)
{
	for (size_t i = 0; i < e->n_alerts; i++) {
		free(e->alerts[i].member);
		free(e->alerts[i].summary);
	}
	free(e->alerts);
	free(e->roles);
	free(e->reason);
	memset(e, 0, sizeof *e);
}

/* ---- JSON ------------------------------------------------------------------
 *
 * A tiny writer rather than libyaml's emitter: in flow style the emitter
 * still writes YAML, not JSON. Its double-quoted scalars use YAML-only
 * escapes (\e, \N, \_, \L, \P, \xXX), it folds long lines and picks plain
 * or single-quoted styles on its own; each of those breaks strict JSON
 * readers (jq, Python's json). JSON's own grammar is small enough to write
 * correctly here: strings escape '"', '\\' and every control character
 * (\u00XX), invalid UTF-8 becomes U+FFFD; non-finite numbers become null;
 * numbers are formatted in the C locale whatever LC_NUMERIC says; 64-bit
 * member IDs are hex strings as etcdctl prints them. */

static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void health_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		size_t n;

		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p == '\n') {
			fputs("\\n", f);
			p++;
		} else if (*p == '\t') {
			fputs("\\t", f);
			p++;
		} else if (*p == '\r') {
			fputs("\\r", f);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
			p++;
		} else if ((n = utf8_seq(p)) == 0) {
			fputs("\\ufffd", f);
			p++;
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
	fputc('"', f);
}

static void json_key(FILE *f, bool *first, const char *k)
{
	if (!*first)
		fputc(',', f);
	*first = false;
	health_json_string(f, k);
	fputc(':', f);
}

static void json_kv_str(FILE *f, bool *first, const char *k, const char *v)
{
	json_key(f, first, k);
	if (v == NULL)
		fputs("null", f);
	else
		health_json_string(f, v);
}

static void json_kv_u64(FILE *f, bool *first, const char *k, uint64_t v)
{
	json_key(f, first, k);
	fprintf(f, "%" PRIu64, v);
}

static void json_kv_num(FILE *f, bool *first, const char *k, double v)
{
	json_key(f, first, k);
	if (!isfinite(v))
		fputs("null", f);
	else
		fprintf(f, "%.15g", v);
}

static void json_kv_bool(FILE *f, bool *first, const char *k, bool v)
{
	json_key(f, first, k);
	fputs(v ? "true" : "false", f);
}

static void json_kv_id(FILE *f, bool *first, const char *k, uint64_t id)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRIx64, id);
	json_kv_str(f, first, k, id ? buf : NULL);
}

static void json_member(FILE *f, const struct health_member *m, enum health_role role)
{
	bool first = true;
	const struct etcd_metrics *x = &m->metrics;

	fputc('{', f);
	json_kv_str(f, &first, "name", m->name);
	json_kv_str(f, &first, "endpoint", m->endpoint);
	json_kv_id(f, &first, "id", m->have_status ? m->status.header.member_id : 0);
	json_kv_str(f, &first, "role", health_role_json(role));
	json_kv_bool(f, &first, "reachable", m->reachable);
	json_kv_bool(f, &first, "observed", health_member_observed(m));
	if (m->polled && !m->reachable && m->transport != TRANSPORT_OK) {
		char *why = health_member_unknown_reason(m);

		json_kv_str(f, &first, "transport", health_transport_json(m->transport));
		json_kv_str(f, &first, "unknown_reason", why);
		free(why);
	}
	json_kv_num(f, &first, "latency_ms", m->latency_ms);
	json_kv_num(f, &first, "refresh_ms", m->refresh_ms);
	json_kv_str(f, &first, "error", m->error);
	json_kv_str(f, &first, "version", m->have_version ? m->version.server
					 : m->have_status ? m->status.version
							  : NULL);
	if (m->have_health) {
		json_kv_bool(f, &first, "health", m->health.healthy);
		json_kv_str(f, &first, "health_reason", m->health.reason);
	}
	if (m->have_status) {
		json_kv_u64(f, &first, "db_size", m->status.db_size);
		json_kv_u64(f, &first, "db_size_in_use", m->status.db_size_in_use);
		json_kv_u64(f, &first, "raft_term", m->status.raft_term);
		json_kv_u64(f, &first, "raft_index", m->status.raft_index);
		json_kv_u64(f, &first, "raft_applied_index", m->status.raft_applied_index);
		json_kv_id(f, &first, "leader", m->status.leader);
		json_kv_bool(f, &first, "is_learner", m->status.is_learner);
		json_key(f, &first, "errors");
		fputc('[', f);
		for (size_t i = 0; i < m->status.errors.n; i++) {
			if (i)
				fputc(',', f);
			health_json_string(f, m->status.errors.items[i]);
		}
		fputc(']', f);
	}
	if (m->have_host) {
		bool hfirst = true;

		json_key(f, &first, "host");
		fputc('{', f);
		json_kv_num(f, &hfirst, "disk_total_bytes", m->host.disk_total);
		json_kv_num(f, &hfirst, "disk_avail_bytes", m->host.disk_avail);
		json_kv_str(f, &hfirst, "kubelet", m->host.kubelet[0] ? m->host.kubelet : NULL);
		json_kv_str(f, &hfirst, "etcd_pod", health_pod_json(m->host.pod));
		if (m->host.pod_restarts >= 0)
			json_kv_num(f, &hfirst, "etcd_pod_restarts", m->host.pod_restarts);
		if (m->host.pod_last_exit >= 0)
			json_kv_num(f, &hfirst, "etcd_pod_last_exit", m->host.pod_last_exit);
		if (m->host.pod_reason[0])
			json_kv_str(f, &hfirst, "etcd_pod_reason", m->host.pod_reason);
		if (m->host.pod_ready >= 0)
			json_kv_bool(f, &hfirst, "etcd_pod_ready", m->host.pod_ready == 1);
		if (m->host.cert_expiry != 0) {
			json_kv_num(f, &hfirst, "cert_expiry_unix", (double)m->host.cert_expiry);
			json_kv_str(f, &hfirst, "cert_expiry_file", m->host.cert_file);
		}
		if (m->host.backup_timer) {
			json_kv_num(f, &hfirst, "snapshots_kept", m->host.backup_count);
			if (m->host.backup_newest != 0)
				json_kv_num(f, &hfirst, "newest_snapshot_unix", (double)m->host.backup_newest);
			if (m->host.backup_last != 0)
				json_kv_num(f, &hfirst, "snapshot_last_run_unix", (double)m->host.backup_last);
			if (m->host.backup_next2 > m->host.backup_next)
				json_kv_num(f, &hfirst, "snapshot_period_seconds",
					    (double)(m->host.backup_next2 - m->host.backup_next));
		}
		fputc('}', f);
	}
	if (m->have_metrics) {
		bool mfirst = true;

		json_key(f, &first, "metrics");
		fputc('{', f);
		for (int g = 0; g < METRICS_GAUGE_COUNT; g++)
			if (x->have[g])
				json_kv_num(f, &mfirst, metrics_gauge_name((enum metrics_gauge)g),
					    x->value[g]);
		json_kv_num(f, &mfirst, "wal_fsync_p99_seconds", m->fsync_p99);
		json_kv_num(f, &mfirst, "backend_commit_p99_seconds", m->commit_p99);
		json_kv_num(f, &mfirst, "peer_round_trip_p99_seconds", m->peer_rtt_p99);
		fputc('}', f);
	}
	fputc('}', f);
}

enum wiz_err health_write_json(FILE *f, const struct health_cluster *c,
			       const struct health_eval *e, struct wiz_error *err)
{
	locale_t cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	locale_t old = (locale_t)0;
	bool first = true;

	if (cloc != (locale_t)0)
		old = uselocale(cloc);
	fputc('{', f);
	json_kv_str(f, &first, "badge", health_badge_json(e->badge));
	json_kv_str(f, &first, "reason", e->reason);
	json_kv_u64(f, &first, "members_voting", e->voting);
	json_kv_u64(f, &first, "members_up", e->up);
	json_kv_u64(f, &first, "members_unknown", e->unknown);
	json_kv_u64(f, &first, "quorum", e->quorum);
	json_kv_id(f, &first, "leader", e->leader_id);
	json_kv_bool(f, &first, "one_leader", e->one_leader);
	json_key(f, &first, "members");
	fputc('[', f);
	for (size_t i = 0; i < c->n_members; i++) {
		if (i)
			fputc(',', f);
		json_member(f, &c->members[i], e->roles[i]);
	}
	fputc(']', f);
	json_key(f, &first, "alarms");
	fputc('[', f);
	for (size_t i = 0; c->have_alarms && i < c->alarms.n_alarms; i++) {
		bool afirst = true;

		if (i)
			fputc(',', f);
		fputc('{', f);
		json_kv_id(f, &afirst, "member_id", c->alarms.alarms[i].member_id);
		json_kv_str(f, &afirst, "alarm", etcd_alarm_name(c->alarms.alarms[i].type));
		fputc('}', f);
	}
	fputc(']', f);
	json_key(f, &first, "alerts");
	fputc('[', f);
	for (size_t i = 0; i < e->n_alerts; i++) {
		bool afirst = true;

		if (i)
			fputc(',', f);
		fputc('{', f);
		json_kv_str(f, &afirst, "name", e->alerts[i].name);
		json_kv_str(f, &afirst, "severity",
			    e->alerts[i].severity == SEVERITY_CRITICAL ? "critical" : "warning");
		json_kv_str(f, &afirst, "member", e->alerts[i].member);
		json_kv_str(f, &afirst, "summary", e->alerts[i].summary);
		fputc('}', f);
	}
	fputs("]}\n", f);
	if (cloc != (locale_t)0) {
		uselocale(old);
		freelocale(cloc);
	}
	if (fflush(f) != 0 || ferror(f))
		return wiz_error_set(err, WIZ_ERR_IO, _("cannot write the JSON status"));
	return WIZ_ERR_OK;
}
