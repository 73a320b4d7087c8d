/* Errors as values: every fallible core function returns enum wiz_err and,
 * when given one, fills a struct wiz_error with a message for the user. */
#ifndef WIZ_ERROR_H
#define WIZ_ERROR_H

#include <stddef.h>

#define WIZ_ERR_INFO(_)                                            \
	_(OK, "ok")                                                \
	_(USAGE, "usage error")                                    \
	_(IO, "input/output error")                                \
	_(PARSE, "malformed input")                                \
	_(INVALID, "invalid value")                                \
	_(EXISTS, "already exists")                                \
	_(NOTFOUND, "not found")                                   \
	_(CRYPTO, "cryptography error")                            \
	_(TLS, "TLS error")                                        \
	_(SSH, "SSH error")                                        \
	_(HOSTKEY, "host key not trusted")                         \
	_(AUTH, "authentication failed")                           \
	_(TIMEOUT, "timed out")                                    \
	_(UNREACHABLE, "host unreachable")                         \
	_(REMOTE, "remote command failed")                         \
	_(AGAIN, "operation would block")                          \
	_(CANCELLED, "cancelled")

enum wiz_err {
#define WIZ_ERR_ENUM(id, msg) WIZ_ERR_##id,
	WIZ_ERR_INFO(WIZ_ERR_ENUM)
#undef WIZ_ERR_ENUM
	WIZ_ERR_COUNT
};

struct wiz_error {
	enum wiz_err code;
	char msg[1024];
};

/* Returns code, so that callers can write `return wiz_error_set(...)`.
 * err may be NULL. The message is already translated by the caller. */
enum wiz_err wiz_error_set(struct wiz_error *err, enum wiz_err code,
			   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix an existing message with more context: "context: old message". */
void wiz_error_prefix(struct wiz_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

const char *wiz_err_name(enum wiz_err code);
void wiz_error_clear(struct wiz_error *err);

#endif
