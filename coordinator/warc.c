/* warc.c - the WARC/1.1 writer (see warc.h; format notes in docs/warc.md).
 *
 * Invariants: fd is open iff a file is current, and then it holds exactly size bytes, all
 * whole gzip members (a record is compressed into memory first and written with one loop of
 * write(2); a failed write leaves the writer broken: every later call fails, so no row ever
 * points past a hole).  part is the name on disk (final + ".part") until the file is
 * completed.  dirty: bytes were written since the last fdatasync.
 *
 * Digests are SHA-1 in base32 ("sha1:..."), what Heritrix, wget, warcio and the Common Crawl
 * write: WARC-Block-Digest over the whole block (HTTP head and payload as stored),
 * WARC-Payload-Digest over the payload (the decoded body).  Record ids are random v4 UUIDs
 * from getrandom(2).
 */
#include "coordinator/warc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/version.h"

struct scr_warc {
    char *dir;            /* absolute */
    char job[96];         /* filename-safe */
    int64_t run_id;
    int64_t max_size;
    char *info;           /* extra warcinfo fields */
    int seq;              /* of the current file, or of the last one */
    int fd;               /* -1: no current file */
    char *final, *part;   /* the current file's names */
    char warcinfo_id[48]; /* its warcinfo record's id */
    int64_t size;
    int dirty;
    int broken;           /* a write failed: refuse everything */
    z_stream z;
    int z_ready;
    struct scr_buf rec, gz;
};

void scr_warc_safe_name(const char *job, char *out, size_t outlen)
{
    size_t n = 0;

    for (const char *p = job ? job : ""; *p && n < 80 && n + 1 < outlen; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        out[n++] = ok ? c : '_';
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, outlen, "job");
    else if (out[0] == '.')
        out[0] = '_';
}

/* SHA-1 of two pieces, as "sha1:" + base32 (RFC 4648, no padding needed: 160 bits). */
static void sha1_two(const void *a, size_t alen, const void *b, size_t blen, char out[38])
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t o = 5;
    uint32_t acc = 0;
    int bits = 0;

    if (!c)
        abort(); /* bookkeeping allocation (common/alloc.h's rule) */
    EVP_DigestInit_ex(c, EVP_sha1(), NULL);
    EVP_DigestUpdate(c, a, alen);
    EVP_DigestUpdate(c, b, blen);
    EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    memcpy(out, "sha1:", 5);
    for (unsigned int i = 0; i < mdlen; i++) { /* 20 bytes = 32 characters */
        acc = acc << 8 | md[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = al[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    out[o] = '\0';
}

void scr_warc_sha1_base32(const void *data, size_t len, char out[38])
{
    sha1_two(data, len, "", 0, out);
}

static void new_uuid(char out[48])
{
    unsigned char r[16];
    size_t got = 0;

    while (got < sizeof(r)) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (errno != EINTR)
            abort(); /* no randomness at all: nothing sensible to do */
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 48,
             "<urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x>",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
             r[13], r[14], r[15]);
}

static void now_date(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Is the header line (name: value) named name? */
static int header_is(const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n > k && line[k] == ':' && strncasecmp(line, name, k) == 0;
}

char *scr_warc_head_rewrite(const char *head, size_t len, size_t body_len, int with_length,
                            size_t *outlen)
{
    static const char *renamed[] = {"Content-Encoding", "Transfer-Encoding", "Content-Length"};
    struct scr_buf b;
    size_t pos = 0;
    int first = 1;

    scr_buf_init(&b);
    while (pos < len) {
        const char *line = head + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) + 1 : len - pos; /* with its line end */
        size_t content = n;

        pos += n;
        while (content && (line[content - 1] == '\n' || line[content - 1] == '\r'))
            content--;
        if (!content) {
            if (first)
                continue;
            break; /* the empty line ends the head (anything after it is not a header) */
        }
        if (!first) {
            for (size_t i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
                if (header_is(line, content, renamed[i])) {
                    scr_buf_puts(&b, "X-Crawler-");
                    break;
                }
        }
        scr_buf_append(&b, line, content);
        scr_buf_puts(&b, "\r\n");
        first = 0;
    }
    if (with_length)
        scr_buf_printf(&b, "Content-Length: %zu\r\n", body_len);
    scr_buf_puts(&b, "\r\n");
    return scr_buf_detach(&b, outlen);
}

/* mkdir -p dir, then its absolute path if it is a writable directory (caller frees), else NULL
 * with the reason in err. */
static char *prepare_dir(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX], *abs;

    if (!dir || !*dir || strlen(dir) >= sizeof(path)) {
        snprintf(err, errlen, "--warc-dir: no directory given, or too long a path");
        return NULL;
    }
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "--warc-dir: cannot create %s: %s", path, strerror(errno));
                return NULL;
            }
            *p = c;
            if (!c)
                break;
        }
    }
    abs = realpath(dir, NULL);
    if (!abs || access(abs, W_OK) != 0) {
        snprintf(err, errlen, "--warc-dir %s is not a writable directory: %s", dir,
                 strerror(errno));
        free(abs);
        return NULL;
    }
    return abs;
}

int scr_warc_check_dir(const char *dir, char *err, size_t errlen)
{
    char *abs = prepare_dir(dir, err, errlen);
    int rc = abs ? SCR_OK : SCR_EIO;

    free(abs);
    return rc;
}

int scr_warc_open(struct scr_warc **out, const char *dir, const char *job, int64_t run_id,
                  int64_t max_size, int gzip_level, const char *info, char *err,
                  size_t errlen)
{
    struct scr_warc *w = NULL;
    char *abs = NULL;
    int rc = SCR_EIO;

    *out = NULL;
    abs = prepare_dir(dir, err, errlen);
    if (!abs)
        goto out;
    w = scr_xcalloc(1, sizeof(*w));
    w->dir = abs;
    abs = NULL;
    scr_warc_safe_name(job, w->job, sizeof(w->job));
    w->run_id = run_id;
    w->max_size = max_size > 0 ? max_size : INT64_MAX;
    w->info = scr_xstrdup(info ? info : "");
    w->seq = -1;
    w->fd = -1;
    scr_buf_init(&w->rec);
    scr_buf_init(&w->gz);
    if (gzip_level < 1 || gzip_level > 9)
        gzip_level = 1;
    if (deflateInit2(&w->z, gzip_level, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        abort(); /* zlib's own allocation: bookkeeping */
    w->z_ready = 1;
    *out = w;
    w = NULL;
    rc = SCR_OK;
out:
    free(abs);
    free(w);
    return rc;
}

int64_t scr_warc_file_size(const struct scr_warc *w)
{
    return w->fd >= 0 ? w->size : 0;
}

/* Compresses w->rec into one gzip member in w->gz. */
static void compress_record(struct scr_warc *w)
{
    uLong bound = deflateBound(&w->z, (uLong)w->rec.len) + 64;

    deflateReset(&w->z);
    scr_buf_reset(&w->gz);
    scr_buf_reserve(&w->gz, bound);
    w->z.next_in = (Bytef *)w->rec.data;
    w->z.avail_in = (uInt)w->rec.len;
    w->z.next_out = (Bytef *)w->gz.data;
    w->z.avail_out = (uInt)bound;
    if (deflate(&w->z, Z_FINISH) != Z_STREAM_END)
        abort(); /* the bound is zlib's own: cannot happen */
    w->gz.len = bound - w->z.avail_out;
}

/* Writes w->gz at the end of the current file; SCR_EIO breaks the writer. */
static int write_member(struct scr_warc *w, char *err, size_t errlen)
{
    size_t done = 0;

    while (done < w->gz.len) {
        ssize_t n = write(w->fd, w->gz.data + done, w->gz.len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "cannot write %s: %s", w->part,
                     n < 0 ? strerror(errno) : "nothing written");
            w->broken = 1;
            return SCR_EIO;
        }
        done += (size_t)n;
    }
    w->size += (int64_t)w->gz.len;
    w->dirty = 1;
    return SCR_OK;
}

/* The named fields every record has, up to (not with) Content-Length. */
static void record_start(struct scr_buf *b, const char *type, const char *id, const char *date)
{
    scr_buf_reset(b);
    scr_buf_printf(b, "WARC/1.1\r\nWARC-Type: %s\r\nWARC-Record-ID: %s\r\nWARC-Date: %s\r\n",
                   type, id, date);
}

static int open_next(struct scr_warc *w, char *err, size_t errlen)
{
    char date[32], fields[1024], host[256] = "";
    const char *base;

    for (int tries = 0; tries < 100000; tries++) {
        struct stat st;
        size_t n;
        w->seq++;
        free(w->final);
        free(w->part);
        n = strlen(w->dir) + strlen(w->job) + 64;
        w->final = scr_xmalloc(n);
        snprintf(w->final, n, "%s/%s-%lld-%05d.warc.gz", w->dir, w->job, (long long)w->run_id,
                 w->seq);
        n += 8;
        w->part = scr_xmalloc(n);
        snprintf(w->part, n, "%s.part", w->final);
        if (stat(w->final, &st) == 0)
            continue; /* a store restarted within the run: the name is taken */
        w->fd = open(w->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (w->fd >= 0)
            break;
        if (errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", w->part, strerror(errno));
            w->broken = 1;
            return SCR_EIO;
        }
    }
    if (w->fd < 0) {
        snprintf(err, errlen, "no free WARC file name in %s", w->dir);
        w->broken = 1;
        return SCR_EIO;
    }
    w->size = 0;
    new_uuid(w->warcinfo_id);
    now_date(date);
    base = strrchr(w->final, '/') + 1;
    gethostname(host, sizeof(host) - 1);
    snprintf(fields, sizeof(fields),
             "software: scrape/%s\r\n"
             "format: WARC File Format 1.1\r\n"
             "conformsTo: http://iipc.github.io/warc-specifications/specifications/"
             "warc-format/warc-1.1/\r\n"
             "hostname: %s\r\n"
             "isPartOf: %s\r\n"
             "scrape-run-id: %lld\r\n",
             SCR_VERSION, host, w->job, (long long)w->run_id);
    record_start(&w->rec, "warcinfo", w->warcinfo_id, date);
    scr_buf_printf(&w->rec,
                   "WARC-Filename: %s\r\nContent-Type: application/warc-fields\r\n"
                   "Content-Length: %zu\r\n\r\n%s%s\r\n\r\n",
                   base, strlen(fields) + strlen(w->info), fields, w->info);
    compress_record(w);
    return write_member(w, err, errlen);
}

/* Completes the current file: fdatasync, close, rename .part to the final name, fsync of the
 * directory (so the rename survives a crash). */
static int finish_file(struct scr_warc *w, char *err, size_t errlen)
{
    int rc = SCR_OK, dfd;

    if (w->fd < 0)
        return SCR_OK;
    if (fdatasync(w->fd) != 0 && rc == SCR_OK) {
        snprintf(err, errlen, "cannot sync %s: %s", w->part, strerror(errno));
        rc = SCR_EIO;
    }
    if (close(w->fd) != 0 && rc == SCR_OK) {
        snprintf(err, errlen, "cannot close %s: %s", w->part, strerror(errno));
        rc = SCR_EIO;
    }
    w->fd = -1;
    w->dirty = 0;
    if (rc == SCR_OK && rename(w->part, w->final) != 0) {
        snprintf(err, errlen, "cannot rename %s: %s", w->part, strerror(errno));
        rc = SCR_EIO;
    }
    dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    if (rc)
        w->broken = 1;
    return rc;
}

int scr_warc_write(struct scr_warc *w, const struct scr_warc_exchange *x, char **file,
                   int64_t *offset, int64_t *length, char *err, size_t errlen)
{
    char id[48], req_id[48], date[32], block_digest[38], payload_digest[38];
    char *head = NULL;
    size_t head_len = 0;
    int revisit = x->kind != SCR_WARC_RESPONSE;
    int rc;

    *file = NULL;
    if (w->broken) {
        snprintf(err, errlen, "the WARC writer stopped after an earlier error");
        return SCR_EIO;
    }
    if (w->fd >= 0 && w->size >= w->max_size && (rc = finish_file(w, err, errlen)))
        return rc;
    if (w->fd < 0 && (rc = open_next(w, err, errlen)))
        return rc;
    if (x->date)
        snprintf(date, sizeof(date), "%s", x->date);
    else
        now_date(date);
    new_uuid(id);
    /* revisits hold the head only; a 304 has no Content-Length of its own to add */
    head = scr_warc_head_rewrite(x->head, x->head_len, x->payload_len,
                                 x->kind == SCR_WARC_RESPONSE, &head_len);
    sha1_two(head, head_len, revisit ? "" : x->payload, revisit ? 0 : x->payload_len,
             block_digest);
    scr_warc_sha1_base32(x->payload ? x->payload : "", x->payload_len, payload_digest);

    record_start(&w->rec, revisit ? "revisit" : "response", id, date);
    scr_buf_printf(&w->rec, "WARC-Target-URI: %s\r\nWARC-Warcinfo-ID: %s\r\n", x->uri,
                   w->warcinfo_id);
    if (x->kind == SCR_WARC_REVISIT_IDENTICAL)
        scr_buf_puts(&w->rec, "WARC-Profile: http://netpreserve.org/warc/1.1/revisit/"
                              "identical-payload-digest\r\n");
    else if (x->kind == SCR_WARC_REVISIT_NOT_MODIFIED)
        scr_buf_puts(&w->rec, "WARC-Profile: http://netpreserve.org/warc/1.1/revisit/"
                              "server-not-modified\r\n");
    if (revisit && x->refers_to_uri && *x->refers_to_uri)
        scr_buf_printf(&w->rec, "WARC-Refers-To-Target-URI: %s\r\n", x->refers_to_uri);
    if (revisit && x->refers_to_date && *x->refers_to_date)
        scr_buf_printf(&w->rec, "WARC-Refers-To-Date: %s\r\n", x->refers_to_date);
    if (x->kind != SCR_WARC_REVISIT_NOT_MODIFIED)
        scr_buf_printf(&w->rec, "WARC-Payload-Digest: %s\r\n", payload_digest);
    scr_buf_printf(&w->rec, "WARC-Block-Digest: %s\r\n", block_digest);
    if (x->truncated && !revisit)
        scr_buf_printf(&w->rec, "WARC-Truncated: %s\r\n", x->truncated);
    scr_buf_printf(&w->rec, "Content-Type: application/http; msgtype=response\r\n"
                            "Content-Length: %zu\r\n\r\n",
                   head_len + (revisit ? 0 : x->payload_len));
    scr_buf_append(&w->rec, head, head_len);
    if (!revisit && x->payload_len)
        scr_buf_append(&w->rec, x->payload, x->payload_len);
    scr_buf_puts(&w->rec, "\r\n\r\n");
    compress_record(w);
    *offset = w->size;
    *length = (int64_t)w->gz.len;
    if ((rc = write_member(w, err, errlen)))
        goto out;

    if (x->request_len) {
        new_uuid(req_id);
        sha1_two(x->request, x->request_len, "", 0, block_digest);
        record_start(&w->rec, "request", req_id, date);
        scr_buf_printf(&w->rec,
                       "WARC-Target-URI: %s\r\nWARC-Warcinfo-ID: %s\r\nWARC-Concurrent-To: %s\r\n"
                       "WARC-Block-Digest: %s\r\n"
                       "Content-Type: application/http; msgtype=request\r\n"
                       "Content-Length: %zu\r\n\r\n",
                       x->uri, w->warcinfo_id, id, block_digest, x->request_len);
        scr_buf_append(&w->rec, x->request, x->request_len);
        scr_buf_puts(&w->rec, "\r\n\r\n");
        compress_record(w);
        if ((rc = write_member(w, err, errlen)))
            goto out;
    }
    *file = scr_xstrdup(w->final);
out:
    free(head);
    return rc;
}

int scr_warc_sync(struct scr_warc *w, char *err, size_t errlen)
{
    if (w->broken) {
        snprintf(err, errlen, "the WARC writer stopped after an earlier error");
        return SCR_EIO;
    }
    if (w->fd < 0 || !w->dirty)
        return SCR_OK;
    if (fdatasync(w->fd) != 0) {
        snprintf(err, errlen, "cannot sync %s: %s", w->part, strerror(errno));
        w->broken = 1;
        return SCR_EIO;
    }
    w->dirty = 0;
    return SCR_OK;
}

int scr_warc_close(struct scr_warc *w, char *err, size_t errlen)
{
    int rc;

    if (!w)
        return SCR_OK;
    rc = finish_file(w, err, errlen);
    if (w->z_ready)
        deflateEnd(&w->z);
    scr_buf_release(&w->rec);
    scr_buf_release(&w->gz);
    free(w->dir);
    free(w->info);
    free(w->final);
    free(w->part);
    free(w);
    return rc;
}
