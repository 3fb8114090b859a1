/* test_scope_rules.c - the outlink scope filter (coordinator/scope.h).
 *
 * The bulk is data: `cases` is a table of {settings, page depth, link, expected verdict},
 * each run on a fresh scope whose seed hosts are example.com, example.org:8080 and
 * 127.0.0.1:8000; every failing row prints its index and both verdicts and the test fails at
 * the end.  Settings are "name=value" pairs separated by ';'.  A link "LONG:N" stands for
 * http://example.com/aaa... of exactly N bytes.  What depends on earlier links (query
 * variants, the per-host cap, the guard's clearing) and the counters of scr_scope_filter()
 * are tested below the table, as is scr_scope_check()'s reporting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/settings.h"
#include "coordinator/scope.h"
#include "tests/unit/test.h"

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

#define KEEP SCR_SCOPE_KEEP
#define DEEP SCR_SCOPE_TOO_DEEP
#define LONG SCR_SCOPE_TOO_LONG
#define OUT SCR_SCOPE_OUT_OF_SCOPE
#define DENY SCR_SCOPE_DENIED
#define EXCL SCR_SCOPE_EXCLUDED
#define TRAP SCR_SCOPE_TRAP
#define CAP SCR_SCOPE_HOST_CAP

struct scope_case {
    const char *settings;
    int depth;
    const char *url;
    enum scr_scope_reason want;
};

#define S16 "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16"

static const struct scope_case cases[] = {
    /* the default scope: seed authorities, --max-depth (3) */
    {"", 0, "http://example.com/", KEEP},
    {"", 2, "http://example.com/a", KEEP},
    {"", 3, "http://example.com/a", DEEP},
    {"max-depth=0", 0, "http://example.com/", DEEP},
    {"", 0, "https://example.com/x", KEEP},          /* the scheme is not part of the host */
    {"", 0, "http://www.example.com/", OUT},         /* seed hosts are exact: no subdomains */
    {"", 0, "http://example.com:8080/", OUT},        /* ... and the port counts */
    {"", 0, "http://example.org:8080/a", KEEP},
    {"", 0, "http://example.org/a", OUT},
    {"", 0, "http://other.net/", OUT},
    {"", 0, "http://127.0.0.1:8000/p", KEEP},
    {"", 0, "not a url", OUT},
    {"", 0, "http://example.com/a\nhttp://other.net/", OUT},
    {"", 0, "http:///nohost", OUT},
    {"", 0, "", OUT},

    /* --allow-domain: replaces the seed hosts; a domain matches itself and subdomains */
    {"allow-domain=example.com", 0, "http://a.example.com/", KEEP},
    {"allow-domain=example.com", 0, "http://example.com/", KEEP},
    {"allow-domain=example.com", 0, "http://badexample.com/", OUT},
    {"allow-domain=example.com", 0, "http://a.b.example.com:8443/x", KEEP},
    {"allow-domain=example.com", 0, "http://example.org:8080/", OUT},
    {"allow-domain=example.com", 0, "http://example.com.evil.net/", OUT},
    {"allow-domain=example.com", 0, "http://xample.com/", OUT},
    {"allow-domain=example.com", 3, "http://a.example.com/", DEEP},
    {"allow-domain=Example.COM, .docs.example.net", 0, "http://api.docs.example.net/", KEEP},
    {"allow-domain=Example.COM, .docs.example.net", 0, "http://example.net/", OUT},
    {"allow-domain=Example.COM, .docs.example.net", 0, "http://www.example.com/", KEEP},
    {"allow-domain=example.com,example.net", 0, "http://x.example.net/", KEEP},
    {"allow-domain=b\xc3\xbc" "cher.de", 0, "http://www.xn--bcher-kva.de/", KEEP},
    {"allow-domain=127.0.0.1", 0, "http://127.0.0.1:9/", KEEP},
    {"allow-domain=com", 0, "http://anything.com/", KEEP},

    /* --deny-domain: always wins */
    {"deny-domain=example.com", 0, "http://example.com/", DENY},
    {"deny-domain=private.example.com", 0, "http://example.com/", KEEP},
    {"allow-domain=example.com;deny-domain=private.example.com", 0,
     "http://a.private.example.com/", DENY},
    {"allow-domain=example.com;deny-domain=private.example.com", 0,
     "http://private.example.com:81/", DENY},
    {"allow-domain=example.com;deny-domain=private.example.com", 0,
     "http://public.example.com/", KEEP},
    {"allow-domain=example.com;deny-domain=example.com", 0, "http://example.com/", DENY},
    {"deny-domain=other.net", 0, "http://other.net/", DENY}, /* denied is told before out */
    {"deny-domain=ample.com", 0, "http://example.com/", KEEP}, /* label boundaries only */
    {"deny-domain=example.org", 0, "http://example.org:8080/", DENY},

    /* --include / --exclude: searches over the whole normalized URL; exclude wins */
    {"include=/blog/", 0, "http://example.com/blog/post", KEEP},
    {"include=/blog/", 0, "http://example.com/shop/", EXCL},
    {"include=^https://", 0, "http://example.com/", EXCL},
    {"include=^https://", 0, "https://example.com/", KEEP},
    {"include=example\\.com/$", 0, "http://example.com/", KEEP},
    {"include=(?i)/BLOG/", 0, "http://example.com/blog/", KEEP},
    {"exclude=\\.(jpg|png)$", 0, "http://example.com/a.png", EXCL},
    {"exclude=\\.(jpg|png)$", 0, "http://example.com/a.png?x=1", KEEP},
    {"exclude=[?&]sessionid=", 0, "http://example.com/?a=1&sessionid=2", EXCL},
    {"include=/blog/;exclude=/blog/tag/", 0, "http://example.com/blog/tag/x", EXCL},
    {"include=/blog/;exclude=/blog/tag/", 0, "http://example.com/blog/x", KEEP},
    {"include=/blog/", 0, "http://other.net/blog/", OUT},  /* scope before the regexes */
    {"include=/blog/", 3, "http://example.com/blog/", DEEP},
    {"exclude=/a/", 0, "http://example.com/a/a/a", EXCL},  /* the regexes before the guard */
    /* non-ASCII: a normalized URL has it percent-escaped (and the host in punycode), so the
     * regexes match bytes, with the JIT as without; a raw byte is one unit to every class */
    {"include=/caf\\D\\D", 0, "http://example.com/caf%C3%A9", KEEP},
    {"include=/caf\\S+/", 0, "http://example.com/caf%C3%A9/x", KEEP},
    {"include=/caf\\w%", 0, "http://example.com/caf%C3%A9", EXCL},
    {"include=/caf\\W", 0, "http://example.com/caf%C3%A9", KEEP},
    {"include=/\\d+\\.html$", 0, "http://example.com/%D9%A1.html", EXCL},
    {"include=/%..%..\\.html$", 0, "http://example.com/%D9%A1.html", KEEP},
    {"exclude=/caf\\s", 0, "http://example.com/caf%C3%A9", KEEP},
    {"exclude=/caf./", 0, "http://example.com/caf%/", EXCL},
    {"exclude=/caf\\S+/", 0, "http://example.com/caf\xc3\xa9/", EXCL},
    {"exclude=^http://example\\.com/\\D+$", 0, "http://example.com/\xc2\xa3", EXCL},
    {"exclude=/\\W\\W$", 0, "http://example.com/\xc2\xab", EXCL},
    {"exclude=/caf[[:alpha:]]/", 0, "http://example.com/caf\xc3\xa9/", KEEP},
    {"exclude=/caf../", 0, "http://example.com/caf\xc3\xa9/", EXCL},

    /* --max-url-length (default 2048): checked right after the depth */
    {"max-url-length=64", 0, "LONG:64", KEEP},
    {"max-url-length=64", 0, "LONG:65", LONG},
    {"", 0, "LONG:2048", KEEP},
    {"", 0, "LONG:2049", LONG},
    {"max-url-length=64;max-depth=1", 1, "LONG:100", DEEP},
    {"max-url-length=64", 0, "http://other.net/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     LONG},

    /* the trap guard: path shape */
    {"", 0, "http://example.com/a/b/a/b/a/b", TRAP},
    {"", 0, "http://example.com/a/b/a/b/a", TRAP},
    {"", 0, "http://example.com/a/b/a/b", KEEP},
    {"", 0, "http://example.com/x/x/x", TRAP},
    {"", 0, "http://example.com/x/x/x/", TRAP},
    {"", 0, "http://example.com/2020/01/01/", KEEP},
    {"", 0, "http://example.com/a/ab/abc/a", KEEP},
    {"", 0, "http://example.com" S16, KEEP},
    {"", 0, "http://example.com" S16 "/", KEEP},
    {"", 0, "http://example.com" S16 "/17", TRAP},
    {"", 0, "http://example.com/a//b//c", KEEP},             /* empty segments do not count */
    {"", 0, "http://example.com/a/b?x=/a/a/a", KEEP},        /* the query is not the path */
    {"", 0, "http://example.com/?a/a/a/a", KEEP},
    {"", 0, "http://example.com/%61/a/a", KEEP},             /* compared as spelled */

    /* stateless ends of the stateful guards */
    {"max-pages-per-host=1", 0, "http://example.com/", KEEP},
    {"max-query-variants=0", 0, "http://example.com/?a=1", KEEP},
    {"max-query-variants=1", 0, "http://example.com/?a=1", KEEP},
};

/* Applies "name=value;name=value" to s. */
static void apply_settings(struct scr_settings *s, const char *spec)
{
    char *copy = strdup(spec), *save = NULL, err[256];

    ASSERT(copy != NULL);
    for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        ASSERT(eq != NULL);
        *eq = '\0';
        if (scr_settings_set(s, kv, eq + 1, err, sizeof(err)) != SCR_OK)
            TEST_FAIL_("setting %s: %s", kv, err);
    }
    free(copy);
}

static void scope_new(struct scr_scope *sc, const char *spec)
{
    struct scr_settings s;
    char err[512];

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    apply_settings(&s, spec);
    if (scr_scope_check(&s, err, sizeof(err)) != SCR_OK)
        TEST_FAIL_("settings '%s': %s", spec, err);
    ASSERT_EQ(scr_scope_init(sc, &s), SCR_OK);
    ASSERT_EQ(scr_scope_add_host(sc, "example.com"), SCR_OK);
    ASSERT_EQ(scr_scope_add_host(sc, "example.org:8080"), SCR_OK);
    ASSERT_EQ(scr_scope_add_host(sc, "127.0.0.1:8000"), SCR_OK);
    scr_settings_release(&s);
}

/* "LONG:N" -> http://example.com/aaa... of N bytes (malloc'd); others copied. */
static char *expand_url(const char *url)
{
    static const char prefix[] = "http://example.com/";
    size_t n, p = sizeof(prefix) - 1;
    char *out;

    if (strncmp(url, "LONG:", 5) != 0)
        return strdup(url);
    n = (size_t)strtoul(url + 5, NULL, 10);
    ASSERT(n > p);
    out = malloc(n + 1);
    ASSERT(out != NULL);
    memcpy(out, prefix, p);
    memset(out + p, 'a', n - p);
    out[n] = '\0';
    return out;
}

static enum scr_scope_reason decide(struct scr_scope *sc, int depth, const char *url)
{
    char host[256];
    return scr_scope_decide(sc, depth, url, host, sizeof(host));
}

TEST(table)
{
    size_t n = sizeof(cases) / sizeof(cases[0]), failed = 0;

    ASSERT_GE(n, 50);
    for (size_t i = 0; i < n; i++) {
        struct scr_scope sc;
        char *url = expand_url(cases[i].url);
        enum scr_scope_reason got;

        scope_new(&sc, cases[i].settings);
        got = decide(&sc, cases[i].depth, url);
        if (got != cases[i].want) {
            fprintf(stderr, "case %zu: {\"%s\", %d, \"%.80s\"}: got %s, want %s\n", i,
                    cases[i].settings, cases[i].depth, url, scr_scope_reason_name(got),
                    scr_scope_reason_name(cases[i].want));
            failed++;
        }
        free(url);
        scr_scope_release(&sc);
    }
    fprintf(stderr, "%zu cases, %zu failed\n", n, failed);
    ASSERT_EQ(failed, 0);
}

TEST(host_out)
{
    struct scr_scope sc;
    char host[256];

    scope_new(&sc, "allow-domain=example.com");
    ASSERT_EQ(scr_scope_decide(&sc, 0, "https://a.example.com:8443/x?y", host, sizeof(host)),
              KEEP);
    ASSERT_STR_EQ(host, "a.example.com:8443");
    /* an authority that does not fit the caller's buffer is out of scope */
    ASSERT_EQ(scr_scope_decide(&sc, 0, "http://abcdefghij.example.com/", host, 8), OUT);
    scr_scope_release(&sc);
}

TEST(query_variants)
{
    struct scr_scope sc;
    char url[128];

    scope_new(&sc, "max-query-variants=3");
    for (int i = 1; i <= 3; i++) {
        snprintf(url, sizeof(url), "http://example.com/search?q=%d", i);
        ASSERT_EQ(decide(&sc, 0, url), KEEP);
    }
    ASSERT_EQ(decide(&sc, 0, "http://example.com/search?q=4"), TRAP);
    ASSERT_EQ(decide(&sc, 0, "http://example.com/search?q=5"), TRAP);
    /* a variant already kept passes again, uncounted */
    ASSERT_EQ(decide(&sc, 0, "http://example.com/search?q=2"), KEEP);
    /* the bare path is not a variant */
    ASSERT_EQ(decide(&sc, 0, "http://example.com/search"), KEEP);
    /* another path, another scheme, another host: their own budgets */
    ASSERT_EQ(decide(&sc, 0, "http://example.com/find?q=4"), KEEP);
    ASSERT_EQ(decide(&sc, 0, "https://example.com/search?q=4"), KEEP);
    ASSERT_EQ(decide(&sc, 0, "http://example.org:8080/search?q=4"), KEEP);
    /* a dropped variant was not remembered */
    ASSERT_EQ(decide(&sc, 0, "http://example.com/search?q=4"), TRAP);
    ASSERT_EQ(sc.drops.trap, 0); /* scr_scope_decide does not count; the filter does */
    scr_scope_release(&sc);
}

TEST(query_variants_default)
{
    struct scr_scope sc;
    char url[128];

    scope_new(&sc, "");
    for (int i = 0; i < 100; i++) {
        snprintf(url, sizeof(url), "http://example.com/cal?day=%d", i);
        ASSERT_EQ(decide(&sc, 0, url), KEEP);
    }
    ASSERT_EQ(decide(&sc, 0, "http://example.com/cal?day=100"), TRAP);
    scr_scope_release(&sc);

    scope_new(&sc, "max-query-variants=0"); /* no limit */
    for (int i = 0; i < 500; i++) {
        snprintf(url, sizeof(url), "http://example.com/cal?day=%d", i);
        ASSERT_EQ(decide(&sc, 0, url), KEEP);
    }
    scr_scope_release(&sc);
}

/* The guard forgets everything once it remembers SCR_SCOPE_GUARD_MAX URLs. */
TEST(guard_clears)
{
    struct scr_scope sc;
    char url[128];

    scope_new(&sc, "max-query-variants=1");
    ASSERT_EQ(decide(&sc, 0, "http://example.com/p?a=0"), KEEP);
    ASSERT_EQ(decide(&sc, 0, "http://example.com/p?a=1"), TRAP);
    for (int i = 0; i < SCR_SCOPE_GUARD_MAX; i++) {
        snprintf(url, sizeof(url), "http://example.com/x/%d", i);
        ASSERT_EQ(decide(&sc, 0, url), KEEP);
    }
    ASSERT_EQ(decide(&sc, 0, "http://example.com/p?a=1"), KEEP);
    ASSERT_EQ(decide(&sc, 0, "http://example.com/p?a=2"), TRAP);
    scr_scope_release(&sc);
}

TEST(host_cap)
{
    struct scr_scope sc;

    scope_new(&sc, "allow-domain=example.com;max-pages-per-host=3");
    /* the job already has 2 URLs on example.com (scr_scope_load reads these) */
    ASSERT_EQ(scr_scope_set_host_count(&sc, "example.com", 2), SCR_OK);
    ASSERT_EQ(decide(&sc, 0, "http://example.com/a"), KEEP);
    ASSERT_EQ(decide(&sc, 0, "http://example.com/b"), CAP);
    ASSERT_EQ(decide(&sc, 0, "http://example.com/a"), KEEP); /* kept before: not counted */
    /* per authority: another subdomain, another port, have their own counts */
    ASSERT_EQ(decide(&sc, 0, "http://a.example.com/1"), KEEP);
    ASSERT_EQ(decide(&sc, 0, "http://a.example.com/2"), KEEP);
    ASSERT_EQ(decide(&sc, 0, "http://a.example.com/3"), KEEP);
    ASSERT_EQ(decide(&sc, 0, "http://a.example.com/4"), CAP);
    ASSERT_EQ(decide(&sc, 0, "http://example.com:81/b"), KEEP);
    /* the other checks come first */
    ASSERT_EQ(decide(&sc, 0, "http://a.example.com/x/x/x"), TRAP);
    ASSERT_EQ(decide(&sc, 0, "http://other.net/"), OUT);
    scr_scope_release(&sc);

    /* without the option, counts are not kept at all */
    scope_new(&sc, "");
    ASSERT_EQ(scr_scope_set_host_count(&sc, "example.com", 1000000), SCR_OK);
    ASSERT_EQ(decide(&sc, 0, "http://example.com/a"), KEEP);
    scr_scope_release(&sc);
}

TEST(filter_counts)
{
    struct scr_scope sc;
    struct scr_strvec in;
    char *links = NULL, *hosts = NULL, line[256];
    static const char *const urls[] = {
        "http://example.com/a",         /* kept */
        "http://other.net/",            /* out_of_scope */
        "http://private.example.com/",  /* denied */
        "http://example.com/a.png",     /* excluded */
        "http://example.com/x/x/x",     /* trap */
        "http://example.com/b",         /* kept */
        "http://example.org:8080/",     /* host_cap: the job has 1 URL there already */
        "ftp://example.com/",           /* out_of_scope */
    };

    scope_new(&sc, "allow-domain=example.com,example.org;deny-domain=private.example.com;"
                   "exclude=\\.png$;max-pages-per-host=1");
    ASSERT_EQ(scr_scope_set_host_count(&sc, "example.org:8080", 1), SCR_OK);
    scr_strvec_init(&in);
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
        ASSERT_EQ(scr_strvec_push(&in, urls[i]), SCR_OK);
    ASSERT_EQ(filter_joined(&sc, 0, &in, &links, &hosts), 1);
    /* example.com had no count: the first link makes it 1 = the cap */
    ASSERT_STR_EQ(links, "http://example.com/a");
    ASSERT_STR_EQ(hosts, "example.com");
    free(links);
    free(hosts);
    ASSERT_EQ(sc.drops.out_of_scope, 2);
    ASSERT_EQ(sc.drops.denied, 1);
    ASSERT_EQ(sc.drops.excluded, 1);
    ASSERT_EQ(sc.drops.trap, 1);
    ASSERT_EQ(sc.drops.host_cap, 2);
    ASSERT_EQ(sc.drops.too_deep, 0);
    /* a page at the last depth: every link is too deep */
    ASSERT_EQ(filter_joined(&sc, 3, &in, &links, &hosts), 0);
    ASSERT_STR_EQ(links, "");
    ASSERT_STR_EQ(hosts, "");
    free(links);
    free(hosts);
    ASSERT_EQ(sc.drops.too_deep, 8);
    scr_scope_drops_format(&sc.drops, line, sizeof(line));
    ASSERT_STR_EQ(line, "out_of_scope 2, denied 1, excluded 1, too_deep 8, too_long 0, trap 1, "
                        "host_cap 2");
    scr_strvec_release(&in);
    scr_scope_release(&sc);
}

TEST(filter_joins)
{
    struct scr_scope sc;
    struct scr_strvec in;
    char *links = NULL, *hosts = NULL;

    scope_new(&sc, "");
    scr_strvec_init(&in);
    ASSERT_EQ(scr_strvec_push(&in, "http://example.com/1"), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&in, "http://other.net/"), SCR_OK);
    ASSERT_EQ(scr_strvec_push(&in, "http://example.org:8080/2"), SCR_OK);
    ASSERT_EQ(filter_joined(&sc, 0, &in, &links, &hosts), 2);
    ASSERT_STR_EQ(links, "http://example.com/1\nhttp://example.org:8080/2");
    ASSERT_STR_EQ(hosts, "example.com\nexample.org:8080");
    free(links);
    free(hosts);
    scr_strvec_release(&in);
    scr_scope_release(&sc);
}

struct check_case {
    const char *settings;
    const char *want; /* expected message prefix; NULL = valid */
};

static const struct check_case checks[] = {
    {"", NULL},
    {"allow-domain=example.com, a.example.net;deny-domain=.x.example.com", NULL},
    {"include=^https?://[^/]+/blog/;exclude=\\.(png|jpg)$", NULL},
    {"strip-tracking=true;strip-param=fbclid, gclid", NULL},
    {"include=(abc", "--include: missing closing parenthesis at offset 4"},
    {"exclude=a[b", "--exclude: missing terminating ] for character class at offset 3"},
    {"exclude=*a", "--exclude: quantifier does not follow a repeatable item at offset 0"},
    {"allow-domain=a.com, ,b.com", "--allow-domain: empty domain name in 'a.com, ,b.com'"},
    {"allow-domain=a.com,,b.com", "--allow-domain: empty domain name in 'a.com,,b.com'"},
    {"deny-domain=a.com,", "--deny-domain: empty domain name in 'a.com,'"},
    {"deny-domain= , a.com", "--deny-domain: empty domain name"},
    {"allow-domain=example.com:8080", "--allow-domain: 'example.com:8080' is not a domain name"},
    {"allow-domain=*.example.com", "--allow-domain: '*.example.com' is not a domain name"},
    {"deny-domain=http://x.com/", "--deny-domain: 'http://x.com/' is not a domain name"},
    {"deny-domain=a b.com", "--deny-domain: 'a b.com' is not a domain name"},
    {"strip-param=fbclid", "--strip-param: has no effect without --strip-tracking"},
    {"strip-tracking=1;strip-param=a,,b", "--strip-param: empty parameter name"},
};

TEST(check)
{
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        struct scr_settings s;
        struct scr_scope sc;
        char err[512] = "";
        int rc, irc;

        ASSERT_EQ(scr_settings_init(&s), SCR_OK);
        apply_settings(&s, checks[i].settings);
        rc = scr_scope_check(&s, err, sizeof(err));
        irc = scr_scope_init(&sc, &s);
        if (!checks[i].want) {
            if (rc != SCR_OK)
                TEST_FAIL_("check %zu ('%s'): unexpected error: %s", i, checks[i].settings, err);
            ASSERT_EQ(irc, SCR_OK);
        } else {
            if (rc != SCR_EINVAL || strncmp(err, checks[i].want, strlen(checks[i].want)) != 0)
                TEST_FAIL_("check %zu ('%s'): rc %d, message '%s', want '%s...'", i,
                           checks[i].settings, rc, err, checks[i].want);
            /* scope settings that do not parse: init fails and the scope keeps nothing */
            if (strncmp(checks[i].want, "--strip-param", 13) != 0) {
                ASSERT_EQ(irc, SCR_EINVAL);
                ASSERT_EQ(scr_scope_add_host(&sc, "example.com"), SCR_OK);
                ASSERT_EQ(decide(&sc, 0, "http://example.com/"), OUT);
            }
        }
        scr_scope_release(&sc);
        scr_settings_release(&s);
    }
}

TEST(names)
{
    ASSERT_STR_EQ(scr_scope_reason_name(KEEP), "kept");
    ASSERT_STR_EQ(scr_scope_reason_name(DEEP), "too_deep");
    ASSERT_STR_EQ(scr_scope_reason_name(LONG), "too_long");
    ASSERT_STR_EQ(scr_scope_reason_name(OUT), "out_of_scope");
    ASSERT_STR_EQ(scr_scope_reason_name(DENY), "denied");
    ASSERT_STR_EQ(scr_scope_reason_name(EXCL), "excluded");
    ASSERT_STR_EQ(scr_scope_reason_name(TRAP), "trap");
    ASSERT_STR_EQ(scr_scope_reason_name(CAP), "host_cap");
}

int main(void)
{
    RUN(table);
    RUN(host_out);
    RUN(query_variants);
    RUN(query_variants_default);
    RUN(guard_clears);
    RUN(host_cap);
    RUN(filter_counts);
    RUN(filter_joins);
    RUN(check);
    RUN(names);
    return 0;
}
