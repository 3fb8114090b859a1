/* test_reqopts.c - the request options of common/reqopts.h and their settings.
 *
 * --header: the checks (token names, no line breaks, the refused names) and the list setting
 * (repeatable, "" empties it, a config file's lines add to it); cookies and credentials are
 * refused on the command line and in --config; the Netscape cookie lines kept and refused;
 * netrc parsing (quoting, default, macdef, the first entry winning, incomplete entries) and
 * the host lookup on the wire form; secret files others may read are refused; and
 * scr_settings_read_secrets() fills the secret settings from the files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/reqopts.h"
#include "common/settings.h"
#include "test.h"

#define ASSERT_CONTAINS(hay, needle)                                              \
    do {                                                                          \
        const char *h_ = (hay), *n_ = (needle);                                   \
        if (!h_ || !strstr(h_, n_))                                               \
            TEST_FAIL_("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_);  \
    } while (0)

static const char *write_temp(const char *text, mode_t mode)
{
    static char path[4][64];
    static int k;
    char *p = path[k++ % 4];
    int fd;

    snprintf(p, sizeof(path[0]), "/tmp/scrape_test_reqopts_XXXXXX");
    fd = mkstemp(p);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
    close(fd);
    ASSERT_EQ(chmod(p, mode), 0);
    return p;
}

TEST(header_checks)
{
    char err[256];

    ASSERT_EQ(scr_reqopts_check_header("Authorization: Bearer abc", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_reqopts_check_header("X-Empty:", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_reqopts_check_header("Accept-Language: de, en;q=0.5", err, sizeof(err)),
              SCR_OK);
    ASSERT_EQ(scr_reqopts_check_header("No colon", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "'Name: value'");
    ASSERT_EQ(scr_reqopts_check_header(": x", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(scr_reqopts_check_header("Bad Name: x", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(scr_reqopts_check_header("X-A: 1\r\nX-Injected: 2", err, sizeof(err)),
              SCR_EINVAL);
    ASSERT_CONTAINS(err, "line breaks");
    ASSERT(!strstr(err, "Injected")); /* the value is not echoed */
    ASSERT_EQ(scr_reqopts_check_header("host: example.com", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--header Host");
    ASSERT_EQ(scr_reqopts_check_header("User-Agent: x", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--user-agent");
    ASSERT_EQ(scr_reqopts_check_header("Cookie: a=b", err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--cookie-file");
    ASSERT_EQ(scr_reqopts_check_header("accept-encoding: gzip", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(scr_reqopts_check_header("If-None-Match: x", err, sizeof(err)), SCR_EINVAL);
}

TEST(header_setting_is_a_list)
{
    struct scr_settings s;
    char err[256];
    const char *cfg;

    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    ASSERT(s.header == NULL);
    ASSERT(scr_settings_find("header")->secret);
    ASSERT(scr_settings_find("header")->wire);
    ASSERT_EQ(scr_settings_set(&s, "header", "X-A: 1", err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_settings_set(&s, "header", "X-B: 2", err, sizeof(err)), SCR_OK);
    ASSERT_STR_EQ(s.header, "X-A: 1\nX-B: 2");
    /* a bad one leaves the list as it was */
    ASSERT_EQ(scr_settings_set(&s, "header", "Host: x", err, sizeof(err)), SCR_EINVAL);
    ASSERT_EQ(scr_settings_set(&s, "header", "X-C: 3\nHost: x", err, sizeof(err)), SCR_EINVAL);
    ASSERT_STR_EQ(s.header, "X-A: 1\nX-B: 2");
    ASSERT_EQ(scr_settings_set(&s, "header", "", err, sizeof(err)), SCR_OK);
    ASSERT(s.header == NULL);
    /* a config file's header lines add up, then the command line's add to them */
    cfg = write_temp("header = X-Token: abc\nheader = X-Other: def\n", 0600);
    ASSERT_EQ(scr_settings_load_file(&s, cfg, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_settings_set(&s, "header", "X-Cli: 1", err, sizeof(err)), SCR_OK);
    ASSERT_STR_EQ(s.header, "X-Token: abc\nX-Other: def\nX-Cli: 1");
    unlink(cfg);
    scr_settings_release(&s);
}

TEST(file_only_settings_are_refused)
{
    struct scr_settings s;
    char err[512];
    const char *cfg;

    ASSERT(scr_settings_file_only("cookies") != NULL);
    ASSERT(scr_settings_file_only("credentials") != NULL);
    ASSERT(scr_settings_file_only("proxy-user") != NULL);
    ASSERT(scr_settings_file_only("header") == NULL);
    ASSERT(scr_settings_find("cookies")->secret && scr_settings_find("cookies")->wire);
    ASSERT(scr_settings_find("credentials")->secret && scr_settings_find("credentials")->wire);
    ASSERT(!scr_settings_find("cookie-file")->wire && !scr_settings_find("netrc-file")->wire);
    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    cfg = write_temp("credentials = example.com u p\n", 0600);
    ASSERT_EQ(scr_settings_load_file(&s, cfg, err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--netrc-file");
    unlink(cfg);
    cfg = write_temp("cookies = x\n", 0600);
    ASSERT_EQ(scr_settings_load_file(&s, cfg, err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--cookie-file");
    unlink(cfg);
    ASSERT(s.cookies == NULL && s.credentials == NULL);
    scr_settings_release(&s);
}

TEST(cookie_lines)
{
    char err[256], *v;

    v = scr_reqopts_cookies("# Netscape HTTP Cookie File\r\n\n"
                            "127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tabc\r\n"
                            "#HttpOnly_.example.com\tTRUE\t/\tTRUE\t2000000000\tk\tv\n",
                            "c.txt", err, sizeof(err));
    ASSERT(v != NULL);
    ASSERT_STR_EQ(v, "127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tabc\n"
                     "#HttpOnly_.example.com\tTRUE\t/\tTRUE\t2000000000\tk\tv");
    free(v);
    v = scr_reqopts_cookies("# c\n\nexample.com FALSE / FALSE 0 sid abc\n", "c.txt", err,
                            sizeof(err));
    ASSERT(v == NULL);
    ASSERT_CONTAINS(err, "c.txt:3: not a Netscape cookie line");
    ASSERT(!strstr(err, "abc"));
    v = scr_reqopts_cookies("# only comments\n", "c.txt", err, sizeof(err));
    ASSERT(v != NULL);
    ASSERT_STR_EQ(v, "");
    free(v);
}

static void expect_creds(const char *wire, const char *host, const char *login,
                         const char *password)
{
    char *l = NULL, *p = NULL;

    if (!login) {
        ASSERT_EQ(scr_reqopts_credentials(wire, host, &l, &p), SCR_ENOTFOUND);
        ASSERT(l == NULL && p == NULL);
        return;
    }
    ASSERT_EQ(scr_reqopts_credentials(wire, host, &l, &p), SCR_OK);
    ASSERT_STR_EQ(l, login);
    ASSERT_STR_EQ(p, password);
    free(l);
    free(p);
}

TEST(netrc)
{
    char err[256], *w;

    w = scr_reqopts_netrc("machine Example.COM login alice password s3cret\n"
                          "machine example.com login bob password other\n" /* first wins */
                          "macdef init\ncd /pub\nls\n\n"
                          "machine q.test\n  login \"a b\"\n  password \"p\\\"w %*\"\n"
                          "machine acct.test login c account x password d\n",
                          "n", err, sizeof(err));
    if (!w)
        TEST_FAIL_("refused: %s", err);
    ASSERT_STR_EQ(w, "example.com alice s3cret\nq.test a%20b p\"w%20%25%2A\n"
                     "acct.test c d");
    expect_creds(w, "example.com", "alice", "s3cret");
    expect_creds(w, "EXAMPLE.com", "alice", "s3cret");
    expect_creds(w, "q.test", "a b", "p\"w %*");
    expect_creds(w, "acct.test", "c", "d");
    expect_creds(w, "other.test", NULL, NULL);
    expect_creds(w, "sub.example.com", NULL, NULL); /* no subdomain matching */
    free(w);

    w = scr_reqopts_netrc("default login anon password guest\nmachine a.test login x "
                          "password y\n", "n", err, sizeof(err));
    ASSERT(w != NULL);
    expect_creds(w, "a.test", "x", "y");
    expect_creds(w, "b.test", "anon", "guest");
    expect_creds(w, "*", "anon", "guest");
    free(w);

    ASSERT(scr_reqopts_netrc("machine a.test login x\n", "n", err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "n:1: the entry for a.test has no password");
    ASSERT(scr_reqopts_netrc("login x password y\n", "n", err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "before any 'machine'");
    ASSERT(scr_reqopts_netrc("machine a\nlogin x\npasswd zzsecret\n", "n", err,
                             sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "n:3: unknown netrc keyword");
    ASSERT(!strstr(err, "zzsecret"));
    w = scr_reqopts_netrc("# nothing\n# machine", "n", err, sizeof(err));
    ASSERT(w != NULL);
    ASSERT_STR_EQ(w, "");
    free(w);
    {
        char *l = NULL, *p = NULL;
        ASSERT_EQ(scr_reqopts_credentials("a.test x%2 y", "a.test", &l, &p), SCR_EINVAL);
        ASSERT(l == NULL && p == NULL);
        ASSERT_EQ(scr_reqopts_credentials("a.test xy", "a.test", &l, &p), SCR_EINVAL);
        ASSERT(l == NULL && p == NULL);
    }
}

/* Every prefix of a netrc and of a cookie file (cut inside a quoted token, an escape, a macro,
 * a comment) parses or is refused cleanly; what parses looks up without error (run under
 * ASan to see an overread). */
TEST(prefixes)
{
    static const char netrc[] = "# c\nmachine a.test login \"x \\\" y\" password p\\\n"
                                "macdef m\nx y\n\ndefault login d password e # t\n";
    static const char cookies[] = "# c\n#HttpOnly_a\tTRUE\t/\tFALSE\t0\tn\tv\r\n"
                                  "b\tF\t/\tF\t0\tm\tw";
    char buf[sizeof(netrc)], err[256], *w, *l, *p;

    for (size_t n = 0; n < sizeof(netrc); n++) {
        memcpy(buf, netrc, n);
        buf[n] = '\0';
        if ((w = scr_reqopts_netrc(buf, "n", err, sizeof(err))) != NULL) {
            int rc = scr_reqopts_credentials(w, "a.test", &l, &p);
            ASSERT(rc == SCR_OK || rc == SCR_ENOTFOUND);
            if (rc == SCR_OK) {
                free(l);
                free(p);
            }
            free(w);
        }
    }
    for (size_t n = 0; n < sizeof(cookies); n++) {
        memcpy(buf, cookies, n);
        buf[n] = '\0';
        free(scr_reqopts_cookies(buf, "c", err, sizeof(err)));
    }
    w = scr_reqopts_netrc(netrc, "n", err, sizeof(err));
    ASSERT(w != NULL);
    expect_creds(w, "a.test", "x \" y", "p\\");
    expect_creds(w, "b.test", "d", "e");
    free(w);
}

TEST(read_secrets)
{
    struct scr_settings s;
    char err[512];
    const char *cookies, *netrc;

    cookies = write_temp("127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tabc\n", 0600);
    netrc = write_temp("machine 127.0.0.1 login u password pw\n", 0600);
    ASSERT_EQ(scr_settings_init(&s), SCR_OK);
    ASSERT_EQ(scr_settings_set(&s, "cookie-file", cookies, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_settings_set(&s, "netrc-file", netrc, err, sizeof(err)), SCR_OK);
    if (scr_settings_read_secrets(&s, err, sizeof(err)) != SCR_OK)
        TEST_FAIL_("refused: %s", err);
    ASSERT_STR_EQ(s.cookies, "127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tabc");
    ASSERT_STR_EQ(s.credentials, "127.0.0.1 u pw");
    /* others may read it: refused, naming the option, the mode and the fix */
    ASSERT_EQ(chmod(netrc, 0640), 0);
    ASSERT_EQ(scr_settings_read_secrets(&s, err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--netrc-file ");
    ASSERT_CONTAINS(err, "mode 0640");
    ASSERT_CONTAINS(err, "chmod 600");
    ASSERT_EQ(chmod(cookies, 0604), 0);
    ASSERT_EQ(scr_settings_read_secrets(&s, err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "--cookie-file ");
    unlink(cookies);
    ASSERT_EQ(scr_settings_read_secrets(&s, err, sizeof(err)), SCR_EINVAL);
    ASSERT_CONTAINS(err, "No such file");
    unlink(netrc);
    scr_settings_release(&s);
}

int main(void)
{
    RUN(header_checks);
    RUN(header_setting_is_a_list);
    RUN(file_only_settings_are_refused);
    RUN(cookie_lines);
    RUN(netrc);
    RUN(prefixes);
    RUN(read_secrets);
    return 0;
}
