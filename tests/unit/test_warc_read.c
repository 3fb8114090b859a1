/* test_warc_read.c - the WARC reader (common/warc_read.c) and the HTTP block parser
 * (common/warc_http.c): gzip members and plain files, WARC/1.0 and 1.1, offsets and lengths,
 * seeking, chunked and gzip bodies, damaged and truncated input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/warc_read.h"
#include "test.h"

static char path[256];

/* One record as WARC text. */
static void record(struct scr_buf *b, const char *ver, const char *type, const char *uri,
                   const char *block, size_t blen)
{
    scr_buf_printf(b, "%s\r\nWARC-Type: %s\r\nWARC-Target-URI: %s\r\n"
                      "WARC-Date: 2026-12-04T21:00:00Z\r\nWARC-Record-ID: <urn:uuid:%s>\r\n"
                      "Content-Type: application/http; msgtype=response\r\n"
                      "Content-Length: %zu\r\n\r\n",
                   ver, type, uri, type, blen);
    scr_buf_append(b, block, blen);
    scr_buf_puts(b, "\r\n\r\n");
}

/* Appends data as one gzip member. */
static void gz_member(struct scr_buf *out, const void *data, size_t len)
{
    z_stream z;
    unsigned char tmp[1 << 16];

    memset(&z, 0, sizeof(z));
    ASSERT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    for (;;) {
        int ret;
        z.next_out = tmp;
        z.avail_out = sizeof(tmp);
        ret = deflate(&z, Z_FINISH);
        scr_buf_append(out, tmp, sizeof(tmp) - z.avail_out);
        if (ret == Z_STREAM_END)
            break;
        ASSERT_EQ(ret, Z_OK);
    }
    deflateEnd(&z);
}

static void write_file(const struct scr_buf *b)
{
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    ASSERT_EQ(fwrite(b->data, 1, b->len, f), b->len);
    fclose(f);
}

static const char page1[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                            "Content-Length: 13\r\n\r\n<p>one</p>\n\n\n";
static const char page2[] = "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope";

/* Three records (request, response, response) as gzip members or plain. */
static void make_file(int gz, const char *ver, uint64_t *offsets)
{
    struct scr_buf f, r;
    const char *blocks[3] = {"GET / HTTP/1.1\r\n\r\n", page1, page2};
    const char *types[3] = {"request", "response", "response"};

    scr_buf_init(&f);
    scr_buf_init(&r);
    for (int i = 0; i < 3; i++) {
        scr_buf_reset(&r);
        record(&r, ver, types[i], i == 2 ? "<http://a.test/x>" : "http://a.test/", blocks[i],
               strlen(blocks[i]));
        offsets[i] = f.len;
        if (gz)
            gz_member(&f, r.data, r.len);
        else
            scr_buf_append(&f, r.data, r.len);
    }
    offsets[3] = f.len;
    write_file(&f);
    scr_buf_release(&f);
    scr_buf_release(&r);
}

static void read_three(int gz, const char *ver)
{
    struct scr_warc_reader *w;
    struct scr_warc_record rec;
    uint64_t off[4];
    char err[256];

    make_file(gz, ver, off);
    scr_warc_record_init(&rec);
    ASSERT_EQ(scr_warc_reader_open(&w, path, err, sizeof(err)), SCR_OK);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(scr_warc_next(w, &rec, 1 << 20, err, sizeof(err)), SCR_OK);
        ASSERT_STR_EQ(rec.version, ver);
        ASSERT_EQ(rec.has_offset, 1);
        ASSERT_EQ(rec.offset, off[i]);
        ASSERT_EQ(rec.length, off[i + 1] - off[i]);
        ASSERT_STR_EQ(rec.type, i ? "response" : "request");
    }
    ASSERT_STR_EQ(rec.target_uri, "http://a.test/x"); /* WARC/1.0 drafts' <...> removed */
    ASSERT_EQ(rec.block.len, strlen(page2));
    ASSERT_EQ(scr_warc_next(w, &rec, 1 << 20, err, sizeof(err)), SCR_ENOTFOUND);
    /* seek to the second record, as fetches.warc_offset does */
    ASSERT_EQ(scr_warc_seek(w, off[1], err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_warc_next(w, &rec, 1 << 20, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(rec.block.len, strlen(page1));
    ASSERT_MEM_EQ(rec.block.data, page1, strlen(page1));
    /* a cap below the block: skipped, not kept, and the next record is still found */
    ASSERT_EQ(scr_warc_seek(w, off[1], err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_warc_next(w, &rec, 10, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(rec.skipped, 1);
    ASSERT_EQ(rec.block.len, 0);
    ASSERT_EQ(scr_warc_next(w, &rec, 1 << 20, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(rec.offset, off[2]);
    scr_warc_record_release(&rec);
    scr_warc_reader_close(w);
}

TEST(gzip_members_11) { read_three(1, "WARC/1.1"); }
TEST(gzip_members_10) { read_three(1, "WARC/1.0"); }
TEST(plain_10) { read_three(0, "WARC/1.0"); }
TEST(plain_11) { read_three(0, "WARC/1.1"); }

/* One gzip member for the whole file: records are read, offsets of the later ones unknown. */
TEST(one_member)
{
    struct scr_buf plain, f;
    struct scr_warc_reader *w;
    struct scr_warc_record rec;
    char err[256];
    int n = 0;

    scr_buf_init(&plain);
    scr_buf_init(&f);
    record(&plain, "WARC/1.1", "response", "http://a.test/", page1, strlen(page1));
    record(&plain, "WARC/1.1", "response", "http://a.test/2", page1, strlen(page1));
    gz_member(&f, plain.data, plain.len);
    write_file(&f);
    scr_warc_record_init(&rec);
    ASSERT_EQ(scr_warc_reader_open(&w, path, err, sizeof(err)), SCR_OK);
    while (scr_warc_next(w, &rec, 1 << 20, err, sizeof(err)) == SCR_OK) {
        ASSERT_EQ(rec.has_offset, n == 0);
        n++;
    }
    ASSERT_EQ(n, 2);
    scr_warc_record_release(&rec);
    scr_warc_reader_close(w);
    scr_buf_release(&plain);
    scr_buf_release(&f);
}

/* A damaged member in the middle and a file cut inside its last member: the good records are
 * read, each bad one reported once, then the end. */
TEST(damaged_and_truncated)
{
    struct scr_buf f, r;
    struct scr_warc_reader *w;
    struct scr_warc_record rec;
    char err[256];
    int ok = 0, bad = 0, rc;
    size_t second = 0;

    scr_buf_init(&f);
    scr_buf_init(&r);
    for (int i = 0; i < 4; i++) {
        scr_buf_reset(&r);
        record(&r, "WARC/1.1", "response", "http://a.test/", page1, strlen(page1));
        if (i == 1)
            second = f.len;
        gz_member(&f, r.data, r.len);
    }
    f.data[second + 20] ^= 0x55; /* damage the second member's deflate data */
    f.data[second + 21] ^= 0x55;
    f.len -= 30;                 /* and cut the last one short */
    write_file(&f);
    scr_warc_record_init(&rec);
    ASSERT_EQ(scr_warc_reader_open(&w, path, err, sizeof(err)), SCR_OK);
    for (int guard = 0; guard < 20; guard++) {
        rc = scr_warc_next(w, &rec, 1 << 20, err, sizeof(err));
        if (rc == SCR_ENOTFOUND)
            break;
        if (rc == SCR_OK)
            ok++;
        else
            bad++;
    }
    ASSERT_EQ(rc, SCR_ENOTFOUND);
    ASSERT_EQ(ok, 2);
    ASSERT_EQ(bad, 2);
    scr_warc_record_release(&rec);
    scr_warc_reader_close(w);
    scr_buf_release(&f);
    scr_buf_release(&r);
}

/* Not a WARC file at all, and an empty file: reported, no crash, then the end. */
TEST(garbage)
{
    struct scr_buf f;
    struct scr_warc_reader *w;
    struct scr_warc_record rec;
    char err[256];
    int rc = 0;

    scr_buf_init(&f);
    scr_buf_puts(&f, "hello\nworld\nWARC/1.1\r\nContent-Length: 99999999999\r\n\r\nabc");
    write_file(&f);
    scr_warc_record_init(&rec);
    ASSERT_EQ(scr_warc_reader_open(&w, path, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_warc_next(w, &rec, 1 << 20, err, sizeof(err)), SCR_EPARSE);
    for (int guard = 0; guard < 10 && rc != SCR_ENOTFOUND; guard++)
        rc = scr_warc_next(w, &rec, 1 << 20, err, sizeof(err));
    ASSERT_EQ(rc, SCR_ENOTFOUND);
    scr_warc_reader_close(w);
    scr_buf_reset(&f);
    write_file(&f);
    ASSERT_EQ(scr_warc_reader_open(&w, path, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_warc_next(w, &rec, 1 << 20, err, sizeof(err)), SCR_ENOTFOUND);
    scr_warc_reader_close(w);
    scr_warc_record_release(&rec);
    scr_buf_release(&f);
}

/* Found by fuzz_warc: a file of just the gzip magic.  The search for the next member after
 * the damage read before its buffer (ASan: stack-buffer-underflow in resync_gz). */
TEST(tiny_gzip)
{
    struct scr_buf f;
    struct scr_warc_reader *w;
    struct scr_warc_record rec;
    char err[256];
    int rc = 0;

    scr_buf_init(&f);
    scr_buf_append(&f, "\x1f\x8b", 2);
    write_file(&f);
    scr_warc_record_init(&rec);
    ASSERT_EQ(scr_warc_reader_open(&w, path, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(scr_warc_next(w, &rec, 1 << 20, err, sizeof(err)), SCR_EPARSE);
    for (int guard = 0; guard < 10 && rc != SCR_ENOTFOUND; guard++)
        rc = scr_warc_next(w, &rec, 1 << 20, err, sizeof(err));
    ASSERT_EQ(rc, SCR_ENOTFOUND);
    scr_warc_reader_close(w);
    scr_warc_record_release(&rec);
    scr_buf_release(&f);
}

TEST(http_plain)
{
    struct scr_warc_http h;
    char err[256];

    scr_warc_http_init(&h);
    ASSERT_EQ(scr_warc_http_parse(page1, strlen(page1), 1 << 20, &h, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(h.status, 200);
    ASSERT_STR_EQ(h.content_type, "text/html; charset=utf-8");
    ASSERT_EQ(h.body.len, 13);
    ASSERT_EQ(scr_warc_http_parse(page2, strlen(page2), 1 << 20, &h, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(h.status, 404);
    ASSERT_EQ(scr_warc_http_parse(page1, strlen(page1), 5, &h, err, sizeof(err)), SCR_ETOOBIG);
    ASSERT_EQ(scr_warc_http_parse("garbage", 7, 100, &h, err, sizeof(err)), SCR_EPARSE);
    scr_warc_http_release(&h);
}

/* Chunked and gzip, as wget keeps a response off the wire. */
TEST(http_chunked_gzip)
{
    const char *body = "<html><title>Zipped</title><body>hello hello hello</body></html>";
    struct scr_buf gz, msg;
    struct scr_warc_http h;
    char err[256];
    size_t half;

    scr_buf_init(&gz);
    scr_buf_init(&msg);
    gz_member(&gz, body, strlen(body));
    half = gz.len / 2;
    scr_buf_puts(&msg, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                       "Content-Encoding: gzip\r\nContent-Type: text/html\r\n\r\n");
    scr_buf_printf(&msg, "%zx;ext=1\r\n", half);
    scr_buf_append(&msg, gz.data, half);
    scr_buf_printf(&msg, "\r\n%zX\r\n", gz.len - half);
    scr_buf_append(&msg, gz.data + half, gz.len - half);
    scr_buf_puts(&msg, "\r\n0\r\n\r\n");
    scr_warc_http_init(&h);
    ASSERT_EQ(scr_warc_http_parse(msg.data, msg.len, 1 << 20, &h, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(h.body.len, strlen(body));
    ASSERT_MEM_EQ(h.body.data, body, strlen(body));
    ASSERT_STR_EQ(h.content_encoding, "gzip");
    /* a cap below the decoded size */
    ASSERT_EQ(scr_warc_http_parse(msg.data, msg.len, 10, &h, err, sizeof(err)), SCR_ETOOBIG);
    /* a chunk longer than what is left */
    msg.len -= 12;
    ASSERT_EQ(scr_warc_http_parse(msg.data, msg.len, 1 << 20, &h, err, sizeof(err)), SCR_EPARSE);
    /* scrape's own writer: decoded already */
    scr_buf_reset(&msg);
    scr_buf_printf(&msg, "HTTP/1.1 200 OK\r\nX-Crawler-Content-Encoding: gzip\r\n\r\n%s", body);
    ASSERT_EQ(scr_warc_http_parse(msg.data, msg.len, 1 << 20, &h, err, sizeof(err)), SCR_OK);
    ASSERT_MEM_EQ(h.body.data, body, strlen(body));
    /* br is not supported: refused with the reason */
    scr_buf_reset(&msg);
    scr_buf_puts(&msg, "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n\r\nxx");
    ASSERT_EQ(scr_warc_http_parse(msg.data, msg.len, 1 << 20, &h, err, sizeof(err)), SCR_EPARSE);
    ASSERT(strstr(err, "br") != NULL);
    scr_warc_http_release(&h);
    scr_buf_release(&gz);
    scr_buf_release(&msg);
}

/* deflate as zlib stream and as raw deflate. */
TEST(http_deflate)
{
    const char *body = "deflated body deflated body";
    unsigned char z[256];
    uLongf zl = sizeof(z);
    struct scr_buf msg;
    struct scr_warc_http h;
    char err[256];

    ASSERT_EQ(compress(z, &zl, (const Bytef *)body, strlen(body)), Z_OK);
    scr_buf_init(&msg);
    scr_buf_puts(&msg, "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n");
    scr_buf_append(&msg, z, zl);
    scr_warc_http_init(&h);
    ASSERT_EQ(scr_warc_http_parse(msg.data, msg.len, 1 << 20, &h, err, sizeof(err)), SCR_OK);
    ASSERT_EQ(h.body.len, strlen(body));
    /* raw: the zlib header (2 bytes) and trailer (4) off */
    scr_buf_reset(&msg);
    scr_buf_puts(&msg, "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n");
    scr_buf_append(&msg, z + 2, zl - 6);
    ASSERT_EQ(scr_warc_http_parse(msg.data, msg.len, 1 << 20, &h, err, sizeof(err)), SCR_OK);
    ASSERT_MEM_EQ(h.body.data, body, strlen(body));
    scr_warc_http_release(&h);
    scr_buf_release(&msg);
}

int main(void)
{
    snprintf(path, sizeof(path), "/tmp/test_warc_read.%d.warc", (int)getpid());
    RUN(gzip_members_11);
    RUN(gzip_members_10);
    RUN(plain_10);
    RUN(plain_11);
    RUN(one_member);
    RUN(damaged_and_truncated);
    RUN(garbage);
    RUN(tiny_gzip);
    RUN(http_plain);
    RUN(http_chunked_gzip);
    RUN(http_deflate);
    unlink(path);
    return 0;
}
