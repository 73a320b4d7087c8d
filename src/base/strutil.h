/* Small string checks shared by the cluster file, the PKI and the steps. */
#ifndef WIZ_STRUTIL_H
#define WIZ_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 1123 label: 1-63 of [a-z0-9-], starting and ending alphanumeric. */
bool str_is_rfc1123_label(const char *s);
/* RFC 1123 DNS name: dot-separated labels, at most 253 characters. */
bool str_is_dns_name(const char *s);
/* IPv4 or IPv6 literal (no brackets, no zone). */
bool str_is_ip(const char *s);
bool str_is_ipv6(const char *s);
/* Canonical text of an IP literal (e.g. 2001:DB8::1 -> 2001:db8::1). */
bool str_ip_canonical(const char *s, char *out, size_t outlen);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* host:port with a valid port; host may be [v6]. */
bool str_is_host_port(const char *s);
/* CIDR "a.b.c.d/n" or "v6/n". */
bool str_is_cidr(const char *s);

/* "3.5.21" >= "3.5.11"? (missing parts count as 0) */
bool version_at_least(const char *version, int major, int minor, int patch);
/* "https://<address>:<port>", with brackets around an IPv6 address. */
char *url_for(const char *scheme, const char *address, int port);
/* Its inverse: "https://h:p", "h:p", "[v6]:p" or "h" (default_port) into
 * *host (owned, brackets off) and *port; false when malformed (nothing
 * set). */
bool url_parse(const char *s, int default_port, char **host, int *port);

/* Hex SHA-256 of data (65 bytes with the NUL). */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
