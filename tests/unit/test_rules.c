/* test_rules.c - the rules language (parsers/rules*.c: compiler, evaluator, values, parser).
 *
 * Most cases are data (after curl's tests/data/testNNNN):
 *   tests/fixtures/rules/NNNN.rules   a rules file
 *   tests/fixtures/rules/NNNN.html    the page, as bytes
 *   tests/fixtures/rules/NNNN.args    one line: url=URL [rules=FILE] [parsers=LIST]
 *                                     [content_type=TYPE] (no spaces inside a value; rules
 *                                     defaults to NNNN.rules, parsers to "rules",
 *                                     content_type to text/html, "-" means no header)
 *   tests/fixtures/rules/NNNN.jsonl   the expected records, one a line, in emit order
 *   tests/fixtures/rules/errors/NNNN.rules
 *                                     a broken rules file whose first line is
 *                                     "# expect: LINE: message": compiling it must fail with
 *                                     an error containing "NNNN.rules:LINE: message"
 * The worked examples of docs/rules.md are run the same way from docs/examples/rules/ (each
 * PAGE.html with PAGE.args naming its rules file and PAGE.jsonl), and docs/rules.md must quote
 * those files exactly, so the documentation cannot drift from the code.  With SCR_FIXTURES_PRINT=1 the records are printed, to help write a new
 * case (check them by eye before saving them).
 *
 * The rest are C cases: the extractor's handling of the rules parser, the hash, the counters,
 * the `number` transform, JIT, hostile pages and threads.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/json.h"
#include "common/sha256.h"
#include "parsers/extract.h"
#include "parsers/parser.h"
#include "parsers/rules.h"
#include "parsers/rules_value.h"
#include "tests/unit/fixture.h"
#include "tests/unit/test.h"

#define FIXTURE_DIR SCR_FIXTURES "/rules"
#define ERROR_DIR SCR_FIXTURES "/rules/errors"
#define DOCS_DIR SCR_FIXTURES "/../../docs/examples/rules"

/* ---- helpers ----------------------------------------------------------------------------- */




/* ---- data-driven cases ------------------------------------------------------------------- */

struct args {
    const char *url, *rules, *parsers, *content_type;
};

/* Parses an .args line in place; the strings point into line. */
static void parse_args(char *line, struct args *a, const char *name)
{
    char *save = NULL, *tok;

    memset(a, 0, sizeof(*a));
    a->content_type = "text/html";
    a->parsers = "rules";
    for (tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            TEST_FAIL_("%s: '%s' is not key=value", name, tok);
        *eq++ = '\0';
        if (!strcmp(tok, "url"))
            a->url = eq;
        else if (!strcmp(tok, "rules"))
            a->rules = eq;
        else if (!strcmp(tok, "parsers"))
            a->parsers = eq;
        else if (!strcmp(tok, "content_type"))
            a->content_type = strcmp(eq, "-") ? eq : NULL;
        else
            TEST_FAIL_("%s: unknown key '%s'", name, tok);
    }
    if (!a->url)
        TEST_FAIL_("%s: no url= in .args", name);
}

/* Runs dir/name.html through the extractor with its rules; 1 when the records match. */
static int run_case(const char *dir, const char *name, int print)
{
    char path[4096], rules_path[4096], what[256];
    char *body, *argline, *expect, *rules;
    size_t blen = 0;
    struct args a;
    struct scr_parser_env env;
    struct scr_emit out;
    int ok;

    snprintf(path, sizeof(path), "%s/%s.html", dir, name);
    body = slurp_or_die(path, &blen);
    snprintf(path, sizeof(path), "%s/%s.args", dir, name);
    argline = slurp_or_die(path, NULL);
    snprintf(path, sizeof(path), "%s/%s.jsonl", dir, name);
    expect = slurp_or_die(path, NULL);
    parse_args(argline, &a, name);
    if (a.rules)
        snprintf(rules_path, sizeof(rules_path), "%s/%s", dir, a.rules);
    else
        snprintf(rules_path, sizeof(rules_path), "%s/%s.rules", dir, name);
    rules = slurp_or_die(rules_path, NULL);

    memset(&env, 0, sizeof(env));
    env.rules_text = rules;
    env.rules_name = strrchr(rules_path, '/') + 1;
    snprintf(what, sizeof(what), "case %s", name);
    ok = fixture_extract(what, a.parsers, &env, a.url, a.content_type, body, blen, expect,
                         print, &out);
    scr_emit_release(&out);
    free(body);
    free(argline);
    free(expect);
    free(rules);
    return ok;
}

TEST(fixtures)
{
    char **names;
    size_t n = fixture_list(FIXTURE_DIR, ".html", 1, &names), failed = 0;
    int print = fixture_print_mode();

    ASSERT_GE(n, 20);
    for (size_t i = 0; i < n; i++)
        if (!run_case(FIXTURE_DIR, names[i], print))
            failed++;
    fprintf(stderr, "%zu fixtures, %zu failed\n", n, failed);
    fixture_free_names(names, n);
    ASSERT_EQ(failed, 0);
}

/* The worked examples of docs/rules.md. */
TEST(docs_examples)
{
    char **names;
    size_t n = fixture_list(DOCS_DIR, ".html", 0, &names), failed = 0;
    int print = fixture_print_mode();

    ASSERT_GE(n, 2);
    for (size_t i = 0; i < n; i++)
        if (!run_case(DOCS_DIR, names[i], print))
            failed++;
    fprintf(stderr, "%zu examples, %zu failed\n", n, failed);
    fixture_free_names(names, n);
    ASSERT_EQ(failed, 0);
}

/* docs/rules.md quotes the example files exactly (the rules file in full, every expected
 * record line), and every ```rules block in it is a complete rules file that compiles. */
TEST(docs_text)
{
    char path[4096], err[1024];
    char *doc, *p, **names, **lines = NULL;
    size_t n, nblocks = 0;

    doc = slurp_or_die(DOCS_DIR "/../../rules.md", NULL);

    n = fixture_list(DOCS_DIR, ".rules", 0, &names);
    ASSERT_GE(n, 1);
    for (size_t i = 0; i < n; i++) {
        char *text;
        snprintf(path, sizeof(path), "%s/%s.rules", DOCS_DIR, names[i]);
        text = slurp_or_die(path, NULL);
        if (!strstr(doc, text))
            TEST_FAIL_("docs/rules.md does not quote %s.rules exactly", names[i]);
        free(text);
    }
    fixture_free_names(names, n);

    n = fixture_list(DOCS_DIR, ".jsonl", 0, &names);
    ASSERT_GE(n, 2);
    for (size_t i = 0; i < n; i++) {
        char *text;
        size_t nl;
        snprintf(path, sizeof(path), "%s/%s.jsonl", DOCS_DIR, names[i]);
        text = slurp_or_die(path, NULL);
        nl = split_lines(text, &lines);
        for (size_t j = 0; j < nl; j++)
            if (!strstr(doc, lines[j]))
                TEST_FAIL_("docs/rules.md does not show record %zu of %s.jsonl", j + 1,
                           names[i]);
        free(lines);
        free(text);
    }
    fixture_free_names(names, n);

    for (p = strstr(doc, "\n```rules\n"); p; p = strstr(p, "\n```rules\n")) {
        char *start = p + 10, *end = strstr(start, "\n```\n");
        struct scr_rules *r = NULL;
        ASSERT(end != NULL);
        end[1] = '\0';
        if (scr_rules_compile(&r, start, "docs/rules.md block", err, sizeof(err)) != SCR_OK)
            TEST_FAIL_("a ```rules block in docs/rules.md does not compile: %s", err);
        scr_rules_free(r);
        nblocks++;
        p = end + 1;
    }
    ASSERT_GE(nblocks, 1);
    free(doc);
}

/* Each broken file must fail with its expected "NAME:LINE: message", both from
 * scr_rules_compile() and through the extractor (which is what `scrape crawl` runs on rank 0),
 * and leave nothing behind. */
TEST(errors)
{
    char **names;
    size_t n = fixture_list(ERROR_DIR, ".rules", 1, &names), failed = 0;

    ASSERT_GE(n, 15);
    for (size_t i = 0; i < n; i++) {
        char path[4096], want[512], err[1024], err2[1024], fname[64];
        char *text, *nl;
        struct scr_rules *r = NULL;
        struct scr_extractor *x = NULL;
        struct scr_parser_env env;
        int rc;

        snprintf(path, sizeof(path), "%s/%s.rules", ERROR_DIR, names[i]);
        text = slurp_or_die(path, NULL);
        if (strncmp(text, "# expect: ", 10) != 0)
            TEST_FAIL_("%s: the first line must be '# expect: LINE: message'", path);
        nl = strchr(text, '\n');
        snprintf(fname, sizeof(fname), "%s.rules", names[i]);
        snprintf(want, sizeof(want), "%s:%.*s", fname, (int)(nl ? nl - text - 10 : 0), text + 10);

        rc = scr_rules_compile(&r, text, fname, err, sizeof(err));
        memset(&env, 0, sizeof(env));
        env.rules_text = text;
        env.rules_name = fname;
        if (rc != SCR_EPARSE || r != NULL || !strstr(err, want)) {
            fprintf(stderr, "error case %s: rc %d\n  expected: %s\n  got:      %s\n", names[i],
                    rc, want, err);
            failed++;
        } else if (scr_extractor_new(&x, "links", &env, err2, sizeof(err2)) == SCR_OK ||
                   x != NULL || strcmp(err, err2) != 0) {
            fprintf(stderr, "error case %s: the extractor says '%s'\n", names[i], err2);
            failed++;
        }
        scr_rules_free(r);
        scr_extractor_free(x);
        free(text);
    }
    fprintf(stderr, "%zu error cases, %zu failed\n", n, failed);
    fixture_free_names(names, n);
    ASSERT_EQ(failed, 0);
}

/* ---- C cases ----------------------------------------------------------------------------- */

static const char *const small_rules = "site s\n"
                                       "  match ^http://h\\.test/\n"
                                       "  record r\n"
                                       "    title css h1\n";

TEST(empty_and_unnamed)
{
    struct scr_rules *r = NULL;
    char err[512];

    ASSERT_EQ(scr_rules_compile(&r, "", "e.rules", err, sizeof(err)), SCR_EPARSE);
    ASSERT(r == NULL);
    ASSERT(strstr(err, "e.rules:1: no site defined") == err);
    /* Without a name, messages say "rules". */
    ASSERT_EQ(scr_rules_compile(&r, "  oops\n", NULL, err, sizeof(err)), SCR_EPARSE);
    ASSERT(strstr(err, "rules:1: indented line before the first") == err);
    ASSERT_EQ(scr_rules_compile(&r, NULL, NULL, err, sizeof(err)), SCR_EINVAL);
    /* A short buffer truncates, never overflows. */
    ASSERT_EQ(scr_rules_compile(&r, "x\n", "long-name.rules", err, 8), SCR_EPARSE);
    ASSERT_STR_EQ(err, "long-na");
    ASSERT_EQ(scr_rules_compile(&r, "x\n", "n", NULL, 0), SCR_EPARSE);
}

TEST(needs_rules_file)
{
    struct scr_parser_env env;
    struct scr_extractor *x = NULL;
    char err[512];

    memset(&env, 0, sizeof(env));
    ASSERT_EQ(scr_extractor_new(&x, "links,rules", &env, err, sizeof(err)), SCR_EINVAL);
    ASSERT(x == NULL);
    ASSERT_STR_EQ(err, "the rules parser needs --rules FILE");
    ASSERT_EQ(scr_extractor_new(&x, "rules", NULL, err, sizeof(err)), SCR_EINVAL);
    ASSERT(scr_parser_find("rules") != NULL);
}

/* A rules file turns the rules parser on, after the listed parsers, once. */
TEST(auto_enable)
{
    struct scr_parser_env env;
    struct scr_extractor *x = NULL;
    struct scr_emit out;
    char err[512];
    const char *page = "<h1>Hello</h1><a href=/x>x</a>";

    memset(&env, 0, sizeof(env));
    env.rules_text = small_rules;
    env.rules_name = "small.rules";
    scr_emit_init(&out);
    ASSERT_EQ(scr_extractor_new(&x, "links", &env, err, sizeof(err)), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/p", "text/html", page, strlen(page), &out), 0);
    ASSERT_EQ(out.records.n, 2);
    ASSERT(strncmp(out.records.v[0], "{\"parser\":\"links\"", 17) == 0);
    ASSERT(strstr(out.records.v[1], "\"data\":{\"title\":\"Hello\"}") != NULL);
    scr_extractor_free(x);

    scr_emit_reset(&out);
    ASSERT_EQ(scr_extractor_new(&x, "rules,links,rules", &env, err, sizeof(err)), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/p", "text/html", page, strlen(page), &out), 0);
    ASSERT_EQ(out.records.n, 2);
    ASSERT(strncmp(out.records.v[0], "{\"parser\":\"rules\"", 17) == 0);
    scr_extractor_free(x);
    scr_emit_release(&out);
}

TEST(hash)
{
    struct scr_rules *r = NULL;
    char err[512], hex[65];

    ASSERT_EQ(scr_rules_compile(&r, small_rules, "s", err, sizeof(err)), 0);
    scr_sha256_hex(small_rules, strlen(small_rules), hex);
    hex[16] = '\0';
    ASSERT_STR_EQ(r->hash, hex);
    ASSERT_EQ(r->nsites, 1);
    ASSERT_EQ(r->sites[0].nrecords, 1);
    ASSERT_EQ(r->sites[0].records[0].nfields, 1);
    scr_rules_free(r);
}

/* Parses html into a page for scr_rules_apply(). */
static void make_page(struct scr_page *p, const char *url, const char *html)
{
    memset(p, 0, sizeof(*p));
    p->url = url;
    p->base = url;
    p->body = html;
    p->len = strlen(html);
    p->doc = htmlReadMemory(html, (int)p->len, url, "UTF-8",
                            HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                HTML_PARSE_NONET);
    ASSERT(p->doc != NULL);
}

TEST(stats)
{
    const char *rules = "site shop\n"
                        "  match ^http://shop\\.test/\n"
                        "  record item each css li\n"
                        "    name css b\n"
                        "    price css i number required\n"
                        "  record nothing\n"
                        "    x css blink\n";
    const char *html = "<ul><li><b>a</b><i>1</i></li><li><b>b</b></li><li></li>"
                       "<li><b>c</b><i>$3</i></li></ul>";
    struct scr_rules *r = NULL;
    struct scr_rules_stats st, t0, t1;
    struct scr_emit out;
    struct scr_page page;
    char err[512], want[512];

    memset(&st, 0, sizeof(st));
    scr_emit_init(&out);
    ASSERT_EQ(scr_rules_compile(&r, rules, "shop.rules", err, sizeof(err)), 0);
    make_page(&page, "http://shop.test/list", html);
    scr_rules_totals(&t0);
    ASSERT_EQ(scr_rules_apply(r, &page, NULL, &out, &st), 0);
    scr_rules_totals(&t1);
    ASSERT_EQ(out.records.n, 2);
    snprintf(want, sizeof(want),
             "{\"parser\":\"rules\",\"rule_set\":\"shop\",\"record\":\"item\",\"rules_hash\":"
             "\"%s\",\"data\":{\"name\":\"c\",\"price\":3}}",
             r->hash);
    ASSERT_STR_EQ(out.records.v[1], want);
    ASSERT(strstr(out.records.v[1], "\"data\":{\"name\":\"c\",\"price\":3}}") != NULL);
    ASSERT_EQ(st.pages, 1);
    ASSERT_EQ(st.records, 2);
    ASSERT_EQ(st.dropped, 1); /* "b" has no price */
    ASSERT_EQ(st.empty, 2);   /* the empty <li> and the record "nothing" */
    ASSERT_EQ(t1.records - t0.records, 2);
    ASSERT_EQ(t1.dropped - t0.dropped, 1);
    ASSERT_EQ(t1.empty - t0.empty, 2);
    ASSERT_EQ(t1.pages - t0.pages, 1);

    /* Another URL: nothing at all. */
    page.url = "http://other.test/list";
    ASSERT_EQ(scr_rules_apply(r, &page, NULL, &out, &st), 0);
    ASSERT_EQ(out.records.n, 2);
    ASSERT_EQ(st.pages, 1);
    /* No document (not HTML): nothing either. */
    xmlFreeDoc(page.doc);
    page.doc = NULL;
    page.url = "http://shop.test/list";
    ASSERT_EQ(scr_rules_apply(r, &page, NULL, &out, &st), 0);
    ASSERT_EQ(out.records.n, 2);
    ASSERT_EQ(scr_rules_apply(NULL, &page, NULL, &out, &st), SCR_EINVAL);
    scr_rules_free(r);
    scr_emit_release(&out);
}

/* The per-page feedback for rules authors (scr_emit.rules_stats): one object per matched
 * rule set, with records emitted, dropped for a `required` field, left out as empty, and the
 * fields of emitted records that found nothing. */
TEST(feedback)
{
    const char *rules = "site shop\n"
                        "  match ^http://shop\\.test/\n"
                        "  record item each css li\n"
                        "    name css b required\n"
                        "    price css i number\n"
                        "    note css u default none\n"
                        "site other\n"
                        "  match ^http://other\\.test/\n"
                        "  record x\n"
                        "    y css h1\n"
                        "site all\n"
                        "  match ^http://\n"
                        "  record title\n"
                        "    t css title\n";
    const char *html = "<title>T</title><ul><li><b>a</b><i>1</i></li><li><i>2</i></li>"
                       "<li><b>c</b></li><li></li></ul>";
    struct scr_rules *r = NULL;
    struct scr_emit out;
    struct scr_page page;
    char err[512];

    scr_emit_init(&out);
    ASSERT_EQ(scr_rules_compile(&r, rules, "fb.rules", err, sizeof(err)), 0);
    make_page(&page, "http://shop.test/list", html);
    ASSERT_EQ(scr_rules_apply(r, &page, NULL, &out, NULL), 0);
    ASSERT_EQ(out.records.n, 3);
    /* a: note defaulted (1); c: price and note (2); the <li> without b is dropped, the empty
     * one left out */
    ASSERT_STR_EQ(out.rules_stats,
                  "[{\"rule_set\":\"shop\",\"records\":2,\"dropped\":1,\"empty\":1,"
                  "\"empty_fields\":3},{\"rule_set\":\"all\",\"records\":1,\"dropped\":0,"
                  "\"empty\":0,\"empty_fields\":0}]");
    /* no rule set matches: no feedback */
    scr_emit_reset(&out);
    page.url = "ftp://nowhere.test/";
    ASSERT_EQ(scr_rules_apply(r, &page, NULL, &out, NULL), 0);
    ASSERT(out.rules_stats == NULL);
    xmlFreeDoc(page.doc);
    scr_rules_free(r);
    scr_emit_release(&out);
}

/* Dumps the number transform's result, or "missing". */
static void number_is(const char *in, const char *want)
{
    struct scr_rules *r = NULL;
    char err[64], *got;
    json_t *j;

    ASSERT_EQ(scr_rules_compile(&r, small_rules, "s", err, sizeof(err)), 0);
    j = scr_rules_value_number(in, strlen(in), r->c_locale);
    got = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : strdup("missing");
    if (strcmp(got, want) != 0)
        TEST_FAIL_("number(\"%s\"): expected %s, got %s", in, want, got);
    free(got);
    json_decref(j);
    scr_rules_free(r);
}

TEST(number)
{
    number_is("42", "42");
    number_is("\xC2\xA3" "51.77", "51.77");
    number_is("$1,234.56", "1234.56");
    number_is("1 234,50 \xE2\x82\xAC", "1234.5");
    number_is("1\xC2\xA0" "234\xC2\xA0" "567", "1234567");
    number_is("1\xE2\x80\xAF" "234,5", "1234.5");
    number_is("12,5", "12.5");
    number_is("0,125", "0.125");
    number_is("1,234", "1234");
    number_is("1,234,567", "1234567");
    number_is("1.234.567", "1234567");
    number_is("1.234,56", "1234.56");
    number_is("1,234.5", "1234.5");
    number_is("1'234.50 CHF", "1234.5");
    number_is("-3", "-3");
    number_is("\xE2\x88\x92" "7.5", "-7.5");
    number_is(".5", "0.5");
    number_is("-.25", "-0.25");
    number_is("In stock (22 available)", "22");
    number_is("3 for 10", "3");
    number_is("12 34", "12");
    number_is("12.00", "12.0");
    number_is("1.", "1");
    number_is("v1.2.3", "123");
    number_is("1.2,3.4", "missing");
    number_is("Free", "missing");
    number_is("", "missing");
    number_is("99999999999999999999", "1e20");
    number_is("999999999999999999", "999999999999999999");
}

/* Every regex is JIT-compiled once when the platform has a JIT. */
TEST(jit)
{
    const char *rules = "site s\n"
                        "  match ^http://\n"
                        "  record r\n"
                        "    a regex \"id=(\\d+)\"\n"
                        "    b css p regex \"(\\w+)\"\n";
    struct scr_rules *r = NULL;
    char err[256];
    uint32_t jit = 0;
    size_t size = 0;

    ASSERT_EQ(scr_rules_compile(&r, rules, "s", err, sizeof(err)), 0);
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    if (jit) {
        ASSERT_EQ(pcre2_pattern_info(r->sites[0].match[0], PCRE2_INFO_JITSIZE, &size), 0);
        ASSERT_GT(size, 0);
        ASSERT_EQ(pcre2_pattern_info(r->sites[0].records[0].fields[0].re, PCRE2_INFO_JITSIZE,
                                     &size),
                  0);
        ASSERT_GT(size, 0);
        ASSERT_EQ(pcre2_pattern_info(r->sites[0].records[0].fields[1].steps[0].re,
                                     PCRE2_INFO_JITSIZE, &size),
                  0);
        ASSERT_GT(size, 0);
    } else {
        fprintf(stderr, "  (no PCRE2 JIT on this platform)\n");
    }
    ASSERT_EQ(r->max_pairs, 2);
    scr_rules_free(r);
}

/* Runs the compiled field regex on subject, with the JIT or without it; the capture, or
 * "(no match)".  Returns a static buffer. */
static const char *class_match(pcre2_code *re, const char *subject, int no_jit)
{
    static char got[64];
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int n = pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, no_jit ? PCRE2_NO_JIT : 0,
                        md, NULL);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

    if (n >= 2)
        snprintf(got, sizeof(got), "%.*s", (int)(ov[3] - ov[2]), subject + ov[2]);
    else
        snprintf(got, sizeof(got), "(no match)");
    pcre2_match_data_free(md);
    return got;
}

/* \d \D \s \S \w \W, POSIX classes and . see Unicode characters, and the JIT agrees with the
 * interpreter (PCRE2 10.42's JIT without PCRE2_UCP matched no non-ASCII character with \D, \S
 * or \W, while the interpreter did).  \d takes any decimal digit (Unicode Nd), as \w does. */
TEST(unicode_classes)
{
    static const struct {
        const char *re, *subject, *want;
    } cases[] = {
        {"^(\\D+)", "\xc2\xa3" "756.06", "\xc2\xa3"},
        {"^(\\d+)", "\xd9\xa1\xd9\xa2\xd9\xa3 items", "\xd9\xa1\xd9\xa2\xd9\xa3"},
        {"^(\\d+)", "\xd9\xa1" "5", "\xd9\xa1" "5"},
        {"^(a\\sb)$", "a\xc2\xa0" "b", "a\xc2\xa0" "b"},
        {"^(a\\sb)$", "a\xe2\x80\xaf" "b", "a\xe2\x80\xaf" "b"},
        {"^(\\S+)", "Caf\xc3\xa9 cr\xc3\xa8me", "Caf\xc3\xa9"},
        {"now (\\S+)", "now \xc2\xa3" "12.50", "\xc2\xa3" "12.50"},
        {"^(\\w+)", "Caf\xc3\xa9 cr\xc3\xa8me", "Caf\xc3\xa9"},
        {"^(\\w+)", "\xe6\x9d\xb1\xe4\xba\xac!", "\xe6\x9d\xb1\xe4\xba\xac"},
        {"^(\\W+)", "\xc2\xab\xc2\xbbx", "\xc2\xab\xc2\xbb"},
        {"^(\\W+)", "\xc3\xa9", "(no match)"},
        {"^([[:alpha:]]+)", "Caf\xc3\xa9 cr\xc3\xa8me", "Caf\xc3\xa9"},
        {"^([[:space:]])", "\xc2\xa0", "\xc2\xa0"},
        {"^([^[:digit:]]+)", "\xe2\x82\xac" "5", "\xe2\x82\xac"},
        {"^Caf(.)", "Caf\xc3\xa9", "\xc3\xa9"},
        {"(?i)^(CAF\xc3\x89)", "caf\xc3\xa9", "caf\xc3\xa9"},
        {"^(\\S+)", "ab\xff" "cd", "ab"}, /* an invalid byte is never matched */
    };
    uint32_t jit = 0;
    size_t failed = 0;

    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scr_rules *r = NULL;
        char text[256], err[256];

        snprintf(text, sizeof(text), "site s\n  match ^http://\n  record r\n    v regex \"%s\"\n",
                 cases[i].re);
        ASSERT_EQ(scr_rules_compile(&r, text, "s", err, sizeof(err)), 0);
        for (int no_jit = 0; no_jit <= 1; no_jit++) {
            const char *got = class_match(r->sites[0].records[0].fields[0].re, cases[i].subject,
                                          no_jit);
            if (strcmp(got, cases[i].want) != 0) {
                fprintf(stderr, "case %zu: %s on '%s' %s: got '%s', want '%s'\n", i,
                        cases[i].re, cases[i].subject,
                        no_jit ? "without JIT" : (jit ? "with JIT" : "(no JIT here)"), got,
                        cases[i].want);
                failed++;
            }
        }
        scr_rules_free(r);
    }
    ASSERT_EQ(failed, 0);
}

/* Hostile pages: binary, huge listings, catastrophic backtracking, deep nesting. */
TEST(hostile)
{
    const char *rules = "site s\n"
                        "  match .\n"
                        "  record page\n"
                        "    bt regex \"(a+)+$\"\n"
                        "    all regex \"(a*)\" all\n"
                        "    t css title\n"
                        "  record item each css div\n"
                        "    n css span number\n"
                        "    h xpath . html regex \"(<div>)\"\n";
    struct scr_parser_env env;
    struct scr_extractor *x = NULL;
    struct scr_emit out;
    struct scr_buf page;
    char err[512], bin[4096];
    json_t *rec;
    json_error_t jerr;

    memset(&env, 0, sizeof(env));
    env.rules_text = rules;
    scr_emit_init(&out);
    scr_buf_init(&page);
    ASSERT_EQ(scr_extractor_new(&x, "rules", &env, err, sizeof(err)), 0);

    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (char)((i * 7919u + 13u) % 256u);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", bin, sizeof(bin), &out), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html; charset=shift_jis", bin,
                                sizeof(bin), &out),
              0);

    /* 40,000 'a's then 'b': "(a+)+$" backtracks exponentially; the match limit stops it.
     * "(a*)" with all finds an empty match at every position: capped at the list bound. */
    ASSERT_EQ(scr_buf_puts(&page, "<html><title>t</title><body><p>"), 0);
    for (int i = 0; i < 40000; i++)
        ASSERT_EQ(scr_buf_putc(&page, i % 2 ? 'a' : 'x'), 0);
    ASSERT_EQ(scr_buf_puts(&page, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab</p>"), 0);
    /* 12,000 items: the `each` bound (10,000 records) holds. */
    for (int i = 0; i < 12000; i++)
        ASSERT_EQ(scr_buf_printf(&page, "<div><span>%d</span></div>", i), 0);
    scr_emit_reset(&out);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page.data, page.len, &out), 0);
    ASSERT_EQ(out.records.n, 1 + SCR_RULES_EACH_MAX);
    rec = json_loads(out.records.v[0], 0, &jerr);
    ASSERT(rec != NULL);
    ASSERT(json_object_get(json_object_get(rec, "data"), "bt") == NULL);
    ASSERT_LE(json_array_size(json_object_get(json_object_get(rec, "data"), "all")),
              SCR_RULES_LIST_MAX);
    json_decref(rec);
    ASSERT(strstr(out.records.v[SCR_RULES_EACH_MAX], "{\"n\":9999,\"h\":\"<div>\"}") != NULL);

    /* 100,000 nested divs. */
    scr_buf_reset(&page);
    for (int i = 0; i < 100000; i++)
        ASSERT_EQ(scr_buf_puts(&page, "<div>"), 0);
    scr_emit_reset(&out);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page.data, page.len, &out), 0);
    for (size_t i = 0; i < out.records.n; i++) {
        rec = json_loads(out.records.v[i], 0, &jerr);
        ASSERT(rec != NULL);
        json_decref(rec);
    }
    scr_extractor_free(x);
    scr_buf_release(&page);
    scr_emit_release(&out);
}

/* Worker threads each have their own extractor (local mode): same records everywhere. */
struct thread_arg {
    const char *rules, *page;
    char *first; /* the first record this thread saw; freed by the test */
    int ok;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    struct scr_parser_env env;
    struct scr_extractor *x = NULL;
    struct scr_emit out;
    char err[256];

    memset(&env, 0, sizeof(env));
    env.rules_text = a->rules;
    scr_emit_init(&out);
    a->ok = scr_extractor_new(&x, "rules", &env, err, sizeof(err)) == 0;
    for (int i = 0; a->ok && i < 200; i++) {
        scr_emit_reset(&out);
        if (scr_extractor_run(x, "http://h.test/p", "text/html", a->page, strlen(a->page),
                              &out) != 0 ||
            out.records.n != 3)
            a->ok = 0;
        else if (!a->first)
            a->first = strdup(out.records.v[2]);
        else if (strcmp(a->first, out.records.v[2]) != 0)
            a->ok = 0;
    }
    scr_extractor_free(x);
    scr_emit_release(&out);
    return NULL;
}

TEST(threads)
{
    const char *rules = "site s\n"
                        "  match ^http://h\\.test/\n"
                        "  record li each css li\n"
                        "    n xpath \"count(preceding-sibling::li)\" number\n"
                        "    t css b upper\n"
                        "    u css a attr href url\n"
                        "    s regex \"(\\d\\d)\"\n";
    const char *page = "<ul><li><b>a</b><a href=/1>1</a> 11</li><li><b>b</b><a href=2>2</a> 22"
                       "</li><li><b>c</b><a href=../3>3</a> 33</li></ul>";
    struct thread_arg args[4];
    pthread_t t[4];

    memset(args, 0, sizeof(args));
    for (int i = 0; i < 4; i++) {
        args[i].rules = rules;
        args[i].page = page;
        ASSERT_EQ(pthread_create(&t[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
        ASSERT(args[i].ok);
        ASSERT_STR_EQ(args[i].first, args[0].first);
    }
    ASSERT(strstr(args[0].first, "{\"n\":2,\"t\":\"C\",\"u\":\"http://h.test/3\",\"s\":\"33\"}"));
    for (int i = 0; i < 4; i++)
        free(args[i].first);
}

int main(void)
{
    xmlInitParser();
    RUN(empty_and_unnamed);
    RUN(needs_rules_file);
    RUN(auto_enable);
    RUN(hash);
    RUN(stats);
    RUN(number);
    RUN(jit);
    RUN(unicode_classes);
    RUN(hostile);
    RUN(feedback);
    RUN(threads);
    RUN(errors);
    RUN(fixtures);
    RUN(docs_examples);
    RUN(docs_text);
    return 0;
}
