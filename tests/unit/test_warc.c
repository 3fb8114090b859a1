/* test_warc.c - the WARC writer (coordinator/warc.h): record layout, digests, one gzip member
 * per record at the offsets it reports, rotation and the .part rename.  (Reading the files
 * with a WARC library nobody here wrote is tests/integration/test_warc.py's job.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "coordinator/warc.h"
#include "test.h"

static char tmpdir[64];

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The file's bytes (caller frees). */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = scr_xmalloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

/* Inflates the one gzip member at p (exactly len bytes, else NULL); the text is NUL-ended. */
static char *member(const unsigned char *p, size_t len, size_t *outlen)
{
    z_stream z;
    size_t cap = 1 << 20;
    char *out = scr_xmalloc(cap + 1);
    int rc;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 31) != Z_OK)
        return NULL;
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    rc = inflate(&z, Z_FINISH);
    *outlen = cap - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END || z.avail_in != 0) {
        free(out);
        return NULL;
    }
    out[*outlen] = '\0';
    return out;
}

/* Counts the gzip members of a whole file, checking they follow each other exactly. */
static int count_members(const unsigned char *p, size_t len)
{
    size_t pos = 0;
    int n = 0;

    while (pos < len) {
        z_stream z;
        unsigned char out[65536];
        int rc;
        memset(&z, 0, sizeof(z));
        inflateInit2(&z, 31);
        z.next_in = (Bytef *)(p + pos);
        z.avail_in = (uInt)(len - pos);
        do {
            z.next_out = out;
            z.avail_out = sizeof(out);
            rc = inflate(&z, Z_NO_FLUSH);
        } while (rc == Z_OK);
        if (rc != Z_STREAM_END) {
            inflateEnd(&z);
            return -1;
        }
        pos += (len - pos) - z.avail_in;
        inflateEnd(&z);
        n++;
    }
    return n;
}

TEST(digest_and_names)
{
    char d[38], name[96];

    scr_warc_sha1_base32("", 0, d);
    ASSERT_STR_EQ(d, "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    scr_warc_sha1_base32("abc", 3, d); /* a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d */
    ASSERT_STR_EQ(d, "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
    scr_warc_safe_name("shop/2024 ü", name, sizeof(name));
    ASSERT_STR_EQ(name, "shop_2024___");
    scr_warc_safe_name("..x", name, sizeof(name));
    ASSERT_STR_EQ(name, "_.x");
    scr_warc_safe_name("", name, sizeof(name));
    ASSERT_STR_EQ(name, "job");
}

TEST(head_rewrite)
{
    const char in[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
                      "Transfer-Encoding: chunked\r\ncontent-length: 12\r\nX-Content-Length-Ish: 1"
                      "\r\n\r\n";
    size_t n;
    char *out = scr_warc_head_rewrite(in, sizeof(in) - 1, 345, 1, &n);

    ASSERT_STR_EQ(out, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                       "X-Crawler-Content-Encoding: gzip\r\nX-Crawler-Transfer-Encoding: chunked\r\n"
                       "X-Crawler-content-length: 12\r\nX-Content-Length-Ish: 1\r\n"
                       "Content-Length: 345\r\n\r\n");
    ASSERT_EQ(n, strlen(out));
    free(out);
    /* bare LF line ends become CRLF; a revisit gets no Content-Length */
    out = scr_warc_head_rewrite("HTTP/1.1 304 Not Modified\nETag: \"x\"\n\n", 37, 0, 0, &n);
    ASSERT_STR_EQ(out, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
    free(out);
}

TEST(records_members_offsets)
{
    struct scr_warc *w = NULL;
    char err[256], *file = NULL, *file2 = NULL, path[256], digest[38];
    int64_t off = -1, len = -1, off2 = -1, len2 = -1;
    const char payload[] = "<html>\0binary\xff</html>";
    const char head[] = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\n";
    const char req[] = "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n";
    struct scr_warc_exchange x = {SCR_WARC_RESPONSE, "http://example.com/a", NULL, req,
                                  sizeof(req) - 1, head, sizeof(head) - 1, payload,
                                  sizeof(payload) - 1, "length", NULL, NULL};
    unsigned char *all;
    size_t alllen, mlen;
    char *rec, *block;

    ASSERT_EQ(scr_warc_open(&w, tmpdir, "my job", 42, 1 << 20, 6, "operator: test\r\n", err,
                            sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_warc_file_size(w), 0);
    ASSERT_EQ(scr_warc_write(w, &x, &file, &off, &len, err, sizeof(err)), SCR_OK);
    snprintf(path, sizeof(path), "%s/my_job-42-00000.warc.gz", tmpdir);
    ASSERT(strstr(file, "/my_job-42-00000.warc.gz") != NULL);
    ASSERT_EQ(file[0], '/');
    ASSERT(!exists(path));
    snprintf(path, sizeof(path), "%s/my_job-42-00000.warc.gz.part", tmpdir);
    ASSERT(exists(path));
    x.kind = SCR_WARC_REVISIT_IDENTICAL;
    x.refers_to_uri = "http://example.com/a";
    x.refers_to_date = "2026-01-02T03:04:05Z";
    x.date = "2026-02-03T04:05:06Z";
    ASSERT_EQ(scr_warc_write(w, &x, &file2, &off2, &len2, err, sizeof(err)), SCR_OK);
    ASSERT_STR_EQ(file, file2);
    ASSERT_EQ(scr_warc_sync(w, err, sizeof(err)), SCR_OK);

    all = slurp(path, &alllen);
    ASSERT(all != NULL);
    ASSERT_EQ((int64_t)alllen, scr_warc_file_size(w));
    /* warcinfo, response, request, revisit, request */
    ASSERT_EQ(count_members(all, alllen), 5);
    rec = member(all + off, (size_t)len, &mlen);
    ASSERT(rec != NULL);
    ASSERT(strncmp(rec, "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:", 57) == 0);
    ASSERT(strstr(rec, "\r\nWARC-Target-URI: http://example.com/a\r\n") != NULL);
    ASSERT(strstr(rec, "\r\nContent-Type: application/http; msgtype=response\r\n") != NULL);
    ASSERT(strstr(rec, "\r\nWARC-Truncated: length\r\n") != NULL);
    ASSERT(strstr(rec, "\r\nWARC-Warcinfo-ID: <urn:uuid:") != NULL);
    block = strstr(rec, "\r\n\r\n") + 4;
    {
        const char want_head[] = "HTTP/1.1 200 OK\r\nX-Crawler-Content-Encoding: gzip\r\n"
                                 "X-Crawler-Content-Length: 9\r\nContent-Length: 21\r\n\r\n";
        size_t blen = mlen - (size_t)(block - rec) - 4;
        char cl[64], bd[64];
        ASSERT_EQ(sizeof(payload) - 1, 21);
        ASSERT_MEM_EQ(block, want_head, sizeof(want_head) - 1);
        ASSERT_MEM_EQ(block + sizeof(want_head) - 1, payload, sizeof(payload) - 1);
        ASSERT_EQ(blen, sizeof(want_head) - 1 + sizeof(payload) - 1);
        ASSERT_MEM_EQ(rec + mlen - 4, "\r\n\r\n", 4);
        snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", blen);
        ASSERT(strstr(rec, cl) != NULL);
        scr_warc_sha1_base32(block, blen, digest);
        snprintf(bd, sizeof(bd), "\r\nWARC-Block-Digest: %s\r\n", digest);
        ASSERT(strstr(rec, bd) != NULL);
        scr_warc_sha1_base32(payload, sizeof(payload) - 1, digest);
        snprintf(bd, sizeof(bd), "\r\nWARC-Payload-Digest: %s\r\n", digest);
        ASSERT(strstr(rec, bd) != NULL);
    }
    free(rec);
    /* the request record follows the response's member */
    rec = member(all + off + len, (size_t)(off2 - off - len), &mlen);
    ASSERT(rec != NULL);
    ASSERT(strncmp(rec, "WARC/1.1\r\nWARC-Type: request\r\n", 30) == 0);
    ASSERT(strstr(rec, "msgtype=request") != NULL);
    ASSERT(strstr(rec, "\r\nWARC-Concurrent-To: <urn:uuid:") != NULL);
    ASSERT(strstr(rec, "\r\n\r\nGET /a HTTP/1.1\r\n") != NULL);
    free(rec);
    /* the revisit: head only, the profile and what it refers to */
    rec = member(all + off2, (size_t)len2, &mlen);
    ASSERT(rec != NULL);
    ASSERT(strstr(rec, "WARC-Type: revisit\r\n") != NULL);
    ASSERT(strstr(rec, "WARC-Profile: http://netpreserve.org/warc/1.1/revisit/"
                       "identical-payload-digest\r\n") != NULL);
    ASSERT(strstr(rec, "WARC-Refers-To-Target-URI: http://example.com/a\r\n") != NULL);
    ASSERT(strstr(rec, "WARC-Refers-To-Date: 2026-01-02T03:04:05Z\r\n") != NULL);
    ASSERT(strstr(rec, "WARC-Date: 2026-02-03T04:05:06Z\r\n") != NULL);
    ASSERT(strstr(rec, "WARC-Truncated") == NULL);
    ASSERT(strstr(rec, "</html>") == NULL);
    free(rec);
    /* the warcinfo record opens the file */
    rec = member(all, (size_t)off, &mlen);
    ASSERT(rec != NULL);
    ASSERT(strstr(rec, "WARC-Type: warcinfo\r\n") != NULL);
    ASSERT(strstr(rec, "WARC-Filename: my_job-42-00000.warc.gz\r\n") != NULL);
    ASSERT(strstr(rec, "Content-Type: application/warc-fields\r\n") != NULL);
    ASSERT(strstr(rec, "operator: test\r\n") != NULL);
    free(rec);
    free(all);

    ASSERT_EQ(scr_warc_close(w, err, sizeof(err)), SCR_OK);
    ASSERT(!exists(path)); /* renamed */
    path[strlen(path) - 5] = '\0';
    ASSERT(exists(path));
    unlink(path);
    free(file);
    free(file2);
}

TEST(rotation)
{
    struct scr_warc *w = NULL;
    char err[256], *f1 = NULL, *f2 = NULL, *f3 = NULL, part[300];
    int64_t off, len;
    const char head[] = "HTTP/1.1 200 OK\r\n\r\n";
    struct scr_warc_exchange x = {SCR_WARC_RESPONSE, "http://e.com/", NULL, NULL, 0, head,
                                  sizeof(head) - 1, "x", 1, NULL, NULL, NULL};
    size_t n;
    unsigned char *all;

    /* max_size 1: every file holds its warcinfo and one exchange */
    ASSERT_EQ(scr_warc_open(&w, tmpdir, "rot", 7, 1, 1, NULL, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_warc_write(w, &x, &f1, &off, &len, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_warc_write(w, &x, &f2, &off, &len, err, sizeof(err)), SCR_OK);
    ASSERT(strstr(f1, "rot-7-00000.warc.gz") != NULL);
    ASSERT(strstr(f2, "rot-7-00001.warc.gz") != NULL);
    ASSERT(exists(f1)); /* completed at the rotation */
    snprintf(part, sizeof(part), "%s.part", f1);
    ASSERT(!exists(part));
    snprintf(part, sizeof(part), "%s.part", f2);
    ASSERT(exists(part));
    ASSERT(off > 0); /* after the new file's warcinfo */
    ASSERT_EQ(scr_warc_close(w, err, sizeof(err)), SCR_OK);
    ASSERT(exists(f2));
    all = slurp(f1, &n);
    ASSERT_EQ(count_members(all, n), 2); /* warcinfo, response (no request given) */
    free(all);

    /* a second writer of the same run (the store restarted) does not overwrite them */
    ASSERT_EQ(scr_warc_open(&w, tmpdir, "rot", 7, 1, 1, NULL, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_warc_write(w, &x, &f3, &off, &len, err, sizeof(err)), SCR_OK);
    ASSERT(strstr(f3, "rot-7-00002.warc.gz") != NULL);
    ASSERT_EQ(scr_warc_close(w, err, sizeof(err)), SCR_OK);
    unlink(f1);
    unlink(f2);
    unlink(f3);
    free(f1);
    free(f2);
    free(f3);
}

TEST(bad_dir)
{
    struct scr_warc *w = NULL;
    char err[256] = "";

    ASSERT_EQ(scr_warc_open(&w, "/proc/self/no/such", "j", 1, 1, 1, NULL, err, sizeof(err)),
              SCR_EIO);
    ASSERT(w == NULL);
    ASSERT(strstr(err, "/proc/self/no") != NULL);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_warc.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    RUN(digest_and_names);
    RUN(head_rewrite);
    RUN(records_members_offsets);
    RUN(rotation);
    RUN(bad_dir);
    rmdir(tmpdir);
    fprintf(stderr, "test_warc: all passed\n");
    return 0;
}
