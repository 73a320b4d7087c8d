#include "config.h"

#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = {
	"error", "warn", "info", "debug", "trace",
};

static enum wiz_log_level log_level = WIZ_LOG_WARN;
static wiz_log_sink_fn log_sink;
static void *log_sink_ud;

static void log_default_sink(enum wiz_log_level level, const char *module,
			     const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "%s: %s: %s: %s\n", PACKAGE, module,
		wiz_log_level_name(level), msg);
}

void wiz_log_set_sink(wiz_log_sink_fn fn, void *ud)
{
	log_sink = fn;
	log_sink_ud = ud;
}

void wiz_log_set_level(enum wiz_log_level level)
{
	log_level = level;
}

enum wiz_log_level wiz_log_get_level(void)
{
	return log_level;
}

bool wiz_log_enabled(enum wiz_log_level level)
{
	return level <= log_level;
}

const char *wiz_log_level_name(enum wiz_log_level level)
{
	if ((unsigned)level > WIZ_LOG_TRACE)
		return "?";
	return level_names[level];
}

bool wiz_log_level_parse(const char *s, enum wiz_log_level *out)
{
	for (unsigned i = 0; i <= WIZ_LOG_TRACE; i++) {
		if (strcmp(s, level_names[i]) == 0 ||
		    (s[0] == (char)('0' + i) && s[1] == '\0')) {
			*out = (enum wiz_log_level)i;
			return true;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = WIZ_LOG_WARN;
		return true;
	}
	return false;
}

void wiz_log(enum wiz_log_level level, const char *module, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	if (!wiz_log_enabled(level)) {
		va_end(ap);
		return;
	}
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (log_sink != NULL)
		log_sink(level, module, msg, log_sink_ud);
	else
		log_default_sink(level, module, msg, NULL);
}
