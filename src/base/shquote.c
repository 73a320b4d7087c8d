#include "config.h"

#include "base/shquote.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

/* Reserved words are only special unquoted and in command position, but a
 * quoted copy costs nothing, so they are always quoted. */
static const char *const sh_reserved[] = {
	"if", "then", "else", "elif", "fi", "do", "done", "case", "esac",
	"while", "until", "for", "in", "function", "select", "time", NULL,
};

static bool sh_is_plain(const char *s)
{
	if (*s == '\0')
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (strchr("_./:@%+,-", c) == NULL)
			return false;
	}
	for (size_t i = 0; sh_reserved[i] != NULL; i++)
		if (strcmp(s, sh_reserved[i]) == 0)
			return false;
	return true;
}

char *sh_quote(const char *s)
{
	size_t len = 2, n = 0;
	char *out;

	if (sh_is_plain(s))
		return xstrdup(s);
	for (const char *p = s; *p; p++)
		len += *p == '\'' ? 4 : 1;
	out = xmalloc(len + 1);
	out[n++] = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(out + n, "'\\''", 4);
			n += 4;
		} else {
			out[n++] = *p;
		}
	}
	out[n++] = '\'';
	out[n] = '\0';
	return out;
}

char *sh_joinv(const char *const *argv, size_t n)
{
	char **words = xcalloc(n ? n : 1, sizeof *words);
	size_t len = 1, off = 0;
	char *out;

	for (size_t i = 0; i < n; i++) {
		words[i] = sh_quote(argv[i]);
		len += strlen(words[i]) + 1;
	}
	out = xmalloc(len);
	for (size_t i = 0; i < n; i++) {
		size_t wl = strlen(words[i]);

		if (i > 0)
			out[off++] = ' ';
		memcpy(out + off, words[i], wl);
		off += wl;
		free(words[i]);
	}
	out[off] = '\0';
	free(words);
	return out;
}

char *sh_join(const char *const *argv)
{
	size_t n = 0;

	while (argv[n] != NULL)
		n++;
	return sh_joinv(argv, n);
}
