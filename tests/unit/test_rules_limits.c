/* test_rules_limits.c - the rules evaluator's limits (parsers/rules_eval.c, rules.h): a
 * catastrophic regex fails its field at once with a reason and is not run again on the page,
 * `:nth-child` (count(preceding-sibling::*)) over 50,000 siblings ends under libxml2's XPath
 * operation limit, and the page budget stops an evaluation that would run on. */
#include <libxml/parser.h>
#include <time.h>

#include "common/buf.h"
#include "common/error.h"
#include "parsers/extract.h"
#include "parsers/rules.h"
#include "test.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct scr_extractor *extractor(const char *rules, int64_t timeout_ms)
{
    struct scr_parser_env env;
    struct scr_extractor *x = NULL;
    char err[512];

    memset(&env, 0, sizeof(env));
    env.rules_text = rules;
    env.rules_name = "t.rules";
    env.parse_timeout_ms = timeout_ms;
    if (scr_extractor_new(&x, "rules", &env, err, sizeof(err)) != 0)
        TEST_FAIL_("%s", err);
    return x;
}

/* 10,000 nodes whose text makes ^((a+)+)$ backtrack 2^30 times each: without limits that is
 * hours.  The match limit fails the first one in milliseconds, the regex is dropped for the
 * page, and the other field of each record is still there. */
TEST(catastrophic_regex)
{
    static const char rules[] = "site s\n"
                                "  match .\n"
                                "  record p each css p\n"
                                "    bad regex \"^((a+)+)$\"\n"
                                "    first regex \"^(a{3})\"\n";
    struct scr_extractor *x = extractor(rules, 10000);
    struct scr_emit out;
    struct scr_buf page;
    double t0;

    scr_buf_init(&page);
    ASSERT_EQ(scr_buf_puts(&page, "<html><body>"), 0);
    for (int i = 0; i < 10000; i++)
        ASSERT_EQ(scr_buf_puts(&page, "<p>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab</p>"), 0);
    ASSERT_EQ(scr_buf_puts(&page, "</body></html>"), 0);
    scr_emit_init(&out);
    t0 = now_s();
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page.data, page.len, &out), 0);
    ASSERT(now_s() - t0 < 2.0 * test_time_scale());
    ASSERT_EQ(out.records.n, 10000);
    ASSERT(strstr(out.records.v[0], "\"data\":{\"first\":\"aaa\"}") != NULL);
    ASSERT(out.error != NULL);
    ASSERT_STR_EQ(out.error, "rules: field 'bad' of record 'p' in 's' (line 4): regex over its "
                             "match limit; the field is missing on this page");
    scr_emit_release(&out);
    scr_buf_release(&page);
    scr_extractor_free(x);
}

/* A transform's regex is limited the same way. */
TEST(catastrophic_transform)
{
    static const char rules[] = "site s\n"
                                "  match .\n"
                                "  record r\n"
                                "    v css p regex \"^((a+)+)$\"\n"
                                "    w css p\n";
    struct scr_extractor *x = extractor(rules, 10000);
    struct scr_emit out;
    const char *page = "<p>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab</p>";

    scr_emit_init(&out);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page, strlen(page), &out), 0);
    ASSERT_EQ(out.records.n, 1);
    ASSERT(strstr(out.records.v[0], "\"data\":{\"w\":\"aaaa") != NULL);
    ASSERT(out.error && strstr(out.error, "field 'v'") && strstr(out.error, "match limit"));
    scr_emit_release(&out);
    scr_extractor_free(x);
}

static void siblings(struct scr_buf *page, int n)
{
    scr_buf_init(page);
    ASSERT_EQ(scr_buf_puts(page, "<html><body><ul>"), 0);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(scr_buf_printf(page, "<li>%d</li>", i), 0);
    ASSERT_EQ(scr_buf_puts(page, "</ul><h1>title</h1></body></html>"), 0);
}

/* `each css li:nth-child(2n+1)` over 50,000 siblings is 1.25 billion XPath steps (minutes):
 * the operation limit ends it, with a reason, and the page's other records come out. */
TEST(nth_child_each)
{
    static const char rules[] = "site s\n"
                                "  match .\n"
                                "  record odd each css \"li:nth-child(2n+1)\"\n"
                                "    v xpath string(.)\n"
                                "  record page\n"
                                "    title css h1\n";
    struct scr_extractor *x = extractor(rules, 10000);
    struct scr_emit out;
    struct scr_buf page;
    double t0;

    siblings(&page, 50000);
    scr_emit_init(&out);
    t0 = now_s();
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page.data, page.len, &out), 0);
    ASSERT(now_s() - t0 < 5.0 * test_time_scale());
    ASSERT_EQ(out.records.n, 1);
    ASSERT(strstr(out.records.v[0], "\"title\":\"title\"") != NULL);
    ASSERT_STR_EQ(out.error, "rules: the `each` of record 'odd' in 's' (line 3): XPath over its "
                             "operation limit; no records from it on this page");
    scr_emit_release(&out);
    scr_buf_release(&page);
    scr_extractor_free(x);
}

/* Fields that are each cheap but many (10,000 records, each field walking 50,000 siblings:
 * 500 million steps) are stopped by the page budget between fields: the page fails. */
TEST(budget_between_fields)
{
    static const char rules[] = "site s\n"
                                "  match .\n"
                                "  record li each xpath \"//li[position() <= 10000]\"\n"
                                "    before xpath \"count(preceding-sibling::li)\"\n"
                                "    after xpath \"count(following-sibling::li)\"\n";
    /* 300 ms of CPU, more under emulation, where the HTML parse alone can take that long */
    int64_t budget_ms = (int64_t)(300 * test_time_scale());
    struct scr_extractor *x = extractor(rules, budget_ms);
    struct scr_emit out;
    struct scr_buf page;
    double t0;

    siblings(&page, 50000);
    scr_emit_init(&out);
    t0 = now_s();
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page.data, page.len, &out),
              SCR_ELIMIT);
    ASSERT(now_s() - t0 < 3.0 * test_time_scale());
    if (budget_ms == 300)
        ASSERT_STR_EQ(out.error, "parse took over 300 ms of CPU time (in rules; --parse-timeout)");
    else /* the budget is written in seconds from 1 s up */
        ASSERT(out.error && strncmp(out.error, "parse took over ", 16) == 0 &&
               strstr(out.error, " of CPU time (in rules; --parse-timeout)") != NULL);
    ASSERT_EQ(out.records.n, 0);
    scr_emit_release(&out);
    scr_buf_release(&page);
    scr_extractor_free(x);
}

int main(void)
{
    xmlInitParser();
    RUN(catastrophic_regex);
    RUN(catastrophic_transform);
    RUN(nth_child_each);
    RUN(budget_between_fields);
    return 0;
}
