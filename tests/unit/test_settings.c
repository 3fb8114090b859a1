/* test_settings.c - the settings table of common/settings.h.
 *
 * Defaults, the typed parsers (durations, sizes, booleans, numbers), range and type errors
 * naming the option, unknown names, the wire round trip (what scr_settings_format() writes for
 * the workers must parse back to the same value, for every row, at its default and at its
 * bounds) and the config file reader.
 */
#include <limits.h>
#include <stdint.h>
#include <unistd.h>

#include "common/error.h"
#include "common/buf.h"
#include "common/settings.h"
#include "common/version.h"
#include "coordinator/jobs.h"
#include "test.h"

#define ASSERT_CONTAINS(hay, needle)                                              \
    do {                                                                          \
        const char *h_ = (hay), *n_ = (needle);                                   \
        if (!strstr(h_, n_))                                                      \
            TEST_FAIL_("\"%s\" does not contain \"%s\"", h_, n_);                 \
    } while (0)

static int64_t dur(const char *s)
{
    int64_t v = -12345;
    if (scr_parse_duration_ms(s, &v) != SCR_OK)
        TEST_FAIL_("duration '%s' refused", s);
    return v;
}

static int64_t size(const char *s)
{
    int64_t v = -12345;
    if (scr_parse_size(s, &v) != SCR_OK)
        TEST_FAIL_("size '%s' refused", s);
    return v;
}

TEST(defaults)
{
    struct scr_settings s;

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    ASSERT(s.seed == NULL);
    ASSERT(s.db == NULL);
    ASSERT_STR_EQ(s.job, "default");
    ASSERT_EQ(s.max_depth, 3);
    ASSERT_EQ(s.max_pages, 0);
    ASSERT_EQ(s.concurrency, 16);
    ASSERT_EQ(s.max_body, 8 * 1024 * 1024);
    ASSERT_EQ(s.connect_timeout_ms, 10000);
    ASSERT_EQ(s.timeout_ms, 30000);
    ASSERT_EQ(s.max_redirects, 5);
    ASSERT(s.user_agent != NULL);
    ASSERT_EQ(strncmp(s.user_agent, "scrape/" SCR_VERSION, strlen("scrape/" SCR_VERSION)), 0);
    ASSERT_EQ(s.insecure, 0);
    ASSERT(s.parsers == NULL);
    ASSERT(s.rules == NULL);
    ASSERT_EQ(s.text_max, 1024 * 1024);
    ASSERT_EQ(s.max_links, 10000);
    ASSERT_EQ(s.delay_ms, 1000);
    ASSERT_EQ(s.host_concurrency, 1);
    ASSERT_EQ(s.max_attempts, 3);
    ASSERT_EQ(s.local_workers, 0);
    ASSERT_EQ(s.lease_ttl_ms, 600000);
    ASSERT_EQ(s.db_retry_ms, 120000);
    ASSERT_EQ(s.heartbeat_ms, 2000);
    ASSERT_EQ(s.peer_timeout_ms, 60000);
    ASSERT_EQ(s.progress_interval_ms, 10000);
    ASSERT_STR_EQ(s.log_level, "info");
    ASSERT_EQ(s.quiet, 0);
    scr_settings_release(&s);
    ASSERT(s.job == NULL);
    ASSERT(s.user_agent == NULL);
}

TEST(table)
{
    size_t n = 0;
    const struct scr_setting_def *defs = scr_settings_table(&n);

    ASSERT_GT(n, 20);
    for (size_t i = 0; i < n; i++) {
        ASSERT(defs[i].name != NULL && defs[i].help != NULL);
        ASSERT(scr_settings_find(defs[i].name) == &defs[i]);
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(defs[i].name, defs[j].name) == 0)
                TEST_FAIL_("duplicate setting '%s'", defs[i].name);
        if (defs[i].type != SCR_SET_STRING)
            ASSERT_LE(defs[i].min, defs[i].max);
    }
    ASSERT(scr_settings_find("no-such-thing") == NULL);
    ASSERT(scr_settings_find("") == NULL);
    ASSERT(scr_settings_find("concurrency")->wire == 1);
    ASSERT(scr_settings_find("db")->secret == 1);
    ASSERT(scr_settings_find("delay")->wire == 0);
}

TEST(durations)
{
    int64_t v = 777;

    ASSERT_EQ(dur("250ms"), 250);
    ASSERT_EQ(dur("2s"), 2000);
    ASSERT_EQ(dur("1.5s"), 1500);
    ASSERT_EQ(dur("0"), 0);          /* zero needs no unit */
    ASSERT_EQ(dur(" 0.0 "), 0);
    ASSERT_EQ(dur("5m"), 300000);
    ASSERT_EQ(dur("5min"), 300000);
    ASSERT_EQ(dur("12h"), 43200000);
    ASSERT_EQ(dur("7d"), 604800000);
    ASSERT_EQ(dur("1w"), 604800000);
    ASSERT_EQ(dur("0.5s"), 500);
    ASSERT_EQ(dur("2S"), 2000);      /* units are case-insensitive */
    ASSERT_EQ(dur(" 2 s "), 2000);   /* surrounding and inner spaces */
    ASSERT_EQ(dur("10000ms"), 10000);

    static const char *const bad[] = {"-1", "-1s", "+2s", "3x", "", " ", "s", "ms", "2 s x",
                                      "1.5.2s", "2ss", "nan", "inf", "1e300d", "2 mss",
                                      "5 minutes",
                                      /* a bare number was seconds: --delay 500 waited 500 s */
                                      "500", "1.5", "1", " 30 "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 777;
        if (scr_parse_duration_ms(bad[i], &v) != SCR_EINVAL)
            TEST_FAIL_("duration '%s' accepted (%lld)", bad[i], (long long)v);
        ASSERT_EQ(v, 777); /* untouched on failure */
    }
}

/* A duration without a unit is refused with the fix in the message, on the command line and
 * in a config file alike; 0 needs none. */
TEST(duration_needs_a_unit)
{
    struct scr_settings s;
    char err[256] = "";

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    ASSERT_EQ(scr_settings_set(&s, "delay", "500", err, sizeof(err)), SCR_EINVAL);
    ASSERT_STR_EQ(err, "--delay 500: give a unit, e.g. 500ms or 2s");
    ASSERT_EQ(s.delay_ms, 1000); /* unchanged */
    ASSERT_EQ(scr_settings_set(&s, "timeout", "1.5", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--timeout 1.5: give a unit");
    ASSERT_EQ(scr_settings_set(&s, "delay", "0", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(s.delay_ms, 0);
    ASSERT_EQ(scr_settings_set(&s, "delay", "500ms", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(s.delay_ms, 500);
    scr_settings_release(&s);
}

TEST(sizes)
{
    int64_t v = 777;

    ASSERT_EQ(size("512"), 512);
    ASSERT_EQ(size("0"), 0);
    ASSERT_EQ(size("64K"), 65536);
    ASSERT_EQ(size("64k"), 65536);
    ASSERT_EQ(size("64KB"), 65536);
    ASSERT_EQ(size("64KiB"), 65536);
    ASSERT_EQ(size("10M"), 10485760);
    ASSERT_EQ(size("1G"), 1073741824);
    ASSERT_EQ(size("1.5M"), 1572864);
    ASSERT_EQ(size("0.5K"), 512);
    ASSERT_EQ(size("8G"), INT64_C(8589934592));

    static const char *const bad[] = {"-1", "-1K", "3x", "", "K", "1T", "1KX", "1KiBB",
                                      "1.5.5M", "nan", "inf", "1e300G"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 777;
        if (scr_parse_size(bad[i], &v) != SCR_EINVAL)
            TEST_FAIL_("size '%s' accepted (%lld)", bad[i], (long long)v);
        ASSERT_EQ(v, 777);
    }
}

TEST(set_typed)
{
    struct scr_settings s;
    char err[256];

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    ASSERT_EQ(scr_settings_set(&s, "concurrency", "64", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(s.concurrency, 64);
    ASSERT_EQ(scr_settings_set(&s, "max-pages", "9223372036854775807", err, sizeof(err)),
              SCR_OK);
    ASSERT(s.max_pages == INT64_MAX);
    ASSERT_EQ(scr_settings_set(&s, "max-body", "64K", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(s.max_body, 65536);
    ASSERT_EQ(scr_settings_set(&s, "timeout", "1.5s", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(s.timeout_ms, 1500);
    ASSERT_EQ(scr_settings_set(&s, "delay", "250ms", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(s.delay_ms, 250);
    ASSERT_EQ(scr_settings_set(&s, "delay", "0", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(s.delay_ms, 0);
    ASSERT_EQ(scr_settings_set(&s, "user-agent", "bot/1.0", err, sizeof(err)), SCR_OK);
    ASSERT_STR_EQ(s.user_agent, "bot/1.0");
    ASSERT_EQ(scr_settings_set(&s, "parsers", "links,jsonld", err, sizeof(err)), SCR_OK);
    ASSERT_STR_EQ(s.parsers, "links,jsonld");

    static const char *const yes[] = {"1", "true", "TRUE", "yes", "Yes", "on", "ON"};
    static const char *const no[] = {"0", "false", "False", "no", "NO", "off", "Off"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        s.insecure = 0;
        ASSERT_EQ(scr_settings_set(&s, "insecure", yes[i], err, sizeof(err)), SCR_OK);
        ASSERT_EQ(s.insecure, 1);
        ASSERT_EQ(scr_settings_set(&s, "insecure", no[i], err, sizeof(err)), SCR_OK);
        ASSERT_EQ(s.insecure, 0);
    }
    s.quiet = 1;
    err[0] = '\0';
    ASSERT_EQ(scr_settings_set(&s, "quiet", "maybe", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(s.quiet, 1);
    ASSERT_CONTAINS(err, "--quiet");
    ASSERT_CONTAINS(err, "maybe");
    ASSERT_EQ(scr_settings_set(&s, "quiet", "", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(scr_settings_set(&s, "quiet", "2", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(s.quiet, 1);
    scr_settings_release(&s);
}

TEST(errors_name_the_option)
{
    struct scr_settings s;
    char err[256];

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);

    /* range */
    err[0] = '\0';
    ASSERT_EQ(scr_settings_set(&s, "concurrency", "0", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--concurrency");
    ASSERT_CONTAINS(err, "1 to 1024");
    ASSERT_EQ(s.concurrency, 16);
    ASSERT_EQ(scr_settings_set(&s, "concurrency", "1025", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--concurrency");
    ASSERT_EQ(s.concurrency, 16);
    ASSERT_EQ(scr_settings_set(&s, "concurrency", "1024", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(s.concurrency, 1024);
    ASSERT_EQ(scr_settings_set(&s, "concurrency", "1", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(s.concurrency, 1);
    /* an int whose text overflows int must not wrap into range */
    ASSERT_EQ(scr_settings_set(&s, "concurrency", "4294967297", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(s.concurrency, 1);
    ASSERT_EQ(scr_settings_set(&s, "max-pages", "99999999999999999999", err, sizeof(err)),
              SCR_EINVAL);
    ASSERT_CONTAINS(err, "--max-pages");
    ASSERT_EQ(scr_settings_set(&s, "max-depth", "-1", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--max-depth");
    ASSERT_EQ(s.max_depth, 3);
    ASSERT_EQ(scr_settings_set(&s, "max-body", "512", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--max-body");
    ASSERT_EQ(s.max_body, 8 * 1024 * 1024);
    ASSERT_EQ(scr_settings_set(&s, "max-body", "5G", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--max-body");
    ASSERT_EQ(scr_settings_set(&s, "timeout", "2h", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--timeout");
    ASSERT_CONTAINS(err, "out of range");
    ASSERT_EQ(s.timeout_ms, 30000);
    ASSERT_EQ(scr_settings_set(&s, "heartbeat", "50ms", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--heartbeat");
    ASSERT_EQ(s.heartbeat_ms, 2000);

    /* type */
    ASSERT_EQ(scr_settings_set(&s, "concurrency", "lots", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--concurrency");
    ASSERT_CONTAINS(err, "'lots'");
    ASSERT_EQ(scr_settings_set(&s, "concurrency", "12abc", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(scr_settings_set(&s, "concurrency", "", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(scr_settings_set(&s, "concurrency", "1.5", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(s.concurrency, 1);
    ASSERT_EQ(scr_settings_set(&s, "delay", "3x", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--delay");
    ASSERT_CONTAINS(err, "duration");
    ASSERT_EQ(scr_settings_set(&s, "delay", "-1", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(s.delay_ms, 1000);
    ASSERT_EQ(scr_settings_set(&s, "max-body", "10Q", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--max-body");
    ASSERT_CONTAINS(err, "size");

    /* unknown */
    err[0] = '\0';
    ASSERT_EQ(scr_settings_set(&s, "concurency", "4", err, sizeof(err)), SCR_ENOTFOUND);
    ASSERT_CONTAINS(err, "concurency");
    ASSERT_EQ(scr_settings_set(&s, "", "4", err, sizeof(err)), SCR_ENOTFOUND);

    /* a small err buffer is truncated, not overrun */
    {
        char small[8];
        memset(small, 'X', sizeof(small));
        ASSERT_EQ(scr_settings_set(&s, "concurrency", "0", small, 6), SCR_EINVAL);
        ASSERT_EQ(small[5], '\0');
        ASSERT_EQ(small[6], 'X');
    }
    scr_settings_release(&s);
}

/* Formats d from `from`, sets it on `to` (from its defaults) and checks both format alike and
 * the fields hold the same value. */
static void check_roundtrip(const struct scr_settings *from, const struct scr_setting_def *d)
{
    struct scr_settings to;
    char *text, *again, err[256];
    const char *pf = (const char *)from, *pt;

    text = scr_settings_format(from, d);
    ASSERT_EQ(scr_settings_init(&to), SCR_OK);
    if (scr_settings_set(&to, d->name, text, err, sizeof(err)) != SCR_OK)
        TEST_FAIL_("--%s: formatted value '%s' does not parse back: %s", d->name, text, err);
    again = scr_settings_format(&to, d);
    if (strcmp(text, again) != 0)
        TEST_FAIL_("--%s: '%s' came back as '%s'", d->name, text, again);
    pt = (const char *)&to;
    switch (d->type) {
    case SCR_SET_INT:
    case SCR_SET_BOOL:
        ASSERT_EQ(*(const int *)(pt + d->offset), *(const int *)(pf + d->offset));
        break;
    case SCR_SET_INT64:
    case SCR_SET_SIZE:
    case SCR_SET_DURATION:
        ASSERT_EQ(*(const int64_t *)(pt + d->offset), *(const int64_t *)(pf + d->offset));
        break;
    case SCR_SET_LIST:
    case SCR_SET_STRING: {
        /* an unset string goes as "", which scr_settings_set reads back as unset (NULL) */
        const char *a = *(char *const *)(pf + d->offset), *b = *(char *const *)(pt + d->offset);
        ASSERT_STR_EQ(b ? b : "", a ? a : "");
        ASSERT((a == NULL) == (b == NULL));
        break;
    }
    }
    free(text);
    free(again);
    scr_settings_release(&to);
}

TEST(format_roundtrip)
{
    size_t n;
    const struct scr_setting_def *defs = scr_settings_table(&n);
    struct scr_settings s;
    char text[64], err[256];

    /* every row at its default */
    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    for (size_t i = 0; i < n; i++)
        check_roundtrip(&s, &defs[i]);

    /* every numeric row at its bounds, every string with odd text, every bool flipped */
    for (size_t i = 0; i < n; i++) {
        const struct scr_setting_def *d = &defs[i];
        for (int end = 0; end < 2; end++) {
            int64_t v = end ? d->max : d->min;
            switch (d->type) {
            case SCR_SET_INT:
            case SCR_SET_INT64:
            case SCR_SET_SIZE:
                snprintf(text, sizeof(text), "%lld", (long long)v);
                break;
            case SCR_SET_DURATION:
                snprintf(text, sizeof(text), "%lldms", (long long)v);
                break;
            case SCR_SET_BOOL:
                snprintf(text, sizeof(text), "%s", end ? "yes" : "off");
                break;
            case SCR_SET_STRING:
                snprintf(text, sizeof(text), "%s", end ? " a = b # c, d " : "x");
                if (strcmp(d->name, "proxy") == 0) /* a URL, checked */
                    snprintf(text, sizeof(text), "%s", end ? "socks5h://[::1]:1080" : "http://x");
                break;
            case SCR_SET_LIST: /* --header: the second value is appended to the first */
                snprintf(text, sizeof(text), "%s", end ? "X-B: b = c\nX-C:" : "X-A: 1");
                break;
            }
            if (scr_settings_set(&s, d->name, text, err, sizeof(err)) != SCR_OK)
                TEST_FAIL_("--%s %s: %s", d->name, text, err);
            check_roundtrip(&s, d);
        }
    }
    /* an odd duration that is not a whole number of seconds */
    ASSERT_EQ(scr_settings_set(&s, "timeout", "1.2345s", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(s.timeout_ms, 1235);
    check_roundtrip(&s, scr_settings_find("timeout"));
    {
        static const char *const want[][2] = {
            {"timeout", "1235ms"}, {"insecure", "true"}, {"max-body", "4294967296"}};
        for (size_t i = 0; i < 3; i++) {
            char *buf = scr_settings_format(&s, scr_settings_find(want[i][0]));
            ASSERT_STR_EQ(buf, want[i][1]);
            free(buf);
        }
    }
    scr_settings_release(&s);
}

/* A 5,000-byte --strip-param list formats whole, so the workers (WELCOME) and the run's row
 * get the list rank 0 uses, and it sets back to the same value. */
TEST(format_long_value)
{
    struct scr_settings s, to;
    struct scr_buf list;
    char err[256], *buf;
    const struct scr_setting_def *d = scr_settings_find("strip-param");

    scr_buf_init(&list);
    for (int i = 0; list.len < 5000; i++)
        ASSERT_EQ(scr_buf_printf(&list, "%sparam_%04d", i ? "," : "", i), 0);
    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    ASSERT_EQ(scr_settings_init(&to), SCR_OK);
    ASSERT_EQ(scr_settings_set(&s, "strip-param", list.data, err, sizeof(err)), SCR_OK);
    buf = scr_settings_format(&s, d);
    ASSERT_EQ(strlen(buf), list.len);
    ASSERT_EQ(scr_settings_set(&to, "strip-param", buf, err, sizeof(err)), SCR_OK);
    ASSERT_STR_EQ(to.strip_param, list.data);
    free(buf);
    scr_settings_release(&s);
    scr_settings_release(&to);
    scr_buf_release(&list);
}

/* Writes text to a fresh temporary file; returns its path (static buffer). */
static const char *write_temp(const char *text, size_t len)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/scrape_test_settings_XXXXXX");
    fd = mkstemp(path);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, text, len), (long long)len);
    close(fd);
    return path;
}

TEST(load_file)
{
    static const char good[] =
        "# a config file\n"
        "\n"
        "   \n"
        "concurrency = 4\n"
        "  delay=250ms  \n"
        "\t# indented comment\n"
        "user-agent = bot/2 (+https://x.invalid/?a=b)\n"
        "max-body = 1.5M\r\n"
        "insecure = yes\n"
        "job = nightly"; /* no final newline */
    struct scr_settings s;
    char err[512];
    const char *path;

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    path = write_temp(good, sizeof(good) - 1);
    err[0] = '\0';
    if (scr_settings_load_file(&s, path, err, sizeof(err)) != SCR_OK)
        TEST_FAIL_("good file refused: %s", err);
    unlink(path);
    ASSERT_EQ(s.concurrency, 4);
    ASSERT_EQ(s.delay_ms, 250);
    ASSERT_STR_EQ(s.user_agent, "bot/2 (+https://x.invalid/?a=b)");
    ASSERT_EQ(s.max_body, 1572864);
    ASSERT_EQ(s.insecure, 1);
    ASSERT_STR_EQ(s.job, "nightly");
    ASSERT_EQ(s.max_depth, 3); /* untouched */
    /* what the file gave is marked as given (a job's stored settings yield to it) */
    ASSERT_EQ(scr_settings_was_given(&s, "delay"), 1);
    ASSERT_EQ(scr_settings_was_given(&s, "job"), 1);
    ASSERT_EQ(scr_settings_was_given(&s, "max-depth"), 0);
    ASSERT_EQ(scr_settings_was_given(&s, "dela"), 0);
    ASSERT_EQ(scr_settings_was_given(&s, "delay-x"), 0);
    scr_settings_release(&s);
    ASSERT(s.given == NULL);
}

/* Which settings a job keeps (coordinator/jobs.c, docs/cron.md), and the given marks. */
TEST(job_settings)
{
    static const char *const kept[] = {"max-depth", "rules", "parsers", "delay",
                                       "recrawl-after", "user-agent", "include", "sitemaps"};
    static const char *const not_kept[] = {"seed", "db", "db-file", "job", "proxy-user",
                                           "proxy-user-file", "if-idle", "island", "log-level",
                                           "quiet", "local-workers", "no-such-setting"};
    struct scr_settings s;
    char err[256];

    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        if (!scr_jobs_is_job_setting(kept[i]))
            TEST_FAIL_("%s should be a job setting", kept[i]);
    for (size_t i = 0; i < sizeof(not_kept) / sizeof(not_kept[0]); i++)
        if (scr_jobs_is_job_setting(not_kept[i]))
            TEST_FAIL_("%s should not be a job setting", not_kept[i]);
    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    ASSERT(s.given == NULL); /* defaults are not given */
    ASSERT_EQ(scr_settings_set(&s, "max-depth", "1", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_settings_was_given(&s, "max-depth"), 0); /* set is not given */
    scr_settings_mark_given(&s, "max-depth");
    scr_settings_mark_given(&s, "max-depth");
    scr_settings_mark_given(&s, "rules");
    ASSERT_STR_EQ(s.given, "max-depth\nrules\n");
    ASSERT_EQ(scr_settings_was_given(&s, "rules"), 1);
    ASSERT_EQ(scr_settings_was_given(&s, "max"), 0);
    scr_settings_release(&s);
}

static void check_bad_file(const char *text, size_t len, const char *want_line,
                           const char *want_text)
{
    struct scr_settings s;
    char err[512], where[128];
    const char *path;

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    path = write_temp(text, len);
    err[0] = '\0';
    ASSERT_EQ(scr_settings_load_file(&s, path, err, sizeof(err)), SCR_EINVAL);
    snprintf(where, sizeof(where), "%s:%s: ", path, want_line);
    if (strncmp(err, where, strlen(where)) != 0)
        TEST_FAIL_("error '%s' does not start with '%s'", err, where);
    ASSERT_CONTAINS(err, want_text);
    unlink(path);
    scr_settings_release(&s);
}

TEST(load_file_errors)
{
    static const char nul[] = "concurrency = 4\nde\0lay = 1s\n";
    struct scr_settings s;
    char err[512];

#define BAD(text, line, want) check_bad_file(text, sizeof(text) - 1, line, want)
    BAD("# ok\nconcurrency = 4\nthis line has no equals sign\n", "3", "expected 'key = value'");
    BAD("\n\n\n\nconcurrency = 4\nbogus-key = 1\n", "6", "unknown setting 'bogus-key'");
    BAD("concurrency = 0\n", "1", "--concurrency");
    BAD("# c\ndelay = soon\n", "2", "--delay");
    BAD("= 4\n", "1", "unknown setting ''");
#undef BAD
    check_bad_file(nul, sizeof(nul) - 1, "2", "binary");

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    err[0] = '\0';
    ASSERT_EQ(scr_settings_load_file(&s, "/nonexistent/scrape.conf", err, sizeof(err)), SCR_EIO);
    ASSERT_CONTAINS(err, "/nonexistent/scrape.conf");
    scr_settings_release(&s);
}

int main(void)
{
    RUN(defaults);
    RUN(table);
    RUN(durations);
    RUN(duration_needs_a_unit);
    RUN(sizes);
    RUN(set_typed);
    RUN(errors_name_the_option);
    RUN(format_roundtrip);
    RUN(format_long_value);
    RUN(load_file);
    RUN(load_file_errors);
    RUN(job_settings);
    fprintf(stderr, "test_settings: all passed\n");
    return 0;
}
