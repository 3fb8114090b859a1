/* reextract_src.c - where `scrape reextract` gets its pages, and how it stores their records.
 *
 * Job mode: each URL of the job whose latest fetch with a WARC record (fetches.warc_file,
 * warc_offset) is not yet done for this reextract key, in url order, 500 rows per query; a
 * 'revisit' record's payload is that of a 'response' record of the job with the same content
 * hash (a 304's is the URL's previous hash), the URL's own first.  The file is opened under its name, else name + ".part" (the writer's name while it
 * is still being written).  --warc mode: every response record of each file, in order; each
 * gets its urls row (new URLs: state 'done', depth 0) and a fetches row pointing at the record
 * (found again by file and offset on a second reextract of the same file, so nothing is
 * doubled).  Both run on rank 0's dispatcher thread with its own connection (reextract.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/sha256.h"
#include "common/url.h"
#include "coordinator/db.h"
#include "coordinator/reextract.h"
#include "coordinator/scope.h"

#define ROWS_PER_QUERY 500

void scr_rx_src_init(struct scr_rx_src *src)
{
    memset(src, 0, sizeof(*src));
    scr_warc_record_init(&src->rec);
}

static void rows_free(struct scr_rx_src *src)
{
    for (size_t i = 0; i < src->nrows; i++) {
        free(src->rows[i].url);
        free(src->rows[i].warc_file);
        free(src->rows[i].record_url);
    }
    free(src->rows);
    src->rows = NULL;
    src->nrows = src->ri = 0;
}

static void close_file(struct scr_rx_src *src)
{
    scr_warc_reader_close(src->rd);
    src->rd = NULL;
    free(src->path);
    src->path = NULL;
}

void scr_rx_src_release(struct scr_rx_src *src)
{
    close_file(src);
    rows_free(src);
    scr_warc_record_release(&src->rec);
    free(src->bad_file);
}

/* Opens path (or path.part); the absolute name is kept in src->path. */
static int open_file(struct scr_rx_src *src, const char *path)
{
    char err[512], *abs, *part, *part_abs;
    int rc;

    close_file(src);
    abs = realpath(path, NULL);
    if (!abs) {
        size_t n = strlen(path) + sizeof(".part");
        part = scr_xmalloc(n);
        snprintf(part, n, "%s.part", path);
        part_abs = realpath(part, NULL);
        free(part_abs); /* only whether it is there */
        if (!part_abs) {
            scr_warn("%s: cannot be opened (nor %s); its pages are skipped", path, part);
            free(part);
            return SCR_EIO;
        }
        rc = scr_warc_reader_open(&src->rd, part, err, sizeof(err));
        free(part);
        abs = realpath(path, NULL); /* NULL: the name it will have is the one stored */
        src->path = abs ? abs : scr_xstrdup(path);
    } else {
        rc = scr_warc_reader_open(&src->rd, abs, err, sizeof(err));
        src->path = abs;
    }
    if (rc) {
        scr_warn("%s; its pages are skipped", err);
        close_file(src);
    }
    return rc;
}

/* The HTTP response of the current record into pg (url, type, status, body).  1 when it is a
 * page; 0 when it is skipped (and why was reported). */
static int record_page(struct scr_rx_src *src, struct scr_stored_page *pg, const char *where)
{
    struct scr_warc_http h;
    char err[256];
    int ok = 0, rc;

    if (strcasecmp(src->rec.type, "response") != 0)
        return 0;
    if (strncasecmp(src->rec.content_type, "application/http", 16) != 0)
        return 0; /* dns: records and the like */
    if (src->rec.skipped) {
        scr_warn("%s: the record of %s is over --max-body; skipped", where,
                 src->rec.target_uri);
        return 0;
    }
    scr_warc_http_init(&h);
    rc = scr_warc_http_parse(src->rec.block.data ? src->rec.block.data : "", src->rec.block.len,
                             src->max_body, &h, err, sizeof(err));
    if (rc) {
        scr_warn("%s: the record of %s: %s; skipped", where, src->rec.target_uri, err);
        src->damaged++;
        goto out;
    }
    scr_stored_page_release(pg);
    pg->content_type = h.content_type;
    h.content_type = NULL;
    pg->http_status = (uint32_t)h.status;
    pg->body = h.body;
    scr_buf_init(&h.body);
    ok = 1;
out:
    scr_warc_http_release(&h);
    return ok;
}

/* A WARC-Date as PostgreSQL may read it, or NULL (then now()). */
static const char *warc_date(const char *d)
{
    size_t n = strlen(d);

    if (n < 10 || n > 40 || d[4] != '-' || d[7] != '-')
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789-:TZ.+", d[i]))
            return NULL;
    return d;
}

/* The urls and fetches rows of a --warc record (made once per file and offset). */
#define WARC_ROWS_SQL \
    "WITH u AS (" \
    "  INSERT INTO urls (job_id, url, host, depth, state, attempts, last_fetch_at," \
    "    last_status, content_hash)" \
    "  VALUES ($1::bigint, $2, $3, 0, 'done', 1, coalesce($5::timestamptz, now())," \
    "    $6::int, $9)" \
    "  ON CONFLICT (job_id, url) DO NOTHING RETURNING id)," \
    " uid AS (SELECT id FROM u UNION ALL" \
    "  SELECT id FROM urls WHERE job_id = $1::bigint AND url = $2)," \
    " old AS (SELECT id, url_id FROM fetches" \
    "  WHERE job_id = $1::bigint AND warc_file = $10 AND warc_offset = $11::bigint LIMIT 1)," \
    " f AS (" \
    "  INSERT INTO fetches (url_id, job_id, run_id, fetched_at, url, attempt, http_status," \
    "    content_type, bytes, content_hash, warc_file, warc_offset, warc_length, warc_type)" \
    "  SELECT (SELECT id FROM uid LIMIT 1), $1::bigint, $4::bigint," \
    "    coalesce($5::timestamptz, now()), $2, 1, $6::int, nullif($7, ''), $8::bigint, $9," \
    "    $10, $11::bigint, $12::bigint, 'response'" \
    "  WHERE NOT EXISTS (SELECT 1 FROM old) RETURNING id, url_id)," \
    " x AS (SELECT id, url_id FROM f UNION ALL SELECT id, url_id FROM old)" \
    " SELECT x.id, x.url_id, EXISTS (SELECT 1 FROM reextract_pages p" \
    "   WHERE p.fetch_id = x.id AND p.rkey = $13) FROM x"

static int warc_next(struct scr_rx_src *src, struct scr_stored_page *pg, int64_t *url_id)
{
    char err[512], host[512], *norm = NULL;
    char job[24], run[24], status[24], bytes[24], off[24], len[24], hex[65];
    PGresult *r;
    int rc;

    for (;;) {
        if (!src->rd) {
            if (src->fi >= src->files->n)
                return SCR_ENOTFOUND;
            open_file(src, src->files->v[src->fi++]);
            continue;
        }
        rc = scr_warc_next(src->rd, &src->rec, src->max_body + SCR_WARC_HEADER_MAX, err,
                           sizeof(err));
        if (rc == SCR_ENOTFOUND) {
            close_file(src);
            continue;
        }
        if (rc) {
            scr_warn("%s: %s; skipped", src->path, err);
            src->damaged++;
            continue;
        }
        if (!record_page(src, pg, src->path))
            continue;
        src->read++;
        if (scr_url_normalize(NULL, src->rec.target_uri, src->uo, &norm, NULL, err,
                              sizeof(err)) != SCR_OK ||
            scr_url_authority(norm, host, sizeof(host)) != SCR_OK) {
            scr_warn("%s: record at offset %llu: URL '%.200s' skipped: %s", src->path,
                     (unsigned long long)src->rec.offset, src->rec.target_uri, err);
            src->not_pages++;
            free(norm);
            norm = NULL;
            continue;
        }
        scr_sha256_hex(pg->body.data ? pg->body.data : "", pg->body.len, hex);
        scr_db_i64(job, sizeof(job), src->job_id);
        scr_db_i64(run, sizeof(run), src->run_id);
        scr_db_i64(status, sizeof(status), pg->http_status);
        scr_db_i64(bytes, sizeof(bytes), (int64_t)pg->body.len);
        scr_db_i64(off, sizeof(off), (int64_t)src->rec.offset);
        scr_db_i64(len, sizeof(len), (int64_t)src->rec.length);
        {
            const char *p[13] = {job, norm, host, run, warc_date(src->rec.date), status,
                                 pg->content_type, bytes, hex, src->path,
                                 src->rec.has_offset ? off : NULL,
                                 src->rec.length ? len : NULL, src->key};
            r = scr_db_exec(src->db, "storing a WARC record's page", WARC_ROWS_SQL, 13, p,
                            src->err, sizeof(src->err));
        }
        if (!r || PQntuples(r) != 1) {
            if (r) {
                snprintf(src->err, sizeof(src->err), "no fetch row for %s", norm);
                PQclear(r);
            }
            src->fatal_db = 1;
            free(norm);
            return SCR_EDB;
        }
        pg->id = (uint64_t)strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        *url_id = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
        rc = PQgetvalue(r, 0, 2)[0] == 't';
        PQclear(r);
        if (rc) {
            src->done_before++;
            free(norm);
            norm = NULL;
            continue;
        }
        pg->url = norm;
        return SCR_OK;
    }
}

/* The job's pages: each URL's latest fetch with a WARC record, 500 URLs at a time.
 * A revisit's body is in a response record with its payload's hash: the fetch's own
 * content_hash, or for a 304 (which has none) that of the URL's latest earlier fetch with
 * one; the URL's own response record first (the one the writer refers to), else any of the
 * job's.  Then the URL the record read must be of, and whether the page is done for this
 * key (counted as done before, not read). */
#define JOB_ROWS_SQL \
    "SELECT f.id, u.id, u.url, coalesce(o.warc_file, f.warc_file)," \
    "  coalesce(o.warc_offset, f.warc_offset), coalesce(o.url, u.url)," \
    "  EXISTS (SELECT 1 FROM reextract_pages p WHERE p.fetch_id = f.id AND p.rkey = $3)" \
    " FROM urls u" \
    " CROSS JOIN LATERAL (SELECT * FROM fetches f" \
    "   WHERE f.url_id = u.id AND f.warc_file IS NOT NULL AND f.warc_offset IS NOT NULL" \
    "   ORDER BY f.fetched_at DESC, f.id DESC LIMIT 1) f" \
    " LEFT JOIN LATERAL (SELECT coalesce(f.content_hash, (SELECT g.content_hash" \
    "   FROM fetches g WHERE f.warc_type = 'revisit' AND g.url_id = f.url_id" \
    "     AND g.id < f.id AND g.content_hash IS NOT NULL" \
    "   ORDER BY g.fetched_at DESC, g.id DESC LIMIT 1)) AS hash) h ON true" \
    " LEFT JOIN LATERAL (SELECT o.url, o.warc_file, o.warc_offset FROM fetches o" \
    "   WHERE f.warc_type = 'revisit' AND o.job_id = f.job_id" \
    "     AND o.content_hash = h.hash AND o.warc_type = 'response'" \
    "     AND o.warc_file IS NOT NULL AND o.warc_offset IS NOT NULL" \
    "   ORDER BY o.url_id = f.url_id DESC, o.id DESC LIMIT 1) o ON true" \
    " WHERE u.job_id = $1::bigint AND u.id > $2::bigint" \
    " ORDER BY u.id LIMIT " SCR_RX_STR(ROWS_PER_QUERY)
#define SCR_RX_STR_(x) #x
#define SCR_RX_STR(x) SCR_RX_STR_(x)

static int job_rows(struct scr_rx_src *src)
{
    char job[24], last[24];
    const char *p[3] = {job, last, src->key};
    PGresult *r;

    rows_free(src);
    scr_db_i64(job, sizeof(job), src->job_id);
    scr_db_i64(last, sizeof(last), src->last_url_id);
    r = scr_db_exec(src->db, "reading the job's stored pages", JOB_ROWS_SQL, 3, p, src->err,
                    sizeof(src->err));
    if (!r) {
        src->fatal_db = 1;
        return SCR_EDB;
    }
    src->nrows = (size_t)PQntuples(r);
    src->rows = src->nrows ? scr_xcalloc(src->nrows, sizeof(*src->rows)) : NULL;
    for (size_t i = 0; i < src->nrows; i++) {
        struct scr_rx_row *w = &src->rows[i];
        w->fetch_id = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
        w->url_id = strtoll(PQgetvalue(r, (int)i, 1), NULL, 10);
        w->url = scr_xstrdup(PQgetvalue(r, (int)i, 2));
        w->warc_file = scr_xstrdup(PQgetvalue(r, (int)i, 3));
        w->warc_offset = strtoll(PQgetvalue(r, (int)i, 4), NULL, 10);
        w->record_url = scr_xstrdup(PQgetvalue(r, (int)i, 5));
        w->done = PQgetvalue(r, (int)i, 6)[0] == 't';
        src->last_url_id = w->url_id;
    }
    PQclear(r);
    if (src->nrows < ROWS_PER_QUERY)
        src->exhausted = 1;
    return SCR_OK;
}

static int job_next(struct scr_rx_src *src, struct scr_stored_page *pg, int64_t *url_id)
{
    char err[512], *norm = NULL;
    int rc = SCR_OK;

    for (;;) {
        struct scr_rx_row *row;
        if (src->ri >= src->nrows) {
            free(norm);
            if (src->exhausted)
                return SCR_ENOTFOUND;
            if ((rc = job_rows(src)) != SCR_OK)
                return rc;
            if (src->nrows == 0)
                return SCR_ENOTFOUND;
            norm = NULL;
        }
        row = &src->rows[src->ri++];
        if (row->done) {
            src->done_before++;
            continue;
        }
        if (src->bad_file && strcmp(src->bad_file, row->warc_file) == 0) {
            /* reported once by open_file; each page of it is named */
            scr_warn("%s is missing: fetch %lld (%s) skipped", row->warc_file,
                     (long long)row->fetch_id, row->url);
            src->damaged++;
            continue;
        }
        if ((!src->path || strcmp(src->path, row->warc_file) != 0) &&
            open_file(src, row->warc_file) != SCR_OK) {
            free(src->bad_file);
            src->bad_file = scr_xstrdup(row->warc_file);
            src->ri--; /* reported as above */
            continue;
        }
        rc = scr_warc_seek(src->rd, (uint64_t)row->warc_offset, err, sizeof(err));
        if (rc == SCR_OK)
            rc = scr_warc_next(src->rd, &src->rec, src->max_body + SCR_WARC_HEADER_MAX, err,
                               sizeof(err));
        if (rc != SCR_OK) {
            scr_warn("%s at offset %lld (fetch %lld, %s): %s; skipped", row->warc_file,
                     (long long)row->warc_offset, (long long)row->fetch_id, row->url,
                     rc == SCR_ENOTFOUND ? "no record there" : err);
            src->damaged++;
            continue;
        }
        if (!record_page(src, pg, row->warc_file)) {
            scr_warn("%s at offset %lld (fetch %lld): not an HTTP response record; skipped",
                     row->warc_file, (long long)row->warc_offset, (long long)row->fetch_id);
            src->not_pages++;
            continue;
        }
        free(norm);
        norm = NULL;
        if (scr_url_normalize(NULL, src->rec.target_uri, src->uo, &norm, NULL, err,
                              sizeof(err)) != SCR_OK ||
            strcmp(norm, row->record_url) != 0) {
            /* a wrong offset, or a file replaced since: never another page's records */
            scr_warn("%s at offset %lld (fetch %lld): the record is of '%.200s', not %s; "
                     "skipped", row->warc_file, (long long)row->warc_offset,
                     (long long)row->fetch_id, src->rec.target_uri, row->record_url);
            src->damaged++;
            continue;
        }
        src->read++;
        pg->id = (uint64_t)row->fetch_id;
        pg->url = row->url;
        row->url = NULL;
        *url_id = row->url_id;
        free(norm);
        return SCR_OK;
    }
}

int scr_rx_src_next(struct scr_rx_src *src, struct scr_stored_page *pg, int64_t *url_id)
{
    if (src->fatal_db)
        return SCR_EDB;
    if (src->files && src->files->n)
        return warc_next(src, pg, url_id);
    return job_next(src, pg, url_id);
}

/* The page's done mark and its records, together (reextract.h); a fetch row this run made
 * (--warc) also gets the encoding the page was decoded from, as a crawl's has. */
#define STORE_RX_SQL \
    "WITH m AS (" \
    "  INSERT INTO reextract_pages (fetch_id, rkey, run_id, records, error)" \
    "  VALUES ($1::bigint, $5, $4::bigint, jsonb_array_length($6::jsonb), nullif($7, ''))" \
    "  ON CONFLICT (fetch_id, rkey) DO NOTHING RETURNING fetch_id)," \
    " rec AS (" \
    "  INSERT INTO records (fetch_id, url_id, job_id, parser, rule_set, record_type," \
    "    rules_hash, data, reextract_run)" \
    "  SELECT m.fetch_id, $2::bigint, $3::bigint, e->>'parser', e->>'rule_set', e->>'record'," \
    "    e->>'rules_hash', coalesce(e->'data', 'null'::jsonb), $4::bigint" \
    "  FROM m, jsonb_array_elements($6::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY x.n" \
    "  RETURNING 1)," \
    " enc AS (" \
    "  UPDATE fetches SET encoding = $8 WHERE id IN (SELECT fetch_id FROM m)" \
    "    AND run_id = $4::bigint AND encoding IS NULL AND $8 <> '' RETURNING 1)" \
    " SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM rec), (SELECT count(*) FROM enc)"

int scr_rx_store(PGconn *db, int64_t fetch_id, int64_t url_id, int64_t job_id, int64_t run_id,
                 const char *key, const char *records_json, const char *error,
                 const char *encoding, int *stored, char *err, size_t errlen)
{
    char f[24], u[24], j[24], r[24];
    const char *p[8] = {f, u, j, r, key, records_json, error, encoding ? encoding : ""};
    PGresult *res;

    scr_db_i64(f, sizeof(f), fetch_id);
    scr_db_i64(u, sizeof(u), url_id);
    scr_db_i64(j, sizeof(j), job_id);
    scr_db_i64(r, sizeof(r), run_id);
    res = scr_db_exec(db, "storing re-extracted records", STORE_RX_SQL, 8, p, err, errlen);
    if (!res)
        return SCR_EDB;
    *stored = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "1") == 0;
    PQclear(res);
    return SCR_OK;
}
