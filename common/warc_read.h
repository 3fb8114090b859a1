/* warc_read.h - reading WARC files (ISO 28500: WARC/1.0 and WARC/1.1) one record at a time.
 *
 * A file may be plain (.warc) or gzip (.warc.gz: one member per record, as scrape's writer,
 * wget and Heritrix write them, or several records per member, or one member for the whole
 * file).  Memory is bounded: a record's header is at most SCR_WARC_HEADER_MAX bytes and a
 * block larger than the caller's cap is skipped (read through, not kept) with skipped set.
 * Hostile input is safe: every length is checked, and a damaged record or gzip member is
 * reported (SCR_EPARSE with the reason and offset) after which the next call resumes at the
 * next record it can find (the next gzip member, or the next "WARC/1." line of a plain file).
 *
 * scr_warc_http_parse() turns a response record's block (application/http; msgtype=response)
 * into status, headers and the body, de-chunked and decoded (gzip, x-gzip, deflate) where the
 * record's HTTP headers say so; X-Crawler-Content-Encoding (scrape's writer) means the body
 * is stored decoded already.  Brotli (br) is not supported: such a body is refused.
 */
#ifndef SCR_WARC_READ_H
#define SCR_WARC_READ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"

#define SCR_WARC_HEADER_MAX (64 * 1024)

struct scr_warc_reader;

/* One record.  Strings are malloc'd, owned by the record ("" when the header is absent);
 * release with scr_warc_record_release (also after a failed read). */
struct scr_warc_record {
    char *version;            /* "WARC/1.0", "WARC/1.1" */
    char *type;               /* WARC-Type: "response", "request", "revisit", ... */
    char *target_uri;         /* WARC-Target-URI (angle brackets of WARC/1.0 drafts removed) */
    char *date;               /* WARC-Date */
    char *record_id;          /* WARC-Record-ID */
    char *content_type;       /* the record's Content-Type */
    char *refers_to;          /* WARC-Refers-To */
    uint64_t content_length;  /* the block's length */
    struct scr_buf block;     /* the block (empty when skipped) */
    int skipped;              /* the block was over the cap and was not kept */
    uint64_t offset;          /* where the record starts: its gzip member's first byte, or
                               * the record's first byte in a plain file */
    int has_offset;           /* 0 when the record starts inside a gzip member it shares */
    uint64_t length;          /* bytes from offset to the end of the record (the member's
                               * compressed length); 0 when not known */
};

void scr_warc_record_init(struct scr_warc_record *r);
void scr_warc_record_release(struct scr_warc_record *r);

/* Opens path for reading (plain or gzip, told by its first bytes).  On failure *out is NULL
 * and err says why. */
int scr_warc_reader_open(struct scr_warc_reader **out, const char *path, char *err, size_t errlen);
/* The same over an open stream (taken: scr_warc_reader_close closes it), e.g. fmemopen's. */
int scr_warc_reader_open_stream(struct scr_warc_reader **out, FILE *f, char *err, size_t errlen);
void scr_warc_reader_close(struct scr_warc_reader *w);

/* Moves to a record that starts at offset (a gzip member's first byte, or a plain record's
 * first byte), as stored in fetches.warc_offset. */
int scr_warc_seek(struct scr_warc_reader *w, uint64_t offset, char *err, size_t errlen);

/* Reads the next record into rec (released and filled again), keeping a block of at most
 * max_block bytes (else skipped = 1).  Returns SCR_OK, SCR_ENOTFOUND at the end of the file,
 * or SCR_EPARSE / SCR_EIO for a damaged record (err says what and where; the next call goes
 * on after it). */
int scr_warc_next(struct scr_warc_reader *w, struct scr_warc_record *rec, size_t max_block,
                  char *err, size_t errlen);

/* A response record's HTTP message.  Strings malloc'd, owned ("" when absent). */
struct scr_warc_http {
    int status;
    char *content_type;       /* Content-Type header value */
    char *content_encoding;   /* what was undone ("gzip", ...; "" for none) */
    struct scr_buf body;      /* the decoded body */
};

void scr_warc_http_init(struct scr_warc_http *h);
void scr_warc_http_release(struct scr_warc_http *h);

/* Parses block (status line, headers, body), de-chunks and decodes the body into h->body,
 * at most max_body bytes decoded (else SCR_ETOOBIG).  SCR_EPARSE (err says why) for a block
 * that is no HTTP response, a broken chunked body or compressed stream, or an unsupported
 * Content-Encoding. */
int scr_warc_http_parse(const char *block, size_t len, size_t max_body, struct scr_warc_http *h,
                        char *err, size_t errlen);

#endif
