/* Text of the health view; see status-format.h. */
#include "config.h"

#include "health/status-format.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "base/i18n.h"
#include "base/xmalloc.h"

void fmt_bytes(double v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	if (isnan(v) || v < 0) {
		snprintf(buf, len, "-");
		return;
	}
	while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0]) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f %s", v, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
}

void fmt_ms(double ms, char *buf, size_t len)
{
	if (isnan(ms))
		snprintf(buf, len, "-");
	else if (ms < 1000)
		snprintf(buf, len, "%.1f ms", ms);
	else
		snprintf(buf, len, "%.2f s", ms / 1000);
}

void fmt_left(double s, char *buf, size_t len)
{
	if (s <= 0)
		snprintf(buf, len, "%s", _("expired"));
	else if (s >= 86400)
		snprintf(buf, len, "%.0fd", floor(s / 86400));
	else if (s >= 3600)
		snprintf(buf, len, "%.0fh", floor(s / 3600));
	else
		snprintf(buf, len, "%.0fm", ceil(s / 60));
}

const char *status_backup_text(const struct health_host *h, int64_t now, char *buf, size_t len)
{
	char age[32];

	if (!h->backup_timer)
		snprintf(buf, len, "%s", "");
	else if (h->backup_newest == 0)
		snprintf(buf, len, "%s", _("no scheduled snapshot yet"));
	else {
		fmt_left((double)(now - h->backup_newest), age, sizeof age);
		snprintf(buf, len, P_("newest snapshot %s ago, %d kept", "newest snapshot %s ago, %d kept",
				      (unsigned long)h->backup_count), age, h->backup_count);
	}
	return buf;
}

const char *status_member_name(const struct health_cluster *c, const struct health_member *m)
{
	if (m->have_status && c->have_member_list && strstr(m->endpoint, m->name) != NULL)
		for (size_t i = 0; i < c->member_list.n_members; i++)
			if (c->member_list.members[i].id == m->status.header.member_id &&
			    c->member_list.members[i].name[0])
				return c->member_list.members[i].name;
	return m->name;
}

static const char *const column_title[] = {
#define STATUS_COLUMN_ROW(id, title) title,
	STATUS_COLUMN_INFO(STATUS_COLUMN_ROW)
#undef STATUS_COLUMN_ROW
};

const char *status_column_title(enum status_column col)
{
	return (unsigned)col < STATUS_COL_COUNT ? _(column_title[col]) : "?";
}

void status_cell(const struct health_cluster *c, const struct health_eval *e, size_t i,
		 enum status_column col, char *buf, size_t len)
{
	const struct health_member *m = &c->members[i];
	bool st = m->have_status && m->reachable;

	snprintf(buf, len, "-");
	switch (col) {
	case STATUS_COL_NAME:
		snprintf(buf, len, "%s", status_member_name(c, m));
		break;
	case STATUS_COL_ENDPOINT:
		snprintf(buf, len, "%s", m->endpoint);
		break;
	case STATUS_COL_ROLE:
		snprintf(buf, len, "%s", health_role_label(e->roles[i]));
		break;
	case STATUS_COL_VERSION:
		if (m->have_version && m->version.server && m->version.server[0])
			snprintf(buf, len, "%s", m->version.server);
		else if (m->have_status && m->status.version)
			snprintf(buf, len, "%s", m->status.version);
		break;
	case STATUS_COL_DB:
		if (st)
			fmt_bytes((double)m->status.db_size, buf, len);
		break;
	case STATUS_COL_IN_USE:
		if (st && m->status.db_size_in_use > 0)
			fmt_bytes((double)m->status.db_size_in_use, buf, len);
		break;
	case STATUS_COL_TERM:
		if (st)
			snprintf(buf, len, "%" PRIu64, m->status.raft_term);
		break;
	case STATUS_COL_INDEX:
		if (st)
			snprintf(buf, len, "%" PRIu64, m->status.raft_index);
		break;
	case STATUS_COL_APPLIED:
		if (st)
			snprintf(buf, len, "%" PRIu64, m->status.raft_applied_index);
		break;
	case STATUS_COL_LATENCY:
		if (m->reachable)
			fmt_ms(m->latency_ms, buf, len);
		break;
	case STATUS_COL_ERRORS:
		if (!health_member_observed(m) && m->polled) {
			/* Not seen: say why, then what failed. */
			char *why = health_member_unknown_reason(m);

			snprintf(buf, len, "%s%s%s", why ? why : "", why && m->error ? ": " : "",
				 m->error ? m->error : "");
			free(why);
		} else if (!m->reachable && m->polled)
			snprintf(buf, len, "%s", m->error ? m->error : _("no answer"));
		else if (st && m->status.errors.n > 0)
			snprintf(buf, len, "%s", m->status.errors.items[0]);
		else if (m->have_health && !m->health.healthy)
			snprintf(buf, len, "%s%s%s", _("unhealthy"),
				 m->health.reason && m->health.reason[0] ? ": " : "",
				 m->health.reason ? m->health.reason : "");
		else if (m->error)
			snprintf(buf, len, "%s", m->error);
		break;
	case STATUS_COL_COUNT:
		break;
	}
}

size_t str_display_width(const char *s)
{
	mbstate_t st;
	size_t w = 0, n = strlen(s);

	memset(&st, 0, sizeof st);
	while (n > 0) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s, n, &st);
		int cw;

		if (k == (size_t)-1 || k == (size_t)-2) {
			memset(&st, 0, sizeof st);
			k = 1;
			cw = 1;
		} else {
			if (k == 0)
				break;
			cw = wcwidth(wc);
			if (cw < 0)
				cw = 1;
		}
		w += (size_t)cw;
		s += k;
		n -= k;
	}
	return w;
}

void fput_padded(FILE *f, const char *s, size_t width)
{
	mbstate_t st;
	size_t w = 0, n = strlen(s);

	memset(&st, 0, sizeof st);
	while (n > 0) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s, n, &st);
		int cw = 1;

		if (k == (size_t)-1 || k == (size_t)-2) {
			memset(&st, 0, sizeof st);
			k = 1;
		} else if (k == 0) {
			break;
		} else if ((cw = wcwidth(wc)) < 0) {
			cw = 1;
		}
		if (w + (size_t)cw > width)
			break;
		fwrite(s, 1, k, f);
		w += (size_t)cw;
		s += k;
		n -= k;
	}
	for (; w < width; w++)
		fputc(' ', f);
}

void status_print_table(FILE *f, const char *cluster_name, const struct health_cluster *c,
			const struct health_eval *e, time_t now)
{
	size_t width[STATUS_COL_COUNT];
	char cell[512];

	if (cluster_name != NULL)
		fprintf(f, _("etcd cluster %s: %s (%s)\n"), cluster_name, health_badge_label(e->badge),
			e->reason ? e->reason : "");
	else
		fprintf(f, _("etcd cluster: %s (%s)\n"), health_badge_label(e->badge),
			e->reason ? e->reason : "");
	for (int col = 0; col < STATUS_COL_COUNT; col++) {
		width[col] = str_display_width(status_column_title((enum status_column)col));
		for (size_t i = 0; i < c->n_members; i++) {
			size_t w;

			status_cell(c, e, i, (enum status_column)col, cell, sizeof cell);
			w = str_display_width(cell);
			if (w > width[col])
				width[col] = w;
		}
	}
	for (int col = 0; col < STATUS_COL_COUNT; col++) {
		const char *t = status_column_title((enum status_column)col);

		if (col + 1 == STATUS_COL_COUNT)
			fprintf(f, "%s\n", t);
		else {
			fput_padded(f, t, width[col]);
			fputs("  ", f);
		}
	}
	for (size_t i = 0; i < c->n_members; i++) {
		for (int col = 0; col < STATUS_COL_COUNT; col++) {
			status_cell(c, e, i, (enum status_column)col, cell, sizeof cell);
			if (col + 1 == STATUS_COL_COUNT)
				fprintf(f, "%s\n", cell);
			else {
				fput_padded(f, cell, width[col]);
				fputs("  ", f);
			}
		}
	}
	/* What SSH saw on the hosts. */
	for (size_t i = 0; i < c->n_members; i++) {
		const struct health_member *m = &c->members[i];
		char avail[32], left[32], pod[96];

		if (!m->have_host)
			continue;
		fmt_bytes(m->host.disk_avail, avail, sizeof avail);
		if (m->host.cert_expiry != 0)
			fmt_left((double)(m->host.cert_expiry - (int64_t)now), left, sizeof left);
		else
			snprintf(left, sizeof left, "-");
		fprintf(f, _("  %s: kubelet %s, etcd %s, %s free under the data directory, first certificate expiry in %s\n"),
			status_member_name(c, m), m->host.kubelet[0] ? m->host.kubelet : "?",
			health_pod_text(&m->host, pod, sizeof pod), avail, left);
		if (m->host.backup_timer) {
			char snap[96];

			fprintf(f, "    %s\n", status_backup_text(&m->host, (int64_t)now, snap, sizeof snap));
		}
	}
	if (e->n_alerts > 0) {
		fprintf(f, _("Alerts:\n"));
		for (size_t i = 0; i < e->n_alerts; i++)
			fprintf(f, "  %-8s %s: %s\n",
				e->alerts[i].severity == SEVERITY_CRITICAL ? _("critical") : _("warning"),
				e->alerts[i].name, e->alerts[i].summary);
	}
}
