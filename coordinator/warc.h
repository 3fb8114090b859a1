/* warc.h - the WARC writer: rank 0 keeps every fetched response in WARC/1.1 files (ISO 28500).
 *
 * One writer per run (the store thread's; not thread-safe).  Files are
 * DIR/<job>-<run_id>-<seq>.warc.gz (job made filename-safe, seq 5 digits from 00000), written
 * as that name + ".part" and renamed when complete (rotation past max_size, or close).  Each
 * record is one gzip member; each file opens with a warcinfo record.  A fetch is a response
 * (or revisit) record followed by its request record (WARC-Concurrent-To the response).
 * Durability: scr_warc_sync() makes everything written so far reach the disk (fdatasync);
 * the caller syncs before it commits the rows that point into the file.  Format details:
 * docs/warc.md.
 */
#ifndef SCR_WARC_H
#define SCR_WARC_H

#include <stddef.h>
#include <stdint.h>

enum scr_warc_kind {
    SCR_WARC_RESPONSE = 0,        /* the whole exchange: head and body */
    SCR_WARC_REVISIT_IDENTICAL,   /* same payload digest as an earlier response: head only */
    SCR_WARC_REVISIT_NOT_MODIFIED /* a 304: head only */
};

/* One HTTP exchange to archive; every pointer borrowed for the call.  Binary fields may hold
 * NUL bytes. */
struct scr_warc_exchange {
    enum scr_warc_kind kind;
    const char *uri;              /* WARC-Target-URI */
    const char *date;             /* WARC-Date, "YYYY-MM-DDThh:mm:ssZ"; NULL = now */
    const char *request;          /* the request line and headers as sent; may be empty */
    size_t request_len;
    const char *head;             /* the status line and headers as received */
    size_t head_len;
    const char *payload;          /* the decoded body */
    size_t payload_len;
    const char *truncated;        /* WARC-Truncated's reason when the body is not whole:
                                   * "length" (cut at --max-body), "time" (the transfer timed
                                   * out), "disconnect"; NULL = whole */
    const char *refers_to_uri;    /* revisits: the earlier response's URI and date, or NULL */
    const char *refers_to_date;
};

struct scr_warc;

/* Creates the writer (and dir, with its parents, when missing); no file is opened before the
 * first record.  info: extra warc-fields lines ("name: value\r\n"...) for each file's warcinfo
 * record, may be NULL; copied.  max_size: a file is completed once at least this large.
 * gzip_level: zlib's 1..9 (out of range: 1).
 * Returns SCR_OK, or SCR_EIO with the reason in err (nothing left behind). */
int scr_warc_open(struct scr_warc **out, const char *dir, const char *job, int64_t run_id,
                  int64_t max_size, int gzip_level, const char *info, char *err,
                  size_t errlen);

/* Creates dir (with its parents) when missing and checks that it is a writable directory:
 * SCR_OK, or SCR_EIO with the reason in err.  For rank 0's checks before a run starts. */
int scr_warc_check_dir(const char *dir, char *err, size_t errlen);

/* Appends one exchange: the response or revisit record, then the request record (when a
 * request is given).  On SCR_OK, *file (malloc'd, the caller frees) is the absolute FINAL name
 * of the file holding it (on disk with ".part" until completed), *offset the response
 * record's gzip member's offset and *length its compressed length.  Rotates first when the
 * current file has reached max_size.  SCR_EIO: nothing is promised about the file (err says
 * why), *file NULL. */
int scr_warc_write(struct scr_warc *w, const struct scr_warc_exchange *x, char **file,
                   int64_t *offset, int64_t *length, char *err, size_t errlen);

/* fdatasync of what was written since the last sync (nothing to do: SCR_OK at once). */
int scr_warc_sync(struct scr_warc *w, char *err, size_t errlen);

/* Syncs and completes the current file (renamed from .part), frees w.  NULL is a no-op.  A
 * failure (SCR_EIO, err says why) still frees w; the file may stay a .part. */
int scr_warc_close(struct scr_warc *w, char *err, size_t errlen);

/* Bytes written to the current file (0 before the first record); for tests and stats. */
int64_t scr_warc_file_size(const struct scr_warc *w);

/* The response head made consistent with the stored (decoded) body: the status line is kept;
 * Content-Encoding, Transfer-Encoding and Content-Length become X-Crawler-Content-Encoding,
 * X-Crawler-Transfer-Encoding and X-Crawler-Content-Length; a Content-Length with body_len is
 * added (not for a 304 or a revisit: with_length 0); the head ends with an empty line.
 * Returns a malloc'd copy (*outlen its length; never NULL). */
char *scr_warc_head_rewrite(const char *head, size_t len, size_t body_len, int with_length,
                            size_t *outlen);

/* The job name as used in file names: [A-Za-z0-9._-] kept, others '_', at most 80 bytes, not
 * starting with '.', "job" if empty.  Writes into out (at least 81 bytes). */
void scr_warc_safe_name(const char *job, char *out, size_t outlen);

/* "sha1:" + the base32 (RFC 4648) SHA-1 of data: 37 bytes + NUL into out[38]. */
void scr_warc_sha1_base32(const void *data, size_t len, char out[38]);

#endif
