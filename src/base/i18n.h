/* The one place that defines the gettext macros. */
#ifndef WIZ_I18N_H
#define WIZ_I18N_H

#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s) gettext(s)
#define P_(s, p, n) ngettext((s), (p), (n))
#else
#define _(s) (s)
#define P_(s, p, n) ((n) == 1 ? (s) : (p))
#endif
#define N_(s) (s)

/* setlocale + bindtextdomain; call once from main(). */
void wiz_i18n_init(void);

#endif
