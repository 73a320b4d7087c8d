#include "config.h"

#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"

static const char *const wiz_err_messages[] = {
#define WIZ_ERR_MSG(id, msg) N_(msg),
	WIZ_ERR_INFO(WIZ_ERR_MSG)
#undef WIZ_ERR_MSG
};

enum wiz_err wiz_error_set(struct wiz_error *err, enum wiz_err code,
			   const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

void wiz_error_prefix(struct wiz_error *err, const char *fmt, ...)
{
	char *prefix, *joined;
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	prefix = xvasprintf(fmt, ap);
	va_end(ap);
	joined = xasprintf("%s: %s", prefix, err->msg);
	/* Messages longer than the buffer are cut, never overflowed. */
	snprintf(err->msg, sizeof err->msg, "%s", joined);
	free(joined);
	free(prefix);
}

const char *wiz_err_name(enum wiz_err code)
{
	if ((unsigned)code >= WIZ_ERR_COUNT)
		return _("unknown error");
	return _(wiz_err_messages[code]);
}

void wiz_error_clear(struct wiz_error *err)
{
	if (err == NULL)
		return;
	err->code = WIZ_ERR_OK;
	err->msg[0] = '\0';
}
