/* A Prometheus text-format reader for the few series the health view
 * needs: one pass over the lines, label values unescaped properly, numbers
 * read in the C locale. */
#include "config.h"

#include "health/etcd-metrics.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"

static const char *const gauge_names[] = {
#define METRICS_GAUGE_NAME(id, name) name,
	METRICS_GAUGE_INFO(METRICS_GAUGE_NAME)
#undef METRICS_GAUGE_NAME
};

const char *metrics_gauge_name(enum metrics_gauge g)
{
	return (unsigned)g < METRICS_GAUGE_COUNT ? gauge_names[g] : "?";
}

bool metrics_parse_double(const char *s, const char *end, double *out)
{
	char buf[64];
	size_t n = (size_t)(end - s);
	char *stop;
	static locale_t c_locale;

	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "Inf") == 0) {
		*out = INFINITY;
		return true;
	}
	if (strcmp(buf, "-Inf") == 0) {
		*out = -INFINITY;
		return true;
	}
	if (strcmp(buf, "NaN") == 0) {
		*out = NAN;
		return true;
	}
	if (c_locale == (locale_t)0)
		c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0)
		return false;
	*out = strtod_l(buf, &stop, c_locale);
	return stop != buf && *stop == '\0';
}

struct label {
	char name[32];
	char value[128];
};

/* Parse `{a="x",b="y\"z"}` starting at *p (after the name). */
static bool parse_labels(const char **pp, const char *end, struct label *labels,
			 size_t max, size_t *n)
{
	const char *p = *pp;

	*n = 0;
	if (p >= end || *p != '{')
		return true;
	p++;
	while (p < end && *p != '}') {
		struct label dummy = { { 0 }, { 0 } };
		struct label *l = *n < max ? &labels[*n] : &dummy;
		size_t k = 0;

		while (p < end && (*p == ' ' || *p == ','))
			p++;
		if (p < end && *p == '}')
			break;
		while (p < end && *p != '=' && k + 1 < sizeof l->name)
			l->name[k++] = *p++;
		l->name[k] = '\0';
		if (p + 1 >= end || p[0] != '=' || p[1] != '"')
			return false;
		p += 2;
		k = 0;
		while (p < end && *p != '"') {
			char ch = *p++;

			if (ch == '\\') {
				if (p >= end)
					return false;
				ch = *p++;
				if (ch == 'n')
					ch = '\n';
			}
			if (k + 1 < sizeof l->value)
				l->value[k++] = ch;
		}
		if (p >= end)
			return false;
		l->value[k] = '\0';
		p++;	/* closing quote */
		if (*n < max)
			(*n)++;
	}
	if (p >= end)
		return false;
	*pp = p + 1;
	return true;
}

static const char *label_get(const struct label *labels, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].name, name) == 0)
			return labels[i].value;
	return NULL;
}

static void bucket_add(struct metrics_histogram *h, double le, double count)
{
	size_t i;

	if (h->n >= METRICS_MAX_BUCKETS)
		return;
	/* Keep them sorted by le (etcd writes them sorted already). */
	for (i = h->n; i > 0 && h->le[i - 1] > le; i--) {
		h->le[i] = h->le[i - 1];
		h->count[i] = h->count[i - 1];
	}
	h->le[i] = le;
	h->count[i] = count;
	h->n++;
}

static struct metrics_histogram *peer_histogram(struct etcd_metrics *m, const char *to)
{
	for (size_t i = 0; i < m->n_peers; i++)
		if (strcmp(m->peers[i].to, to) == 0)
			return &m->peers[i].rtt;
	if (m->n_peers >= METRICS_MAX_PEERS)
		return NULL;
	snprintf(m->peers[m->n_peers].to, sizeof m->peers[m->n_peers].to, "%s", to);
	return &m->peers[m->n_peers++].rtt;
}

static bool name_is(const char *name, size_t nlen, const char *want)
{
	return strlen(want) == nlen && memcmp(name, want, nlen) == 0;
}

#define FSYNC_BUCKET "etcd_disk_wal_fsync_duration_seconds_bucket"
#define COMMIT_BUCKET "etcd_disk_backend_commit_duration_seconds_bucket"
#define RTT_BUCKET "etcd_network_peer_round_trip_time_seconds_bucket"

enum wiz_err etcd_metrics_parse(const char *text, size_t len,
				struct etcd_metrics *out, struct wiz_error *err)
{
	const char *p = text, *end = text + len;
	size_t lineno = 0;

	memset(out, 0, sizeof *out);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line = p, *name, *q;
		size_t nlen;
		struct label labels[4];
		size_t n_labels;
		double v;
		int gauge = -1;
		struct metrics_histogram *hist = NULL;

		if (eol == NULL)
			eol = end;
		p = eol + 1;
		lineno++;
		while (line < eol && (*line == ' ' || *line == '\t'))
			line++;
		if (line == eol || *line == '#')
			continue;
		name = line;
		for (q = line; q < eol && *q != '{' && *q != ' ' && *q != '\t'; q++)
			;
		nlen = (size_t)(q - name);
		out->samples++;
		for (int g = 0; g < METRICS_GAUGE_COUNT; g++)
			if (name_is(name, nlen, gauge_names[g]))
				gauge = g;
		if (name_is(name, nlen, FSYNC_BUCKET))
			hist = &out->wal_fsync;
		else if (name_is(name, nlen, COMMIT_BUCKET))
			hist = &out->backend_commit;
		else if (!name_is(name, nlen, RTT_BUCKET) && gauge < 0)
			continue;	/* not wanted */
		if (!parse_labels(&q, eol, labels, 4, &n_labels))
			goto bad;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		{
			/* value [timestamp] */
			const char *vend = q;

			while (vend < eol && *vend != ' ' && *vend != '\t' && *vend != '\r')
				vend++;
			if (!metrics_parse_double(q, vend, &v))
				goto bad;
		}
		if (gauge >= 0) {
			out->value[gauge] = v;
			out->have[gauge] = true;
			continue;
		}
		{
			const char *le_s = label_get(labels, n_labels, "le");
			double le;

			if (le_s == NULL || !metrics_parse_double(le_s, le_s + strlen(le_s), &le))
				goto bad;
			if (hist == NULL) {
				const char *to = label_get(labels, n_labels, "To");

				hist = peer_histogram(out, to ? to : "");
				if (hist == NULL)
					continue;
			}
			bucket_add(hist, le, v);
		}
		continue;
bad:
		return wiz_error_set(err, WIZ_ERR_PARSE, _("/metrics: line %zu: malformed sample of %.*s"),
				     lineno, (int)nlen, name);
	}
	return WIZ_ERR_OK;
}

double metrics_histogram_quantile(double q, const struct metrics_histogram *h)
{
	double count[METRICS_MAX_BUCKETS];
	double rank, observations, start, width, in_bucket;
	size_t b, n = h->n;

	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	if (n < 2 || !isinf(h->le[n - 1]) || h->le[n - 1] < 0)
		return NAN;
	/* ensureMonotonic: a scrape racing an observation can show a later
	 * bucket lower than an earlier one. */
	for (size_t i = 0; i < n; i++)
		count[i] = i > 0 && h->count[i] < count[i - 1] ? count[i - 1] : h->count[i];
	observations = count[n - 1];
	if (observations == 0 || isnan(observations))
		return NAN;
	rank = q * observations;
	for (b = 0; b < n - 1 && count[b] < rank; b++)
		;
	if (b == n - 1)
		return h->le[n - 2];
	if (b == 0 && h->le[0] <= 0)
		return h->le[0];
	start = 0;
	in_bucket = count[b];
	if (b > 0) {
		start = h->le[b - 1];
		in_bucket -= count[b - 1];
		rank -= count[b - 1];
	}
	width = h->le[b] - start;
	return start + width * (rank / in_bucket);
}

void metrics_histogram_delta(const struct metrics_histogram *now,
			     const struct metrics_histogram *before,
			     struct metrics_histogram *out)
{
	bool same = before != NULL && before->n == now->n;

	for (size_t i = 0; same && i < now->n; i++)
		if (before->le[i] != now->le[i] || before->count[i] > now->count[i])
			same = false;
	*out = *now;
	if (!same)
		return;
	for (size_t i = 0; i < now->n; i++)
		out->count[i] = now->count[i] - before->count[i];
}

double metrics_peer_rtt_quantile(double q, const struct etcd_metrics *now,
				 const struct etcd_metrics *before)
{
	double worst = NAN;

	for (size_t i = 0; i < now->n_peers; i++) {
		const struct metrics_histogram *prev = NULL;
		struct metrics_histogram d;
		double v;

		for (size_t k = 0; before != NULL && k < before->n_peers; k++)
			if (strcmp(before->peers[k].to, now->peers[i].to) == 0)
				prev = &before->peers[k].rtt;
		metrics_histogram_delta(&now->peers[i].rtt, prev, &d);
		v = metrics_histogram_quantile(q, &d);
		if (!isnan(v) && (isnan(worst) || v > worst))
			worst = v;
	}
	return worst;
}
