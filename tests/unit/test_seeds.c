/* test_seeds.c - coordinator/seeds.h: the streaming seed-file reader.
 *
 * Temporary files with comments, blank lines, CRLF, surrounding spaces, invalid URLs, a NUL
 * byte, a 100 KB line and no final newline: the counts, the URLs and hosts the callback sees
 * (normalized), the "path:LINE: reason" reports on stderr (captured through a temporary
 * file), a callback that stops the reading, and a file that cannot be opened.
 */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "coordinator/seeds.h"
#include "test.h"

#define ASSERT_CONTAINS(hay, needle)                                              \
    do {                                                                          \
        const char *h_ = (hay), *n_ = (needle);                                   \
        if (!strstr(h_, n_))                                                      \
            TEST_FAIL_("\"%s\" does not contain \"%s\"", h_, n_);                 \
    } while (0)

struct seen {
    struct scr_buf urls;  /* "url host\n" per seed */
    int calls;
    int stop_after;       /* return 99 after this many calls (0 = never) */
};

static int on_seed(const char *url, const char *host, void *ctx)
{
    struct seen *s = ctx;
    s->calls++;
    ASSERT_EQ(scr_buf_printf(&s->urls, "%s %s\n", url, host), 0);
    return s->stop_after && s->calls >= s->stop_after ? 99 : 0;
}

static char path[64];

static void write_file(const void *data, size_t len)
{
    int fd;

    snprintf(path, sizeof(path), "/tmp/scrape_test_seeds_XXXXXX");
    fd = mkstemp(path);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, data, len), (long long)len);
    close(fd);
}

/* Runs scr_seeds_read with stderr captured; returns the captured text (malloc'd). */
static char *read_seeds(int report, struct seen *s, int64_t *valid, int64_t *invalid, int *rc,
                        char *err, size_t errlen)
{
    char cap[64];
    int fd, saved;
    FILE *f;
    struct scr_buf out;
    char chunk[4096];
    size_t n;

    snprintf(cap, sizeof(cap), "/tmp/scrape_test_seeds_err_XXXXXX");
    fd = mkstemp(cap);
    ASSERT(fd >= 0);
    fflush(stderr);
    saved = dup(2);
    ASSERT(saved >= 0);
    ASSERT(dup2(fd, 2) == 2);
    *rc = scr_seeds_read(path, NULL, report, s ? on_seed : NULL, s, valid, invalid, err, errlen);
    fflush(stderr);
    ASSERT(dup2(saved, 2) == 2);
    close(saved);
    close(fd);

    scr_buf_init(&out);
    f = fopen(cap, "rb");
    ASSERT(f != NULL);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ASSERT_EQ(scr_buf_append(&out, chunk, n), 0);
    fclose(f);
    unlink(cap);
    return scr_buf_detach(&out, NULL);
}

/* Builds the mixed file; returns its bytes (malloc'd) and length. */
static char *mixed_file(size_t *len)
{
    struct scr_buf b;
    scr_buf_init(&b);
    ASSERT_EQ(scr_buf_puts(&b, "# seeds for the test\n"), 0);              /* 1 */
    ASSERT_EQ(scr_buf_puts(&b, "\n"), 0);                                  /* 2 */
    ASSERT_EQ(scr_buf_puts(&b, "http://Example.COM/a\n"), 0);              /* 3 */
    ASSERT_EQ(scr_buf_puts(&b, "   https://b.example/x?y=1  \t \r\n"), 0); /* 4 */
    ASSERT_EQ(scr_buf_puts(&b, "ftp://files.example/pub/\n"), 0);          /* 5 */
    ASSERT_EQ(scr_buf_puts(&b, "garbage\n"), 0);                           /* 6 */
    ASSERT_EQ(scr_buf_puts(&b, "\t# indented comment\r\n"), 0);            /* 7 */
    ASSERT_EQ(scr_buf_puts(&b, "http://c.example:8080/p#frag\r\n"), 0);    /* 8 */
    ASSERT_EQ(scr_buf_append(&b, "http://a\0b.example/\n", 20), 0);        /* 9 */
    ASSERT_EQ(scr_buf_puts(&b, "http://d.example/"), 0);                   /* 10 */
    for (int i = 0; i < 100000; i++)
        ASSERT_EQ(scr_buf_putc(&b, 'a'), 0);
    ASSERT_EQ(scr_buf_puts(&b, "\n"), 0);
    ASSERT_EQ(scr_buf_puts(&b, "   \r\n"), 0);                             /* 11 */
    ASSERT_EQ(scr_buf_puts(&b, "http://e.example"), 0); /* 12, no final newline */
    return scr_buf_detach(&b, len);
}

TEST(mixed)
{
    struct seen s;
    int64_t valid = -1, invalid = -1;
    int rc;
    char err[256], *out, *data, want[512];
    size_t len;

    data = mixed_file(&len);
    write_file(data, len);
    free(data);
    memset(&s, 0, sizeof(s));
    scr_buf_init(&s.urls);
    out = read_seeds(1, &s, &valid, &invalid, &rc, err, sizeof(err));
    ASSERT_EQ(rc, SCR_OK);
    ASSERT_EQ(valid, 4);
    ASSERT_EQ(invalid, 4);
    ASSERT_EQ(s.calls, 4);
    ASSERT_STR_EQ(s.urls.data, "http://example.com/a example.com\n"
                               "https://b.example/x?y=1 b.example\n"
                               "http://c.example:8080/p c.example\n"
                               "http://e.example/ e.example\n");

    /* one report per invalid line, in order, naming path and line */
    snprintf(want, sizeof(want),
             "%s:5: unsupported scheme 'ftp'", path);
    ASSERT(strncmp(out, want, strlen(want)) == 0);
    snprintf(want, sizeof(want), "\n%s:6: ", path);
    ASSERT_CONTAINS(out, want);
    snprintf(want, sizeof(want), "\n%s:9: binary data (NUL byte)\n", path);
    ASSERT_CONTAINS(out, want);
    snprintf(want, sizeof(want), "\n%s:10: line longer than 16384 bytes\n", path);
    ASSERT_CONTAINS(out, want);
    {
        int lines = 0;
        for (const char *p = out; *p; p++)
            lines += *p == '\n';
        ASSERT_EQ(lines, 4);
    }
    free(out);

    /* report off: same counts, nothing printed */
    scr_buf_reset(&s.urls);
    s.calls = 0;
    out = read_seeds(0, &s, &valid, &invalid, &rc, err, sizeof(err));
    ASSERT_EQ(rc, SCR_OK);
    ASSERT_EQ(valid, 4);
    ASSERT_EQ(invalid, 4);
    ASSERT_STR_EQ(out, "");
    free(out);

    /* no callback: counting only */
    out = read_seeds(0, NULL, &valid, &invalid, &rc, err, sizeof(err));
    ASSERT_EQ(rc, SCR_OK);
    ASSERT_EQ(valid, 4);
    ASSERT_EQ(invalid, 4);
    free(out);

    scr_buf_release(&s.urls);
    unlink(path);
}

TEST(callback_stops)
{
    static const char text[] = "http://a.example/\nhttp://b.example/\nbad\nhttp://c.example/\n";
    struct seen s;
    int64_t valid, invalid;
    int rc;
    char err[256], *out;

    write_file(text, sizeof(text) - 1);
    memset(&s, 0, sizeof(s));
    scr_buf_init(&s.urls);
    s.stop_after = 2;
    out = read_seeds(1, &s, &valid, &invalid, &rc, err, sizeof(err));
    ASSERT_EQ(rc, 99);
    ASSERT_EQ(s.calls, 2);
    ASSERT_EQ(valid, 2);
    ASSERT_EQ(invalid, 0); /* the reading stopped before line 3 */
    ASSERT_STR_EQ(out, "");
    ASSERT_STR_EQ(s.urls.data, "http://a.example/ a.example\nhttp://b.example/ b.example\n");
    free(out);
    scr_buf_release(&s.urls);
    unlink(path);
}

TEST(long_line_boundary)
{
    /* 16384 bytes fit the line buffer (and fail as a URL that is too long); 16385 do not.
     * The lines after them are read normally either way. */
    struct scr_buf b;
    struct seen s;
    int64_t valid, invalid;
    int rc;
    char err[256], *out, *data, want[128];
    size_t len;
    const char *prefix = "http://x.example/";

    scr_buf_init(&b);
    ASSERT_EQ(scr_buf_puts(&b, prefix), 0);
    for (size_t i = strlen(prefix); i < 16384; i++)
        ASSERT_EQ(scr_buf_putc(&b, 'p'), 0);
    ASSERT_EQ(scr_buf_puts(&b, "\nhttp://ok1.example/\n"), 0);
    ASSERT_EQ(scr_buf_puts(&b, prefix), 0);
    for (size_t i = strlen(prefix); i < 16385; i++)
        ASSERT_EQ(scr_buf_putc(&b, 'p'), 0);
    ASSERT_EQ(scr_buf_puts(&b, "\nhttp://ok2.example/\n"), 0);
    /* a long line that is only spaces is still too long, not blank */
    for (size_t i = 0; i < 20000; i++)
        ASSERT_EQ(scr_buf_putc(&b, ' '), 0);
    data = scr_buf_detach(&b, &len);
    write_file(data, len);
    free(data);

    memset(&s, 0, sizeof(s));
    scr_buf_init(&s.urls);
    out = read_seeds(1, &s, &valid, &invalid, &rc, err, sizeof(err));
    ASSERT_EQ(rc, SCR_OK);
    ASSERT_EQ(valid, 2);
    ASSERT_EQ(invalid, 3);
    ASSERT_STR_EQ(s.urls.data, "http://ok1.example/ ok1.example\nhttp://ok2.example/ ok2.example\n");
    /* line 1 fits the buffer: the URL parser refuses it (inputs over 4 * 2048 bytes) */
    snprintf(want, sizeof(want), "%s:1: URL longer than 8192 bytes\n", path);
    ASSERT(strncmp(out, want, strlen(want)) == 0);
    snprintf(want, sizeof(want), "\n%s:3: line longer than 16384 bytes\n", path);
    ASSERT_CONTAINS(out, want);
    snprintf(want, sizeof(want), "\n%s:5: line longer than 16384 bytes\n", path);
    ASSERT_CONTAINS(out, want);
    free(out);
    scr_buf_release(&s.urls);
    unlink(path);
}

TEST(empty_and_comments_only)
{
    static const char text[] = "# nothing\n\n   \n\r\n#http://a.example/\n";
    int64_t valid = -1, invalid = -1;
    int rc;
    char err[256], *out;

    write_file("", 0);
    out = read_seeds(1, NULL, &valid, &invalid, &rc, err, sizeof(err));
    ASSERT_EQ(rc, SCR_OK);
    ASSERT_EQ(valid, 0);
    ASSERT_EQ(invalid, 0);
    ASSERT_STR_EQ(out, "");
    free(out);
    unlink(path);

    write_file(text, sizeof(text) - 1);
    out = read_seeds(1, NULL, &valid, &invalid, &rc, err, sizeof(err));
    ASSERT_EQ(rc, SCR_OK);
    ASSERT_EQ(valid, 0);
    ASSERT_EQ(invalid, 0);
    ASSERT_STR_EQ(out, "");
    free(out);
    unlink(path);
}

/* What editors and people write: a UTF-8 BOM before the first line (Notepad), a comment after
 * the URL, a host without its scheme. */
TEST(bom_trailing_comments_and_scheme_hint)
{
    static const char text[] = "\xEF\xBB\xBFhttp://a.example/\n"         /* 1 */
                               "http://b.example/x # comment\n"        /* 2 */
                               "http://c.example/y\t# after a tab\r\n" /* 3 */
                               "http://d.example/z#frag\n"             /* 4: a fragment */
                               "www.example.com\n"                     /* 5 */
                               "garbage\n"                             /* 6 */
                               "example.com/path?q=1 # no scheme\n"    /* 7 */
                               "\xEF\xBB\xBFhttp://e.example/\n";       /* 8: BOM mid-file */
    struct seen s;
    int64_t valid = -1, invalid = -1;
    int rc;
    char err[256], *out, want[512];

    write_file(text, sizeof(text) - 1);
    memset(&s, 0, sizeof(s));
    scr_buf_init(&s.urls);
    out = read_seeds(1, &s, &valid, &invalid, &rc, err, sizeof(err));
    ASSERT_EQ(rc, SCR_OK);
    ASSERT_STR_EQ(s.urls.data, "http://a.example/ a.example\n"
                               "http://b.example/x b.example\n"
                               "http://c.example/y c.example\n"
                               "http://d.example/z d.example\n");
    ASSERT_EQ(valid, 4);
    ASSERT_EQ(invalid, 4);
    snprintf(want, sizeof(want), "%s:5: relative URL without a base (did you mean "
             "http://www.example.com?)\n", path);
    ASSERT_CONTAINS(out, want);
    snprintf(want, sizeof(want), "%s:6: relative URL without a base\n", path);
    ASSERT_CONTAINS(out, want);
    snprintf(want, sizeof(want), "%s:7: relative URL without a base (did you mean "
             "http://example.com/path?q=1?)\n", path);
    ASSERT_CONTAINS(out, want);
    snprintf(want, sizeof(want), "%s:8: ", path);
    ASSERT_CONTAINS(out, want);
    free(out);
    scr_buf_release(&s.urls);
    unlink(path);
}

TEST(missing_file)
{
    int64_t valid = -1, invalid = -1;
    char err[256];

    err[0] = '\0';
    ASSERT_EQ(scr_seeds_read("/nonexistent/seeds.txt", NULL, 1, on_seed, NULL, &valid, &invalid,
                             err, sizeof(err)),
              SCR_EIO);
    ASSERT_EQ(valid, 0);
    ASSERT_EQ(invalid, 0);
    ASSERT_CONTAINS(err, "/nonexistent/seeds.txt");
}

int main(void)
{
    RUN(mixed);
    RUN(callback_stops);
    RUN(long_line_boundary);
    RUN(empty_and_comments_only);
    RUN(bom_trailing_comments_and_scheme_hint);
    RUN(missing_file);
    fprintf(stderr, "test_seeds: all passed\n");
    return 0;
}
