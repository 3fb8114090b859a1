/* warc_read.c - a streaming WARC reader (warc_read.h) and the HTTP messages in its records.
 *
 * The file is read through one byte source: plain bytes, or the output of zlib's inflate over
 * one gzip member at a time (a member ends with Z_STREAM_END; the next must begin with the
 * gzip magic).  Records are parsed from that stream: a "WARC/1.x" line, header lines up to an
 * empty line (at most SCR_WARC_HEADER_MAX bytes), Content-Length bytes of block, CRLF CRLF.
 * A record's offset is its member's first byte when it starts a member; its length is known
 * when it ends its member (one record per member, the common layout).
 *
 * Invariants: in[in_pos, in_len) is compressed input not yet given to inflate, in_off the
 * file offset of in[0]; out[out_pos, out_len) is decoded output of the current member (gzip)
 * or file bytes (plain) not yet consumed; mpos counts what was consumed of the current member
 * (gzip) or of the file (plain).  After a damaged member or record, `sync` is set and the
 * next read starts at the next gzip magic (gzip) or the next line starting "WARC/1." (plain).
 */
#include "common/warc_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/error.h"

#define CHUNK 65536

struct scr_warc_reader {
    FILE *f;
    int gz;
    unsigned char in[CHUNK];
    size_t in_pos, in_len;
    uint64_t in_off;
    z_stream z;
    int z_ready;                 /* inflateInit2 done */
    int member_ended;            /* the current member reached Z_STREAM_END */
    int at_eof;                  /* no member follows the current one */
    uint64_t member_start, member_end;
    unsigned char out[CHUNK];
    size_t out_pos, out_len;
    uint64_t mpos;
    int sync;                    /* after damage: find the next record first */
    int damaged;                 /* the byte source failed: errmsg says why */
    char errmsg[256];
};

void scr_warc_record_init(struct scr_warc_record *r)
{
    memset(r, 0, sizeof(*r));
    scr_buf_init(&r->block);
}

void scr_warc_record_release(struct scr_warc_record *r)
{
    free(r->version);
    free(r->type);
    free(r->target_uri);
    free(r->date);
    free(r->record_id);
    free(r->content_type);
    free(r->refers_to);
    scr_buf_release(&r->block);
    scr_warc_record_init(r);
}

/* err gets fmt with a string (often "") and an offset; a macro so fmt stays a literal. */
#define set_err(err, errlen, fmt, a, off) \
    snprintf((err), (errlen), (fmt), (a), (unsigned long long)(off))

int scr_warc_reader_open_stream(struct scr_warc_reader **out, FILE *f, char *err, size_t errlen)
{
    struct scr_warc_reader *w;
    unsigned char magic[2];
    size_t n;

    *out = NULL;
    w = scr_xcalloc(1, sizeof(*w));
    w->f = f;
    n = fread(magic, 1, 2, w->f);
    w->gz = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    rewind(w->f);
    if (w->gz) {
        if (inflateInit2(&w->z, 15 + 16) != Z_OK) {
            snprintf(err, errlen, "zlib cannot start");
            fclose(w->f);
            free(w);
            return SCR_ENOMEM;
        }
        w->z_ready = 1;
    }
    *out = w;
    return SCR_OK;
}

int scr_warc_reader_open(struct scr_warc_reader **out, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");

    *out = NULL;
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return SCR_EIO;
    }
    return scr_warc_reader_open_stream(out, f, err, errlen);
}

void scr_warc_reader_close(struct scr_warc_reader *w)
{
    if (!w)
        return;
    if (w->z_ready)
        inflateEnd(&w->z);
    fclose(w->f);
    free(w);
}

/* Starts reading at file offset off: buffers emptied, a new member begins there. */
static int restart_at(struct scr_warc_reader *w, uint64_t off)
{
    if (fseeko(w->f, (off_t)off, SEEK_SET) != 0)
        return SCR_EIO;
    w->in_pos = w->in_len = 0;
    w->in_off = off;
    w->out_pos = w->out_len = 0;
    w->member_ended = w->at_eof = w->damaged = 0;
    w->member_start = off;
    w->mpos = w->gz ? 0 : off;
    if (w->gz)
        inflateReset(&w->z);
    return SCR_OK;
}

int scr_warc_seek(struct scr_warc_reader *w, uint64_t offset, char *err, size_t errlen)
{
    w->sync = 0;
    if (restart_at(w, offset) != SCR_OK) {
        set_err(err, errlen, "cannot seek%s to offset %llu", "", offset);
        return SCR_EIO;
    }
    return SCR_OK;
}

static int fill_in(struct scr_warc_reader *w)
{
    if (w->in_pos < w->in_len)
        return 1;
    w->in_off += w->in_len;
    w->in_pos = 0;
    w->in_len = fread(w->in, 1, sizeof(w->in), w->f);
    return w->in_len > 0;
}

/* Makes decoded bytes of the current member available.  Returns the count, 0 when the member
 * (or plain file) ended, -1 when damaged (errmsg set). */
static long fill_member(struct scr_warc_reader *w)
{
    if (w->damaged)
        return -1;
    if (w->out_pos < w->out_len)
        return (long)(w->out_len - w->out_pos);
    w->out_pos = w->out_len = 0;
    if (!w->gz) {
        w->out_len = fread(w->out, 1, sizeof(w->out), w->f);
        return (long)w->out_len;
    }
    while (!w->member_ended) {
        int ret;
        if (!fill_in(w)) {
            snprintf(w->errmsg, sizeof(w->errmsg),
                     "truncated gzip member at offset %llu (the file ends inside it)",
                     (unsigned long long)w->member_start);
            w->damaged = 1;
            return -1;
        }
        w->z.next_in = w->in + w->in_pos;
        w->z.avail_in = (uInt)(w->in_len - w->in_pos);
        w->z.next_out = w->out;
        w->z.avail_out = sizeof(w->out);
        ret = inflate(&w->z, Z_NO_FLUSH);
        w->in_pos = w->in_len - w->z.avail_in;
        w->out_len = sizeof(w->out) - w->z.avail_out;
        if (ret == Z_STREAM_END) {
            w->member_ended = 1;
            w->member_end = w->in_off + w->in_pos;
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            snprintf(w->errmsg, sizeof(w->errmsg), "damaged gzip member at offset %llu (%s)",
                     (unsigned long long)w->member_start, w->z.msg ? w->z.msg : "zlib error");
            w->damaged = 1;
            w->out_len = 0;
            return -1;
        }
        if (w->out_len)
            return (long)w->out_len;
    }
    return 0;
}

/* Begins the member after the current one.  Returns 1, 0 at the end of the file, -1 when
 * what follows is no gzip member (errmsg set). */
static int next_member(struct scr_warc_reader *w)
{
    if (!w->gz || w->at_eof)
        return 0;
    if (!fill_in(w)) {
        w->at_eof = 1;
        return 0;
    }
    if (w->in[w->in_pos] != 0x1f) {
        snprintf(w->errmsg, sizeof(w->errmsg), "no gzip member at offset %llu",
                 (unsigned long long)(w->in_off + w->in_pos));
        w->damaged = 1;
        return -1;
    }
    inflateReset(&w->z);
    w->member_ended = 0;
    w->member_start = w->in_off + w->in_pos;
    w->mpos = 0;
    return 1;
}

/* The next byte (consumed), -1 at the end, -2 when damaged. */
static int src_get(struct scr_warc_reader *w)
{
    for (;;) {
        long n = fill_member(w);
        int m;
        if (n > 0) {
            w->mpos++;
            return w->out[w->out_pos++];
        }
        if (n < 0)
            return -2;
        m = next_member(w);
        if (m <= 0)
            return m < 0 ? -2 : -1;
    }
}

static int src_peek(struct scr_warc_reader *w)
{
    for (;;) {
        long n = fill_member(w);
        int m;
        if (n > 0)
            return w->out[w->out_pos];
        if (n < 0)
            return -2;
        m = next_member(w);
        if (m <= 0)
            return m < 0 ? -2 : -1;
    }
}

/* Reads n bytes into b (NULL: discards them).  0, -1 at a premature end, -2 when damaged. */
static int src_read(struct scr_warc_reader *w, uint64_t n, struct scr_buf *b)
{
    while (n > 0) {
        long avail = fill_member(w);
        size_t k;
        if (avail == 0) {
            int m = next_member(w);
            if (m <= 0)
                return m < 0 ? -2 : -1;
            continue;
        }
        if (avail < 0)
            return -2;
        k = (uint64_t)avail < n ? (size_t)avail : (size_t)n;
        if (b && scr_buf_append(b, w->out + w->out_pos, k) != SCR_OK)
            return -2;
        w->out_pos += k;
        w->mpos += k;
        n -= k;
    }
    return 0;
}

/* After damage: gzip files go on at the next gzip magic after the damaged member's start. */
static void resync_gz(struct scr_warc_reader *w)
{
    uint64_t from = w->member_start + 1;
    unsigned char buf[CHUNK];
    size_t n, keep = 0;

    if (fseeko(w->f, (off_t)from, SEEK_SET) != 0) {
        w->at_eof = 1;
        return;
    }
    for (;;) {
        n = fread(buf + keep, 1, sizeof(buf) - keep, w->f);
        if (n == 0)
            break;
        n += keep;
        for (size_t i = 0; i + 2 < n; i++) {
            if (buf[i] == 0x1f && buf[i + 1] == 0x8b && buf[i + 2] == 0x08) {
                restart_at(w, from + i);
                return;
            }
        }
        /* keep the last two bytes (fewer in a tiny file): a magic may straddle the chunks */
        keep = n < 2 ? n : 2;
        memmove(buf, buf + n - keep, keep);
        from += n - keep;
    }
    restart_at(w, from + keep);
    w->at_eof = 1;
    w->member_ended = 1;
}

/* Reads one line (CRLF or LF) into line (NUL-terminated, without the end); cap bounds it.
 * Returns its length, -1 at the end, -2 damaged, -3 over cap. */
static long read_line(struct scr_warc_reader *w, char *line, size_t cap)
{
    size_t n = 0;
    int c;

    for (;;) {
        c = src_get(w);
        if (c < 0)
            return n ? (c == -1 ? (long)n : c) : c;
        if (c == '\n')
            break;
        if (n + 1 >= cap)
            return -3;
        line[n++] = (char)c;
    }
    if (n && line[n - 1] == '\r')
        n--;
    line[n] = '\0';
    return (long)n;
}

static char *trim_dup(const char *v)
{
    size_t n;

    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return scr_xmemdup0(v, n);
}

static void set_field(char **slot, const char *v)
{
    free(*slot);
    *slot = trim_dup(v);
}

/* Skips to the start of the next record: blank lines, and after damage anything before a
 * line that starts "WARC/1.".  Records offset details in rec.  -1 at the end. */
static int find_start(struct scr_warc_reader *w, struct scr_warc_record *rec)
{
    int c, line_start = 1;

    for (;;) {
        c = src_peek(w);
        if (c < 0)
            return c;
        if (c == 'W' && line_start) {
            rec->has_offset = !w->gz || w->mpos == 0;
            rec->offset = w->gz ? w->member_start : w->mpos;
            if (!w->sync)
                return 0;
            /* after damage only a real "WARC/" line counts; in a gzip file a new member */
            if (!w->gz || w->mpos == 0) {
                w->sync = 0;
                return 0;
            }
        }
        if (!w->sync && c != '\r' && c != '\n')
            return 0; /* not a record: the caller reports it */
        c = src_get(w);
        line_start = c == '\n';
    }
}

int scr_warc_next(struct scr_warc_reader *w, struct scr_warc_record *rec, size_t max_block,
                  char *err, size_t errlen)
{
    char *line = scr_xmalloc(SCR_WARC_HEADER_MAX);
    size_t header_bytes = 0;
    int have_len = 0, rc = SCR_EPARSE, r;
    long n;
    uint64_t start;

    scr_warc_record_release(rec);
    if (w->damaged) {
        if (w->gz)
            resync_gz(w);
        w->damaged = 0;
        w->sync = 1;
    }
    r = find_start(w, rec);
    if (r == -1 && !w->damaged) {
        rc = SCR_ENOTFOUND;
        goto out;
    }
    if (r < 0)
        goto damaged;
    start = rec->offset;
    n = read_line(w, line, SCR_WARC_HEADER_MAX);
    if (n < 0)
        goto damaged_or_short;
    if (strncmp(line, "WARC/", 5) != 0) {
        set_err(err, errlen, "no WARC record at offset %s%llu (it starts with something else)",
                "", start);
        goto bad;
    }
    rec->version = scr_xstrdup(line);
    for (;;) {
        char *colon;
        n = read_line(w, line, SCR_WARC_HEADER_MAX);
        if (n < 0)
            goto damaged_or_short;
        header_bytes += (size_t)n + 2;
        if (header_bytes > SCR_WARC_HEADER_MAX) {
            set_err(err, errlen, "the WARC record at offset %s%llu has a header over 64 KiB",
                    "", start);
            goto bad;
        }
        if (n == 0)
            break;
        colon = strchr(line, ':');
        if (!colon || line[0] == ' ' || line[0] == '\t')
            continue; /* a continuation line or junk: nothing we read is folded */
        *colon = '\0';
        if (strcasecmp(line, "WARC-Type") == 0) {
            set_field(&rec->type, colon + 1);
        } else if (strcasecmp(line, "WARC-Target-URI") == 0) {
            char *v = trim_dup(colon + 1);
            size_t vl = strlen(v);
            free(rec->target_uri);
            if (vl >= 2 && v[0] == '<' && v[vl - 1] == '>') {
                rec->target_uri = scr_xmemdup0(v + 1, vl - 2);
                free(v);
            } else {
                rec->target_uri = v;
            }
        } else if (strcasecmp(line, "WARC-Date") == 0) {
            set_field(&rec->date, colon + 1);
        } else if (strcasecmp(line, "WARC-Record-ID") == 0) {
            set_field(&rec->record_id, colon + 1);
        } else if (strcasecmp(line, "Content-Type") == 0) {
            set_field(&rec->content_type, colon + 1);
        } else if (strcasecmp(line, "WARC-Refers-To") == 0) {
            set_field(&rec->refers_to, colon + 1);
        } else if (strcasecmp(line, "Content-Length") == 0) {
            char *end;
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            errno = 0;
            rec->content_length = strtoull(v, &end, 10);
            while (*end == ' ' || *end == '\t')
                end++;
            if (errno || end == v || *end || *v == '-') {
                set_err(err, errlen, "the WARC record at offset %s%llu has a bad Content-Length",
                        "", start);
                goto bad;
            }
            have_len = 1;
        }
    }
    if (!have_len) {
        set_err(err, errlen, "the WARC record at offset %s%llu has no Content-Length", "",
                start);
        goto bad;
    }
    if (rec->content_length > max_block) {
        rec->skipped = 1;
        r = src_read(w, rec->content_length, NULL);
    } else {
        r = src_read(w, rec->content_length, &rec->block);
    }
    if (r < 0)
        goto damaged_or_short;
    /* the two CRLFs after the block (tolerant: up to four CR or LF bytes) */
    for (int i = 0; i < 4; i++) {
        int c;
        if (fill_member(w) <= 0)
            break; /* within this member only: the next member's offset is not ours */
        c = w->out[w->out_pos];
        if (c != '\r' && c != '\n')
            break;
        w->out_pos++;
        w->mpos++;
    }
    if (w->gz) {
        long more = fill_member(w);
        if (more == 0 && rec->has_offset)
            rec->length = w->member_end - rec->offset;
    } else {
        rec->length = w->mpos - rec->offset;
    }
    if (!rec->type)
        rec->type = scr_xstrdup("");
    if (!rec->target_uri)
        rec->target_uri = scr_xstrdup("");
    if (!rec->date)
        rec->date = scr_xstrdup("");
    if (!rec->record_id)
        rec->record_id = scr_xstrdup("");
    if (!rec->content_type)
        rec->content_type = scr_xstrdup("");
    if (!rec->refers_to)
        rec->refers_to = scr_xstrdup("");
    rc = SCR_OK;
    goto out;
damaged_or_short:
    if (!w->damaged) {
        set_err(err, errlen, "the WARC record at offset %s%llu is cut short (the file ends "
                "inside it)", "", rec->offset);
        rc = SCR_EPARSE;
        w->sync = 1;
        goto out;
    }
damaged:
    snprintf(err, errlen, "%s", w->errmsg);
    rc = SCR_EPARSE;
    goto out;
bad:
    /* a damaged record: go on at the next one (gzip: the next member) */
    if (w->gz)
        w->damaged = 1;
    w->sync = 1;
    rc = SCR_EPARSE;
out:
    free(line);
    return rc;
}
