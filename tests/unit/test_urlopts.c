/* test_urlopts.c - struct scr_url_opts from the settings (common/urlopts.h).
 *
 * The settings rows behind it (names, types, defaults, wire flags: workers must normalize
 * with the coordinator's options), the defaults, each option, the --strip-param list and its
 * errors, release twice, and end to end through scr_url_normalize().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/settings.h"
#include "common/url.h"
#include "common/urlopts.h"
#include "tests/unit/test.h"

static void set(struct scr_settings *s, const char *name, const char *value)
{
    char err[256];

    if (scr_settings_set(s, name, value, err, sizeof(err)) != SCR_OK)
        TEST_FAIL_("--%s %s: %s", name, value, err);
}

TEST(settings_rows)
{
    static const struct {
        const char *name;
        enum scr_setting_type type;
        int wire;
        const char *defval;
    } rows[] = {
        {"strip-tracking", SCR_SET_BOOL, 1, "false"},
        {"strip-param", SCR_SET_STRING, 1, NULL},
        {"sort-query", SCR_SET_BOOL, 1, "false"},
        {"max-url-length", SCR_SET_INT, 1, "2048"},
        {"allow-domain", SCR_SET_STRING, 0, NULL},
        {"deny-domain", SCR_SET_STRING, 0, NULL},
        {"include", SCR_SET_STRING, 0, NULL},
        {"exclude", SCR_SET_STRING, 0, NULL},
        {"max-query-variants", SCR_SET_INT, 0, "100"},
        {"max-pages-per-host", SCR_SET_INT64, 0, "0"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct scr_setting_def *d = scr_settings_find(rows[i].name);
        if (!d)
            TEST_FAIL_("no setting '%s'", rows[i].name);
        ASSERT_EQ(d->type, rows[i].type);
        ASSERT_EQ(d->wire, rows[i].wire);
        ASSERT_EQ(d->secret, 0);
        if (rows[i].defval)
            ASSERT_STR_EQ(d->defval, rows[i].defval);
        else
            ASSERT(d->defval == NULL);
    }
    ASSERT_STR_EQ(scr_settings_find("strip-tracking")->help,
                  "drop utm_* and --strip-param parameters");
}

TEST(settings_ranges)
{
    struct scr_settings s;
    char err[256];

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    ASSERT_EQ(s.max_url_length, 2048);
    ASSERT_EQ(s.max_query_variants, 100);
    ASSERT_EQ(s.max_pages_per_host, 0);
    ASSERT_EQ(s.strip_tracking, 0);
    ASSERT_EQ(s.sort_query, 0);
    ASSERT(s.strip_param == NULL && s.allow_domain == NULL && s.include == NULL);
    ASSERT_EQ(scr_settings_set(&s, "max-url-length", "10", err, sizeof(err)), SCR_EINVAL);
    ASSERT_STR_EQ(err, "--max-url-length: 10 is out of range (64 to 65536)");
    ASSERT_EQ(scr_settings_set(&s, "max-query-variants", "-1", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(scr_settings_set(&s, "max-pages-per-host", "x", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(scr_settings_set(&s, "sort-query", "maybe", err, sizeof(err)), SCR_EINVAL);
    set(&s, "max-pages-per-host", "5000000000");
    ASSERT_EQ(s.max_pages_per_host, INT64_C(5000000000));
    scr_settings_release(&s);
}

TEST(defaults)
{
    struct scr_settings s;
    struct scr_urlopts uo;
    char err[256] = "";

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    ASSERT_EQ(scr_urlopts_init(&uo, &s, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(uo.opts.strip_tracking, 0);
    ASSERT_EQ(uo.opts.sort_query, 0);
    ASSERT(uo.opts.strip_params == NULL);
    ASSERT_EQ(uo.opts.max_len, 2048);
    scr_urlopts_release(&uo);
    scr_urlopts_release(&uo); /* twice: harmless */
    ASSERT(uo.params == NULL);
    scr_settings_release(&s);
}

TEST(options)
{
    struct scr_settings s;
    struct scr_urlopts uo;
    char err[256] = "";

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    set(&s, "strip-tracking", "yes");
    set(&s, "sort-query", "on");
    set(&s, "max-url-length", "300");
    set(&s, "strip-param", " fbclid ,gclid,\tmc_eid");
    ASSERT_EQ(scr_urlopts_init(&uo, &s, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(uo.opts.strip_tracking, 1);
    ASSERT_EQ(uo.opts.sort_query, 1);
    ASSERT_EQ(uo.opts.max_len, 300);
    ASSERT(uo.opts.strip_params != NULL);
    ASSERT_STR_EQ(uo.opts.strip_params[0], "fbclid");
    ASSERT_STR_EQ(uo.opts.strip_params[1], "gclid");
    ASSERT_STR_EQ(uo.opts.strip_params[2], "mc_eid");
    ASSERT(uo.opts.strip_params[3] == NULL);
    scr_urlopts_release(&uo);

    /* strip-tracking alone: utm_* only, no list */
    set(&s, "strip-param", "one");
    set(&s, "sort-query", "false");
    ASSERT_EQ(scr_urlopts_init(&uo, &s, err, sizeof(err)), SCR_OK);
    ASSERT_STR_EQ(uo.opts.strip_params[0], "one");
    ASSERT(uo.opts.strip_params[1] == NULL);
    ASSERT_EQ(uo.opts.sort_query, 0);
    scr_urlopts_release(&uo);
    scr_settings_release(&s);
}

TEST(errors)
{
    static const struct {
        const char *strip_tracking, *strip_param, *want;
    } bad[] = {
        {"false", "fbclid", "--strip-param: has no effect without --strip-tracking"},
        {"true", "a,,b", "--strip-param: empty parameter name in 'a,,b'"},
        {"true", "a,", "--strip-param: empty parameter name in 'a,'"},
        {"true", ",a", "--strip-param: empty parameter name in ',a'"},
        {"true", " , ", "--strip-param: empty parameter name in ' , '"},
        {"true", "a=b", "--strip-param: 'a=b' is not a parameter name"},
        {"true", "x,a&b", "--strip-param: 'a&b' is not a parameter name"},
        {"true", "a b", "--strip-param: 'a b' is not a parameter name"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct scr_settings s;
        struct scr_urlopts uo;
        char err[256] = "";

        ASSERT_EQ(scr_settings_init(&s), SCR_OK);
        set(&s, "strip-tracking", bad[i].strip_tracking);
        set(&s, "strip-param", bad[i].strip_param);
        ASSERT_EQ(scr_urlopts_init(&uo, &s, err, sizeof(err)), SCR_EINVAL);
        ASSERT_STR_EQ(err, bad[i].want);
        ASSERT(uo.params == NULL && uo.opts.strip_params == NULL); /* holds nothing */
        scr_urlopts_release(&uo);
        scr_settings_release(&s);
    }
}

/* The options do what scr_url_normalize() documents. */
TEST(normalize)
{
    static const struct {
        const char *settings[4][2];
        const char *in, *want; /* want NULL = rejected */
    } cases[] = {
        {{{NULL, NULL}}, "http://a.com/?utm_source=x&b=1&a=2", "http://a.com/?utm_source=x&b=1&a=2"},
        {{{"strip-tracking", "1"}}, "http://a.com/?utm_source=x&b=1&a=2", "http://a.com/?b=1&a=2"},
        {{{"sort-query", "1"}}, "http://a.com/?utm_source=x&b=1&a=2",
         "http://a.com/?a=2&b=1&utm_source=x"},
        {{{"strip-tracking", "1"}, {"sort-query", "1"}}, "http://a.com/?UTM_Medium=x&b=1&a=2",
         "http://a.com/?a=2&b=1"},
        {{{"strip-tracking", "1"}, {"strip-param", "fbclid,sid"}},
         "http://a.com/p?fbclid=1&x=2&sid=3", "http://a.com/p?x=2"},
        {{{"strip-tracking", "1"}}, "http://a.com/p?fbclid=1", "http://a.com/p?fbclid=1"},
        {{{"strip-tracking", "1"}}, "http://a.com/p?utm_a=1", "http://a.com/p"},
        {{{"max-url-length", "64"}}, "http://a.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "http://a.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {{{"max-url-length", "64"}}, "http://a.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         NULL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scr_settings s;
        struct scr_urlopts uo;
        char err[256] = "", *out = NULL;
        int rc;

        ASSERT_EQ(scr_settings_init(&s), SCR_OK);
        for (size_t k = 0; k < 4 && cases[i].settings[k][0]; k++)
            set(&s, cases[i].settings[k][0], cases[i].settings[k][1]);
        ASSERT_EQ(scr_urlopts_init(&uo, &s, err, sizeof(err)), SCR_OK);
        rc = scr_url_normalize(NULL, cases[i].in, &uo.opts, &out, NULL, err, sizeof(err));
        if (cases[i].want) {
            if (rc != SCR_OK)
                TEST_FAIL_("case %zu: %s: %s", i, cases[i].in, err);
            ASSERT_STR_EQ(out, cases[i].want);
        } else {
            ASSERT_NE(rc, SCR_OK);
        }
        free(out);
        scr_urlopts_release(&uo);
        scr_settings_release(&s);
    }
}

/* The struct may be moved after init: opts points to the heap, not into uo. */
TEST(move)
{
    struct scr_settings s;
    struct scr_urlopts uo, moved;
    char err[256] = "", *out = NULL;

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    set(&s, "strip-tracking", "1");
    set(&s, "strip-param", "x");
    ASSERT_EQ(scr_urlopts_init(&uo, &s, err, sizeof(err)), SCR_OK);
    moved = uo;
    memset(&uo, 0xff, sizeof(uo));
    ASSERT_EQ(scr_url_normalize(NULL, "http://a.com/?x=1&y=2", &moved.opts, &out, NULL, err,
                                sizeof(err)),
              SCR_OK);
    ASSERT_STR_EQ(out, "http://a.com/?y=2");
    free(out);
    scr_urlopts_release(&moved);
    scr_settings_release(&s);
}

int main(void)
{
    RUN(settings_rows);
    RUN(settings_ranges);
    RUN(defaults);
    RUN(options);
    RUN(errors);
    RUN(normalize);
    RUN(move);
    return 0;
}
