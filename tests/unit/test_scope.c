/* test_scope.c - coordinator/scope.h: URL authorities and the outlink scope filter.
 *
 * scr_url_authority on plain, ported, IPv6, userinfo and malformed URLs and small buffers;
 * scr_scope_filter with the default settings: only links on the seed hosts (exact authority,
 * port included), in input order, '\n'-joined with their hosts; the depth limit; --max-pages
 * left to the insert; links holding a newline dropped; the drop counters.  The seed hosts
 * are added as scr_scope_load() adds them (no database needed).  The other scope settings
 * (domains, regexes, trap guard, host cap) are tested in test_scope_rules.c.
 */
#include <stdint.h>

#include "common/error.h"
#include "common/settings.h"
#include "coordinator/scope.h"
#include "test.h"

/* scr_scope_filter with its kept lists '\n'-joined (malloc'd, caller frees), the way the
 * expectations are written. */
static char *joined(const struct scr_strvec *sv)
{
    size_t len = 1;
    char *s, *p;

    for (size_t i = 0; i < sv->n; i++)
        len += strlen(sv->v[i]) + 1;
    s = p = malloc(len);
    ASSERT(s != NULL);
    *s = '\0';
    for (size_t i = 0; i < sv->n; i++)
        p += sprintf(p, "%s%s", i ? "\n" : "", sv->v[i]);
    return s;
}

static size_t filter_joined(struct scr_scope *sc, int depth, const struct scr_strvec *in,
                            char **links, char **hosts)
{
    struct scr_strvec lv, hv;
    size_t n;

    scr_strvec_init(&lv);
    scr_strvec_init(&hv);
    n = scr_scope_filter(sc, depth, in, &lv, &hv);
    ASSERT_EQ(lv.n, n);
    ASSERT_EQ(hv.n, n);
    *links = joined(&lv);
    *hosts = joined(&hv);
    scr_strvec_release(&lv);
    scr_strvec_release(&hv);
    return n;
}

static void authority_ok(const char *url, const char *want)
{
    char buf[128];
    memset(buf, 'X', sizeof(buf));
    if (scr_url_authority(url, buf, sizeof(buf)) != SCR_OK)
        TEST_FAIL_("authority of '%s' refused", url);
    ASSERT_STR_EQ(buf, want);
}

static void authority_bad(const char *url)
{
    char buf[128];
    if (scr_url_authority(url, buf, sizeof(buf)) != SCR_EINVAL)
        TEST_FAIL_("authority of '%s' accepted: '%s'", url, buf);
}

TEST(authority)
{
    char small[8];

    authority_ok("http://a.b/x", "a.b");
    authority_ok("http://a.b:8080/x?q", "a.b:8080");
    authority_ok("https://[::1]:8443/", "[::1]:8443");
    authority_ok("https://[2001:db8::1]/p", "[2001:db8::1]");
    authority_ok("http://user@h/", "h");
    authority_ok("http://user:pw@h:81/", "h:81");
    authority_ok("http://h", "h");
    authority_ok("http://h?q=1", "h");
    authority_ok("http://h#frag", "h");
    authority_ok("http://h/p@q/r", "h");   /* '@' in the path is not userinfo */
    authority_ok("http://h/?u=http://x/", "h");

    authority_bad("");
    authority_bad("a.b/x");
    authority_bad("http:/a.b/x");
    authority_bad("http:///x");
    authority_bad("http://user@/x");
    authority_bad("http://?q");

    /* the buffer must hold the authority and its NUL */
    ASSERT_EQ(scr_url_authority("http://abcdefg/", small, sizeof(small)), SCR_OK);
    ASSERT_STR_EQ(small, "abcdefg");
    ASSERT_EQ(scr_url_authority("http://abcdefgh/", small, sizeof(small)), SCR_EINVAL);
}

struct fixture {
    struct scr_settings s;
    struct scr_scope sc;
    struct scr_strvec in;
};

static int marker; /* a non-NULL value for the host map: a NULL one reads as absent */

static void setup(struct fixture *f, int max_depth, int64_t max_pages)
{
    ASSERT_EQ(scr_settings_init(&f->s), SCR_OK);
    f->s.max_depth = max_depth;
    f->s.max_pages = max_pages;
    ASSERT_EQ(scr_scope_init(&f->sc, &f->s), SCR_OK);
    ASSERT_EQ(f->sc.max_depth, max_depth);
    ASSERT_EQ(f->sc.max_pages, max_pages);
    ASSERT_EQ(f->sc.known, 0);
    /* the seed hosts, as scr_scope_load() adds them, and straight into the map */
    ASSERT_EQ(scr_scope_add_host(&f->sc, "a.example"), SCR_OK);
    ASSERT_EQ(scr_scope_add_host(&f->sc, "b.example:8080"), SCR_OK);
    ASSERT_EQ(scr_strmap_put(&f->sc.hosts, "[::1]:8443", &marker), SCR_OK);
    scr_strvec_init(&f->in);
}

static void teardown(struct fixture *f)
{
    scr_strvec_release(&f->in);
    scr_scope_release(&f->sc);
    scr_settings_release(&f->s);
}

static void push(struct fixture *f, const char *url)
{
    ASSERT_EQ(scr_strvec_push(&f->in, url), SCR_OK);
}

static size_t filter(struct fixture *f, int depth, const char *want_links, const char *want_hosts)
{
    char *links = NULL, *hosts = NULL;
    size_t n = filter_joined(&f->sc, depth, &f->in, &links, &hosts);
    ASSERT(links != NULL && hosts != NULL);
    ASSERT_STR_EQ(links, want_links);
    ASSERT_STR_EQ(hosts, want_hosts);
    free(links);
    free(hosts);
    return n;
}

TEST(filter_hosts)
{
    struct fixture f;

    setup(&f, 3, 0);
    push(&f, "http://a.example/1");
    push(&f, "http://other.example/x");         /* another host */
    push(&f, "http://b.example:8080/y");
    push(&f, "http://b.example/z");             /* seed host, other port */
    push(&f, "http://a.example.evil.test/");    /* suffix trick */
    push(&f, "http://evil.test/a.example");     /* host in the path */
    push(&f, "http://a.example/new\nline");     /* a newline would break the join */
    push(&f, "garbage");
    push(&f, "https://[::1]:8443/v6");
    push(&f, "https://a.example/2?q=http://other.example/");
    push(&f, "http://sub.a.example/");          /* subdomain: another host */
    ASSERT_EQ(filter(&f, 0, "http://a.example/1\n"
                            "http://b.example:8080/y\n"
                            "https://[::1]:8443/v6\n"
                            "https://a.example/2?q=http://other.example/",
                     "a.example\nb.example:8080\n[::1]:8443\na.example"),
              4);
    /* a page at depth 2 may still add links at depth 3 */
    ASSERT_EQ(filter(&f, 2, "http://a.example/1\n"
                            "http://b.example:8080/y\n"
                            "https://[::1]:8443/v6\n"
                            "https://a.example/2?q=http://other.example/",
                     "a.example\nb.example:8080\n[::1]:8443\na.example"),
              4);
    teardown(&f);

    /* nothing in, or nothing in scope: empty strings, not NULL */
    setup(&f, 3, 0);
    ASSERT_EQ(filter(&f, 0, "", ""), 0);
    push(&f, "http://other.example/");
    ASSERT_EQ(filter(&f, 0, "", ""), 0);
    teardown(&f);
}

TEST(filter_depth)
{
    struct fixture f;

    setup(&f, 2, 0);
    push(&f, "http://a.example/1");
    push(&f, "http://a.example/2");
    ASSERT_EQ(filter(&f, 0, "http://a.example/1\nhttp://a.example/2", "a.example\na.example"), 2);
    ASSERT_EQ(filter(&f, 1, "http://a.example/1\nhttp://a.example/2", "a.example\na.example"), 2);
    /* depth + 1 > max_depth: nothing */
    ASSERT_EQ(filter(&f, 2, "", ""), 0);
    ASSERT_EQ(filter(&f, 7, "", ""), 0);
    teardown(&f);

    /* max_depth 0: the seeds only */
    setup(&f, 0, 0);
    push(&f, "http://a.example/1");
    ASSERT_EQ(filter(&f, 0, "", ""), 0);
    teardown(&f);
}

TEST(filter_leaves_max_pages_to_the_insert)
{
    /* --max-pages is applied where it is known which links are new (the insert), so the
     * filter keeps every in-scope link whatever the job already knows */
    struct fixture f;

    setup(&f, 5, 10);
    for (int i = 0; i < 6; i++) {
        char url[64];
        snprintf(url, sizeof(url), "http://%s/%d", i % 2 ? "other.example" : "a.example", i);
        push(&f, url);
    }
    f.sc.known = 9;
    ASSERT_EQ(filter(&f, 0, "http://a.example/0\nhttp://a.example/2\nhttp://a.example/4",
                     "a.example\na.example\na.example"),
              3);
    f.sc.known = 1000;
    ASSERT_EQ(filter(&f, 0, "http://a.example/0\nhttp://a.example/2\nhttp://a.example/4",
                     "a.example\na.example\na.example"),
              3);
    teardown(&f);
}

TEST(filter_counts_drops)
{
    struct fixture f;

    setup(&f, 1, 0);
    push(&f, "http://a.example/1");
    push(&f, "http://other.example/");
    push(&f, "garbage");
    push(&f, "http://a.example/x\ny");
    ASSERT_EQ(filter(&f, 0, "http://a.example/1", "a.example"), 1);
    ASSERT_EQ(f.sc.drops.out_of_scope, 3);
    ASSERT_EQ(f.sc.drops.too_deep, 0);
    /* at max_depth every link is too deep */
    ASSERT_EQ(filter(&f, 1, "", ""), 0);
    ASSERT_EQ(f.sc.drops.too_deep, 4);
    ASSERT_EQ(f.sc.drops.out_of_scope, 3);
    teardown(&f);
}

TEST(filter_many)
{
    /* 10,000 links, every third in scope: order and count hold */
    struct fixture f;
    char *links, *hosts;
    size_t n, lines = 0;

    setup(&f, 5, 0);
    for (int i = 0; i < 10000; i++) {
        char url[64];
        snprintf(url, sizeof(url), "http://%s/%d", i % 3 == 0 ? "a.example" : "c.example", i);
        push(&f, url);
    }
    n = filter_joined(&f.sc, 1, &f.in, &links, &hosts);
    ASSERT_EQ(n, 3334);
    for (const char *p = links; *p; p++)
        lines += *p == '\n';
    ASSERT_EQ(lines, n - 1);
    ASSERT_EQ(strncmp(links, "http://a.example/0\nhttp://a.example/3\n", 38), 0);
    ASSERT_STR_EQ(links + strlen(links) - strlen("http://a.example/9999"), "http://a.example/9999");
    ASSERT_EQ(strlen(hosts), n * strlen("a.example") + n - 1);
    free(links);
    free(hosts);
    teardown(&f);
}

int main(void)
{
    RUN(authority);
    RUN(filter_hosts);
    RUN(filter_depth);
    RUN(filter_leaves_max_pages_to_the_insert);
    RUN(filter_counts_drops);
    RUN(filter_many);
    fprintf(stderr, "test_scope: all passed\n");
    return 0;
}
