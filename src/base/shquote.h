/* The one way a value gets into a remote POSIX shell command line. */
#ifndef WIZ_SHQUOTE_H
#define WIZ_SHQUOTE_H

#include <stddef.h>

/* A word that a POSIX sh reads back as exactly s: plain words made only of
 * [A-Za-z0-9_./:@%+,-] that are not reserved words stay as they are,
 * everything else is wrapped in single quotes with each ' written as '\''.
 * The empty string becomes ''. Newlines, $(), backticks, globs and
 * backslashes are all inert inside the quotes. Caller frees. */
char *sh_quote(const char *s);

/* argv (NULL-terminated) quoted word by word and joined with spaces. */
char *sh_join(const char *const *argv);

/* Like sh_join, for an argv with n entries. */
char *sh_joinv(const char *const *argv, size_t n);

#endif
