#include "config.h"

#include "base/i18n.h"

#include <locale.h>
#include <stdlib.h>

void wiz_i18n_init(void)
{
	setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
	/* ETCDWIZ_LOCALEDIR: catalogues not (yet) installed, as the tests
	 * build them from po/. */
	const char *dir = getenv("ETCDWIZ_LOCALEDIR");

	bindtextdomain(PACKAGE, dir && *dir ? dir : LOCALEDIR);
	bind_textdomain_codeset(PACKAGE, "UTF-8");
	textdomain(PACKAGE);
#endif
}
