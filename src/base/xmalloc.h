/* Allocation wrappers that never return NULL: running out of memory in an
 * installer is not something to recover from half-way. */
#ifndef WIZ_XMALLOC_H
#define WIZ_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size) __attribute__((malloc, returns_nonnull));
void *xcalloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
void *xreallocarray(void *ptr, size_t n, size_t size)
	__attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((malloc, returns_nonnull));
char *xstrndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull));
char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), malloc, returns_nonnull));
char *xvasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0), malloc, returns_nonnull));
/* Appends the formatted text to *s (NULL counts as ""), which it replaces:
 * the scripts built a piece at a time (bundles, probes). */
void xasprintf_append(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Overwrite then free: for passwords, passphrases and private keys. */
void wiz_free_secret(void *ptr, size_t len);

#endif
