/* test_wire.c - the rank-to-rank messages of common/wire.h.
 *
 * Round trips of every message type, the exact byte layout of small messages (big-endian
 * integers, u32-length-prefixed strings), and hostile input: every truncation, huge counts,
 * trailing bytes, embedded NULs, wrong type bytes and 10,000 random corruptions.  Hostile
 * input is always decoded from a malloc'd copy of exactly its length, so a sanitizer build
 * catches any read past the end and any leak of a failed decode.
 */
#include <stdint.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/wire.h"
#include "test.h"

/* --- helpers --------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rng(void)
{
    return test_rng(&rng_state);
}

static void fill_result(struct scr_result *r)
{
    scr_result_init(r);
    r->url_id = 0x0102030405060708ULL;
    r->kind = SCR_TASK_SITEMAP;
    r->http_status = 200;
    r->curl_code = -7; /* negative survives the u32 cast */
    r->final_url = strdup("https://example.com/a?b=c");
    r->content_type = strdup("text/html; charset=utf-8");
    r->error = strdup("");
    r->etag = strdup("\"abc\"");
    r->last_modified = strdup("Wed, 21 Oct 2015 07:28:00 GMT");
    r->content_hash = strdup("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    r->bytes = 0xFFFFFFFF00000001ULL;
    r->elapsed_ms = 1234;
    r->wait_ms = 56;
    r->redirects = 2;
    r->truncated = 1;
    r->retry_after_s = 120;
    r->location = strdup("https://example.com/moved");
    r->body = strdup("User-agent: *\nDisallow: /private\n");
    r->encoding = strdup("Shift_JIS");
    r->rules_stats = strdup("[{\"rule_set\":\"shop\",\"records\":1,\"dropped\":0,"
                            "\"empty\":0,\"empty_fields\":2}]");
    ASSERT_EQ(scr_strvec_push(&r->sitemaps, "https://example.com/sitemap-2.xml.gz"), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&r->records, "{\"a\":1}"), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&r->records, ""), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&r->records, "{\"b\":\"\\u00e9t\xc3\xa9\"}"), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&r->links, "https://example.com/x"), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&r->links, "https://example.com/y"), SCR_OK);
}

static void encode_result(struct scr_buf *b)
{
    struct scr_result r;
    fill_result(&r);
    scr_buf_init(b);
    ASSERT_EQ(scr_result_encode(b, &r), SCR_OK);
    scr_result_release(&r);
}

/* The structs hold char *; the encoders only read them. */
#define S(x) ((char *)(x))

static const struct scr_task sample_tasks[] = {
    {.url_id = 1, .url = S("http://a.example/"), .kind = SCR_TASK_PAGE, .depth = 0,
     .flags = SCR_TASK_F_ALLOW_PRIVATE, .etag = S(""), .last_modified = S("")},
    {.url_id = 0xFFFFFFFFFFFFFFFFULL, .url = S(""), .kind = SCR_TASK_ROBOTS, .depth = 7,
     .flags = 0, .etag = S("W/\"x\""), .last_modified = S("Mon, 01 Jan 2024 00:00:00 GMT")},
    /* NULL strings go as "" */
    {.url_id = 42, .url = S("http://b.example/p?q=1"), .kind = SCR_TASK_SITEMAP,
     .depth = 0xFFFFFFFFu, .flags = 0xFFFFFFFFu, .etag = NULL, .last_modified = NULL},
};
#define NTASKS (sizeof(sample_tasks) / sizeof(sample_tasks[0]))

static void encode_batch(struct scr_buf *b)
{
    scr_buf_init(b);
    ASSERT_EQ(scr_msg_batch_encode(b, sample_tasks, (uint32_t)NTASKS), SCR_OK);
}

static void fill_hello(struct scr_msg_hello *h)
{
    memset(h, 0, sizeof(*h));
    h->protocol = 3;
    h->version = S("0.1.0");
    h->build_id = S("abcdef123456-dirty");
    h->host = S("node-17.cluster");
    h->arch = S("x86_64");
    h->os = S("Linux 6.1");
    h->curl_version = S("8.5.0");
    h->libxml2_version = S("2.9.14");
    h->pcre2_version = S("10.42");
    h->mpi_version = S(""); /* empty string travels */
    h->cores = 128;
    h->mem_bytes = 0x0000010000000000ULL; /* 1 TiB: needs the high word */
    h->pid = 4000000000u;
}

static void encode_hello(struct scr_buf *b)
{
    struct scr_msg_hello h;
    fill_hello(&h);
    scr_buf_init(b);
    ASSERT_EQ(scr_msg_hello_encode(b, &h), SCR_OK);
}

static const char rules_text[] =
    "# rules\n"
    "title = h1::text\n"
    "price = .price | number\n"
    "\twith a tab and \xe2\x82\xac\n";

static void encode_welcome(struct scr_buf *b)
{
    struct scr_msg_welcome m;
    memset(&m, 0, sizeof(m));
    m.accepted = 1;
    m.reason = S("");
    ASSERT_EQ(scr_strvec_push(&m.names, "concurrency"), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&m.values, "16"), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&m.names, "user-agent"), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&m.values, "scrape/0.1 (+https://x.invalid/)"), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&m.names, "parsers"), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&m.values, ""), SCR_OK);
    m.rules_name = S("shop.rules");
    m.rules_text = S(rules_text);
    scr_buf_init(b);
    ASSERT_EQ(scr_msg_welcome_encode(b, &m), SCR_OK);
    scr_strvec_release(&m.names);
    scr_strvec_release(&m.values);
}

static const struct scr_msg_bye sample_bye = {
    1, 2, 3, 4, 0x8000000000000000ULL, 6, 0x0102030405060708ULL, 8};

static void encode_bye(struct scr_buf *b)
{
    scr_buf_init(b);
    ASSERT_EQ(scr_msg_bye_encode(b, &sample_bye), SCR_OK);
}

static void encode_request(struct scr_buf *b)
{
    scr_buf_init(b);
    ASSERT_EQ(scr_msg_request_encode(b, 3, 5), SCR_OK);
}

static const uint64_t sample_ids[] = {1, 0xFFFFFFFFFFFFFFFFULL, 0x0102030405060708ULL};

static void encode_recall(struct scr_buf *b)
{
    scr_buf_init(b);
    ASSERT_EQ(scr_msg_recall_encode(b, 7), SCR_OK);
}

static void encode_return(struct scr_buf *b)
{
    scr_buf_init(b);
    ASSERT_EQ(scr_msg_return_encode(b, sample_ids, 3), SCR_OK);
}

/* Decodes p[0..n) as `type`; on success re-encodes into *re (caller releases) so callers can
 * compare bytes.  Everything decoded is released here. */
/* PAGES: two stored pages, one with a binary body (NUL and high bytes), one empty. */
static void encode_pages(struct scr_buf *b)
{
    struct scr_stored_page pg[2];

    memset(pg, 0, sizeof(pg));
    pg[0].id = 0x0102030405060708ull;
    pg[0].url = (char *)"http://a.test/p?q=1";
    pg[0].content_type = (char *)"text/html; charset=windows-1252";
    pg[0].http_status = 200;
    scr_buf_init(&pg[0].body);
    scr_buf_append(&pg[0].body, "<p>\0\xff\xe9</p>", 10);
    pg[1].id = 9;
    pg[1].url = (char *)"http://a.test/";
    pg[1].content_type = (char *)"";
    pg[1].http_status = 404;
    scr_buf_init(&pg[1].body);
    scr_buf_init(b);
    ASSERT_EQ(scr_msg_pages_encode(b, pg, 2), SCR_OK);
    scr_buf_release(&pg[0].body);
}

static int decode_as(int type, const uint8_t *p, size_t n, struct scr_buf *re)
{
    int rc = SCR_EINVAL;
    scr_buf_init(re);
    switch (type) {
    case SCR_MSG_PAGES: {
        struct scr_msg_pages m;
        rc = scr_msg_pages_decode(&m, p, n);
        if (rc == SCR_OK)
            ASSERT_EQ(scr_msg_pages_encode(re, m.pages, m.count), SCR_OK);
        scr_msg_pages_release(&m);
        break;
    }
    case SCR_MSG_HELLO: {
        struct scr_msg_hello m;
        rc = scr_msg_hello_decode(&m, p, n);
        if (rc == SCR_OK)
            ASSERT_EQ(scr_msg_hello_encode(re, &m), SCR_OK);
        scr_msg_hello_release(&m);
        break;
    }
    case SCR_MSG_WELCOME: {
        struct scr_msg_welcome m;
        rc = scr_msg_welcome_decode(&m, p, n);
        if (rc == SCR_OK)
            ASSERT_EQ(scr_msg_welcome_encode(re, &m), SCR_OK);
        scr_msg_welcome_release(&m);
        break;
    }
    case SCR_MSG_REQUEST: {
        uint32_t now = 0, later = 0;
        rc = scr_msg_request_decode(&now, &later, p, n);
        if (rc == SCR_OK)
            ASSERT_EQ(scr_msg_request_encode(re, now, later), SCR_OK);
        break;
    }
    case SCR_MSG_BATCH: {
        struct scr_msg_batch m;
        rc = scr_msg_batch_decode(&m, p, n);
        if (rc == SCR_OK)
            ASSERT_EQ(scr_msg_batch_encode(re, m.tasks, m.count), SCR_OK);
        scr_msg_batch_release(&m);
        break;
    }
    case SCR_MSG_RESULT: {
        struct scr_result m;
        rc = scr_result_decode(&m, p, n);
        if (rc == SCR_OK)
            ASSERT_EQ(scr_result_encode(re, &m), SCR_OK);
        scr_result_release(&m);
        break;
    }
    case SCR_MSG_BYE: {
        struct scr_msg_bye m;
        rc = scr_msg_bye_decode(&m, p, n);
        if (rc == SCR_OK)
            ASSERT_EQ(scr_msg_bye_encode(re, &m), SCR_OK);
        break;
    }
    case SCR_MSG_RECALL: {
        uint32_t max = 0;
        rc = scr_msg_recall_decode(&max, p, n);
        if (rc == SCR_OK)
            ASSERT_EQ(scr_msg_recall_encode(re, max), SCR_OK);
        break;
    }
    case SCR_MSG_RETURN: {
        struct scr_msg_return m;
        rc = scr_msg_return_decode(&m, p, n);
        if (rc == SCR_OK)
            ASSERT_EQ(scr_msg_return_encode(re, m.ids, m.count), SCR_OK);
        scr_msg_return_release(&m);
        break;
    }
    default:
        TEST_FAIL_("no decoder for type %d", type);
    }
    return rc;
}

static const int decodable[] = {SCR_MSG_HELLO,  SCR_MSG_WELCOME, SCR_MSG_REQUEST,
                                SCR_MSG_BATCH,  SCR_MSG_RESULT,  SCR_MSG_BYE,
                                SCR_MSG_RECALL, SCR_MSG_RETURN,  SCR_MSG_PAGES};
#define NDECODABLE (sizeof(decodable) / sizeof(decodable[0]))

static void encode_type(int type, struct scr_buf *b)
{
    switch (type) {
    case SCR_MSG_HELLO: encode_hello(b); break;
    case SCR_MSG_WELCOME: encode_welcome(b); break;
    case SCR_MSG_REQUEST: encode_request(b); break;
    case SCR_MSG_BATCH: encode_batch(b); break;
    case SCR_MSG_RESULT: encode_result(b); break;
    case SCR_MSG_BYE: encode_bye(b); break;
    case SCR_MSG_RECALL: encode_recall(b); break;
    case SCR_MSG_RETURN: encode_return(b); break;
    case SCR_MSG_PAGES: encode_pages(b); break;
    default: TEST_FAIL_("no encoder for type %d", type);
    }
}

/* --- primitives ------------------------------------------------------------------------ */

TEST(primitive_layout)
{
    static const uint8_t want[] = {
        0xAB,                                           /* u8 */
        0x01, 0x02, 0x03, 0x04,                         /* u32 */
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* u64 */
        0x00, 0x00, 0x00, 0x02, 'h', 'i',               /* "hi" */
        0x00, 0x00, 0x00, 0x00,                         /* NULL */
        0x00, 0x00, 0x00, 0x00,                         /* "" */
    };
    struct scr_buf b;
    struct scr_wire_writer w;
    struct scr_wire_reader r;
    char *s;

    scr_buf_init(&b);
    scr_wire_writer_init(&w, &b);
    scr_wire_put_u8(&w, 0xAB);
    scr_wire_put_u32(&w, 0x01020304u);
    scr_wire_put_u64(&w, 0x1122334455667788ULL);
    scr_wire_put_str(&w, "hi");
    scr_wire_put_str(&w, NULL);
    scr_wire_put_str(&w, "");
    ASSERT_EQ(w.err, SCR_OK);
    ASSERT_EQ(b.len, sizeof(want));
    ASSERT_MEM_EQ(b.data, want, sizeof(want));

    scr_wire_reader_init(&r, b.data, b.len);
    ASSERT_EQ(scr_wire_get_u8(&r), 0xAB);
    ASSERT_EQ(scr_wire_get_u32(&r), 0x01020304u);
    ASSERT(scr_wire_get_u64(&r) == 0x1122334455667788ULL);
    s = scr_wire_get_str(&r);
    ASSERT_STR_EQ(s, "hi");
    free(s);
    s = scr_wire_get_str(&r);
    ASSERT_STR_EQ(s, "");
    free(s);
    s = scr_wire_get_str(&r);
    ASSERT_STR_EQ(s, "");
    free(s);
    ASSERT_EQ(r.err, SCR_OK);
    ASSERT_EQ(r.pos, r.len);
    /* reading past the end: zero values, sticky error */
    ASSERT_EQ(scr_wire_get_u8(&r), 0);
    ASSERT_EQ(r.err, SCR_EPROTO);
    scr_buf_release(&b);
}

TEST(reader_sticky_error)
{
    static const uint8_t three[] = {0x01, 0x02, 0x03};
    static const uint8_t nul_str[] = {0, 0, 0, 3, 'a', 0, 'b'};
    static const uint8_t long_str[] = {0, 0, 0, 9, 'a', 'b'};
    struct scr_wire_reader r;
    uint8_t *p;

    p = test_dup_bytes(three, sizeof(three));
    scr_wire_reader_init(&r, p, sizeof(three));
    ASSERT_EQ(scr_wire_get_u32(&r), 0);
    ASSERT_EQ(r.err, SCR_EPROTO);
    /* bytes remain, but the error sticks: nothing more is read */
    ASSERT_EQ(scr_wire_get_u8(&r), 0);
    ASSERT_EQ(r.pos, 0);
    free(p);

    p = test_dup_bytes(nul_str, sizeof(nul_str));
    scr_wire_reader_init(&r, p, sizeof(nul_str));
    ASSERT(scr_wire_get_str(&r) == NULL);
    ASSERT_EQ(r.err, SCR_EPROTO);
    free(p);

    p = test_dup_bytes(long_str, sizeof(long_str));
    scr_wire_reader_init(&r, p, sizeof(long_str));
    ASSERT(scr_wire_get_str(&r) == NULL);
    ASSERT_EQ(r.err, SCR_EPROTO);
    free(p);

    ASSERT_EQ(scr_wire_type("", 0), 0);
    ASSERT_EQ(scr_wire_type("\x05rest", 5), 5);
}

/* --- round trips ----------------------------------------------------------------------- */

TEST(hello_roundtrip)
{
    struct scr_msg_hello want, got;
    struct scr_buf b;

    fill_hello(&want);
    encode_hello(&b);
    ASSERT_EQ(scr_wire_type(b.data, b.len), SCR_MSG_HELLO);
    ASSERT_EQ(scr_msg_hello_decode(&got, b.data, b.len), SCR_OK);
    ASSERT_EQ(got.protocol, want.protocol);
    ASSERT_STR_EQ(got.version, want.version);
    ASSERT_STR_EQ(got.build_id, want.build_id);
    ASSERT_STR_EQ(got.host, want.host);
    ASSERT_STR_EQ(got.arch, want.arch);
    ASSERT_STR_EQ(got.os, want.os);
    ASSERT_STR_EQ(got.curl_version, want.curl_version);
    ASSERT_STR_EQ(got.libxml2_version, want.libxml2_version);
    ASSERT_STR_EQ(got.pcre2_version, want.pcre2_version);
    ASSERT_STR_EQ(got.mpi_version, "");
    ASSERT_EQ(got.cores, 128);
    ASSERT(got.mem_bytes == want.mem_bytes);
    ASSERT_EQ(got.pid, 4000000000u);
    scr_msg_hello_release(&got);
    ASSERT(got.version == NULL);
    scr_buf_release(&b);
}

TEST(welcome_roundtrip)
{
    struct scr_msg_welcome got, refused;
    struct scr_buf b;

    encode_welcome(&b);
    ASSERT_EQ(scr_wire_type(b.data, b.len), SCR_MSG_WELCOME);
    ASSERT_EQ(scr_msg_welcome_decode(&got, b.data, b.len), SCR_OK);
    ASSERT_EQ(got.accepted, 1);
    ASSERT_STR_EQ(got.reason, "");
    ASSERT_EQ(got.names.n, 3);
    ASSERT_EQ(got.values.n, 3);
    ASSERT_STR_EQ(got.names.v[0], "concurrency");
    ASSERT_STR_EQ(got.values.v[0], "16");
    ASSERT_STR_EQ(got.names.v[1], "user-agent");
    ASSERT_STR_EQ(got.values.v[1], "scrape/0.1 (+https://x.invalid/)");
    ASSERT_STR_EQ(got.names.v[2], "parsers");
    ASSERT_STR_EQ(got.values.v[2], "");
    ASSERT_STR_EQ(got.rules_name, "shop.rules");
    ASSERT_STR_EQ(got.rules_text, rules_text);
    scr_msg_welcome_release(&got);
    scr_buf_release(&b);

    /* a refusal: reason, no settings, NULL rules go as "" */
    memset(&refused, 0, sizeof(refused));
    refused.accepted = 0;
    refused.reason = S("build id mismatch: abc != def");
    scr_buf_init(&b);
    ASSERT_EQ(scr_msg_welcome_encode(&b, &refused), SCR_OK);
    ASSERT_EQ(scr_msg_welcome_decode(&got, b.data, b.len), SCR_OK);
    ASSERT_EQ(got.accepted, 0);
    ASSERT_STR_EQ(got.reason, "build id mismatch: abc != def");
    ASSERT_EQ(got.names.n, 0);
    ASSERT_EQ(got.values.n, 0);
    ASSERT_STR_EQ(got.rules_name, "");
    ASSERT_STR_EQ(got.rules_text, "");
    scr_msg_welcome_release(&got);
    scr_buf_release(&b);
}

TEST(welcome_mismatched_counts)
{
    struct scr_msg_welcome m, got;
    struct scr_buf b;
    struct scr_wire_writer w;
    uint8_t *p;

    memset(&m, 0, sizeof(m));
    ASSERT_EQ(scr_strvec_push(&m.names, "a"), SCR_OK);
    scr_buf_init(&b);
    ASSERT_EQ(scr_msg_welcome_encode(&b, &m), SCR_EINVAL);
    scr_strvec_release(&m.names);
    scr_buf_release(&b);

    /* hand-made: 2 names, 1 value */
    scr_buf_init(&b);
    scr_wire_writer_init(&w, &b);
    scr_wire_put_u8(&w, SCR_MSG_WELCOME);
    scr_wire_put_u32(&w, 1);
    scr_wire_put_str(&w, "");
    scr_wire_put_u32(&w, 2);
    scr_wire_put_str(&w, "a");
    scr_wire_put_str(&w, "b");
    scr_wire_put_u32(&w, 1);
    scr_wire_put_str(&w, "1");
    scr_wire_put_str(&w, "");
    scr_wire_put_str(&w, "");
    ASSERT_EQ(w.err, SCR_OK);
    p = test_dup_bytes(b.data, b.len);
    ASSERT_EQ(scr_msg_welcome_decode(&got, p, b.len), SCR_EPROTO);
    scr_msg_welcome_release(&got);
    free(p);
    scr_buf_release(&b);
}

TEST(request_roundtrip_and_layout)
{
    static const uint8_t want[] = {0x03, 0, 0, 0, 3, 0, 0, 0, 5};
    static const uint8_t big[] = {0x03, 0xFF, 0xFF, 0xFF, 0xFE, 0x80, 0, 0, 1};
    struct scr_buf b;
    uint32_t now = 99, later = 99;

    encode_request(&b);
    ASSERT_EQ(b.len, sizeof(want));
    ASSERT_MEM_EQ(b.data, want, sizeof(want));
    ASSERT_EQ(scr_msg_request_decode(&now, &later, b.data, b.len), SCR_OK);
    ASSERT_EQ(now, 3);
    ASSERT_EQ(later, 5);
    scr_buf_release(&b);

    scr_buf_init(&b);
    ASSERT_EQ(scr_msg_request_encode(&b, 0xFFFFFFFEu, 0x80000001u), SCR_OK);
    ASSERT_EQ(b.len, sizeof(big));
    ASSERT_MEM_EQ(b.data, big, sizeof(big));
    ASSERT_EQ(scr_msg_request_decode(&now, &later, b.data, b.len), SCR_OK);
    ASSERT_EQ(now, 0xFFFFFFFEu);
    ASSERT_EQ(later, 0x80000001u);
    scr_buf_release(&b);
}

TEST(recall_and_return)
{
    static const uint8_t recall[] = {0x09, 0, 0, 0, 7};
    static const uint8_t empty[] = {0x0A, 0, 0, 0, 0};
    struct scr_buf b;
    struct scr_msg_return m;
    uint32_t max = 0;
    const uint8_t *p;

    encode_recall(&b);
    ASSERT_EQ(b.len, sizeof(recall));
    ASSERT_MEM_EQ(b.data, recall, sizeof(recall));
    ASSERT_EQ(scr_msg_recall_decode(&max, b.data, b.len), SCR_OK);
    ASSERT_EQ(max, 7);
    scr_buf_release(&b);

    encode_return(&b);
    ASSERT_EQ(b.len, 1 + 4 + 3 * 8);
    p = (const uint8_t *)b.data;
    ASSERT_EQ(p[0], SCR_MSG_RETURN);
    ASSERT_MEM_EQ(p + 1, "\0\0\0\x03", 4);
    ASSERT_MEM_EQ(p + 5 + 2 * 8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    ASSERT_EQ(scr_msg_return_decode(&m, b.data, b.len), SCR_OK);
    ASSERT_EQ(m.count, 3);
    for (uint32_t i = 0; i < 3; i++)
        ASSERT(m.ids[i] == sample_ids[i]);
    scr_msg_return_release(&m);
    ASSERT(m.ids == NULL);
    scr_buf_release(&b);

    /* nothing given back is a valid answer */
    scr_buf_init(&b);
    ASSERT_EQ(scr_msg_return_encode(&b, NULL, 0), SCR_OK);
    ASSERT_EQ(b.len, sizeof(empty));
    ASSERT_MEM_EQ(b.data, empty, sizeof(empty));
    ASSERT_EQ(scr_msg_return_decode(&m, b.data, b.len), SCR_OK);
    ASSERT_EQ(m.count, 0);
    ASSERT(m.ids == NULL);
    scr_msg_return_release(&m);
    scr_buf_release(&b);
}

TEST(batch_roundtrip)
{
    struct scr_msg_batch m;
    struct scr_buf b;

    encode_batch(&b);
    ASSERT_EQ(scr_wire_type(b.data, b.len), SCR_MSG_BATCH);
    ASSERT_EQ(scr_msg_batch_decode(&m, b.data, b.len), SCR_OK);
    ASSERT_EQ(m.count, NTASKS);
    for (size_t i = 0; i < NTASKS; i++) {
        const struct scr_task *w = &sample_tasks[i];
        ASSERT(m.tasks[i].url_id == w->url_id);
        ASSERT_STR_EQ(m.tasks[i].url, w->url);
        ASSERT_EQ(m.tasks[i].kind, w->kind);
        ASSERT_EQ(m.tasks[i].flags, w->flags);
        ASSERT_EQ(m.tasks[i].depth, w->depth);
        ASSERT_STR_EQ(m.tasks[i].etag, w->etag ? w->etag : "");
        ASSERT_STR_EQ(m.tasks[i].last_modified, w->last_modified ? w->last_modified : "");
    }
    scr_msg_batch_release(&m);
    ASSERT(m.tasks == NULL);
    ASSERT_EQ(m.count, 0);
    scr_buf_release(&b);

    /* an empty batch */
    scr_buf_init(&b);
    ASSERT_EQ(scr_msg_batch_encode(&b, NULL, 0), SCR_OK);
    ASSERT_EQ(b.len, 5);
    ASSERT_MEM_EQ(b.data, "\x04\0\0\0\0", 5);
    ASSERT_EQ(scr_msg_batch_decode(&m, b.data, b.len), SCR_OK);
    ASSERT_EQ(m.count, 0);
    scr_msg_batch_release(&m);
    scr_buf_release(&b);
}

TEST(batch_layout)
{
    static const struct scr_task t = {.url_id = 0x0102030405060708ULL, .url = S("u"),
                                      .kind = SCR_TASK_SITEMAP, .depth = 0x0203,
                                      .flags = 0x01000003u, .etag = S(""),
                                      .last_modified = S("x")};
    static const uint8_t want[] = {
        0x04,                                           /* BATCH */
        0, 0, 0, 1,                                     /* count */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* url_id */
        0, 0, 0, 1, 'u',                                /* url */
        0, 0, 0, 2,                                     /* kind */
        0x01, 0, 0, 3,                                  /* flags */
        0, 0, 2, 3,                                     /* depth */
        0, 0, 0, 0,                                     /* etag "" */
        0, 0, 0, 1, 'x',                                /* last_modified */
    };
    struct scr_buf b;

    scr_buf_init(&b);
    ASSERT_EQ(scr_msg_batch_encode(&b, &t, 1), SCR_OK);
    ASSERT_EQ(b.len, sizeof(want));
    ASSERT_MEM_EQ(b.data, want, sizeof(want));
    scr_buf_release(&b);
}

TEST(result_roundtrip)
{
    struct scr_result want, got;
    struct scr_buf b;

    fill_result(&want);
    encode_result(&b);
    ASSERT_EQ(scr_wire_type(b.data, b.len), SCR_MSG_RESULT);
    ASSERT_EQ(scr_result_decode(&got, b.data, b.len), SCR_OK);
    ASSERT(got.url_id == want.url_id);
    ASSERT_EQ(got.kind, SCR_TASK_SITEMAP);
    ASSERT_EQ(got.http_status, 200);
    ASSERT_EQ(got.curl_code, -7);
    ASSERT_STR_EQ(got.final_url, want.final_url);
    ASSERT_STR_EQ(got.content_type, want.content_type);
    ASSERT_STR_EQ(got.error, "");
    ASSERT_STR_EQ(got.etag, want.etag);
    ASSERT_STR_EQ(got.last_modified, want.last_modified);
    ASSERT_STR_EQ(got.content_hash, want.content_hash);
    ASSERT(got.bytes == want.bytes);
    ASSERT_EQ(got.elapsed_ms, 1234);
    ASSERT_EQ(got.wait_ms, 56);
    ASSERT_EQ(got.redirects, 2);
    ASSERT_EQ(got.truncated, 1);
    ASSERT_EQ(got.retry_after_s, 120);
    ASSERT_STR_EQ(got.location, want.location);
    ASSERT_STR_EQ(got.body, want.body);
    ASSERT_STR_EQ(got.encoding, "Shift_JIS");
    ASSERT_STR_EQ(got.rules_stats, want.rules_stats);
    ASSERT_EQ(got.sitemaps.n, 1);
    ASSERT_STR_EQ(got.sitemaps.v[0], "https://example.com/sitemap-2.xml.gz");
    ASSERT_EQ(got.records.n, 3);
    for (size_t i = 0; i < 3; i++)
        ASSERT_STR_EQ(got.records.v[i], want.records.v[i]);
    ASSERT_EQ(got.links.n, 2);
    ASSERT_STR_EQ(got.links.v[0], "https://example.com/x");
    ASSERT_STR_EQ(got.links.v[1], "https://example.com/y");
    scr_result_release(&got);
    scr_result_release(&want);
    scr_buf_release(&b);

    /* a result straight from scr_result_init: NULL strings go as "", no records */
    scr_result_init(&want);
    scr_buf_init(&b);
    ASSERT_EQ(scr_result_encode(&b, &want), SCR_OK);
    /* type, url_id, kind/status/curl code, 6 strings, bytes, 5 u32, 2 strings, 3 vectors,
     * the encoding, the rules feedback, the 3 WARC fields (12 bytes when --warc-dir is off) */
    ASSERT_EQ(b.len, 1 + 8 + 3 * 4 + 6 * 4 + 8 + 5 * 4 + 2 * 4 + 3 * 4 + 4 + 4 + 3 * 4);
    ASSERT_EQ(scr_result_decode(&got, b.data, b.len), SCR_OK);
    ASSERT_STR_EQ(got.final_url, "");
    ASSERT_STR_EQ(got.content_hash, "");
    ASSERT_STR_EQ(got.location, "");
    ASSERT_STR_EQ(got.body, "");
    ASSERT_STR_EQ(got.encoding, "");
    ASSERT_STR_EQ(got.rules_stats, "");
    ASSERT_EQ(got.sitemaps.n, 0);
    ASSERT_EQ(got.records.n, 0);
    ASSERT_EQ(got.links.n, 0);
    ASSERT(got.payload == NULL && got.payload_len == 0 && got.http_head == NULL);
    scr_result_release(&got);
    scr_buf_release(&b);

    /* the WARC fields are binary: NUL bytes travel */
    scr_result_init(&want);
    scr_buf_init(&b);
    want.http_request = scr_xmemdup0("GET / HTTP/1.1\r\n\r\n", 18);
    want.http_request_len = 18;
    want.http_head = scr_xmemdup0("HTTP/1.1 200 OK\r\n\r\n", 19);
    want.http_head_len = 19;
    want.payload = scr_xmemdup0("a\0b\0", 4);
    want.payload_len = 4;
    ASSERT_EQ(scr_result_encode(&b, &want), SCR_OK);
    ASSERT_EQ(scr_result_decode(&got, b.data, b.len), SCR_OK);
    ASSERT_EQ(got.payload_len, 4);
    ASSERT(memcmp(got.payload, "a\0b\0", 4) == 0);
    ASSERT_EQ(got.http_head_len, 19);
    ASSERT(memcmp(got.http_head, want.http_head, 19) == 0);
    ASSERT_EQ(got.http_request_len, 18);
    scr_result_release(&got);
    scr_result_release(&want);
    scr_buf_release(&b);
}

TEST(simple_and_bye)
{
    struct scr_buf b;
    struct scr_msg_bye got;
    const uint8_t *p;

    scr_buf_init(&b);
    ASSERT_EQ(scr_msg_simple_encode(&b, SCR_MSG_HEARTBEAT), SCR_OK);
    ASSERT_EQ(b.len, 1);
    ASSERT_EQ((uint8_t)b.data[0], 0x06);
    ASSERT_EQ(scr_wire_type(b.data, b.len), SCR_MSG_HEARTBEAT);
    scr_buf_reset(&b);
    ASSERT_EQ(scr_msg_simple_encode(&b, SCR_MSG_STOP), SCR_OK);
    ASSERT_EQ(b.len, 1);
    ASSERT_EQ((uint8_t)b.data[0], 0x07);
    ASSERT_EQ(scr_wire_type(b.data, b.len), SCR_MSG_STOP);
    scr_buf_release(&b);

    encode_bye(&b);
    ASSERT_EQ(b.len, 1 + 8 * 8);
    p = (const uint8_t *)b.data;
    ASSERT_EQ(p[0], SCR_MSG_BYE);
    ASSERT_MEM_EQ(p + 1, "\0\0\0\0\0\0\0\x01", 8);                    /* pages */
    ASSERT_MEM_EQ(p + 1 + 4 * 8, "\x80\0\0\0\0\0\0\0", 8);             /* busy_ms */
    ASSERT_MEM_EQ(p + 1 + 6 * 8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8); /* cpu_us */
    ASSERT_EQ(scr_msg_bye_decode(&got, b.data, b.len), SCR_OK);
    ASSERT(memcmp(&got, &sample_bye, sizeof(got)) == 0);
    ASSERT(got.busy_ms == 0x8000000000000000ULL);
    ASSERT(got.max_rss_kb == 8);
    scr_buf_release(&b);
}

/* --- hostile input --------------------------------------------------------------------- */

/* Every proper prefix of a valid message must be refused with SCR_EPROTO. */
static void check_truncations(int type)
{
    struct scr_buf b, re;

    encode_type(type, &b);
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *p = test_dup_bytes(b.data, n);
        int rc = decode_as(type, p, n, &re);
        if (rc != SCR_EPROTO)
            TEST_FAIL_("type %d truncated to %zu of %zu bytes: rc %d", type, n, b.len, rc);
        scr_buf_release(&re);
        free(p);
    }
    scr_buf_release(&b);
}

TEST(truncations)
{
    check_truncations(SCR_MSG_RESULT);
    check_truncations(SCR_MSG_BATCH);
    check_truncations(SCR_MSG_WELCOME);
    check_truncations(SCR_MSG_HELLO);
    check_truncations(SCR_MSG_REQUEST);
    check_truncations(SCR_MSG_BYE);
    check_truncations(SCR_MSG_RECALL);
    check_truncations(SCR_MSG_RETURN);
    check_truncations(SCR_MSG_PAGES);
}

/* PAGES carries binary bodies whole, and its fields in order. */
TEST(pages_roundtrip)
{
    struct scr_buf b;
    struct scr_msg_pages m;

    encode_pages(&b);
    ASSERT_EQ(scr_wire_type(b.data, b.len), SCR_MSG_PAGES);
    ASSERT_EQ(scr_msg_pages_decode(&m, b.data, b.len), SCR_OK);
    ASSERT_EQ(m.count, 2);
    ASSERT_EQ(m.pages[0].id, 0x0102030405060708ull);
    ASSERT_STR_EQ(m.pages[0].url, "http://a.test/p?q=1");
    ASSERT_STR_EQ(m.pages[0].content_type, "text/html; charset=windows-1252");
    ASSERT_EQ(m.pages[0].http_status, 200);
    ASSERT_EQ(m.pages[0].body.len, 10);
    ASSERT_MEM_EQ(m.pages[0].body.data, "<p>\0\xff\xe9</p>", 10);
    ASSERT_EQ(m.pages[1].http_status, 404);
    ASSERT_EQ(m.pages[1].body.len, 0);
    ASSERT_STR_EQ(m.pages[1].content_type, "");
    scr_msg_pages_release(&m);
    /* a count the bytes cannot hold is refused before anything is allocated for it */
    b.data[1] = b.data[2] = b.data[3] = b.data[4] = (char)0xff;
    ASSERT_EQ(scr_msg_pages_decode(&m, b.data, b.len), SCR_EPROTO);
    scr_msg_pages_release(&m);
    scr_buf_release(&b);
}

TEST(trailing_bytes)
{
    for (size_t i = 0; i < NDECODABLE; i++) {
        struct scr_buf b, re;
        uint8_t *p;

        encode_type(decodable[i], &b);
        ASSERT_EQ(decode_as(decodable[i], (const uint8_t *)b.data, b.len, &re), SCR_OK);
        ASSERT_EQ(re.len, b.len);
        ASSERT_MEM_EQ(re.data, b.data, b.len);
        scr_buf_release(&re);
        ASSERT_EQ(scr_buf_putc(&b, 0), SCR_OK);
        p = test_dup_bytes(b.data, b.len);
        ASSERT_EQ(decode_as(decodable[i], p, b.len, &re), SCR_EPROTO);
        scr_buf_release(&re);
        free(p);
        scr_buf_release(&b);
    }
}

TEST(wrong_type)
{
    for (size_t i = 0; i < NDECODABLE; i++) {
        for (size_t j = 0; j < NDECODABLE; j++) {
            struct scr_buf b, re;
            uint8_t *p;

            encode_type(decodable[i], &b);
            p = test_dup_bytes(b.data, b.len);
            if (i == j) {
                /* same bytes, only the type byte changed: still refused */
                p[0] = (uint8_t)(p[0] == 0xFF ? 0 : 0xFF);
                ASSERT_EQ(decode_as(decodable[j], p, b.len, &re), SCR_EPROTO);
            } else {
                ASSERT_EQ(decode_as(decodable[j], p, b.len, &re), SCR_EPROTO);
                /* even with the right type byte, another message's body is refused */
                p[0] = (uint8_t)decodable[j];
                if (decode_as(decodable[j], p, b.len, &re) == SCR_OK)
                    TEST_FAIL_("type %d body accepted as type %d", decodable[i], decodable[j]);
            }
            scr_buf_release(&re);
            free(p);
            scr_buf_release(&b);
        }
    }
}

/* A message whose count claims 2^32-1 items is refused before anything is allocated for
 * them (the decoder must not calloc 4 billion tasks). */
TEST(huge_counts)
{
    struct scr_buf b;
    struct scr_wire_writer w;
    struct scr_msg_batch m;
    struct scr_result r;
    struct scr_msg_welcome wel;
    uint8_t *p;

    /* BATCH: count 2^32-1 followed by one real task */
    scr_buf_init(&b);
    scr_wire_writer_init(&w, &b);
    scr_wire_put_u8(&w, SCR_MSG_BATCH);
    scr_wire_put_u32(&w, 0xFFFFFFFFu);
    scr_wire_put_u64(&w, 1);
    scr_wire_put_str(&w, "http://a/");
    scr_wire_put_u32(&w, SCR_TASK_PAGE);
    scr_wire_put_u32(&w, 0); /* flags */
    scr_wire_put_u32(&w, 0);
    scr_wire_put_str(&w, "");
    scr_wire_put_str(&w, "");
    ASSERT_EQ(w.err, SCR_OK);
    p = test_dup_bytes(b.data, b.len);
    ASSERT_EQ(scr_msg_batch_decode(&m, p, b.len), SCR_EPROTO);
    ASSERT(m.tasks == NULL);
    ASSERT_EQ(m.count, 0);
    scr_msg_batch_release(&m);
    free(p);

    /* BATCH: count 2 but the bytes of one task only (plus some padding) */
    p = test_dup_bytes(b.data, b.len);
    p[1] = p[2] = p[3] = 0;
    p[4] = 2;
    ASSERT_EQ(scr_msg_batch_decode(&m, p, b.len), SCR_EPROTO);
    scr_msg_batch_release(&m);
    free(p);
    scr_buf_release(&b);

    /* RETURN: count 2^32-1 followed by one id: refused before any allocation */
    {
        struct scr_msg_return ret;
        scr_buf_init(&b);
        scr_wire_writer_init(&w, &b);
        scr_wire_put_u8(&w, SCR_MSG_RETURN);
        scr_wire_put_u32(&w, 0xFFFFFFFFu);
        scr_wire_put_u64(&w, 1);
        ASSERT_EQ(w.err, SCR_OK);
        p = test_dup_bytes(b.data, b.len);
        ASSERT_EQ(scr_msg_return_decode(&ret, p, b.len), SCR_EPROTO);
        ASSERT(ret.ids == NULL);
        scr_msg_return_release(&ret);
        free(p);
        scr_buf_release(&b);
    }

    /* RESULT: records count 2^32-1 */
    scr_buf_init(&b);
    scr_wire_writer_init(&w, &b);
    scr_wire_put_u8(&w, SCR_MSG_RESULT);
    scr_wire_put_u64(&w, 1);
    scr_wire_put_u32(&w, SCR_TASK_PAGE);
    scr_wire_put_u32(&w, 200);
    scr_wire_put_u32(&w, 0);
    for (int i = 0; i < 6; i++)
        scr_wire_put_str(&w, "x");
    scr_wire_put_u64(&w, 10);
    for (int i = 0; i < 5; i++)
        scr_wire_put_u32(&w, 0);
    scr_wire_put_str(&w, "");          /* location */
    scr_wire_put_str(&w, "");          /* body */
    scr_wire_put_u32(&w, 0xFFFFFFFFu); /* records */
    scr_wire_put_str(&w, "{}");
    scr_wire_put_u32(&w, 0);           /* links */
    scr_wire_put_u32(&w, 0);           /* sitemaps */
    scr_wire_put_str(&w, "");          /* encoding */
    scr_wire_put_str(&w, "");          /* rules feedback */
    for (int i = 0; i < 3; i++)
        scr_wire_put_bytes(&w, NULL, 0); /* the WARC fields */
    ASSERT_EQ(w.err, SCR_OK);
    p = test_dup_bytes(b.data, b.len);
    ASSERT_EQ(scr_result_decode(&r, p, b.len), SCR_EPROTO);
    ASSERT_EQ(r.records.n, 0);
    ASSERT(r.records.cap < 1000);
    scr_result_release(&r);
    /* the same message with a records count of 1 is valid: only the count was wrong */
    p[b.len - 12 - 4 - 4 - 4 - 4 - 6 - 4 + 0] = 0;
    p[b.len - 12 - 4 - 4 - 4 - 4 - 6 - 4 + 1] = 0;
    p[b.len - 12 - 4 - 4 - 4 - 4 - 6 - 4 + 2] = 0;
    p[b.len - 12 - 4 - 4 - 4 - 4 - 6 - 4 + 3] = 1;
    ASSERT_EQ(scr_result_decode(&r, p, b.len), SCR_OK);
    ASSERT_EQ(r.records.n, 1);
    ASSERT_STR_EQ(r.records.v[0], "{}");
    scr_result_release(&r);
    free(p);
    scr_buf_release(&b);

    /* WELCOME: names count 2^32-1 */
    scr_buf_init(&b);
    scr_wire_writer_init(&w, &b);
    scr_wire_put_u8(&w, SCR_MSG_WELCOME);
    scr_wire_put_u32(&w, 1);
    scr_wire_put_str(&w, "");
    scr_wire_put_u32(&w, 0xFFFFFFFFu);
    scr_wire_put_str(&w, "a");
    scr_wire_put_u32(&w, 0);
    scr_wire_put_str(&w, "");
    scr_wire_put_str(&w, "");
    p = test_dup_bytes(b.data, b.len);
    ASSERT_EQ(scr_msg_welcome_decode(&wel, p, b.len), SCR_EPROTO);
    ASSERT(wel.names.cap < 1000);
    scr_msg_welcome_release(&wel);
    free(p);
    scr_buf_release(&b);

    /* a string length of 2^32-1 with 3 bytes behind it */
    scr_buf_init(&b);
    scr_wire_writer_init(&w, &b);
    scr_wire_put_u8(&w, SCR_MSG_BATCH);
    scr_wire_put_u32(&w, 1);
    scr_wire_put_u64(&w, 1);
    scr_wire_put_u32(&w, 0xFFFFFFFFu);
    for (int i = 0; i < 20; i++) /* enough for the count check: the length must fail */
        scr_wire_put_u8(&w, 'a');
    p = test_dup_bytes(b.data, b.len);
    ASSERT_EQ(scr_msg_batch_decode(&m, p, b.len), SCR_EPROTO);
    scr_msg_batch_release(&m);
    free(p);
    scr_buf_release(&b);
}

TEST(embedded_nul)
{
    struct scr_buf b;
    struct scr_wire_writer w;
    struct scr_msg_batch m;
    struct scr_result r;
    uint8_t *p;

    scr_buf_init(&b);
    scr_wire_writer_init(&w, &b);
    scr_wire_put_u8(&w, SCR_MSG_BATCH);
    scr_wire_put_u32(&w, 1);
    scr_wire_put_u64(&w, 1);
    scr_wire_put_u32(&w, 3);
    scr_wire_put_u8(&w, 'a');
    scr_wire_put_u8(&w, 0);
    scr_wire_put_u8(&w, 'b');
    scr_wire_put_u32(&w, SCR_TASK_PAGE);
    scr_wire_put_u32(&w, 0); /* flags */
    scr_wire_put_u32(&w, 0);
    scr_wire_put_str(&w, "");
    scr_wire_put_str(&w, "");
    ASSERT_EQ(w.err, SCR_OK);
    p = test_dup_bytes(b.data, b.len);
    ASSERT_EQ(scr_msg_batch_decode(&m, p, b.len), SCR_EPROTO);
    scr_msg_batch_release(&m);
    /* the same bytes with the NUL replaced decode fine: the NUL was the only fault */
    p[1 + 4 + 8 + 4 + 1] = 'z';
    ASSERT_EQ(scr_msg_batch_decode(&m, p, b.len), SCR_OK);
    ASSERT_STR_EQ(m.tasks[0].url, "azb");
    scr_msg_batch_release(&m);
    free(p);
    scr_buf_release(&b);

    /* a NUL at the end of a record in a RESULT */
    encode_result(&b);
    {
        /* find the record "{\"a\":1}" and put a NUL in place of its last byte */
        char *hit = memmem(b.data, b.len, "{\"a\":1}", 7);
        ASSERT(hit != NULL);
        hit[6] = '\0';
    }
    p = test_dup_bytes(b.data, b.len);
    ASSERT_EQ(scr_result_decode(&r, p, b.len), SCR_EPROTO);
    scr_result_release(&r);
    free(p);
    scr_buf_release(&b);
}

/* 10,000 corrupted messages (1-4 flipped bytes, sometimes also cut short or extended) fed to
 * every decoder: never a crash; and whatever decodes must re-encode to the very same bytes,
 * since a message has exactly one encoding. */
TEST(random_flips)
{
    struct scr_buf orig[NDECODABLE];
    size_t accepted = 0, refused = 0;

    for (size_t i = 0; i < NDECODABLE; i++)
        encode_type(decodable[i], &orig[i]);
    for (int iter = 0; iter < 10000; iter++) {
        const struct scr_buf *o = &orig[(size_t)iter % NDECODABLE];
        size_t n = o->len;
        uint8_t *p;
        int flips = 1 + (int)(rng() % 4);

        if (rng() % 8 == 0)
            n = (size_t)(rng() % (o->len + 8)); /* cut short or extended with zeros */
        p = calloc(n ? n : 1, 1);
        ASSERT(p != NULL);
        memcpy(p, o->data, n < o->len ? n : o->len);
        for (int f = 0; f < flips && n > 0; f++) {
            size_t at = (size_t)(rng() % n);
            /* bias towards the length fields near the front and small changes */
            if (rng() % 2)
                p[at] ^= (uint8_t)(1u << (rng() % 8));
            else
                p[at] = (uint8_t)rng();
        }
        for (size_t d = 0; d < NDECODABLE; d++) {
            struct scr_buf re;
            int rc = decode_as(decodable[d], p, n, &re);
            if (rc == SCR_OK) {
                accepted++;
                if (re.len != n || memcmp(re.data, p, n) != 0)
                    TEST_FAIL_("iteration %d: decoded message re-encodes differently", iter);
            } else {
                refused++;
                if (rc != SCR_EPROTO)
                    TEST_FAIL_("iteration %d: rc %d, want SCR_EPROTO", iter, rc);
            }
            scr_buf_release(&re);
        }
        free(p);
    }
    for (size_t i = 0; i < NDECODABLE; i++)
        scr_buf_release(&orig[i]);
    /* the corruption really exercised both paths */
    ASSERT_GT(accepted, 100);
    ASSERT_GT(refused, 10000);
}

int main(void)
{
    RUN(primitive_layout);
    RUN(reader_sticky_error);
    RUN(hello_roundtrip);
    RUN(welcome_roundtrip);
    RUN(welcome_mismatched_counts);
    RUN(request_roundtrip_and_layout);
    RUN(recall_and_return);
    RUN(batch_roundtrip);
    RUN(batch_layout);
    RUN(result_roundtrip);
    RUN(simple_and_bye);
    RUN(truncations);
    RUN(pages_roundtrip);
    RUN(trailing_bytes);
    RUN(wrong_type);
    RUN(huge_counts);
    RUN(embedded_nul);
    RUN(random_flips);
    fprintf(stderr, "test_wire: all passed\n");
    return 0;
}
