/* log.c - one-write log lines with time, rank and host (see log.h).
 *
 * The level and identity are set at start-up before threads exist, then only read.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_rank = -1;
static char log_host[64] = "?";
static enum scr_log_level log_level = SCR_LOG_INFO;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void scr_log_setup(int rank, const char *host, enum scr_log_level level)
{
    log_rank = rank;
    snprintf(log_host, sizeof(log_host), "%s", host ? host : "?");
    log_level = level;
}

void scr_log_set_level(enum scr_log_level level)
{
    log_level = level;
}

int scr_log_level_parse(const char *s)
{
    for (int i = 0; i <= SCR_LOG_DEBUG; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (strcasecmp(s, "warning") == 0)
        return SCR_LOG_WARN;
    return -1;
}

void scr_log(enum scr_log_level level, const char *fmt, ...)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    va_list ap;
    int n, m;

    if (level > log_level)
        return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ [rank %d %s] %s ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec, (int)(tv.tv_usec / 1000), log_rank, log_host,
                 level_names[level]);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* nothing sensible to do when stderr is gone */
    }
}
