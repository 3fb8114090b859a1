/* test_sitemap.c - worker/sitemap.h: reading sitemaps and sitemap indexes.
 *
 * The normal cases (urlset, sitemapindex, gzip, the sitemaps.org namespace, another one and
 * none, CDATA, predefined entities and character references) and the hostile ones: the
 * entity bomb (one 60 KB internal entity referenced 30,000 times from a <loc>, which once
 * grew a worker to 1.7 GB), a <loc> holding an entity reference or an element, and a <loc>
 * over the protocol's 2,048 characters.  The bomb is checked by what comes out (no URL, a
 * reason) and by what it costs: the peak RSS may grow by a few megabytes, not by gigabytes.
 */
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/error.h"
#include "worker/sitemap.h"
#include "test.h"

#define ASSERT_CONTAINS(hay, needle)                                              \
    do {                                                                          \
        const char *h_ = (hay), *n_ = (needle);                                   \
        if (!strstr(h_, n_))                                                      \
            TEST_FAIL_("\"%s\" does not contain \"%s\"", h_, n_);                 \
    } while (0)

#define BASE "https://example.com/sitemap.xml"
#define MAX_BODY (10u * 1024 * 1024)

struct got {
    struct scr_strvec pages, maps;
    char err[256];
    int rc;
};

static void parse(struct got *g, const char *body, size_t len)
{
    scr_strvec_init(&g->pages);
    scr_strvec_init(&g->maps);
    g->err[0] = '\0';
    g->rc = scr_sitemap_parse(body, len, BASE, NULL, MAX_BODY, &g->pages, &g->maps, g->err,
                              sizeof(g->err));
}

static void release(struct got *g)
{
    scr_strvec_release(&g->pages);
    scr_strvec_release(&g->maps);
}

static size_t total_bytes(const struct got *g)
{
    size_t n = 0;
    for (size_t i = 0; i < g->pages.n; i++)
        n += strlen(g->pages.v[i]);
    for (size_t i = 0; i < g->maps.n; i++)
        n += strlen(g->maps.v[i]);
    return n;
}

/* Peak resident set size of this process so far, in KiB (Linux reports ru_maxrss in KiB). */
static long peak_rss_kib(void)
{
    struct rusage ru;
    ASSERT_EQ(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

TEST(urlset)
{
    static const char doc[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
        "  <url><loc>https://example.com/a</loc><lastmod>2024-01-01</lastmod></url>\n"
        "  <url><loc>\n   /b?x=1&amp;y=2\n  </loc></url>\n"
        "  <url><loc><![CDATA[https://example.com/c?p=1&q=2]]></loc></url>\n"
        "  <url><loc>https://example.com/&#x64;</loc></url>\n"
        "</urlset>\n";
    struct got g;
    parse(&g, doc, sizeof(doc) - 1);
    ASSERT_EQ(g.rc, SCR_OK);
    ASSERT_EQ(g.pages.n, 4);
    ASSERT_EQ(g.maps.n, 0);
    ASSERT_STR_EQ(g.pages.v[0], "https://example.com/a");
    ASSERT_STR_EQ(g.pages.v[1], "https://example.com/b?x=1&y=2");
    ASSERT_STR_EQ(g.pages.v[2], "https://example.com/c?p=1&q=2");
    ASSERT_STR_EQ(g.pages.v[3], "https://example.com/d");
    release(&g);
}

TEST(sitemapindex)
{
    static const char doc[] =
        "<?xml version=\"1.0\"?>\n"
        "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
        "  <sitemap><loc>https://example.com/s1.xml</loc></sitemap>\n"
        "  <sitemap><loc>https://example.com/s2.xml.gz</loc><lastmod>x</lastmod></sitemap>\n"
        "</sitemapindex>\n";
    struct got g;
    parse(&g, doc, sizeof(doc) - 1);
    ASSERT_EQ(g.rc, SCR_OK);
    ASSERT_EQ(g.pages.n, 0);
    ASSERT_EQ(g.maps.n, 2);
    ASSERT_STR_EQ(g.maps.v[0], "https://example.com/s1.xml");
    ASSERT_STR_EQ(g.maps.v[1], "https://example.com/s2.xml.gz");
    release(&g);
}

TEST(namespaces)
{
    static const char none[] = "<urlset><url><loc>https://example.com/n</loc></url></urlset>";
    static const char prefixed[] =
        "<sm:urlset xmlns:sm=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
        "<sm:url><sm:loc>https://example.com/p</sm:loc></sm:url></sm:urlset>";
    static const char other[] =
        "<urlset xmlns=\"urn:other\" xmlns:img=\"http://www.google.com/schemas/sitemap-image/1.1\">"
        "<url><loc>https://example.com/o</loc>"
        "<img:image><img:loc>https://example.com/i.png</img:loc></img:image></url></urlset>";
    struct got g;

    parse(&g, none, sizeof(none) - 1);
    ASSERT_EQ(g.rc, SCR_OK);
    ASSERT_EQ(g.pages.n, 1);
    ASSERT_STR_EQ(g.pages.v[0], "https://example.com/n");
    release(&g);

    parse(&g, prefixed, sizeof(prefixed) - 1);
    ASSERT_EQ(g.rc, SCR_OK);
    ASSERT_EQ(g.pages.n, 1);
    ASSERT_STR_EQ(g.pages.v[0], "https://example.com/p");
    release(&g);

    /* <image:loc> is not a page: its parent is <image:image>, not <url> */
    parse(&g, other, sizeof(other) - 1);
    ASSERT_EQ(g.rc, SCR_OK);
    ASSERT_EQ(g.pages.n, 1);
    ASSERT_STR_EQ(g.pages.v[0], "https://example.com/o");
    release(&g);
}

TEST(gzip)
{
    static const char doc[] =
        "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
        "<url><loc>https://example.com/z1</loc></url>"
        "<url><loc>https://example.com/z2</loc></url></urlset>";
    unsigned char gz[1024];
    z_stream z;
    struct got g;

    memset(&z, 0, sizeof(z));
    ASSERT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)doc;
    z.avail_in = sizeof(doc) - 1;
    z.next_out = gz;
    z.avail_out = sizeof(gz);
    ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t gzlen = sizeof(gz) - z.avail_out;
    deflateEnd(&z);

    parse(&g, (const char *)gz, gzlen);
    ASSERT_EQ(g.rc, SCR_OK);
    ASSERT_EQ(g.pages.n, 2);
    ASSERT_STR_EQ(g.pages.v[0], "https://example.com/z1");
    ASSERT_STR_EQ(g.pages.v[1], "https://example.com/z2");
    release(&g);
}

/* The bomb: a 60 KB internal entity, referenced 30,000 times from one <loc> (a 150 KB
 * document that xmlNodeGetContent expanded to 1.8 GB), beside an ordinary entry. */
TEST(entity_bomb)
{
    struct scr_buf doc;
    struct got g;
    struct timespec t0, t1;

    scr_buf_init(&doc);
    ASSERT_EQ(scr_buf_printf(&doc, "<?xml version=\"1.0\"?>\n<!DOCTYPE urlset [\n"
                                   "<!ENTITY e \""),
              0);
    for (int i = 0; i < 60 * 1024; i++)
        ASSERT_EQ(scr_buf_append(&doc, "a", 1), 0);
    ASSERT_EQ(scr_buf_printf(&doc, "\">\n]>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/"
                                   "sitemap/0.9\">\n<url><loc>https://example.com/ok</loc></url>\n"
                                   "<url><loc>https://example.com/"),
              0);
    for (int i = 0; i < 30000; i++)
        ASSERT_EQ(scr_buf_append(&doc, "&e;", 3), 0);
    ASSERT_EQ(scr_buf_printf(&doc, "</loc></url>\n</urlset>\n"), 0);
    ASSERT_LT(doc.len, 200 * 1024);

    long before = peak_rss_kib();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    parse(&g, doc.data, doc.len);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long grew = peak_rss_kib() - before;
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "   rc %d, %zu pages, peak RSS +%ld KiB, %.3f s, \"%s\"\n", g.rc, g.pages.n,
            grew, secs, g.err);

    /* Refused as a whole: a sitemap has no business declaring entities. */
    ASSERT_EQ(g.rc, SCR_EPARSE);
    ASSERT_EQ(g.pages.n + g.maps.n, 0);
    ASSERT_EQ(total_bytes(&g), 0);
    ASSERT_CONTAINS(g.err, "entit");
    ASSERT_LT(grew, 32 * 1024); /* 1.7 GB before; the document itself is 150 KB */
    ASSERT_LT(secs, 5.0);
    release(&g);
    scr_buf_release(&doc);
}

/* A <loc> with a child element is skipped: the text around it is never glued into a URL.
 * CDATA pieces are joined with the text, comments passed over.  An undeclared entity
 * reference (no DTD to refuse) is dropped by libxml2's recover mode before we see it: nothing
 * to expand, the text around it stays. */
TEST(loc_not_text)
{
    static const char doc[] =
        "<urlset>"
        "<url><loc>https://example.com/&undeclared;/x</loc></url>"
        "<url><loc>https://example.com/<b>bold</b>/y</loc></url>"
        "<url><loc>https://example.com/<![CDATA[cd]]>/z</loc></url>"
        "<url><loc><!-- note -->https://example.com/c</loc></url>"
        "<url><loc>https://example.com/fine</loc></url></urlset>";
    struct got g;
    parse(&g, doc, sizeof(doc) - 1);
    ASSERT_EQ(g.pages.n, 4);
    ASSERT_STR_EQ(g.pages.v[0], "https://example.com//x");
    ASSERT_STR_EQ(g.pages.v[1], "https://example.com/cd/z");
    ASSERT_STR_EQ(g.pages.v[2], "https://example.com/c");
    ASSERT_STR_EQ(g.pages.v[3], "https://example.com/fine");
    release(&g);
}

/* sitemaps.org: a <loc> is under 2,048 characters.  A longer one is skipped, however many
 * text and CDATA pieces it is split into; the next entries are still read. */
TEST(loc_too_long)
{
    struct scr_buf doc;
    struct got g;
    size_t pad = SCR_SITEMAP_MAX_LOC - strlen("https://example.com/");

    scr_buf_init(&doc);
    ASSERT_EQ(scr_buf_printf(&doc, "<urlset><url><loc>https://example.com/"), 0);
    for (size_t i = 0; i < pad; i++) /* exactly SCR_SITEMAP_MAX_LOC: too long */
        ASSERT_EQ(scr_buf_append(&doc, i % 100 ? "a" : "<![CDATA[b]]>", i % 100 ? 1 : 13), 0);
    ASSERT_EQ(scr_buf_printf(&doc, "</loc></url><url><loc>https://example.com/"), 0);
    for (size_t i = 0; i + 1 < pad; i++) /* one less: kept */
        ASSERT_EQ(scr_buf_append(&doc, "c", 1), 0);
    ASSERT_EQ(scr_buf_printf(&doc, "</loc></url><url><loc>https://example.com/"), 0);
    for (size_t i = 0; i < 1000000; i++) /* a megabyte: skipped without building it */
        ASSERT_EQ(scr_buf_append(&doc, "d", 1), 0);
    ASSERT_EQ(scr_buf_printf(&doc, "</loc></url><url><loc>https://example.com/e</loc></url>"
                                   "</urlset>"),
              0);
    parse(&g, doc.data, doc.len);
    ASSERT_EQ(g.rc, SCR_OK);
    ASSERT_EQ(g.pages.n, 2);
    ASSERT_EQ(strlen(g.pages.v[0]), SCR_SITEMAP_MAX_LOC - 1);
    ASSERT_STR_EQ(g.pages.v[1], "https://example.com/e");
    release(&g);
    scr_buf_release(&doc);
}

/* A DTD without entities is fine; any entity declaration refuses the document: a parameter
 * entity, an external one (never fetched: no network), an unparsed one. */
TEST(dtd)
{
    static const char plain[] = "<!DOCTYPE urlset [<!ELEMENT urlset ANY>]>"
                                "<urlset><url><loc>https://example.com/d</loc></url></urlset>";
    static const char *const refused[] = {
        "<!DOCTYPE urlset [<!ENTITY % p \"x\">]><urlset><url><loc>https://example.com/"
        "</loc></url></urlset>",
        "<!DOCTYPE urlset [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><urlset><url><loc>"
        "https://example.com/&e;</loc></url></urlset>",
        "<!DOCTYPE urlset [<!NOTATION n SYSTEM \"x\"><!ENTITY u SYSTEM \"y\" NDATA n>]>"
        "<urlset><url><loc>https://example.com/</loc></url></urlset>",
    };
    struct got g;

    parse(&g, plain, sizeof(plain) - 1);
    ASSERT_EQ(g.rc, SCR_OK);
    ASSERT_EQ(g.pages.n, 1);
    release(&g);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        parse(&g, refused[i], strlen(refused[i]));
        ASSERT_EQ(g.rc, SCR_EPARSE);
        ASSERT_EQ(g.pages.n, 0);
        ASSERT_CONTAINS(g.err, "declares entities");
        release(&g);
    }
}

TEST(not_xml)
{
    struct got g;
    parse(&g, "", 0);
    ASSERT_EQ(g.rc, SCR_EPARSE);
    ASSERT_EQ(g.pages.n, 0);
    release(&g);
}

int main(void)
{
    RUN(urlset);
    RUN(sitemapindex);
    RUN(namespaces);
    RUN(gzip);
    RUN(entity_bomb);
    RUN(loc_not_text);
    RUN(loc_too_long);
    RUN(dtd);
    RUN(not_xml);
    fprintf(stderr, "test_sitemap: all passed\n");
    return 0;
}
