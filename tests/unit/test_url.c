/* test_url.c - scr_url_normalize(): resolution, normalization, options, hostile input.
 *
 * The cases are data: one table of {options, base, reference, expected URL or NULL, expected
 * reason substring, expected code}.  Every successful case is also fed back in to check that
 * normalized URLs are fixed points, and the table runs in several threads at once to check
 * that the function keeps no shared state.  The rules under test are in
 * docs/internals/urls.md.
 */
#include <pthread.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/url.h"
#include "test.h"

/* Option sets, chosen per case by index. */
static const char *const extra_params[] = {"fbclid", "gclid", NULL};
static const char *const sid_param[] = {"sid", NULL};
static const struct scr_url_opts opt_sets[] = {
    {0, NULL, 0, 0},            /* 0: defaults (the test passes NULL) */
    {1, NULL, 0, 0},            /* 1: strip utm_* */
    {0, NULL, 1, 0},            /* 2: sort */
    {1, extra_params, 1, 0},    /* 3: strip utm_* fbclid gclid, sort */
    {0, NULL, 0, 40},           /* 4: max_len 40 */
    {1, sid_param, 0, 0},       /* 5: strip utm_* sid */
};

struct url_case {
    int opts;
    const char *base;
    const char *ref;
    const char *want; /* NULL when the call must fail */
    const char *why;  /* substring of the reason, for failures */
    int rc;
};

#define OK(b, r, w) {0, b, r, w, NULL, SCR_OK}
#define NO(b, r, why) {0, b, r, NULL, why, SCR_EINVAL}
#define BIG(b, r, why) {0, b, r, NULL, why, SCR_ETOOBIG}
#define OKO(o, b, r, w) {o, b, r, w, NULL, SCR_OK}
#define BIGO(o, b, r, why) {o, b, r, NULL, why, SCR_ETOOBIG}

#define X10(s) s s s s s s s s s s
#define X100(s) X10(X10(s))
#define X1000(s) X10(X100(s))

#define RFC "http://a/b/c/d;p?q" /* the base of RFC 3986 section 5.4 */
#define EX "http://example.com"

static const struct url_case cases[] = {
    /* RFC 3986 5.4.1, normal examples */
    NO(RFC, "g:h", "unsupported scheme 'g'"),
    OK(RFC, "g", "http://a/b/c/g"),
    OK(RFC, "./g", "http://a/b/c/g"),
    OK(RFC, "g/", "http://a/b/c/g/"),
    OK(RFC, "/g", "http://a/g"),
    OK(RFC, "//g", "http://g/"),
    OK(RFC, "?y", "http://a/b/c/d;p?y"),
    OK(RFC, "g?y", "http://a/b/c/g?y"),
    OK(RFC, "#s", "http://a/b/c/d;p?q"),
    OK(RFC, "g#s", "http://a/b/c/g"),
    OK(RFC, "g?y#s", "http://a/b/c/g?y"),
    OK(RFC, ";x", "http://a/b/c/;x"),
    OK(RFC, "g;x", "http://a/b/c/g;x"),
    OK(RFC, "g;x?y#s", "http://a/b/c/g;x?y"),
    OK(RFC, "", "http://a/b/c/d;p?q"),
    OK(RFC, ".", "http://a/b/c/"),
    OK(RFC, "./", "http://a/b/c/"),
    OK(RFC, "..", "http://a/b/"),
    OK(RFC, "../", "http://a/b/"),
    OK(RFC, "../g", "http://a/b/g"),
    OK(RFC, "../..", "http://a/"),
    OK(RFC, "../../", "http://a/"),
    OK(RFC, "../../g", "http://a/g"),
    /* RFC 3986 5.4.2, abnormal examples */
    OK(RFC, "../../../g", "http://a/g"),
    OK(RFC, "../../../../g", "http://a/g"),
    OK(RFC, "/./g", "http://a/g"),
    OK(RFC, "/../g", "http://a/g"),
    OK(RFC, "g.", "http://a/b/c/g."),
    OK(RFC, ".g", "http://a/b/c/.g"),
    OK(RFC, "g..", "http://a/b/c/g.."),
    OK(RFC, "..g", "http://a/b/c/..g"),
    OK(RFC, "./../g", "http://a/b/g"),
    OK(RFC, "./g/.", "http://a/b/c/g/"),
    OK(RFC, "g/./h", "http://a/b/c/g/h"),
    OK(RFC, "g/../h", "http://a/b/c/h"),
    OK(RFC, "g;x=1/./y", "http://a/b/c/g;x=1/y"),
    OK(RFC, "g;x=1/../y", "http://a/b/c/y"),
    OK(RFC, "g?y/./x", "http://a/b/c/g?y/./x"),
    OK(RFC, "g?y/../x", "http://a/b/c/g?y/../x"),
    OK(RFC, "g#s/./x", "http://a/b/c/g"),
    OK(RFC, "g#s/../x", "http://a/b/c/g"),
    OK(RFC, "http:g", "http://a/b/c/g"), /* the backward-compatible reading */

    /* scheme and host case, empty path, default ports */
    OK(NULL, "HTTP://EXAMPLE.COM/", EX "/"),
    OK(NULL, "HtTpS://Example.Com/Path/File.HTML", "https://example.com/Path/File.HTML"),
    OK(NULL, EX, EX "/"),
    OK(NULL, EX "?x", EX "/?x"),
    OK(NULL, EX ":80/", EX "/"),
    OK(NULL, "https://example.com:443/", "https://example.com/"),
    OK(NULL, EX ":443/", EX ":443/"),
    OK(NULL, "https://example.com:80/", "https://example.com:80/"),
    OK(NULL, EX ":8080/x", EX ":8080/x"),
    OK(NULL, EX ":0080/", EX "/"),
    OK(NULL, EX ":/", EX "/"),
    NO(NULL, EX ":65536/", "invalid port"),
    NO(NULL, EX ":12a/", "invalid port"),
    OK(NULL, EX ":0/", EX ":0/"), /* port 0 is valid (WHATWG) */
    NO(NULL, EX ":-1/", "invalid port"),
    /* fragments */
    OK(NULL, EX "/#frag", EX "/"),
    OK(NULL, EX "/a#", EX "/a"),
    OK(NULL, EX "/a?b#c?d#e", EX "/a?b"),
    /* percent-escapes: case, unreserved decoding, required encoding, invalid escapes */
    OK(NULL, EX "/%7euser", EX "/~user"),
    OK(NULL, EX "/%7Euser", EX "/~user"),
    OK(NULL, EX "/%41%62%2d%2E%5f%30", EX "/Ab-._0"),
    OK(NULL, EX "/a%2fb", EX "/a%2Fb"),
    OK(NULL, EX "/a%3fb%23c%3D", EX "/a%3Fb%23c%3D"),
    OK(NULL, EX "/a b", EX "/a%20b"),
    OK(NULL, EX "/\xc3\xbc", EX "/%C3%BC"),
    OK(NULL, EX "/%c3%bc", EX "/%C3%BC"),
    OK(NULL, EX "/\xff\xfe", EX "/%FF%FE"),
    OK(NULL, EX "/<>\"{}|^`", EX "/%3C%3E%22%7B%7D|%5E%60"), /* the WHATWG path set */
    OK(NULL, EX "/[x]", EX "/[x]"),
    OK(NULL, EX "/a|b\\c", EX "/a|b/c"),
    OK(NULL, EX "/!$&'()*+,;=:@", EX "/!$&'()*+,;=:@"),
    OK(NULL, EX "/a\x01" "b\x7f", EX "/a%01b%7F"),
    /* a lone '%' stays as it is, as in browsers */
    OK(NULL, EX "/%zz", EX "/%zz"),
    OK(NULL, EX "/%", EX "/%"),
    OK(NULL, EX "/%4", EX "/%4"),
    OK(NULL, EX "/100%", EX "/100%"),
    OK(NULL, EX "/%25", EX "/%25"),
    /* ...and an escaped hex digit after it stays escaped, or the output would not be a
     * fixed point ("%%41" -> "%A" -> "%A" read as an escape next time) */
    OK(NULL, EX "/%%41", EX "/%%41"),
    OK(NULL, EX "/%%34%31", EX "/%%341"),
    OK(NULL, EX "/%4%31", EX "/%4%31"),
    OK(NULL, EX "/%x%41", EX "/%xA"),
    OK(NULL, EX "/x?%%41", EX "/x?%%41"),
    OK(NULL, EX "/%00", EX "/%00"),
    /* dot segments, including escaped dots */
    OK(NULL, EX "/%2E%2E/a", EX "/a"),
    OK(NULL, EX "/a/%2e/b", EX "/a/b"),
    OK(NULL, EX "/a/.%2E/b", EX "/b"),
    OK(NULL, EX "/a/./b/../c", EX "/a/c"),
    OK(NULL, EX "/a//b", EX "/a//b"),
    OK(NULL, EX "/a//../b", EX "/a/b"),
    OK(NULL, EX "/a/b/..", EX "/a/"),
    OK(NULL, EX "/..", EX "/"),
    OK(NULL, EX "/a/...", EX "/a/..."),
    /* queries */
    OK(NULL, EX "/x?%7e=%41%2b", EX "/x?~=A%2B"),
    OK(NULL, EX "/x?a b", EX "/x?a%20b"),
    OK(NULL, EX "/x?q=\xc3\xbc", EX "/x?q=%C3%BC"),
    OK(NULL, EX "/x?a/./b?c", EX "/x?a/./b?c"),
    OK(NULL, EX "/x?", EX "/x"),
    OK(NULL, EX "/x?#f", EX "/x"),
    OK(NULL, EX "/x?b=2&a=1", EX "/x?b=2&a=1"),
    OK(NULL, EX "/x?a=%zz", EX "/x?a=%zz"),
    OK(NULL, EX "/x?a=\"'<", EX "/x?a=%22%27%3C"), /* the special-query set */
    OK(NULL, EX "/x?a=[|]{`}^", EX "/x?a=[|]{`}^"),
    OK(NULL, EX "/x?a=1&&b=2&", EX "/x?a=1&&b=2&"),
    /* whitespace and control characters */
    OK(NULL, "  " EX "/  ", EX "/"),
    OK(NULL, "\t\n" EX "/\r\n", EX "/"),
    OK(NULL, "http://exa\tmple.com/pa\nth?q\r=1", EX "/path?q=1"),
    OK(NULL, "\x01\x1f" EX "/a\x1f\x01", EX "/a"),
    OK(NULL, EX "/a b ", EX "/a%20b"),
    OK(RFC, "  \t ", "http://a/b/c/d;p?q"),
    OK(RFC, " g \n", "http://a/b/c/g"),
    NO(NULL, "http://exa mple.com/", "invalid host"),
    NO(NULL, "   ", "empty URL"),
    NO(NULL, "", "empty URL"),
    /* backslashes read as slashes before the query, as browsers do */
    OK(NULL, "http:\\\\example.com\\a\\b?c\\d#e\\f", EX "/a/b?c\\d"),
    OK(RFC, "\\g", "http://a/g"),
    OK(RFC, "\\\\g\\h", "http://g/h"),
    /* schemes */
    NO(NULL, "ftp://example.com/", "unsupported scheme 'ftp'"),
    NO(NULL, "javascript:alert(1)", "unsupported scheme 'javascript'"),
    NO(RFC, "JavaScript:void(0)", "unsupported scheme 'javascript'"),
    NO(RFC, " mailto:a@b.c", "unsupported scheme 'mailto'"),
    NO(RFC, "data:text/html,hi", "unsupported scheme 'data'"),
    NO(NULL, "file:///etc/passwd", "unsupported scheme 'file'"),
    NO(RFC, "tel:+123", "unsupported scheme 'tel'"),
    NO(NULL, "ws://example.com/", "unsupported scheme 'ws'"),
    NO(NULL, "c:\\windows", "unsupported scheme 'c'"),
    NO("ftp://a/b", "c", "unsupported scheme 'ftp' in base URL"),
    OK("ftp://a/b", "http://x/", "http://x/"),
    /* a scheme without "//" is followed by the host, except against a base of the same
     * scheme (WHATWG "special authority slashes") */
    OK(NULL, "http:g", "http://g/"),
    OK(NULL, "http:/g", "http://g/"),
    OK(RFC, "https:g", "https://g/"),
    OK(RFC, "https:/example.com/", "https://example.com/"),
    OK("https://a/b", "http:example.com/x", "http://example.com/x"),
    NO(NULL, "http:", "empty host"),
    OK(RFC, "http:", "http://a/b/c/d;p?q"),
    OK(RFC, "HTTP:?y", "http://a/b/c/d;p?y"),
    OK(RFC, "http:/g", "http://a/g"),
    OK(RFC, "1http://x/", "http://a/b/c/1http://x/"),
    OK("http://h/d/e", "a b:c", "http://h/d/a%20b:c"),
    NO(NULL, "example.com/path", "relative URL without a base"),
    NO(NULL, "//example.com/x", "relative URL without a base"),
    NO("/relative/only", "x", "base URL is not absolute"),
    OK("http:x", "y", "http://x/y"),
    NO("http:", "y", "base URL is not absolute"),
    /* protocol-relative references */
    OK("https://a/b", "//g/x", "https://g/x"),
    OK(RFC, "//G:80/X", "http://g/X"),
    OK("https://a/b", "//g:443", "https://g/"),
    /* any number of slashes, either way, before the host */
    OK(RFC, "///g", "http://g/"),
    OK("http://example.org/", "/\\/\\//example.org/../path", "http://example.org/path"),
    OK(NULL, "http:\\\\/\\example.com", EX "/"),
    /* query-only and fragment-only references */
    OK("http://a/b?q#f", "#g", "http://a/b?q"),
    OK("http://a/b?q", "?", "http://a/b"),
    OK("http://a/b?q", "?r#s", "http://a/b?r"),
    OK("http://a", "?x", "http://a/?x"),
    OK("http://a", "g", "http://a/g"),
    OK("http://a/b/", "", "http://a/b/"),
    OK("HTTP://A:80/%7e/x/../y#z", "", "http://a/~/y"),
    /* international host names */
    OK(NULL, "http://b\xc3\xbc" "cher.example/", "http://xn--bcher-kva.example/"),
    OK(NULL, "http://B\xc3\x9c" "CHER.Example/", "http://xn--bcher-kva.example/"),
    OK(NULL, "http://b%C3%BCcher.example/", "http://xn--bcher-kva.example/"),
    OK(NULL, "http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/"),
    OK(NULL, "http://fa\xc3\x9f.de/", "http://xn--fa-hia.de/"),
    OK(NULL, "http://\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.jp/", "http://xn--wgv71a119e.jp/"),
    OK(NULL, "https://\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84/",
       "https://xn--e1afmkfd.xn--p1ai/"),
    NO(NULL, "http://example.com\xef\xbc\x8f" "evil/", "invalid host"), /* U+FF0F -> '/' */
    NO(NULL, "http://a\xff" "b/", "invalid international host name"),
    /* IPv4 and IPv6 hosts, percent-escaped hosts */
    OK(NULL, "http://%65xample.com/", EX "/"),
    OK(NULL, "http://%30x7f.1/", "http://127.0.0.1/"),
    OK(NULL, "http://0x7f.1/", "http://127.0.0.1/"),
    OK(NULL, "http://127.0.0.1:8080/", "http://127.0.0.1:8080/"),
    OK(NULL, "http://2130706433/", "http://127.0.0.1/"),
    OK(NULL, "http://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.\xef\xbc\x90.\xef\xbc\x90."
             "\xef\xbc\x91/", "http://127.0.0.1/"),
    OK(NULL, "http://[::1]/", "http://[::1]/"),
    OK(NULL, "http://[0:0:0:0:0:0:0:1]:80/", "http://[::1]/"),
    OK(NULL, "http://[2001:DB8::A]:8080/x", "http://[2001:db8::a]:8080/x"),
    OK(NULL, "http://[::127.0.0.1]/", "http://[::7f00:1]/"), /* no embedded IPv4 */
    OK(NULL, "http://[::ffff:1.2.3.4]/", "http://[::ffff:102:304]/"),
    OK(NULL, "http://[1:0:0:2:0:0:0:3]/", "http://[1:0:0:2::3]/"),
    OK(NULL, "http://[1:0:0:2:0:0:3:4]/", "http://[1::2:0:0:3:4]/"),
    OK(NULL, "http://[0:0:0:0:0:0:0:0]/", "http://[::]/"),
    OK(NULL, "http://[1:2:3:4:5:6:7:0]/", "http://[1:2:3:4:5:6:7:0]/"),
    OK(NULL, "http://192.168.257/", "http://192.168.1.1/"),
    OK(NULL, "http://1.2.3.4./", "http://1.2.3.4/"),
    OK(NULL, "http://0x.0x.0/", "http://0.0.0.0/"),
    NO(NULL, "http://256.0.0.1/", "invalid IPv4"),
    NO(NULL, "http://1.2.3.4.5/", "invalid IPv4"),
    NO(NULL, "http://4294967296/", "invalid IPv4"),
    NO(NULL, "http://foo.09/", "invalid IPv4"),
    NO(NULL, "http://foo.0x4/", "invalid IPv4"),
    OK(NULL, "http://foo.0xg/", "http://foo.0xg/"),
    OK(NULL, "http://1.2.3.a/", "http://1.2.3.a/"),
    NO(NULL, "http://[fe80::1%25eth0]/", "zone id"),
    NO(NULL, "http://[::1/", "invalid IPv6"),
    NO(NULL, "http://[1.2.3.4]/", "invalid IPv6"),
    NO(NULL, "http://ex%2Fample/", "invalid host"),
    NO(NULL, "http://a|b/", "invalid host"),
    NO(NULL, "http://a~b/", "invalid host"),
    OK(NULL, "http://exa_mple.com/", "http://exa_mple.com/"),
    OK(NULL, "http://example.com./", "http://example.com./"),
    /* userinfo is refused; empty hosts */
    NO(NULL, "http://user:pw@example.com/", "userinfo not allowed"),
    OK(NULL, "http://@example.com/", EX "/"), /* empty userinfo is dropped, as browsers do */
    OK(NULL, "https://:@example.com/", "https://example.com/"),
    OK(NULL, "http:@example.com", EX "/"),
    NO(NULL, "http://:x@example.com/", "userinfo not allowed"),
    NO(NULL, "http://::@example.com/", "userinfo not allowed"),
    NO(NULL, "http://@/", "empty host"),
    NO(NULL, "http://example.com@evil.com/", "userinfo not allowed"),
    NO(RFC, "//u@g/", "userinfo not allowed"),
    OK(NULL, "http:///x", "http://x/"),
    NO(NULL, "http://:80/", "empty host"),
    NO(NULL, "http://", "empty host"),
    NO(NULL, "http://?x", "empty host"),
    /* length limits */
    OK(NULL, "http://a/" X1000("ab"), "http://a/" X1000("ab")),
    BIG(NULL, "http://a/" X1000("abc"), "URL longer than 2048 bytes"),
    BIG(NULL, "http://a/" X1000("abcdefghi"), "URL longer than 8192 bytes"),
    BIG(NULL, "http://a/" X1000("\xc3\xa9"), "URL longer than 2048 bytes"),
    BIG(X1000("http://a/b/c/d/"), "g", "base URL longer than 8192 bytes"),
    OK(NULL, "http://a/" X1000("b/../"), "http://a/"),
    OKO(4, NULL, EX "/012345678901234567890", EX "/012345678901234567890"),
    BIGO(4, NULL, EX "/0123456789012345678901", "URL longer than 40 bytes"),
    /* options: tracking parameters */
    OKO(1, NULL, "http://a/?utm_source=x&b=1&utm_medium=y", "http://a/?b=1"),
    OKO(1, NULL, "http://a/?utm_source=x", "http://a/"),
    OKO(1, NULL, "http://a/?UTM_Campaign=x&a", "http://a/?a"),
    OKO(1, NULL, "http://a/?utm=1&utm_=2&xutm_a=3", "http://a/?utm=1&xutm_a=3"),
    OKO(1, NULL, "http://a/?utm%5Fsource=x&k=v", "http://a/?k=v"),
    OKO(1, NULL, "http://a/?a=1&&b=2&", "http://a/?a=1&b=2"),
    OKO(1, NULL, "http://a/?fbclid=1&b=2&a=1", "http://a/?fbclid=1&b=2&a=1"),
    OKO(5, NULL, "http://a/?sid=1&utm_x=2&q=3&sidx=4", "http://a/?q=3&sidx=4"),
    OKO(3, NULL, "http://a/?gclid=x&utm_term=t&z=1&fbclid=y&a=2", "http://a/?a=2&z=1"),
    OKO(3, NULL, "http://a/?fbclid=y", "http://a/"),
    OKO(3, NULL, "http://a/?fbclidx=1&fbclid", "http://a/?fbclidx=1"),
    OKO(3, RFC, "g?utm_id=1#frag", "http://a/b/c/g"),
    /* options: sorting (stable, bytewise by name) */
    OKO(2, NULL, "http://a/?b=2&a=1&c=3", "http://a/?a=1&b=2&c=3"),
    OKO(2, NULL, "http://a/?b=2&a=1&b=1&a=0", "http://a/?a=1&a=0&b=2&b=1"),
    OKO(2, NULL, "http://a/?ab=1&a=2&a", "http://a/?a=2&a&ab=1"),
    OKO(2, NULL, "http://a/?b=1&B=1&a=2", "http://a/?B=1&a=2&b=1"),
    OKO(2, NULL, "http://a/?z=%7e&y=%41", "http://a/?y=A&z=~"),
    OKO(2, NULL, "http://a/?a=1&=x", "http://a/?=x&a=1"),
    OKO(2, NULL, "http://a/?utm_source=x&a=1", "http://a/?a=1&utm_source=x"),
    OKO(2, NULL, "http://a/?a=1;b=2", "http://a/?a=1;b=2"),
};

#define NCASES (sizeof cases / sizeof cases[0])

static const struct scr_url_opts *case_opts(const struct url_case *c)
{
    return c->opts ? &opt_sets[c->opts] : NULL;
}

/* Runs one case; returns 0 when it behaves as the table says, printing why not otherwise. */
static int check_case(size_t i, int quiet)
{
    const struct url_case *c = &cases[i];
    char err[256] = "", *out = NULL, *host = NULL;
    int rc, bad;

    rc = scr_url_normalize(c->base, c->ref, case_opts(c), &out, &host, err, sizeof err);
    if (c->want)
        bad = rc != SCR_OK || !out || strcmp(out, c->want) != 0 || !host;
    else
        bad = rc != c->rc || out || host || !strstr(err, c->why);
    if (bad && !quiet)
        fprintf(stderr,
                "case %zu: base \"%.80s\" ref \"%.80s\"\n  want rc %d \"%.120s\"\n"
                "  got  rc %d \"%.120s\" (%s)\n",
                i, c->base ? c->base : "(null)", c->ref, c->rc,
                c->want ? c->want : c->why, rc, out ? out : "(null)", err);
    free(out);
    free(host);
    return bad;
}

TEST(table)
{
    size_t i, failed = 0;

    fprintf(stderr, "   %zu cases\n", NCASES);
    ASSERT_GE(NCASES, 120);
    for (i = 0; i < NCASES; i++)
        failed += (size_t)check_case(i, 0);
    ASSERT_EQ(failed, 0);
}

/* Every output is a fixed point: normalizing it again, with the same options and no base,
 * returns it byte for byte, with the same host. */
TEST(idempotent)
{
    size_t i, failed = 0;

    for (i = 0; i < NCASES; i++) {
        const struct url_case *c = &cases[i];
        char err[256] = "", *again = NULL, *host = NULL, *host2 = NULL, *out = NULL;
        int rc;

        if (!c->want)
            continue;
        rc = scr_url_normalize(c->base, c->ref, case_opts(c), &out, &host, err, sizeof err);
        if (rc == SCR_OK)
            rc = scr_url_normalize(NULL, out, case_opts(c), &again, &host2, err, sizeof err);
        if (rc != SCR_OK || strcmp(out, again) != 0 || strcmp(host, host2) != 0) {
            fprintf(stderr, "case %zu: \"%.120s\" renormalized to rc %d \"%.120s\" (%s)\n", i,
                    out ? out : "(null)", rc, again ? again : "(null)", err);
            failed++;
        }
        free(out);
        free(again);
        free(host);
        free(host2);
    }
    ASSERT_EQ(failed, 0);
}

TEST(host_out)
{
    static const struct {
        const char *url, *host;
    } hosts[] = {
        {"HTTP://WWW.Example.COM:8080/x", "www.example.com"},
        {"https://b\xc3\xbc" "cher.example/", "xn--bcher-kva.example"},
        {"http://[2001:DB8::1]:81/", "[2001:db8::1]"},
        {"http://[::1]/", "[::1]"},
        {"http://0x7f.1:80/", "127.0.0.1"},
        {"http://example.com./", "example.com."},
    };
    size_t i;

    for (i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        char *out = NULL, *host = NULL, err[128] = "";

        ASSERT_EQ(scr_url_normalize(NULL, hosts[i].url, NULL, &out, &host, err, sizeof err), 0);
        ASSERT_STR_EQ(host, hosts[i].host);
        free(out);
        free(host);
    }
}

/* The contract: outputs untouched on failure, err and host_out optional, NULL arguments. */
TEST(contract)
{
    char *out = (char *)"sentinel", *host = (char *)"sentinel", err[16];
    char *ok = NULL;

    ASSERT_EQ(scr_url_normalize(NULL, NULL, NULL, &out, &host, err, sizeof err), SCR_EINVAL);
    ASSERT_EQ(scr_url_normalize(NULL, "http://a/", NULL, NULL, NULL, NULL, 0), SCR_EINVAL);
    ASSERT_EQ(scr_url_normalize(NULL, "ftp://a/", NULL, &out, &host, err, sizeof err),
              SCR_EINVAL);
    ASSERT_STR_EQ(out, "sentinel");
    ASSERT_STR_EQ(host, "sentinel");
    ASSERT_EQ(strlen(err), sizeof err - 1); /* truncated, still terminated */
    ASSERT_EQ(scr_url_normalize(NULL, "ftp://a/", NULL, &out, NULL, NULL, 0), SCR_EINVAL);
    ASSERT_EQ(scr_url_normalize(NULL, "ftp://a/", NULL, &out, NULL, err, 0), SCR_EINVAL);
    ASSERT_EQ(scr_url_normalize(NULL, "http://A/", NULL, &ok, NULL, NULL, 0), SCR_OK);
    ASSERT_STR_EQ(ok, "http://a/");
    free(ok);
}

/* A small deterministic generator, so failures reproduce. */
static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Checks the invariants every successful result must keep. */
static void check_output(const char *in, const char *out, const char *host, size_t max_len)
{
    char *again = NULL, err[256] = "";
    size_t i;

    if (strncmp(out, "http://", 7) != 0 && strncmp(out, "https://", 8) != 0)
        TEST_FAIL_("\"%s\" -> \"%s\": bad scheme", in, out);
    if (strlen(out) > max_len)
        TEST_FAIL_("\"%s\" -> %zu bytes", in, strlen(out));
    for (i = 0; out[i]; i++)
        if ((unsigned char)out[i] <= 0x20 || (unsigned char)out[i] >= 0x7f || out[i] == '#')
            TEST_FAIL_("\"%s\" -> \"%s\": byte %zu is 0x%02x", in, out, i,
                       (unsigned char)out[i]);
    if (!strstr(out, host))
        TEST_FAIL_("\"%s\" -> \"%s\" lacks host \"%s\"", in, out, host);
    if (scr_url_normalize(NULL, out, NULL, &again, NULL, err, sizeof err) != 0 ||
        strcmp(out, again) != 0)
        TEST_FAIL_("\"%s\" -> \"%s\" -> \"%s\" (%s)", in, out, again ? again : "(null)", err);
    free(again);
}

/* Random bytes and random mutations of valid URLs: no crash, and every success is a clean
 * fixed point.  Run it under SCRAPE_SANITIZE=address,undefined for the memory side. */
TEST(hostile)
{
    static const char alphabet[] = "htps:/?#%@[]\\.:-_~ \t\n019aAfFzZ&=;\x80\xc3\xbc\xff";
    static const char *const seeds[] = {"http://a/b/c/d;p?q", "https://[::1]:8/x?y#z",
                                        "http://b%C3%BCcher.example/%7e/../a?utm_x=1"};
    uint32_t s = 0x2545f491u;
    char buf[96], *out, *host, err[256];
    size_t i, j, n;

    for (i = 0; i < 60000; i++) {
        if (i % 2) {
            n = rng_next(&s) % (sizeof buf - 1);
            for (j = 0; j < n; j++) {
                unsigned r = rng_next(&s);
                buf[j] = (r & 1) ? alphabet[(r >> 1) % (sizeof alphabet - 1)]
                                 : (char)(1 + (r >> 1) % 255);
            }
            buf[n] = '\0';
        } else {
            snprintf(buf, sizeof buf, "%s", seeds[rng_next(&s) % 3]);
            n = strlen(buf);
            for (j = 0; j < 3; j++)
                buf[rng_next(&s) % n] = alphabet[rng_next(&s) % (sizeof alphabet - 1)];
        }
        out = host = NULL;
        if (scr_url_normalize((i % 3) ? "http://base.example/p/q?r" : NULL, buf, NULL, &out,
                              &host, err, sizeof err) == SCR_OK) {
            check_output(buf, out, host, SCR_URL_MAX_LEN);
            free(out);
            free(host);
        } else {
            ASSERT(!out && !host && err[0]);
        }
    }
}

/* Huge inputs are refused quickly, without reading them whole. */
TEST(huge)
{
    size_t n = 16u << 20;
    char *big = malloc(n + 1), *out = NULL, err[128] = "";

    ASSERT(big);
    memcpy(big, "http://a/", 9);
    memset(big + 9, 'x', n - 9);
    big[n] = '\0';
    ASSERT_EQ(scr_url_normalize(NULL, big, NULL, &out, NULL, err, sizeof err), SCR_ETOOBIG);
    ASSERT(out == NULL);
    memset(big, ' ', n); /* all whitespace: still too long, not "empty" */
    ASSERT_EQ(scr_url_normalize("http://a/", big, NULL, &out, NULL, err, sizeof err),
              SCR_ETOOBIG);
    memset(big, '.', n);
    big[0] = '/';
    ASSERT_EQ(scr_url_normalize("http://a/", big, NULL, &out, NULL, err, sizeof err),
              SCR_ETOOBIG);
    free(big);
}

/* The table, from several threads at once: no shared state may leak between calls. */
/* The web-platform-tests cases (tests/fixtures/url/wpt-http.json, made by gen-wpt-http.py
 * next to it): what a browser makes of a link, with our normalizations on top.  Every case
 * must agree, except the deliberate differences below, which must give exactly what they
 * say (NULL: refused).  docs/internals/urls.md explains each. */
struct wpt_diff {
    const char *input;
    const char *base;
    const char *scrape; /* our answer, NULL when refused */
};

static const struct wpt_diff wpt_diffs[] = {
    /* A host name may only hold what DNS can resolve (a-z 0-9 - . _); browsers accept any
     * character outside the standard's forbidden set. */
    {"http://!\"$&'()*+,-.;=_`{}~/", NULL, NULL},
    {NULL, NULL, NULL},
};

static const struct wpt_diff *wpt_find_diff(const char *input, const char *base)
{
    for (size_t i = 0; wpt_diffs[i].input; i++)
        if (!strcmp(wpt_diffs[i].input, input) &&
            !strcmp(wpt_diffs[i].base ? wpt_diffs[i].base : "", base ? base : ""))
            return &wpt_diffs[i];
    return NULL;
}

/* Prints a string with its control and non-ASCII bytes escaped, for the failure report. */
static void wpt_print(const char *label, const char *s)
{
    fprintf(stderr, "  %s ", label);
    if (!s) {
        fprintf(stderr, "(null)\n");
        return;
    }
    fputc('"', stderr);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7F || *p == '"' || *p == '\\')
            fprintf(stderr, "\\x%02X", *p);
        else
            fputc(*p, stderr);
    }
    fprintf(stderr, "\"\n");
}

TEST(wpt)
{
    json_error_t jerr;
    json_t *all = json_load_file(SCR_FIXTURES "/url/wpt-http.json", 0, &jerr), *c;
    size_t i, n = 0, agree = 0, diffs = 0, failed = 0;

    if (!all)
        fprintf(stderr, "wpt-http.json:%d: %s\n", jerr.line, jerr.text);
    ASSERT(all != NULL);
    json_array_foreach(all, i, c) {
        const char *input = json_string_value(json_object_get(c, "input"));
        const char *base = json_string_value(json_object_get(c, "base"));
        const char *want = json_string_value(json_object_get(c, "expect"));
        const struct wpt_diff *d;
        char err[256] = "", *out = NULL, *host = NULL;
        int rc;

        if (!json_is_object(c))
            continue; /* a comment */
        ASSERT(input != NULL);
        n++;
        rc = scr_url_normalize(base, input, NULL, &out, &host, err, sizeof err);
        if (rc != SCR_OK)
            out = NULL;
        if (want ? out && !strcmp(out, want) : !out) {
            agree++;
        } else if ((d = wpt_find_diff(input, base)) != NULL &&
                   (d->scrape ? out && !strcmp(out, d->scrape) : !out)) {
            diffs++;
        } else {
            failed++;
            fprintf(stderr, "wpt case %zu:\n", i);
            wpt_print("input ", input);
            wpt_print("base  ", base);
            wpt_print("expect", want);
            wpt_print("got   ", out);
            if (!out)
                fprintf(stderr, "  (%s)\n", err);
        }
        free(out);
        free(host);
    }
    fprintf(stderr, "   wpt: %zu cases, %zu agree with browsers, %zu deliberate differences, "
            "%zu failed\n", n, agree, diffs, failed);
    json_decref(all);
    ASSERT_GT(n, 400);
    ASSERT_EQ(failed, 0);
}

static void *table_thread(void *arg)
{
    size_t i, rounds, failed = 0;

    (void)arg;
    for (rounds = 0; rounds < 20; rounds++)
        for (i = 0; i < NCASES; i++)
            failed += (size_t)check_case(i, 1);
    return (void *)(uintptr_t)failed;
}

TEST(threads)
{
    pthread_t t[4];
    void *res;
    size_t i;

    for (i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, table_thread, NULL), 0);
    for (i = 0; i < 4; i++) {
        ASSERT_EQ(pthread_join(t[i], &res), 0);
        ASSERT_EQ((uintptr_t)res, 0);
    }
}

int main(void)
{
    RUN(table);
    RUN(idempotent);
    RUN(host_out);
    RUN(contract);
    RUN(hostile);
    RUN(huge);
    RUN(wpt);
    RUN(threads);
    return 0;
}
