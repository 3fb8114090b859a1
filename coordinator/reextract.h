/* reextract.h - `scrape reextract`: the parsers over stored pages, with no HTTP request.
 *
 * Rank 0 reads the pages (WARC records: those the job's fetch rows point at, or every
 * response record of the files given with --warc), sends them to the workers in PAGES
 * messages on their REQUESTs, and stores each RESULT's records as part of a new run of the
 * job (runs.kind = 'reextract').  The records reference the page's fetch row, so the views
 * of the latest records per URL show them.  The frontier is not changed: outlinks are kept
 * only as the links parser's records, never queued.  docs/reextract.md.
 *
 * Resume: a page is done for a "reextract key" (the parsers, the rules text and the version
 * of scrape: SHA-256 hex) when table reextract_pages has (fetch_id, key); that row and the
 * page's records commit in one statement, so a reextract cut short and started again does
 * each remaining page once, and one that finished does nothing more until the rules, the
 * parsers or the build's version change.
 */
#ifndef SCR_REEXTRACT_H
#define SCR_REEXTRACT_H

#include <libpq-fe.h>
#include <stdint.h>

#include "common/comm.h"
#include "common/settings.h"
#include "common/strvec.h"
#include "common/urlopts.h"
#include "common/wire.h"
#include "common/warc_read.h"
#include "coordinator/coordinator.h"

/* Runs a reextract as rank 0 of c.  warc_files (borrowed): files to read instead of the
 * job's own pages (empty: the job's fetch rows with WARC records).  command is stored on the
 * run's row. */
void scr_reextract_run(struct scr_comm *c, struct scr_settings *s, const char *command,
                       const struct scr_strvec *warc_files, struct scr_run_outcome *out);

/* --- the page source (reextract_src.c) -------------------------------------------------- */

/* One row of the job's pages to read (job mode). */
struct scr_rx_row {
    int64_t fetch_id, url_id;
    char *url, *warc_file;
    int64_t warc_offset;
    char *record_url; /* the URL of the record read: url, or for a revisit that of the
                         response holding its body */
    int done;         /* done for this key by an earlier reextract */
};

struct scr_rx_src {
    PGconn *db;                    /* borrowed */
    int64_t job_id, run_id;
    const char *key;               /* the reextract key (borrowed) */
    const struct scr_url_opts *uo; /* borrowed: how --warc target URIs are normalized */
    size_t max_body;
    /* --warc mode */
    const struct scr_strvec *files; /* borrowed; NULL or empty = job mode */
    size_t fi;
    char *path;                    /* absolute path of the open file */
    struct scr_warc_reader *rd;
    struct scr_warc_record rec;
    /* job mode: rows in url order, fetched 500 at a time */
    struct scr_rx_row *rows;
    size_t nrows, ri;
    int64_t last_url_id;
    int exhausted;
    char *bad_file; /* the last file that could not be opened (its pages are skipped) */
    /* figures */
    uint64_t read, done_before, damaged, not_pages;
    int fatal_db;
    char err[1024];
};

void scr_rx_src_init(struct scr_rx_src *src);
void scr_rx_src_release(struct scr_rx_src *src);

/* The next page to parse into pg (caller-owned, released first); *url_id is the page's
 * urls.id.  Returns SCR_OK, SCR_ENOTFOUND when every page was read, or SCR_EDB (src->err) when
 * the database failed.  Damaged records are reported (scr_warn) and skipped. */
int scr_rx_src_next(struct scr_rx_src *src, struct scr_stored_page *pg, int64_t *url_id);

/* Stores one page's RESULT: its records and its done mark in one statement (and, for a
 * fetch row this run made, the page's encoding).  records_json is a JSON array; *stored is 0
 * when another run had marked the page already.  Strings borrowed. */
int scr_rx_store(PGconn *db, int64_t fetch_id, int64_t url_id, int64_t job_id, int64_t run_id,
                 const char *key, const char *records_json, const char *error,
                 const char *encoding, int *stored, char *err, size_t errlen);

#endif
