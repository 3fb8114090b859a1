/* storegroup.c - a group of results stored by one set-based statement (see frontier.h,
 * scr_frontier_store_group).
 *
 * One statement per page cost PostgreSQL more in per-statement work (binding 29 parameters,
 * starting the executor for a 7-part CTE, parsing the outlinks and records texts) than in the
 * rows themselves.  Here a whole group goes in one statement: every per-result value is one
 * binary array (one array per column, pgarray.h), unnested WITH ORDINALITY into x; records
 * and outlinks are flat arrays whose item column is the result's ordinal in x.  The parts:
 * the URLs' new state (only rows this run still leases), one fetch row per fetched result,
 * its records, and the outlinks new to the frontier, deduplicated here across the group.
 *
 * Invariants: the statement runs inside the caller's transaction, so the group commits whole
 * or not at all; a result whose lease is no longer ours stores nothing (not in u); no url_id
 * appears twice in one group (the caller's duty: the fetch rows are matched to their records
 * by url_id).
 *
 * Adding a per-fetch column: one enum entry and one COLS row below (its x alias, SQL type
 * and element OID), one scr_pgarray_* call for it in add_item(), and x.<alias> in the
 * fetches INSERT (and the column name in its list) in GROUP_SQL_TAIL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "coordinator/db.h"
#include "coordinator/frontier.h"
#include "coordinator/pgarray.h"
#include "coordinator/seen.h"

#define GROUP_NAME "scr_store_group"

/* The per-result columns, in parameter order ($2, $3, ...). */
enum col {
    C_URL_ID, C_STATE, C_STATUS, C_FINAL_URL, C_CONTENT_TYPE, C_BYTES, C_ELAPSED, C_WAIT,
    C_REDIRECTS, C_RANK, C_WORKER_HOST, C_ERROR, C_ETAG, C_LAST_MODIFIED, C_CONTENT_HASH,
    C_RETRY_MS, C_DDELTA, C_HOPS, C_NO_FETCH, C_ENCODING,
    NCOLS
};

static const struct {
    const char *alias, *type;
    uint32_t oid;
} COLS[NCOLS] = {
    [C_URL_ID] = {"url_id", "bigint", SCR_PG_INT8},
    [C_STATE] = {"state", "text", SCR_PG_TEXT},
    [C_STATUS] = {"status", "int", SCR_PG_INT4},          /* NULL for no answer */
    [C_FINAL_URL] = {"final_url", "text", SCR_PG_TEXT},
    [C_CONTENT_TYPE] = {"content_type", "text", SCR_PG_TEXT},
    [C_BYTES] = {"bytes", "bigint", SCR_PG_INT8},
    [C_ELAPSED] = {"elapsed_ms", "int", SCR_PG_INT4},
    [C_WAIT] = {"wait_ms", "int", SCR_PG_INT4},
    [C_REDIRECTS] = {"redirects", "int", SCR_PG_INT4},
    [C_RANK] = {"worker_rank", "int", SCR_PG_INT4},
    [C_WORKER_HOST] = {"worker_host", "text", SCR_PG_TEXT},
    [C_ERROR] = {"error", "text", SCR_PG_TEXT},
    [C_ETAG] = {"etag", "text", SCR_PG_TEXT},
    [C_LAST_MODIFIED] = {"last_modified", "text", SCR_PG_TEXT},
    [C_CONTENT_HASH] = {"content_hash", "text", SCR_PG_TEXT},
    [C_RETRY_MS] = {"retry_ms", "bigint", SCR_PG_INT8},
    [C_DDELTA] = {"ddelta", "int", SCR_PG_INT4},
    [C_HOPS] = {"hops", "int", SCR_PG_INT4},
    [C_NO_FETCH] = {"no_fetch", "boolean", SCR_PG_BOOL},
    [C_ENCODING] = {"encoding", "text", SCR_PG_TEXT},
};

/* after the columns: the records (item ordinal, record) and the outlinks (item, url, host) */
enum { P_REC_ITEM, P_REC, P_LINK_ITEM, P_LINK_URL, P_LINK_HOST, NEXTRA };
#define NPARAMS (1 + NCOLS + NEXTRA)

/* $R = the first parameter after the columns: records $R (item) and $R+1 (jsonb), links
 * $R+2 (item), $R+3 (url), $R+4 (host).  %1$d is $R. */
static const char GROUP_SQL_TAIL[] =
    " prev AS (SELECT p.id, p.content_hash FROM urls p JOIN x ON p.id = x.url_id),"
    " u AS ("
    "  UPDATE urls SET state = x.state, lease_run = NULL, lease_until = NULL,"
    "    next_attempt_at = CASE WHEN x.state = 'queued'"
    "      THEN now() + x.retry_ms * interval '1 millisecond' ELSE urls.next_attempt_at END,"
    "    attempts = CASE WHEN x.no_fetch AND x.state IN ('queued', 'failed')"
    "      THEN greatest(urls.attempts - 1, 0) ELSE urls.attempts END,"
    "    last_fetch_at = CASE WHEN x.no_fetch THEN urls.last_fetch_at ELSE now() END,"
    "    last_status = CASE WHEN x.no_fetch THEN urls.last_status ELSE x.status END,"
    "    error = x.error,"
    "    etag = coalesce(x.etag, urls.etag),"
    "    last_modified = coalesce(x.last_modified, urls.last_modified),"
    "    content_hash = coalesce(x.content_hash, urls.content_hash),"
    /* the extraction this page's records came from (jobs.h, as scr_frontier_store) */
    "    extract_hash = CASE WHEN NOT x.no_fetch AND x.status BETWEEN 200 AND 299"
    "      AND x.error IS NULL THEN (SELECT r.extract_hash FROM runs r WHERE r.id = $1::bigint)"
    "      ELSE urls.extract_hash END"
    "  FROM x WHERE urls.id = x.url_id AND urls.lease_run = $1::bigint"
    "    AND urls.state = 'leased'"
    "  RETURNING urls.id, urls.job_id, urls.depth, urls.url, urls.attempts, x.n),"
    " f AS ("
    "  INSERT INTO fetches (url_id, job_id, run_id, url, attempt, http_status, final_url,"
    "    content_type, bytes, elapsed_ms, wait_ms, redirects, worker_rank, worker_host,"
    "    error, etag, last_modified, content_hash, changed, encoding)"
    "  SELECT u.id, u.job_id, $1::bigint, u.url, u.attempts, x.status, x.final_url,"
    "    x.content_type, x.bytes, x.elapsed_ms, x.wait_ms, x.redirects, x.worker_rank,"
    "    x.worker_host, x.error, x.etag, x.last_modified, x.content_hash,"
    "    CASE WHEN x.status = 304 THEN false"
    "         WHEN p.content_hash IS NULL OR x.content_hash IS NULL THEN NULL"
    "         ELSE p.content_hash <> x.content_hash END,"
    "    x.encoding"
    "  FROM u JOIN x ON x.n = u.n LEFT JOIN prev p ON p.id = u.id"
    "  WHERE NOT x.no_fetch ORDER BY u.n RETURNING id, url_id, job_id),"
    " rec AS ("
    "  INSERT INTO records (fetch_id, url_id, job_id, parser, rule_set, record_type,"
    "    rules_hash, data)"
    "  SELECT f.id, f.url_id, f.job_id, r.e->>'parser', r.e->>'rule_set', r.e->>'record',"
    "    r.e->>'rules_hash', coalesce(r.e->'data', 'null'::jsonb)"
    "  FROM unnest($%1$d::int[], $%2$d::jsonb[]) WITH ORDINALITY AS r(item, e, m)"
    "    JOIN u ON u.n = r.item JOIN f ON f.url_id = u.id"
    "  ORDER BY r.m),"
    " l AS ("
    "  INSERT INTO urls (job_id, url, host, depth, hops, discovered_by)"
    "  SELECT u.job_id, k.url, k.host, u.depth + x.ddelta, x.hops, u.id"
    "  FROM unnest($%3$d::int[], $%4$d::text[], $%5$d::text[]) WITH ORDINALITY"
    "    AS k(item, url, host, m)"
    "    JOIN u ON u.n = k.item JOIN x ON x.n = k.item"
    "  ORDER BY k.m"
    "  ON CONFLICT (job_id, url) DO NOTHING RETURNING discovered_by)"
    " SELECT u.n, coalesce(c.added, 0) FROM u"
    "  LEFT JOIN (SELECT discovered_by, count(*) AS added FROM l GROUP BY 1) c"
    "    ON c.discovered_by = u.id";

/* The statement's text (caller frees). */
static char *group_sql(void)
{
    struct scr_buf b;
    int r = 2 + NCOLS;

    scr_buf_init(&b);
    scr_buf_puts(&b, "WITH x AS (SELECT * FROM unnest(");
    for (int c = 0; c < NCOLS; c++)
        scr_buf_printf(&b, "%s$%d::%s[]", c ? ", " : "", 2 + c, COLS[c].type);
    scr_buf_puts(&b, ") WITH ORDINALITY AS x(");
    for (int c = 0; c < NCOLS; c++)
        scr_buf_printf(&b, "%s, ", COLS[c].alias);
    scr_buf_puts(&b, "n)),");
    scr_buf_printf(&b, GROUP_SQL_TAIL, r, r + 1, r + 2, r + 3, r + 4);
    return scr_buf_detach(&b, NULL);
}

int scr_frontier_prepare_group(PGconn *db, char *err, size_t errlen)
{
    char *sql = group_sql();
    int rc = scr_db_prepare(db, GROUP_NAME, sql, NPARAMS, err, errlen);
    free(sql);
    return rc;
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

static void add_item(struct scr_pgarray *a, const struct scr_store_item *it)
{
    const struct scr_result *res = &it->res;

    scr_pgarray_i64(&a[C_URL_ID], (int64_t)res->url_id);
    scr_pgarray_text(&a[C_STATE], scr_url_state_name(it->new_state));
    if (res->http_status)
        scr_pgarray_i32(&a[C_STATUS], res->http_status);
    else
        scr_pgarray_null(&a[C_STATUS]);
    scr_pgarray_text(&a[C_FINAL_URL], nonempty(res->final_url));
    scr_pgarray_text(&a[C_CONTENT_TYPE], nonempty(res->content_type));
    scr_pgarray_i64(&a[C_BYTES], (int64_t)res->bytes);
    scr_pgarray_i32(&a[C_ELAPSED], (int32_t)res->elapsed_ms);
    scr_pgarray_i32(&a[C_WAIT], (int32_t)res->wait_ms);
    scr_pgarray_i32(&a[C_REDIRECTS], (int32_t)res->redirects);
    scr_pgarray_i32(&a[C_RANK], it->worker_rank);
    scr_pgarray_text(&a[C_WORKER_HOST], it->worker_host);
    scr_pgarray_text(&a[C_ERROR], nonempty(res->error));
    scr_pgarray_text(&a[C_ETAG], nonempty(res->etag));
    scr_pgarray_text(&a[C_LAST_MODIFIED], nonempty(res->last_modified));
    scr_pgarray_text(&a[C_CONTENT_HASH], nonempty(res->content_hash));
    scr_pgarray_i64(&a[C_RETRY_MS], it->retry_delay_ms);
    scr_pgarray_i32(&a[C_DDELTA], it->link_depth_delta);
    scr_pgarray_i32(&a[C_HOPS], it->link_hops);
    scr_pgarray_bool(&a[C_NO_FETCH], it->no_fetch);
    scr_pgarray_text(&a[C_ENCODING], nonempty(res->encoding));
}

int scr_frontier_store_group(PGconn *db, int64_t run_id, struct scr_store_item **items,
                             size_t n, struct scr_seen *dedup, char *err, size_t errlen)
{
    struct scr_pgarray a[NCOLS + NEXTRA];
    static const uint32_t extra_oid[NEXTRA] = {SCR_PG_INT4, SCR_PG_JSONB, SCR_PG_INT4,
                                               SCR_PG_TEXT, SCR_PG_TEXT};
    const char *p[NPARAMS];
    int len[NPARAMS], fmt[NPARAMS];
    char run[24];
    PGresult *r = NULL;
    int rc = SCR_EDB;
    size_t nlinks = 0, at = 0;
    unsigned char *dup; /* per outlink of the group, in order: 1 = left out as a duplicate */

    for (int c = 0; c < NCOLS; c++)
        scr_pgarray_init(&a[c], COLS[c].oid);
    for (int e = 0; e < NEXTRA; e++)
        scr_pgarray_init(&a[NCOLS + e], extra_oid[e]);
    for (size_t i = 0; i < n; i++)
        nlinks += items[i]->links.n;
    dup = scr_xcalloc(nlinks ? nlinks : 1, 1);
    if (dedup)
        scr_seen_clear(dedup);
    for (size_t i = 0; i < n; i++) {
        struct scr_store_item *it = items[i];
        int32_t ord = (int32_t)(i + 1);

        it->stored = 0;
        it->new_urls = 0;
        add_item(a, it);
        for (size_t k = 0; !it->no_fetch && k < it->res.records.n; k++) {
            scr_pgarray_i32(&a[NCOLS + P_REC_ITEM], ord);
            scr_pgarray_jsonb(&a[NCOLS + P_REC], it->res.records.v[k]);
        }
        for (size_t k = 0; k < it->links.n; k++) {
            const char *u = it->links.v[k];
            size_t ul = strlen(u);
            /* a URL two pages of the group link to goes in once, with the first */
            if (dedup && scr_seen_has(dedup, u, ul)) {
                dup[at++] = 1;
                continue;
            }
            at++;
            if (dedup)
                scr_seen_add(dedup, u, ul);
            scr_pgarray_i32(&a[NCOLS + P_LINK_ITEM], ord);
            scr_pgarray_text(&a[NCOLS + P_LINK_URL], u);
            scr_pgarray_text(&a[NCOLS + P_LINK_HOST], it->link_hosts.v[k]);
        }
    }
    scr_db_i64(run, sizeof(run), run_id);
    p[0] = run;
    len[0] = 0;
    fmt[0] = 0;
    for (int c = 0; c < NCOLS + NEXTRA; c++) {
        p[1 + c] = scr_pgarray_bytes(&a[c], &len[1 + c]);
        fmt[1 + c] = 1;
    }
    r = scr_db_exec_prepared_bin(db, "storing a group of results", GROUP_NAME, NPARAMS, p, len,
                                 fmt, err, errlen);
    if (!r)
        goto out;
    for (int row = 0; row < PQntuples(r); row++) {
        long ord = strtol(PQgetvalue(r, row, 0), NULL, 10);
        if (ord >= 1 && (size_t)ord <= n) {
            items[ord - 1]->stored = 1;
            items[ord - 1]->new_urls = strtoll(PQgetvalue(r, row, 1), NULL, 10);
        }
    }
    /* Stored: a duplicate is dropped from its later page's list, so that only the page that
     * sent it counts it (the caller's seen cache learns the links of stored pages, and a
     * link sent with a page whose lease was lost was not stored). */
    at = 0;
    for (size_t i = 0; i < n; i++) {
        struct scr_store_item *it = items[i];
        size_t j = 0;
        for (size_t k = 0; k < it->links.n; k++, at++) {
            if (dup[at]) {
                free(it->links.v[k]);
                free(it->link_hosts.v[k]);
                continue;
            }
            it->links.v[j] = it->links.v[k];
            it->link_hosts.v[j] = it->link_hosts.v[k];
            j++;
        }
        it->links.n = it->link_hosts.n = j;
    }
    rc = SCR_OK;
out:
    free(dup);
    PQclear(r);
    for (int c = 0; c < NCOLS + NEXTRA; c++)
        scr_pgarray_release(&a[c]);
    return rc;
}
