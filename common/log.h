/* log.h - log lines on stderr: "2026-11-21T06:50:01Z [rank 0 host] LEVEL message".
 *
 * Each line is written with a single write(2), so lines from threads never interleave.
 * scr_log_setup() is called once at start-up; before it, lines carry rank -1.
 */
#ifndef SCR_LOG_H
#define SCR_LOG_H

enum scr_log_level { SCR_LOG_ERROR = 0, SCR_LOG_WARN, SCR_LOG_INFO, SCR_LOG_DEBUG };

void scr_log_setup(int rank, const char *host, enum scr_log_level level);
void scr_log_set_level(enum scr_log_level level);
/* Parses "error", "warn", "info", "debug"; returns -1 for anything else. */
int scr_log_level_parse(const char *s);
void scr_log(enum scr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define scr_error(...) scr_log(SCR_LOG_ERROR, __VA_ARGS__)
#define scr_warn(...) scr_log(SCR_LOG_WARN, __VA_ARGS__)
#define scr_info(...) scr_log(SCR_LOG_INFO, __VA_ARGS__)
#define scr_debug(...) scr_log(SCR_LOG_DEBUG, __VA_ARGS__)

#endif
