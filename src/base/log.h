/* A small logger for the core: levels and one sink callback. The UI swaps
 * the sink for its log pane; the CLI keeps the default stderr sink.
 * Nothing secret is ever passed to it: callers log names, states and sizes,
 * never passwords, passphrases, keys or data. */
#ifndef WIZ_LOG_H
#define WIZ_LOG_H

#include <stdbool.h>

enum wiz_log_level {
	WIZ_LOG_ERROR,
	WIZ_LOG_WARN,
	WIZ_LOG_INFO,
	WIZ_LOG_DEBUG,
	WIZ_LOG_TRACE,
};

/* module is a short subsystem tag ("ssh", "loop"); msg has no newline. */
typedef void (*wiz_log_sink_fn)(enum wiz_log_level level, const char *module,
				const char *msg, void *ud);

/* NULL restores the default sink (stderr, "etcdwiz: ssh: debug: msg"). */
void wiz_log_set_sink(wiz_log_sink_fn fn, void *ud);
/* Messages above this level are dropped before formatting. Default WARN. */
void wiz_log_set_level(enum wiz_log_level level);
enum wiz_log_level wiz_log_get_level(void);
bool wiz_log_enabled(enum wiz_log_level level);
/* "error", "warn", "info", "debug", "trace" (also 0-4). */
bool wiz_log_level_parse(const char *s, enum wiz_log_level *out);
const char *wiz_log_level_name(enum wiz_log_level level);

void wiz_log(enum wiz_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(mod, ...) wiz_log(WIZ_LOG_ERROR, (mod), __VA_ARGS__)
#define log_warn(mod, ...) wiz_log(WIZ_LOG_WARN, (mod), __VA_ARGS__)
#define log_info(mod, ...) wiz_log(WIZ_LOG_INFO, (mod), __VA_ARGS__)
#define log_debug(mod, ...) wiz_log(WIZ_LOG_DEBUG, (mod), __VA_ARGS__)
#define log_trace(mod, ...) wiz_log(WIZ_LOG_TRACE, (mod), __VA_ARGS__)

#endif
