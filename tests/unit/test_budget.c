/* test_budget.c - the per-page budget (parsers/budget.c) and how the extractor keeps it
 * (parsers/extract.c): libxml2's memory is counted per thread, a page over its CPU time or
 * memory fails with the reason and no records, and a tag with 120,000 attributes (N^2 in
 * libxml2 2.9's parser) is parsed in a moment with its first 2,000 attributes. */
#include <libxml/parser.h>
#include <libxml/xmlmemory.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/error.h"
#include "parsers/budget.h"
#include "parsers/extract.h"
#include "test.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A page of n <p> elements (about 10 bytes each). */
static void many_elements(struct scr_buf *b, int n)
{
    scr_buf_init(b);
    ASSERT_EQ(scr_buf_puts(b, "<html><head><title>t</title></head><body>"), 0);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(scr_buf_printf(b, "<p>%d</p>", i), 0);
    ASSERT_EQ(scr_buf_puts(b, "<a href=/last>last</a></body></html>"), 0);
}

static struct scr_extractor *extractor(const char *parsers, int64_t timeout_ms, int64_t mem)
{
    struct scr_parser_env env;
    struct scr_extractor *x = NULL;
    char err[256];

    memset(&env, 0, sizeof(env));
    env.parse_timeout_ms = timeout_ms;
    env.parse_memory = mem;
    ASSERT_EQ(scr_extractor_new(&x, parsers, &env, err, sizeof(err)), 0);
    return x;
}

/* libxml2's allocations on this thread count against the open budget, and only those. */
TEST(counts_libxml2_memory)
{
    struct scr_budget b;
    void *p, *q;

    scr_budget_install();
    scr_budget_begin(&b, 0, 1 << 20);
    ASSERT(scr_budget_current() == &b);
    p = xmlMalloc(100000);
    ASSERT(p != NULL);
    ASSERT_GE(b.mem_live, 100000);
    ASSERT_EQ(scr_budget_state(), SCR_BUDGET_OK);
    q = xmlMallocAtomic(2 << 20);
    ASSERT(q != NULL);
    ASSERT_EQ(scr_budget_state(), SCR_BUDGET_MEM);
    xmlFree(q);
    xmlFree(p);
    ASSERT_LT(b.mem_live, 4096);
    ASSERT_GE(b.mem_peak, (2 << 20) + 100000);
    ASSERT_EQ(scr_budget_check("test"), SCR_BUDGET_MEM);
    {
        char why[200];
        scr_budget_reason(&b, why, sizeof(why));
        ASSERT_STR_EQ(why, "parse used over 1 MiB of memory (in test; --parse-memory)");
    }
    scr_budget_end(&b);
    ASSERT(scr_budget_current() == NULL);
    /* with no budget open nothing is counted and nothing fails */
    ASSERT_EQ(scr_budget_check("x"), SCR_BUDGET_OK);
}

/* Inside a budget libxml2's blocks come from the page arena (budget.c): they are counted and
 * uncounted like malloc'd ones, a grown block keeps its bytes, nested budgets do not rewind,
 * a block freed after its page is harmless, and the next page counts from zero.
 * (Under AddressSanitizer the same calls go to malloc; the test holds either way.) */
TEST(arena_blocks)
{
    struct scr_budget b, inner;
    unsigned char *p, *q, *r;
    char *stale;
    int same = 1;

    scr_budget_install();
    scr_budget_begin(&b, 0, 1 << 20);
    p = xmlMalloc(100);
    ASSERT(p != NULL);
    /* malloc's alignment, as libxml2 expects: 16 on x86-64 and arm64, 8 on armhf (where the
     * 4 GiB arena cannot be reserved and malloc serves the page) */
    ASSERT_EQ((uintptr_t)p % _Alignof(max_align_t), 0);
    for (int i = 0; i < 100; i++)
        p[i] = (unsigned char)i;
    ASSERT_GE(b.mem_live, 100);
    r = xmlMalloc(40); /* p is no longer the last block: its growth must move and copy */
    q = xmlRealloc(p, 5000);
    ASSERT(q != NULL);
    for (int i = 0; i < 100; i++)
        same &= q[i] == (unsigned char)i;
    ASSERT_EQ(same, 1);
    ASSERT_GE(b.mem_live, 5000);
    q = xmlRealloc(q, 9000); /* q is the last block now: it may grow in place */
    ASSERT(q != NULL);
    ASSERT_EQ(q[99], 99);
    q[8999] = 1;
    scr_budget_begin(&inner, 0, 0);
    stale = (char *)xmlStrdup((const xmlChar *)"kept by a global");
    scr_budget_end(&inner); /* nested: nothing rewound */
    ASSERT_EQ(q[99], 99);
    ASSERT_STR_EQ(stale, "kept by a global");
    xmlFree(r);
    xmlFree(q);
    ASSERT_LT(b.mem_live, 256);
    scr_budget_end(&b);
    xmlFree(stale); /* after its page: changes nothing, breaks nothing */
    scr_budget_begin(&b, 0, 1 << 20);
    p = xmlMalloc(64);
    ASSERT(p != NULL);
    memset(p, 7, 64);
    ASSERT_GE(b.mem_live, 64);
    xmlFree(p);
    ASSERT_EQ(b.mem_live, 0);
    scr_budget_end(&b);
}

static void *other_thread(void *arg)
{
    void *p = xmlMalloc(1 << 20);
    xmlFree(p);
    *(int *)arg = scr_budget_current() == NULL;
    return NULL;
}

/* A budget belongs to its thread: another thread's allocations are not counted in it. */
TEST(per_thread)
{
    struct scr_budget b;
    pthread_t t;
    int none = 0;

    scr_budget_install();
    scr_budget_begin(&b, 0, 0);
    ASSERT_EQ(pthread_create(&t, NULL, other_thread, &none), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_EQ(none, 1);
    ASSERT_LT(b.mem_peak, 4096);
    scr_budget_end(&b);
}

/* CPU time: a busy thread runs out, and the reason names the limit and the stage. */
TEST(cpu_limit)
{
    struct scr_budget b;
    volatile uint64_t x = 1;
    char why[200];

    scr_budget_begin(&b, 20000, 0);
    while (scr_budget_check("a loop") == SCR_BUDGET_OK)
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005ULL + 1;
    ASSERT_EQ(b.state, SCR_BUDGET_CPU);
    ASSERT_GE(scr_thread_cpu_us() - b.cpu_start_us, 20000);
    scr_budget_reason(&b, why, sizeof(why));
    ASSERT_STR_EQ(why, "parse took over 20 ms of CPU time (in a loop; --parse-timeout)");
    scr_budget_end(&b);
}

/* A page that takes the HTML parser longer than the budget is stopped inside libxml2 (from a
 * SAX callback), fails with SCR_ELIMIT and the reason, and gives no records or links. */
TEST(page_over_cpu_budget)
{
    struct scr_extractor *x = extractor("links,meta", 30, 0);
    struct scr_emit out;
    struct scr_buf page;
    double t0;
    int rc;

    many_elements(&page, 400000); /* about 0.4 s to parse */
    scr_emit_init(&out);
    t0 = now_s();
    rc = scr_extractor_run(x, "http://h.test/", "text/html", page.data, page.len, &out);
    ASSERT_EQ(rc, SCR_ELIMIT);
    ASSERT(now_s() - t0 < 0.25 * test_time_scale());
    ASSERT(out.error != NULL);
    ASSERT_STR_EQ(out.error,
                  "parse took over 30 ms of CPU time (in the HTML parser; --parse-timeout)");
    ASSERT_EQ(out.records.n, 0);
    ASSERT_EQ(out.links.n, 0);

    /* the same extractor goes on with the next page */
    scr_emit_reset(&out);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", "<a href=/ok>ok</a>", 18,
                                &out),
              0);
    ASSERT(out.error == NULL);
    ASSERT_EQ(out.links.n, 1);
    scr_emit_release(&out);
    scr_buf_release(&page);
    scr_extractor_free(x);
}

/* A page whose document outgrows the memory budget fails the same way. */
TEST(page_over_memory_budget)
{
    struct scr_extractor *x = extractor("links,meta", 0, 4 << 20);
    struct scr_emit out;
    struct scr_buf page;

    many_elements(&page, 300000); /* a document of about 40 MiB */
    scr_emit_init(&out);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page.data, page.len, &out),
              SCR_ELIMIT);
    ASSERT_STR_EQ(out.error,
                  "parse used over 4 MiB of memory (in the HTML parser; --parse-memory)");
    ASSERT_EQ(out.records.n, 0);
    scr_emit_release(&out);

    /* within its budget the same page parses completely */
    scr_extractor_free(x);
    x = extractor("links,meta", 0, 0);
    scr_emit_init(&out);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page.data, page.len, &out), 0);
    ASSERT(out.error == NULL);
    ASSERT_EQ(out.links.n, 1);
    ASSERT_STR_EQ(out.links.v[0], "http://h.test/last");
    scr_emit_release(&out);
    scr_buf_release(&page);
    scr_extractor_free(x);
}

/* One tag with 120,000 attributes: libxml2 2.9 alone needs minutes (each attribute is checked
 * against all earlier ones).  The extractor keeps the first 2,000 and the page parses at
 * once, with what comes after the tag. */
TEST(attribute_flood)
{
    struct scr_extractor *x = extractor("links,meta", 10000, 256 << 20);
    struct scr_emit out;
    struct scr_buf page;
    double t0;

    scr_buf_init(&page);
    ASSERT_EQ(scr_buf_puts(&page, "<html><head><title>flood</title></head><body><div"), 0);
    for (int i = 0; i < 120000; i++)
        ASSERT_EQ(scr_buf_printf(&page, " a%d=\"v>%d\"", i, i), 0); /* a '>' inside quotes */
    ASSERT_EQ(scr_buf_puts(&page, ">text</div><a href=/after>after</a></body></html>"), 0);
    scr_emit_init(&out);
    t0 = now_s();
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page.data, page.len, &out), 0);
    ASSERT(now_s() - t0 < 2.0 * test_time_scale());
    ASSERT(out.error == NULL);
    ASSERT_EQ(out.links.n, 1);
    ASSERT_STR_EQ(out.links.v[0], "http://h.test/after");
    ASSERT_EQ(out.records.n, 2);
    ASSERT(strstr(out.records.v[1], "\"title\":\"flood\"") != NULL);
    scr_emit_release(&out);
    scr_buf_release(&page);
    scr_extractor_free(x);
}

/* The attribute cap reads tags as libxml2 does: the text of script and style, and comments,
 * hold no tags, and a page without a crowded tag is parsed as it came. */
TEST(attribute_cap_leaves_the_rest)
{
    struct scr_extractor *x = extractor("links", 0, 0);
    struct scr_emit out;
    struct scr_buf page;

    scr_buf_init(&page);
    ASSERT_EQ(scr_buf_puts(&page, "<script>if (a<b"), 0);
    for (int i = 0; i < 3000; i++)
        ASSERT_EQ(scr_buf_puts(&page, " x"), 0);
    ASSERT_EQ(scr_buf_puts(&page, ") {}</script><!-- <a "), 0);
    for (int i = 0; i < 3000; i++)
        ASSERT_EQ(scr_buf_puts(&page, " y"), 0);
    ASSERT_EQ(scr_buf_puts(&page, " href=/no> --><a href=/yes>y</a>"), 0);
    scr_emit_init(&out);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page.data, page.len, &out), 0);
    ASSERT_EQ(out.links.n, 1);
    ASSERT_STR_EQ(out.links.v[0], "http://h.test/yes");
    scr_emit_reset(&out);

    /* a crowded <a>: its href comes first and is kept; the 2,001st attribute on are cut */
    scr_buf_reset(&page);
    ASSERT_EQ(scr_buf_puts(&page, "<a href=/first"), 0);
    for (int i = 1; i < 2000; i++)
        ASSERT_EQ(scr_buf_printf(&page, " d%d", i), 0);
    ASSERT_EQ(scr_buf_puts(&page, " href=/second>x</a><a href='/third'>y</a>"), 0);
    ASSERT_EQ(scr_extractor_run(x, "http://h.test/", "text/html", page.data, page.len, &out), 0);
    ASSERT_EQ(out.links.n, 2);
    ASSERT_STR_EQ(out.links.v[0], "http://h.test/first");
    ASSERT_STR_EQ(out.links.v[1], "http://h.test/third");
    scr_emit_release(&out);
    scr_buf_release(&page);
    scr_extractor_free(x);
}

int main(void)
{
    xmlInitParser();
    RUN(counts_libxml2_memory);
    RUN(arena_blocks);
    RUN(per_thread);
    RUN(cpu_limit);
    RUN(page_over_cpu_budget);
    RUN(page_over_memory_budget);
    RUN(attribute_flood);
    RUN(attribute_cap_leaves_the_rest);
    return 0;
}
