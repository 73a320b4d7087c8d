#include "config.h"

#include "base/strutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "base/xmalloc.h"

bool str_is_rfc1123_label(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(islower(c) || isdigit(c) || c == '-'))
			return false;
	}
	return s[0] != '-' && s[len - 1] != '-';
}

bool str_is_dns_name(const char *s)
{
	char *copy, *save = NULL, *label;
	bool ok = true;
	size_t len = strlen(s);

	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.' ||
	    strstr(s, "..") != NULL)
		return false;
	copy = xstrdup(s);
	for (label = strtok_r(copy, ".", &save); label != NULL;
	     label = strtok_r(NULL, ".", &save)) {
		if (!str_is_rfc1123_label(label)) {
			ok = false;
			break;
		}
	}
	free(copy);
	return ok;
}

bool str_is_ipv6(const char *s)
{
	struct in6_addr a6;

	return inet_pton(AF_INET6, s, &a6) == 1;
}

bool str_is_ip(const char *s)
{
	struct in_addr a4;

	return inet_pton(AF_INET, s, &a4) == 1 || str_is_ipv6(s);
}

bool str_ip_canonical(const char *s, char *out, size_t outlen)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, s, buf) == 1)
		return inet_ntop(AF_INET, buf, out, (socklen_t)outlen) != NULL;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return inet_ntop(AF_INET6, buf, out, (socklen_t)outlen) != NULL;
	return false;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool port_ok(const char *p)
{
	char *end;
	long v;

	if (*p == '\0' || !isdigit((unsigned char)*p))
		return false;
	v = strtol(p, &end, 10);
	return *end == '\0' && v >= 1 && v <= 65535;
}

bool str_is_host_port(const char *s)
{
	const char *colon;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		char *host;
		bool ok;

		if (close == NULL || close[1] != ':')
			return false;
		host = xstrndup(s + 1, (size_t)(close - s - 1));
		ok = str_is_ipv6(host) && port_ok(close + 2);
		free(host);
		return ok;
	}
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return false;
	{
		char *host = xstrndup(s, (size_t)(colon - s));
		bool ok = (str_is_ip(host) && !str_is_ipv6(host)) ||
			  str_is_dns_name(host);

		free(host);
		return ok && port_ok(colon + 1);
	}
}

bool str_is_cidr(const char *s)
{
	const char *slash = strchr(s, '/');
	char *addr, *end;
	long bits;
	bool ok;

	if (slash == NULL || slash[1] == '\0')
		return false;
	bits = strtol(slash + 1, &end, 10);
	if (*end != '\0')
		return false;
	addr = xstrndup(s, (size_t)(slash - s));
	if (str_is_ipv6(addr))
		ok = bits >= 0 && bits <= 128;
	else
		ok = str_is_ip(addr) && bits >= 0 && bits <= 32;
	free(addr);
	return ok;
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char digest[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest);
	for (size_t i = 0; i < sizeof digest; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

bool version_at_least(const char *version, int major, int minor, int patch)
{
	long v[3] = { 0, 0, 0 };
	const char *p = version[0] == 'v' ? version + 1 : version;

	for (int i = 0; i < 3 && *p; i++) {
		char *end;

		v[i] = strtol(p, &end, 10);
		if (*end != '.')
			break;
		p = end + 1;
	}
	if (v[0] != major)
		return v[0] > major;
	if (v[1] != minor)
		return v[1] > minor;
	return v[2] >= patch;
}

char *url_for(const char *scheme, const char *address, int port)
{
	if (strchr(address, ':') != NULL)
		return xasprintf("%s://[%s]:%d", scheme, address, port);
	return xasprintf("%s://%s:%d", scheme, address, port);
}

bool url_parse(const char *s, int default_port, char **host, int *port_out)
{
	const char *p = s, *colon;
	char *end;
	long port = default_port;
	char *h;

	if (strncmp(p, "https://", 8) == 0)
		p += 8;
	else if (strstr(p, "://") != NULL)
		return false;
	if (*p == '[') {
		const char *rb = strchr(p, ']');

		if (rb == NULL)
			return false;
		h = xstrndup(p + 1, (size_t)(rb - p - 1));
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] != '\0' && rb[1] != ':' && rb[1] != '/')
			goto bad;
	} else {
		size_t n = strcspn(p, ":/");

		h = xstrndup(p, n);
		colon = p[n] == ':' ? p + n : NULL;
	}
	if (colon != NULL) {
		port = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || (*end != '\0' && *end != '/') || port < 1 || port > 65535)
			goto bad;
	}
	if (h[0] == '\0')
		goto bad;
	*host = h;
	*port_out = (int)port;
	return true;
bad:
	free(h);
	return false;
}
