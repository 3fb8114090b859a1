/* test_parsers.c - the extractor, the built-in parsers, the registry and common/json.c.
 *
 * Most cases are data (after curl's tests/data/testNNNN): tests/fixtures/parsers/ holds
 * numbered triples
 *   NNNN.html   the response body, as bytes
 *   NNNN.args   one line: url=URL parsers=LIST content_type=TYPE [max_links=N] [text_max=N]
 *               [strip_tracking=1] [sort_query=1] [encoding=NAME]; content_type takes the
 *               rest of the line up to the next key, may hold spaces, and "-" (or nothing)
 *               means no header; encoding is the one the page must be decoded from
 *               (scr_emit.encoding, the Encoding standard's name)
 *   NNNN.jsonl  the expected records, one compact JSON object a line, in emit order
 * Each triple is run through scr_extractor_run() and compared line by line; a mismatch prints
 * the fixture number and both lines.  The outlinks (out.links) must equal the URLs of the
 * "links" records.  With SCR_FIXTURES_PRINT=1 in the environment the records are printed
 * instead, to help write a new fixture (check them by eye before saving them).
 *
 * The rest are C cases: UTF-8 sanitizing, the registry, the extractor's list parsing and
 * sniffing, records, and a generated page of 100,000 links.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/json.h"
#include "parsers/decode.h"
#include "parsers/extract.h"
#include "parsers/parser.h"
#include "tests/unit/fixture.h"
#include "tests/unit/test.h"

#define FIXTURE_DIR SCR_FIXTURES "/parsers"

/* ---- helpers ------------------------------------------------------------------------- */


static int sanitize_eq(const char *in, size_t inlen, const char *want)
{
    size_t n;
    char *got = scr_utf8_sanitize(in, inlen, &n);
    int ok = got && n == strlen(want) && memcmp(got, want, n) == 0;

    if (!ok) {
        fprintf(stderr, "sanitize: got \"");
        for (size_t i = 0; got && i < n; i++)
            fprintf(stderr, "\\x%02X", (unsigned char)got[i]);
        fprintf(stderr, "\"\n");
    }
    free(got);
    return ok;
}

#define FFFD "\xEF\xBF\xBD"
#define SAN(lit, want) ASSERT(sanitize_eq(lit, sizeof(lit) - 1, want))

/* ---- common/json.c ------------------------------------------------------------------- */

TEST(utf8_valid_passes)
{
    SAN("", "");
    SAN("plain ascii", "plain ascii");
    SAN("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    SAN("\xC2\x80\xDF\xBF", "\xC2\x80\xDF\xBF");                 /* 2-byte bounds */
    SAN("\xE0\xA0\x80\xEF\xBF\xBF", "\xE0\xA0\x80\xEF\xBF\xBF"); /* 3-byte bounds */
    SAN("\xED\x9F\xBF\xEE\x80\x80", "\xED\x9F\xBF\xEE\x80\x80"); /* around the surrogates */
    SAN("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF", "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"); /* 4-byte */
}

TEST(utf8_invalid_replaced)
{
    SAN("a\0b", "a" FFFD "b");                               /* NUL */
    SAN("\0\0", FFFD FFFD);
    SAN("\xC0\x80", FFFD FFFD);                              /* overlong NUL */
    SAN("\xC1\xBF", FFFD FFFD);                              /* overlong 2-byte */
    SAN("\xE0\x80\x80", FFFD FFFD FFFD);                     /* overlong 3-byte */
    SAN("\xF0\x80\x80\x80", FFFD FFFD FFFD FFFD);            /* overlong 4-byte */
    SAN("\xED\xA0\x80", FFFD FFFD FFFD);                     /* high surrogate */
    SAN("\xED\xBF\xBF", FFFD FFFD FFFD);                     /* low surrogate */
    SAN("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD);            /* U+110000 */
    SAN("\xF5\x80\x80\x80", FFFD FFFD FFFD FFFD);            /* F5 never leads */
    SAN("\xFF\xFE", FFFD FFFD);
    SAN("\x80x", FFFD "x");                                  /* stray continuation */
    SAN("\xE2\x82", FFFD);                                   /* truncated at the end */
    SAN("\xE2\x82x", FFFD "x");                              /* truncated in the middle */
    SAN("\xF0\x9F\x98", FFFD);                               /* one maximal subpart */
    SAN("\xF0\x9F\x98\xC3\xA9", FFFD "\xC3\xA9");
    SAN("caf\xE9!", "caf" FFFD "!");                         /* Latin-1 byte */
}

TEST(json_text_is_valid)
{
    json_t *j = scr_json_text("x\0y\xFF", 4);
    char *s;

    ASSERT(j != NULL);
    ASSERT_EQ(json_string_length(j), 1 + 3 + 1 + 3);
    ASSERT_MEM_EQ(json_string_value(j), "x" FFFD "y" FFFD, 8);
    s = json_dumps(j, JSON_ENCODE_ANY);
    ASSERT_STR_EQ(s, "\"x\xEF\xBF\xBDy\xEF\xBF\xBD\"");
    free(s);
    json_decref(j);

    j = scr_json_cstr("\xC3\xA9t\xC3\xA9");
    ASSERT_STR_EQ(json_string_value(j), "\xC3\xA9t\xC3\xA9");
    json_decref(j);

    j = scr_json_cstr(NULL);
    ASSERT_STR_EQ(json_string_value(j), "");
    json_decref(j);
}

/* ---- registry ------------------------------------------------------------------------ */

static int dummy_parse(void *state, const struct scr_page *page, struct scr_emit *out)
{
    (void)state;
    if (!page->doc)
        return 0;
    return scr_emit_record(out, "dummy", json_pack("{s:s}", "seen", page->base));
}

static const struct scr_parser dummy = {
    .name = "dummy",
    .abi_version = SCR_PARSER_ABI,
    .summary = "test parser: emits the page's base",
    .parse = dummy_parse,
};
static const struct scr_parser dup_links = {
    .name = "links",
    .abi_version = SCR_PARSER_ABI,
    .parse = dummy_parse,
};
static const struct scr_parser future = {
    .name = "future",
    .abi_version = SCR_PARSER_ABI + 1,
    .parse = dummy_parse,
};
static const struct scr_parser bad_name = {
    .name = "a,b",
    .abi_version = SCR_PARSER_ABI,
    .parse = dummy_parse,
};

TEST(registry)
{
    const char *names[] = {"links", "meta", "jsonld", "text"};
    size_t n0 = scr_parser_count();

    ASSERT_GE(n0, 4);
    for (size_t i = 0; i < 4; i++) {
        const struct scr_parser *p = scr_parser_find(names[i]);
        ASSERT(p != NULL);
        ASSERT_STR_EQ(p->name, names[i]);
        ASSERT_EQ(p->abi_version, SCR_PARSER_ABI);
        ASSERT(p->parse != NULL);
        ASSERT(scr_parser_at(i) == p); /* built-ins first, in this order */
    }
    ASSERT(scr_parser_find("nope") == NULL);
    ASSERT(scr_parser_find("LINKS") == NULL); /* names are exact */
    ASSERT(scr_parser_find(NULL) == NULL);
    ASSERT(scr_parser_at(n0) == NULL);

    ASSERT_EQ(scr_parser_register(&dup_links), SCR_EEXIST);
    ASSERT_EQ(scr_parser_register(&future), SCR_EVERSION);
    ASSERT_EQ(scr_parser_register(&bad_name), SCR_EINVAL);
    ASSERT_EQ(scr_parser_register(NULL), SCR_EINVAL);
    ASSERT_EQ(scr_parser_count(), n0);

    ASSERT_EQ(scr_parser_register(&dummy), 0);
    ASSERT_EQ(scr_parser_count(), n0 + 1);
    ASSERT(scr_parser_find("dummy") == &dummy);
    ASSERT(scr_parser_at(n0) == &dummy);
    ASSERT_EQ(scr_parser_register(&dummy), SCR_EEXIST);
    ASSERT_EQ(scr_parser_count(), n0 + 1);
}

/* ---- extractor ----------------------------------------------------------------------- */

TEST(extractor_list)
{
    struct scr_parser_env env;
    struct scr_extractor *x = NULL;
    struct scr_emit out;
    char err[256];
    const char *page = "<html><head><title>T</title></head><body><a href=/a>a</a></body></html>";

    memset(&env, 0, sizeof(env));
    scr_emit_init(&out);

    ASSERT_EQ(scr_extractor_new(&x, "links,bogus", &env, err, sizeof(err)), SCR_ENOTFOUND);
    ASSERT(x == NULL);
    ASSERT(strncmp(err, "unknown parser 'bogus' (known: links, meta, jsonld, text", 56) == 0);

    /* Whitespace tolerated, duplicates ignored, order kept. */
    ASSERT_EQ(scr_extractor_new(&x, " meta , links,meta,, links ", &env, err, sizeof(err)), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page, strlen(page), &out), 0);
    ASSERT_EQ(out.records.n, 2);
    ASSERT_STR_EQ(out.records.v[0], "{\"parser\":\"meta\",\"data\":{\"title\":\"T\",\"article_title\":\"T\"}}");
    ASSERT_STR_EQ(out.records.v[1], "{\"parser\":\"links\",\"data\":{\"links\":[\"http://h.test/a\"]}}");
    ASSERT_EQ(out.links.n, 1);
    ASSERT_STR_EQ(out.links.v[0], "http://h.test/a");
    scr_extractor_free(x);
    x = NULL;

    /* NULL and "" mean SCR_PARSERS_DEFAULT (links,meta). */
    scr_emit_reset(&out);
    ASSERT_EQ(scr_extractor_new(&x, NULL, NULL, err, sizeof(err)), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page, strlen(page), &out), 0);
    ASSERT_EQ(out.records.n, 2);
    ASSERT(strncmp(out.records.v[0], "{\"parser\":\"links\"", 17) == 0);
    ASSERT(strncmp(out.records.v[1], "{\"parser\":\"meta\"", 16) == 0);
    /* A second page into the same emit: out.links stays free of duplicates. */
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page, strlen(page), &out), 0);
    ASSERT_EQ(out.records.n, 4);
    ASSERT_EQ(out.links.n, 1);
    scr_extractor_free(x);
    x = NULL;

    ASSERT_EQ(scr_extractor_new(&x, " , ", &env, err, sizeof(err)), SCR_EINVAL);
    ASSERT(x == NULL);

    /* A registered parser is found by the list and sees the resolved <base>. */
    if (!scr_parser_find("dummy"))
        ASSERT_EQ(scr_parser_register(&dummy), 0);
    scr_emit_reset(&out);
    ASSERT_EQ(scr_extractor_new(&x, "dummy", &env, err, sizeof(err)), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/d/", "text/html",
                                "<base href='../b/'><p>x", 23, &out), 0);
    ASSERT_EQ(out.records.n, 1);
    ASSERT_STR_EQ(out.records.v[0], "{\"parser\":\"dummy\",\"data\":{\"seen\":\"http://h.test/b/\"}}");
    scr_extractor_free(x);

    scr_emit_release(&out);
}

TEST(is_html)
{
    const char *doc = "<!DOCTYPE html><p>x";

    ASSERT_EQ(scr_extract_is_html("text/html", "", 0), 1);
    ASSERT_EQ(scr_extract_is_html("TEXT/HTML; charset=UTF-8", "", 0), 1);
    ASSERT_EQ(scr_extract_is_html(" text/html ;charset=x", "", 0), 1);
    ASSERT_EQ(scr_extract_is_html("application/xhtml+xml", "", 0), 1);
    ASSERT_EQ(scr_extract_is_html("Application/XHTML+XML;q=1", "", 0), 1);
    ASSERT_EQ(scr_extract_is_html("text/htmlx", "", 0), 0);
    ASSERT_EQ(scr_extract_is_html("text/plain", doc, strlen(doc)), 0);
    ASSERT_EQ(scr_extract_is_html("application/json", doc, strlen(doc)), 0);

    ASSERT_EQ(scr_extract_is_html(NULL, doc, strlen(doc)), 1);
    ASSERT_EQ(scr_extract_is_html("", doc, strlen(doc)), 1);
    ASSERT_EQ(scr_extract_is_html(NULL, "\xEF\xBB\xBF \n<HTML lang=en>", 21), 1);
    ASSERT_EQ(scr_extract_is_html(NULL, "<!-- x --> <html>", 17), 1);
    ASSERT_EQ(scr_extract_is_html(NULL, "<html", 5), 1);
    ASSERT_EQ(scr_extract_is_html(NULL, "<htmlx>", 7), 0);
    ASSERT_EQ(scr_extract_is_html(NULL, "{\"a\": \"<html>\"}", 15), 0);
    ASSERT_EQ(scr_extract_is_html(NULL, "hello <html>", 12), 0);
    ASSERT_EQ(scr_extract_is_html(NULL, "", 0), 0);
    ASSERT_EQ(scr_extract_is_html(NULL, NULL, 0), 0);
    {
        /* Only the first 1 KiB is looked at. */
        char big[2048];
        memset(big, ' ', sizeof(big));
        memcpy(big + 1500, "<html>", 6);
        ASSERT_EQ(scr_extract_is_html(NULL, big, sizeof(big)), 0);
        memcpy(big + 500, "<html>", 6);
        ASSERT_EQ(scr_extract_is_html(NULL, big, sizeof(big)), 1);
    }
}

TEST(emit)
{
    struct scr_emit e;

    scr_emit_init(&e);
    ASSERT_EQ(scr_emit_record(&e, "p", json_pack("{s:i,s:s,s:f}", "z", 1, "a", "b", "r", 4.7)), 0);
    ASSERT_STR_EQ(e.records.v[0], "{\"parser\":\"p\",\"data\":{\"z\":1,\"a\":\"b\",\"r\":4.7}}");
    ASSERT_EQ(scr_emit_record(&e, "p", json_string("not an object")), SCR_EINVAL);
    ASSERT_EQ(scr_emit_record(&e, "p", NULL), SCR_EINVAL);
    ASSERT_EQ(scr_emit_record_obj(&e, json_pack("{s:s}", "parser", "p")), SCR_EINVAL);
    ASSERT_EQ(scr_emit_record_obj(&e, json_pack("{s:s,s:{},s:i}", "parser", "q", "data", "url_id",
                                                7)),
              0);
    ASSERT_EQ(e.records.n, 2);
    ASSERT_STR_EQ(e.records.v[1], "{\"parser\":\"q\",\"data\":{},\"url_id\":7}");
    scr_emit_reset(&e);
    ASSERT_EQ(e.records.n, 0);
    scr_emit_release(&e);
}

/* A hostile body must give valid records and never crash; what the records say is libxml2's
 * business. */
TEST(hostile_bodies)
{
    struct scr_extractor *x = NULL;
    struct scr_emit out;
    char err[256];
    char bin[4096];
    struct scr_buf deep;

    scr_emit_init(&out);
    scr_buf_init(&deep);
    ASSERT_EQ(scr_extractor_new(&x, "links,meta,jsonld,text", NULL, err, sizeof(err)), 0);

    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (char)((i * 7919u + 13u) % 256u);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", bin, sizeof(bin), &out), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html; charset=no-such-charset", bin,
                                sizeof(bin), &out),
              0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html; charset=shift_jis", bin,
                                sizeof(bin), &out),
              0);
    ASSERT_EQ(scr_extractor_run(x, NULL, "text/html", "<a href=/rel>x</a>", 18, &out), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", "   ", 3, &out), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", "<", 1, &out), 0);

    /* 100,000 nested elements: libxml2's depth limit and our iterative walks. */
    for (int i = 0; i < 100000; i++)
        ASSERT_EQ(scr_buf_puts(&deep, "<div><a href=/d>"), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", deep.data, deep.len, &out), 0);

    for (size_t i = 0; i < out.records.n; i++) {
        json_error_t jerr;
        json_t *r = json_loads(out.records.v[i], 0, &jerr);
        ASSERT(r != NULL);
        ASSERT(json_is_object(json_object_get(r, "data")));
        json_decref(r);
    }
    scr_extractor_free(x);
    scr_buf_release(&deep);
    scr_emit_release(&out);
}

/* A multi-megabyte page with 100,000 distinct links, with and without max_links. */
TEST(many_links)
{
    enum { N = 100000 };
    struct scr_parser_env env;
    struct scr_extractor *x = NULL;
    struct scr_emit out;
    struct scr_buf page;
    json_t *rec;
    json_error_t jerr;
    char err[256];

    memset(&env, 0, sizeof(env));
    scr_emit_init(&out);
    scr_buf_init(&page);
    ASSERT_EQ(scr_buf_puts(&page, "<!doctype html><html><body>\n"), 0);
    for (int i = 0; i < N; i++)
        ASSERT_EQ(scr_buf_printf(&page, "<p><a href=\"/item/%d?ref=list#top\">item %d</a> "
                                        "<a href=\"/item/%d?ref=list\">again</a></p>\n",
                                 i, i, i),
                  0);
    ASSERT_EQ(scr_buf_puts(&page, "</body></html>\n"), 0);
    ASSERT_GT(page.len, (size_t)5 << 20);

    ASSERT_EQ(scr_extractor_new(&x, "links", &env, err, sizeof(err)), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://big.test/", NULL, page.data, page.len, &out), 0);
    ASSERT_EQ(out.records.n, 1);
    ASSERT_EQ(out.links.n, N);
    ASSERT_STR_EQ(out.links.v[0], "http://big.test/item/0?ref=list");
    ASSERT_STR_EQ(out.links.v[N - 1], "http://big.test/item/99999?ref=list");
    rec = json_loads(out.records.v[0], 0, &jerr);
    ASSERT(rec != NULL);
    ASSERT_EQ(json_array_size(json_object_get(json_object_get(rec, "data"), "links")), N);
    json_decref(rec);
    scr_extractor_free(x);
    x = NULL;

    scr_emit_reset(&out);
    env.max_links = 1000;
    ASSERT_EQ(scr_extractor_new(&x, "links", &env, err, sizeof(err)), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://big.test/", "text/html", page.data, page.len, &out),
              0);
    ASSERT_EQ(out.links.n, 1000);
    ASSERT_STR_EQ(out.links.v[999], "http://big.test/item/999?ref=list");
    rec = json_loads(out.records.v[0], 0, &jerr);
    ASSERT(rec != NULL);
    ASSERT_EQ(json_array_size(json_object_get(json_object_get(rec, "data"), "links")), 1000);
    json_decref(rec);
    scr_extractor_free(x);

    scr_buf_release(&page);
    scr_emit_release(&out);
}

/* A 900 KB page of 300,000 JSON-LD items gives at most SCR_JSONLD_MAX records, then one record
 * that says how many were dropped; @graph members and later blocks count against the same cap. */
TEST(jsonld_cap)
{
    enum { N = 300000 };
    struct scr_extractor *x = NULL;
    struct scr_emit out;
    struct scr_buf page;
    json_t *rec, *data;
    json_error_t jerr;
    char err[256];

    scr_emit_init(&out);
    scr_buf_init(&page);
    ASSERT_EQ(scr_buf_puts(&page, "<html><head><script type=\"application/ld+json\">["), 0);
    for (int i = 0; i < N; i++)
        ASSERT_EQ(scr_buf_puts(&page, i ? ",{}" : "{}"), 0);
    ASSERT_EQ(scr_buf_puts(&page, "]</script><script type=\"application/ld+json\">"
                                  "{\"@graph\":[{},{}]}</script></head></html>"),
              0);
    ASSERT_GT(page.len, (size_t)900000);
    ASSERT_EQ(scr_extractor_new(&x, "jsonld", NULL, err, sizeof(err)), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://big.test/", "text/html", page.data, page.len, &out),
              0);
    ASSERT_EQ(out.records.n, (size_t)SCR_JSONLD_MAX + 1);
    rec = json_loads(out.records.v[out.records.n - 1], 0, &jerr);
    ASSERT(rec != NULL);
    data = json_object_get(rec, "data");
    ASSERT(json_is_string(json_object_get(data, "error")));
    ASSERT_EQ(json_integer_value(json_object_get(data, "dropped")), N + 2 - SCR_JSONLD_MAX);
    json_decref(rec);
    scr_extractor_free(x);
    scr_buf_release(&page);
    scr_emit_release(&out);
}

/* The text cap never cuts a UTF-8 sequence, whatever the cap. */
TEST(text_cap_utf8)
{
    const char *page = "<p>\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80</p>";
    const size_t full = 2 * (2 + 3 + 4) + 1;
    struct scr_parser_env env;
    struct scr_emit out;
    char err[256];

    memset(&env, 0, sizeof(env));
    scr_emit_init(&out);
    for (size_t cap = 1; cap <= full + 1; cap++) {
        struct scr_extractor *x = NULL;
        json_t *rec, *data;
        json_error_t jerr;
        const char *text;
        size_t tlen;

        env.text_max = cap;
        scr_emit_reset(&out);
        ASSERT_EQ(scr_extractor_new(&x, "text", &env, err, sizeof(err)), 0);
        ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html; charset=utf-8", page,
                                    strlen(page), &out),
                  0);
        scr_extractor_free(x);
        ASSERT_EQ(out.records.n, 1);
        rec = json_loads(out.records.v[0], 0, &jerr);
        ASSERT(rec != NULL);
        data = json_object_get(rec, "data");
        text = json_string_value(json_object_get(data, "text"));
        tlen = json_string_length(json_object_get(data, "text"));
        ASSERT(text != NULL);
        ASSERT_LE(tlen, cap);
        ASSERT(strstr(text, FFFD) == NULL);
        ASSERT_EQ(json_integer_value(json_object_get(data, "length")), full);
        ASSERT_EQ(json_is_true(json_object_get(data, "truncated")), cap < full);
        ASSERT(strncmp(text, page + 3, tlen) == 0);
        json_decref(rec);
    }
    scr_emit_release(&out);
}

/* ---- parsers/decode.c ---------------------------------------------------------------- */

static const char *label(const char *l)
{
    const char *e = scr_encoding_for_label(l, strlen(l));
    return e ? e : "(none)";
}

TEST(decode_labels)
{
    ASSERT_STR_EQ(label("iso-8859-1"), "windows-1252");
    ASSERT_STR_EQ(label(" US-ASCII\t"), "windows-1252");
    ASSERT_STR_EQ(label("latin1"), "windows-1252");
    ASSERT_STR_EQ(label("GB2312"), "GBK");
    ASSERT_STR_EQ(label("x-sjis"), "Shift_JIS");
    ASSERT_STR_EQ(label("utf-16"), "UTF-16LE");
    ASSERT_STR_EQ(label("utf8"), "UTF-8");
    ASSERT_STR_EQ(label("iso-8859-9"), "windows-1254");
    ASSERT_STR_EQ(label("tis-620"), "windows-874");
    ASSERT_STR_EQ(label("hz-gb-2312"), "replacement");
    ASSERT_STR_EQ(label("ks_c_5601-1987"), "EUC-KR");
    ASSERT_STR_EQ(label("utf-8x"), "(none)");
    ASSERT_STR_EQ(label(""), "(none)");
}

static const char *prescan(const char *page)
{
    const char *e = scr_decode_prescan(page, strlen(page), 1024);
    return e ? e : "(none)";
}

TEST(decode_prescan)
{
    ASSERT_STR_EQ(prescan("<meta charset=koi8-r>"), "KOI8-R");
    ASSERT_STR_EQ(prescan("<META CHARSET='Shift_JIS'>"), "Shift_JIS");
    ASSERT_STR_EQ(prescan("<meta http-equiv=Content-Type content=\"text/html; charset=gb2312\">"),
                  "GBK");
    /* content without http-equiv is no declaration */
    ASSERT_STR_EQ(prescan("<meta content=\"text/html; charset=gb2312\"><meta charset=big5>"),
                  "Big5");
    /* not inside a comment, nor inside another tag's attribute */
    ASSERT_STR_EQ(prescan("<!-- <meta charset=koi8-r> --><p title='<meta charset=koi8-r>'>"),
                  "(none)");
    /* an unknown label is skipped; the next <meta> counts */
    ASSERT_STR_EQ(prescan("<meta charset=klingon><meta charset=latin2>"), "ISO-8859-2");
    /* UTF-16 in a <meta> means UTF-8; x-user-defined means windows-1252 */
    ASSERT_STR_EQ(prescan("<meta charset=utf-16le>"), "UTF-8");
    ASSERT_STR_EQ(prescan("<meta charset=x-user-defined>"), "windows-1252");
    /* past the window */
    {
        char page[1200];
        memset(page, ' ', sizeof(page));
        memcpy(page + 1100, "<meta charset=koi8-r>", 21);
        ASSERT(scr_decode_prescan(page, sizeof(page), 1024) == NULL);
        ASSERT_STR_EQ(scr_decode_prescan(page, sizeof(page), 4096), "KOI8-R");
    }
}

/* The header says UTF-16, the bytes are UTF-8 (and a <meta> says Shift_JIS): read as UTF-16
 * the page loses every '<' and its link; the bytes are well-formed UTF-8, so UTF-8 it is
 * (tests/integration/test_hostile.py's /__test/liecharset). */
TEST(decode_lying_utf16)
{
    static const char page[] = "<!DOCTYPE html><html><head><meta charset=\"shift_jis\">"
                               "<title>caf\xC3\xA9 \xE2\x98\x83 lying charset</title></head>"
                               "<body><a href=\"/after\">next</a></body></html>";
    struct scr_decoded d;
    struct scr_extractor *x = NULL;
    struct scr_emit out;
    char err[256];

    scr_decode_html("text/html; charset=utf-16", page, sizeof(page) - 1, &d);
    ASSERT_STR_EQ(d.encoding, "UTF-8");
    ASSERT_STR_EQ(d.source, "header");
    ASSERT_STR_EQ(d.overridden, "UTF-16LE");
    ASSERT(d.text == page && d.buf == NULL); /* well-formed UTF-8 is not copied */
    scr_decoded_release(&d);

    scr_emit_init(&out);
    ASSERT_EQ(scr_extractor_new(&x, "links", NULL, err, sizeof(err)), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html; charset=utf-16", page,
                                sizeof(page) - 1, &out),
              0);
    ASSERT_EQ(out.links.n, 1);
    ASSERT_STR_EQ(out.links.v[0], "http://h.test/after");
    scr_extractor_free(x);
    scr_emit_release(&out);

    /* a real UTF-16LE page without a BOM keeps its declaration */
    {
        static const char u16[] = "<\0p\0>\0\xE9\0<\0/\0p\0>\0";
        scr_decode_html("text/html; charset=utf-16", u16, sizeof(u16) - 1, &d);
        ASSERT_STR_EQ(d.encoding, "UTF-16LE");
        ASSERT_EQ(d.len, 9);
        ASSERT(memcmp(d.text, "<p>\xC3\xA9</p>", 9) == 0);
        scr_decoded_release(&d);
    }
}

/* Decodes body with the header's charset; compares the text. */
static int decodes_to(const char *ct, const char *body, size_t len, const char *enc,
                      const char *want)
{
    struct scr_decoded d;
    int ok;

    scr_decode_html(ct, body, len, &d);
    ok = strcmp(d.encoding, enc) == 0 && d.len == strlen(want) && memcmp(d.text, want, d.len) == 0;
    if (!ok)
        fprintf(stderr, "%s: got %s \"%.*s\", want %s \"%s\"\n", ct, d.encoding, (int)d.len,
                d.text, enc, want);
    scr_decoded_release(&d);
    return ok;
}
#define DEC(ct, lit, enc, want) ASSERT(decodes_to(ct, lit, sizeof(lit) - 1, enc, want))

/* The legacy decoders: single-byte tables, multi-byte stretches through iconv. */
TEST(decode_legacy)
{
    /* windows-1252: 0x80 is the euro; 0x81, which glibc leaves undefined, is U+0081 */
    DEC("text/html; charset=latin1", "<p>\x80\x81\xE9", "windows-1252",
        "<p>\xE2\x82\xAC\xC2\x81\xC3\xA9");
    /* ISO-8859-8 leaves 0xA1 undefined: U+FFFD, and on */
    DEC("text/html; charset=iso-8859-8", "a\xA1" "b\xE0", "ISO-8859-8", "a" FFFD "b\xD7\x90");
    /* GBK: a pair whose trail is ASCII; a lead byte before '<' */
    DEC("text/html; charset=gbk", "\xD6\xD0" "A \x81\x40 \xD6<p>", "GBK",
        "\xE4\xB8\xAD" "A \xE4\xB8\x82 " FFFD "<p>");
    /* Shift_JIS: the trail of U+8868 is 0x5C, the backslash */
    DEC("text/html; charset=sjis", "<b>\x95\x5C</b>", "Shift_JIS", "<b>\xE8\xA1\xA8</b>");
    /* a lead byte at the very end */
    DEC("text/html; charset=euc-kr", "x\xB0", "EUC-KR", "x" FFFD);
    /* ISO-2022-JP is stateful: all through iconv */
    DEC("text/html; charset=iso-2022-jp", "a\x1B$B$\"\x1B(Bb", "ISO-2022-JP",
        "a\xE3\x81\x82" "b");
    /* the replacement encoding: one U+FFFD for the whole body */
    DEC("text/html; charset=iso-2022-kr", "<p>\x80</p>", "replacement", FFFD);
}

/* ---- fixtures ------------------------------------------------------------------------ */

struct args {
    char *url, *parsers, *content_type, *encoding;
    size_t max_links, text_max;
    struct scr_url_opts url_opts;
};

static const char *const arg_keys[] = {"url", "parsers", "content_type", "max_links",
                                       "text_max", "strip_tracking", "sort_query", "encoding"};

/* Finds the next "key=" (at the start or after whitespace) at or after p; returns its start
 * and sets *k to its index in arg_keys. */
static char *next_key(char *line, char *p, size_t *k)
{
    for (; *p; p++) {
        if (p != line && p[-1] != ' ' && p[-1] != '\t')
            continue;
        for (size_t i = 0; i < sizeof(arg_keys) / sizeof(*arg_keys); i++) {
            size_t n = strlen(arg_keys[i]);
            if (strncmp(p, arg_keys[i], n) == 0 && p[n] == '=') {
                *k = i;
                return p;
            }
        }
    }
    return NULL;
}

/* Parses an .args line in place; the strings point into line. */
static void parse_args(char *line, struct args *a, const char *name)
{
    char *p, *q, *v, *end;
    size_t k, k2;

    memset(a, 0, sizeof(*a));
    line[strcspn(line, "\r\n")] = '\0';
    p = next_key(line, line, &k);
    if (!p)
        TEST_FAIL_("%s: no key=value in .args", name);
    while (p) {
        v = p + strlen(arg_keys[k]) + 1;
        q = next_key(line, v, &k2);
        end = q ? q : v + strlen(v);
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = '\0';
        switch (k) {
        case 0: a->url = v; break;
        case 1: a->parsers = v; break;
        case 2: a->content_type = (*v && strcmp(v, "-") != 0) ? v : NULL; break;
        case 3: a->max_links = strtoul(v, NULL, 10); break;
        case 4: a->text_max = strtoul(v, NULL, 10); break;
        case 5: a->url_opts.strip_tracking = (int)strtol(v, NULL, 10); break;
        case 6: a->url_opts.sort_query = (int)strtol(v, NULL, 10); break;
        default: a->encoding = v; break;
        }
        p = q;
        k = k2;
    }
}

/* Splits text into lines in place (a final newline ends the last line, it does not start an
 * empty one). */

/* out.links must be exactly the URLs of the links records, in order. */
static int links_match(const char *num, const struct scr_emit *out)
{
    size_t k = 0;
    int ok = 1;

    for (size_t i = 0; i < out->records.n && ok; i++) {
        json_error_t jerr;
        json_t *r = json_loads(out->records.v[i], 0, &jerr), *u;
        size_t j;

        ASSERT(r != NULL);
        if (strcmp(json_string_value(json_object_get(r, "parser")), "links") == 0) {
            json_array_foreach(json_object_get(json_object_get(r, "data"), "links"), j, u)
            {
                if (k >= out->links.n || strcmp(out->links.v[k], json_string_value(u)) != 0) {
                    fprintf(stderr, "fixture %s: out.links[%zu] differs from the record\n", num,
                            k);
                    ok = 0;
                    break;
                }
                k++;
            }
        }
        json_decref(r);
    }
    if (ok && k != out->links.n) {
        fprintf(stderr, "fixture %s: %zu outlinks, %zu in records\n", num, out->links.n, k);
        ok = 0;
    }
    return ok;
}

/* Runs one fixture; returns 1 when it passes. */
static int run_fixture(const char *num, int print)
{
    char path[4096], what[64];
    char *body, *argline, *expect;
    size_t blen = 0;
    struct args a;
    struct scr_parser_env env;
    struct scr_emit out;
    int ok;

    snprintf(path, sizeof(path), "%s/%s.html", FIXTURE_DIR, num);
    body = slurp_or_die(path, &blen);
    snprintf(path, sizeof(path), "%s/%s.args", FIXTURE_DIR, num);
    argline = slurp_or_die(path, NULL);
    snprintf(path, sizeof(path), "%s/%s.jsonl", FIXTURE_DIR, num);
    expect = slurp_or_die(path, NULL);
    parse_args(argline, &a, num);

    memset(&env, 0, sizeof(env));
    env.max_links = a.max_links;
    env.text_max = a.text_max;
    env.url_opts = &a.url_opts;
    snprintf(what, sizeof(what), "fixture %s", num);
    ok = fixture_extract(what, a.parsers, &env, a.url, a.content_type, body, blen, expect,
                         print, &out);
    if (!links_match(num, &out))
        ok = 0;
    if (a.encoding && (!out.encoding || strcmp(out.encoding, a.encoding) != 0)) {
        fprintf(stderr, "fixture %s: decoded from %s, expected %s\n", num,
                out.encoding ? out.encoding : "(nothing)", a.encoding);
        ok = 0;
    }
    scr_emit_release(&out);
    free(body);
    free(argline);
    free(expect);
    return ok;
}

TEST(fixtures)
{
    char **names;
    size_t n = fixture_list(FIXTURE_DIR, ".html", 1, &names), failed = 0;
    int print = fixture_print_mode();

    ASSERT_GE(n, 25);
    for (size_t i = 0; i < n; i++)
        if (!run_fixture(names[i], print))
            failed++;
    fprintf(stderr, "%zu fixtures, %zu failed\n", n, failed);
    fixture_free_names(names, n);
    ASSERT_EQ(failed, 0);
}

int main(void)
{
    RUN(utf8_valid_passes);
    RUN(utf8_invalid_replaced);
    RUN(json_text_is_valid);
    RUN(registry);
    RUN(extractor_list);
    RUN(is_html);
    RUN(emit);
    RUN(hostile_bodies);
    RUN(decode_labels);
    RUN(decode_prescan);
    RUN(decode_lying_utf16);
    RUN(decode_legacy);
    RUN(many_links);
    RUN(jsonld_cap);
    RUN(text_cap_utf8);
    RUN(fixtures);
    return 0;
}
