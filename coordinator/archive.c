/* archive.c - results to WARC records, and their place in the fetch rows (see archive.h).
 *
 * What is written: a result with a response head (the worker sends one only under
 * --warc-dir, for pages and sitemaps with an HTTP answer, whatever its status).  Its record
 * is a revisit (server-not-modified) for a 304; a revisit (identical-payload-digest) when the
 * body's hash equals the URL's previous hash AND an earlier fetch of the URL with that hash
 * has a response record (WARC-Refers-To-* name it); otherwise a response with the body.  The
 * WARC-Date is the transaction's now(), the fetch row's fetched_at, to the second.  The target
 * URI is the URL requested: the fetch row's url, or for a sitemap reached through redirects
 * the worker's final URL.
 *
 * The SQL arrays are built as text ({"a","b"} with " and \ escaped): one statement per group.
 */
#include "coordinator/archive.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "coordinator/db.h"

#define DATE_SQL(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static int wants_record(const struct scr_store_item *it)
{
    return it->op == SCR_STORE_RESULT && !it->no_fetch && it->res.http_head &&
           it->res.http_head_len && !it->warc_file;
}

/* WARC-Truncated of a result's body: NULL when the transfer completed (a page over the parse
 * budget was fetched whole), "length" when cut at --max-body, "time" when it timed out, else
 * "disconnect" (the connection failed mid-body). */
static const char *truncation(const struct scr_result *r)
{
    if (r->truncated)
        return "length";
    if (r->curl_code == CURLE_OK || r->curl_code == SCR_RESULT_PARSE_LIMIT)
        return NULL;
    return r->curl_code == CURLE_OPERATION_TIMEDOUT ? "time" : "disconnect";
}

/* Appends s to a PostgreSQL array literal being built in b, quoted. */
static void array_item(struct scr_buf *b, const char *s)
{
    scr_buf_putc(b, b->len ? ',' : '{');
    scr_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            scr_buf_putc(b, '\\');
        scr_buf_putc(b, *s);
    }
    scr_buf_putc(b, '"');
}

static char *array_end(struct scr_buf *b)
{
    if (!b->len)
        scr_buf_putc(b, '{');
    scr_buf_putc(b, '}');
    return scr_buf_detach(b, NULL);
}

int scr_archive_write(PGconn *db, struct scr_warc *w, struct scr_store_item *head, char *err,
                      size_t errlen)
{
    struct scr_buf ids;
    char *ids_text = NULL, num[24];
    const char *p[1];
    PGresult *r = NULL;
    int n = 0, rc = SCR_OK;

    scr_buf_init(&ids);
    for (struct scr_store_item *it = head; it; it = it->next)
        if (wants_record(it)) {
            scr_db_i64(num, sizeof(num), (int64_t)it->res.url_id);
            array_item(&ids, num);
            n++;
        }
    if (!n)
        goto out;
    ids_text = array_end(&ids);
    p[0] = ids_text;
    /* per URL: its URL and previous hash, the newest response record with that hash */
    r = scr_db_exec(db, "looking up previous WARC records",
                    "SELECT u.id, u.url, coalesce(u.content_hash, ''), coalesce(f.url, ''),"
                    "  coalesce(" DATE_SQL("f.fetched_at") ", ''), " DATE_SQL("now()")
                    " FROM urls u LEFT JOIN LATERAL ("
                    "  SELECT coalesce(g.final_url, g.url) AS url, g.fetched_at FROM fetches g"
                    "  WHERE g.url_id = u.id AND g.warc_type = 'response'"
                    "    AND g.content_hash = u.content_hash"
                    "  ORDER BY g.id DESC LIMIT 1) f ON true"
                    " WHERE u.id = ANY ($1::bigint[])",
                    1, p, err, errlen);
    if (!r) {
        rc = SCR_EDB;
        goto out;
    }
    for (struct scr_store_item *it = head; it; it = it->next) {
        struct scr_warc_exchange x;
        const char *url = NULL, *prev_hash = "", *ref_uri = "", *ref_date = "", *now = NULL;
        int row;

        if (!wants_record(it))
            continue;
        scr_db_i64(num, sizeof(num), (int64_t)it->res.url_id);
        for (row = 0; row < PQntuples(r); row++)
            if (strcmp(PQgetvalue(r, row, 0), num) == 0)
                break;
        if (row == PQntuples(r))
            continue; /* not a URL of the frontier: the store statement stores nothing */
        url = PQgetvalue(r, row, 1);
        prev_hash = PQgetvalue(r, row, 2);
        ref_uri = PQgetvalue(r, row, 3);
        ref_date = PQgetvalue(r, row, 4);
        now = PQgetvalue(r, row, 5);
        memset(&x, 0, sizeof(x));
        x.kind = SCR_WARC_RESPONSE;
        if (it->res.http_status == 304)
            x.kind = SCR_WARC_REVISIT_NOT_MODIFIED;
        else if (it->res.content_hash && *it->res.content_hash && *ref_uri &&
                 strcmp(prev_hash, it->res.content_hash) == 0)
            x.kind = SCR_WARC_REVISIT_IDENTICAL;
        x.uri = it->res.redirects > 0 && it->res.final_url && *it->res.final_url &&
                        !(it->res.http_status >= 300 && it->res.http_status < 400)
                    ? it->res.final_url
                    : url;
        x.date = now;
        x.request = it->res.http_request;
        x.request_len = it->res.http_request_len;
        x.head = it->res.http_head;
        x.head_len = it->res.http_head_len;
        x.payload = it->res.payload;
        x.payload_len = it->res.payload_len;
        x.truncated = truncation(&it->res);
        x.refers_to_uri = *ref_uri ? ref_uri : NULL;
        x.refers_to_date = *ref_date ? ref_date : NULL;
        rc = scr_warc_write(w, &x, &it->warc_file, &it->warc_offset, &it->warc_length, err,
                            errlen);
        if (rc)
            goto out;
        it->warc_type = x.kind == SCR_WARC_RESPONSE ? "response" : "revisit";
        free(it->res.payload); /* on disk now; the rest of the store needs only its length */
        it->res.payload = NULL;
    }
    rc = scr_warc_sync(w, err, errlen);
out:
    PQclear(r);
    free(ids_text);
    scr_buf_release(&ids);
    return rc;
}

int scr_archive_link(PGconn *db, int64_t run_id, struct scr_store_item *head, char *err,
                     size_t errlen)
{
    struct scr_buf ids, files, offs, lens, types;
    char run[24], num[24];
    const char *p[6];
    char *a[5] = {NULL, NULL, NULL, NULL, NULL};
    int n = 0, rc = SCR_OK;

    scr_buf_init(&ids);
    scr_buf_init(&files);
    scr_buf_init(&offs);
    scr_buf_init(&lens);
    scr_buf_init(&types);
    for (struct scr_store_item *it = head; it; it = it->next) {
        if (it->op != SCR_STORE_RESULT || !it->stored || !it->warc_file || it->no_fetch)
            continue;
        scr_db_i64(num, sizeof(num), (int64_t)it->res.url_id);
        array_item(&ids, num);
        array_item(&files, it->warc_file);
        scr_db_i64(num, sizeof(num), it->warc_offset);
        array_item(&offs, num);
        scr_db_i64(num, sizeof(num), it->warc_length);
        array_item(&lens, num);
        array_item(&types, it->warc_type);
        n++;
    }
    if (!n)
        goto out;
    a[0] = array_end(&ids);
    a[1] = array_end(&files);
    a[2] = array_end(&offs);
    a[3] = array_end(&lens);
    a[4] = array_end(&types);
    scr_db_i64(run, sizeof(run), run_id);
    p[0] = run;
    for (int i = 0; i < 5; i++)
        p[i + 1] = a[i];
    rc = scr_db_command(db, "recording where the fetches' WARC records are",
                        "UPDATE fetches f SET warc_file = x.file, warc_offset = x.off,"
                        "  warc_length = x.len, warc_type = x.type"
                        " FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[],"
                        "  $6::text[]) AS x(url_id, file, off, len, type)"
                        " WHERE f.id = (SELECT max(g.id) FROM fetches g"
                        "  WHERE g.url_id = x.url_id AND g.run_id = $1::bigint)",
                        6, p, err, errlen);
out:
    for (int i = 0; i < 5; i++)
        free(a[i]);
    scr_buf_release(&ids);
    scr_buf_release(&files);
    scr_buf_release(&offs);
    scr_buf_release(&lens);
    scr_buf_release(&types);
    return rc;
}
