/* warc_http.c - the HTTP response inside a WARC response record (warc_read.h).
 *
 * The block is the response as it came off the wire (wget, Heritrix) or as scrape's writer
 * keeps it (Transfer-Encoding dropped, Content-Encoding renamed X-Crawler-Content-Encoding
 * because the body is stored decoded).  So the body is de-chunked when Transfer-Encoding
 * says chunked, then decoded when Content-Encoding says gzip, x-gzip or deflate (zlib or raw
 * deflate, as browsers accept both).  Every step is bounded by max_body decoded bytes, and
 * every length read from the block is checked against what is left of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/warc_read.h"

void scr_warc_http_init(struct scr_warc_http *h)
{
    memset(h, 0, sizeof(*h));
    scr_buf_init(&h->body);
}

void scr_warc_http_release(struct scr_warc_http *h)
{
    free(h->content_type);
    free(h->content_encoding);
    scr_buf_release(&h->body);
    scr_warc_http_init(h);
}

/* The line at *p (CRLF or LF), within end: its start and length; *p moves past it.  0 when no
 * line end is left. */
static int next_line(const char **p, const char *end, const char **line, size_t *len)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));

    if (!nl)
        return 0;
    *line = *p;
    *len = (size_t)(nl - *p);
    if (*len && (*line)[*len - 1] == '\r')
        (*len)--;
    *p = nl + 1;
    return 1;
}

static char *value_dup(const char *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return scr_xmemdup0(v, n);
}

/* 1 when the comma-separated list v names tok (case-insensitive). */
static int has_token(const char *v, const char *tok)
{
    size_t tl = strlen(tok);

    while (*v) {
        size_t n;
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        n = strcspn(v, ", \t;");
        if (n == tl && strncasecmp(v, tok, n) == 0)
            return 1;
        v += n;
        v += strcspn(v, ",");
    }
    return 0;
}

/* De-chunks [p, end) into out (at most max bytes). */
static int dechunk(const char *p, const char *end, size_t max, struct scr_buf *out, char *err,
                   size_t errlen)
{
    for (;;) {
        const char *line;
        size_t len;
        unsigned long long size = 0;
        size_t i;

        if (!next_line(&p, end, &line, &len)) {
            snprintf(err, errlen, "chunked body cut short (no chunk size line)");
            return SCR_EPARSE;
        }
        for (i = 0; i < len; i++) {
            char c = line[i];
            int d = c >= '0' && c <= '9' ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                break;
            if (size > (1ULL << 40)) {
                snprintf(err, errlen, "chunk size too large");
                return SCR_EPARSE;
            }
            size = size * 16 + (unsigned)d;
        }
        if (i == 0) {
            snprintf(err, errlen, "bad chunk size line");
            return SCR_EPARSE;
        }
        if (size == 0)
            return SCR_OK; /* trailers, if any, are ignored */
        if (size > (unsigned long long)(end - p)) {
            snprintf(err, errlen, "chunked body cut short (a chunk of %llu bytes, %zu left)",
                     size, (size_t)(end - p));
            return SCR_EPARSE;
        }
        if (out->len + size > max) {
            snprintf(err, errlen, "the body is over --max-body (%zu bytes)", max);
            return SCR_ETOOBIG;
        }
        scr_buf_append(out, p, (size_t)size);
        p += size;
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n')
            p++;
    }
}

/* Inflates in (gzip, zlib or raw deflate by window_bits) into out, at most max bytes. */
static int inflate_all(const char *in, size_t inlen, int window_bits, size_t max,
                       struct scr_buf *out, char *err, size_t errlen)
{
    z_stream z;
    unsigned char chunk[16384];
    int ret, rc = SCR_OK;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, window_bits) != Z_OK) {
        snprintf(err, errlen, "zlib cannot start");
        return SCR_ENOMEM;
    }
    z.next_in = (unsigned char *)(uintptr_t)in;
    z.avail_in = (uInt)inlen;
    do {
        size_t got;
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        ret = inflate(&z, Z_NO_FLUSH);
        got = sizeof(chunk) - z.avail_out;
        if (ret != Z_OK && ret != Z_STREAM_END && !(ret == Z_BUF_ERROR && got)) {
            snprintf(err, errlen, "the compressed body is damaged (%s)",
                     z.msg ? z.msg : (ret == Z_BUF_ERROR ? "cut short" : "zlib error"));
            rc = SCR_EPARSE;
            break;
        }
        if (out->len + got > max) {
            snprintf(err, errlen, "the decoded body is over --max-body (%zu bytes)", max);
            rc = SCR_ETOOBIG;
            break;
        }
        scr_buf_append(out, chunk, got);
    } while (ret != Z_STREAM_END);
    inflateEnd(&z);
    return rc;
}

int scr_warc_http_parse(const char *block, size_t len, size_t max_body, struct scr_warc_http *h,
                        char *err, size_t errlen)
{
    const char *p = block, *end = block + len, *line;
    size_t n;
    int chunked = 0, rc = SCR_OK;
    char *te = NULL, *ce = NULL;
    struct scr_buf raw;

    scr_warc_http_release(h);
    scr_buf_init(&raw);
    if (!next_line(&p, end, &line, &n) || n < 12 || strncmp(line, "HTTP/", 5) != 0) {
        snprintf(err, errlen, "the record holds no HTTP response (no status line)");
        rc = SCR_EPARSE;
        goto out;
    }
    {
        const char *sp = memchr(line, ' ', n);
        int st = 0, digits = 0;
        for (sp = sp ? sp + 1 : line + n; sp < line + n && *sp >= '0' && *sp <= '9' &&
                                          digits < 3; sp++, digits++)
            st = st * 10 + (*sp - '0');
        if (digits != 3) {
            snprintf(err, errlen, "the record's HTTP status line has no status code");
            rc = SCR_EPARSE;
            goto out;
        }
        h->status = st;
    }
    for (;;) {
        const char *colon;
        size_t name;
        if (!next_line(&p, end, &line, &n)) {
            snprintf(err, errlen, "the record's HTTP headers are cut short");
            rc = SCR_EPARSE;
            goto out;
        }
        if (n == 0)
            break;
        colon = memchr(line, ':', n);
        if (!colon)
            continue;
        name = (size_t)(colon - line);
#define IS(hdr) (name == sizeof(hdr) - 1 && strncasecmp(line, hdr, name) == 0)
        if (IS("Content-Type") && !h->content_type) {
            h->content_type = value_dup(colon + 1, n - name - 1);
        } else if (IS("Transfer-Encoding")) {
            free(te);
            te = value_dup(colon + 1, n - name - 1);
        } else if (IS("Content-Encoding")) {
            free(ce);
            ce = value_dup(colon + 1, n - name - 1);
        }
#undef IS
    }
    if (!h->content_type)
        h->content_type = scr_xstrdup("");
    chunked = te && has_token(te, "chunked");
    if (chunked) {
        rc = dechunk(p, end, ce && *ce && strcasecmp(ce, "identity") ? (size_t)-1 / 2 : max_body,
                     &raw, err, errlen);
        if (rc)
            goto out;
        p = raw.data ? raw.data : "";
        end = p + raw.len;
    }
    if (!ce || !*ce || strcasecmp(ce, "identity") == 0) {
        h->content_encoding = scr_xstrdup("");
        if ((size_t)(end - p) > max_body) {
            snprintf(err, errlen, "the body is over --max-body (%zu bytes)", max_body);
            rc = SCR_ETOOBIG;
            goto out;
        }
        scr_buf_append(&h->body, p, (size_t)(end - p));
    } else if (strcasecmp(ce, "gzip") == 0 || strcasecmp(ce, "x-gzip") == 0) {
        h->content_encoding = scr_xstrdup(ce);
        rc = inflate_all(p, (size_t)(end - p), 15 + 16, max_body, &h->body, err, errlen);
    } else if (strcasecmp(ce, "deflate") == 0) {
        /* zlib-wrapped as the standard says, raw deflate as some servers send it */
        h->content_encoding = scr_xstrdup(ce);
        rc = inflate_all(p, (size_t)(end - p), 15, max_body, &h->body, err, errlen);
        if (rc == SCR_EPARSE) {
            scr_buf_reset(&h->body);
            rc = inflate_all(p, (size_t)(end - p), -15, max_body, &h->body, err, errlen);
        }
    } else {
        snprintf(err, errlen, "Content-Encoding '%.40s' is not supported (gzip, x-gzip and "
                 "deflate are)", ce);
        rc = SCR_EPARSE;
    }
out:
    if (!h->content_type)
        h->content_type = scr_xstrdup("");
    if (!h->content_encoding)
        h->content_encoding = scr_xstrdup("");
    free(te);
    free(ce);
    scr_buf_release(&raw);
    return rc;
}
