/* frontier.c - the SQL of the frontier: the urls table and what a stored result adds to the
 * fetches and records tables (see frontier.h for the invariants and what lives elsewhere).
 *
 * Called by the coordinator at start-up and at the end, and by the store thread during the
 * run, always with the connection the caller owns.  All values are parameters.
 */
#include "coordinator/frontier.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "coordinator/db.h"
#include "coordinator/runs.h"

void scr_lease_item_release(struct scr_lease_item *it)
{
    free(it->url);
    free(it->host);
    free(it->etag);
    free(it->last_modified);
    memset(it, 0, sizeof(*it));
}

void scr_store_item_free(struct scr_store_item *it)
{
    if (!it)
        return;
    scr_result_release(&it->res);
    free(it->records_json);
    scr_strvec_release(&it->links);
    scr_strvec_release(&it->link_hosts);
    scr_strvec_release(&it->sitemap_links);
    scr_strvec_release(&it->sitemap_hosts);
    free(it->robots_host);
    scr_strvec_release(&it->robots_hosts);
    scr_hostdb_robots_free(it->robots, it->nrobots);
    scr_strvec_release(&it->claims_release);
    scr_strvec_release(&it->claims_ages);
    scr_strvec_release(&it->claims_keep);
    scr_strvec_release(&it->claims_held);
    free(it->warc_file);
    free(it);
}

const char *scr_url_state_name(enum scr_url_state st)
{
    switch (st) {
    case SCR_URL_QUEUED: return "queued";
    case SCR_URL_LEASED: return "leased";
    case SCR_URL_DONE: return "done";
    case SCR_URL_FAILED: return "failed";
    case SCR_URL_SKIPPED: return "skipped";
    }
    return "failed";
}

int scr_frontier_recrawl(PGconn *db, int64_t job_id, int64_t age_ms, int64_t *count, char *err,
                         size_t errlen)
{
    char job[24], age[24];
    const char *p[2] = {job, age};
    PGresult *r;

    scr_db_i64(job, sizeof(job), job_id);
    scr_db_i64(age, sizeof(age), age_ms);
    r = scr_db_exec(db, "queueing pages for a recrawl",
                    "WITH q AS (UPDATE urls SET state = 'queued', attempts = 0,"
                    " next_attempt_at = now(), error = NULL"
                    " WHERE job_id = $1::bigint AND state = 'done' AND kind = 'page'"
                    " AND last_fetch_at < now() - $2::bigint * interval '1 millisecond'"
                    " RETURNING 1) SELECT count(*) FROM q",
                    2, p, err, errlen);
    if (!r)
        return SCR_EDB;
    *count = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

int scr_frontier_reclaim(PGconn *db, int64_t run_id, int64_t *reclaimed,
                         int64_t *claims_ended, char *err, size_t errlen)
{
    char key[24], run[24];
    const char *p[2] = {key, run};
    PGresult *r;

    scr_db_i64(key, sizeof(key), SCR_RUNS_LOCK_KEY);
    scr_db_i64(run, sizeof(run), run_id);
    r = scr_db_exec(
        db, "reclaiming the leases of dead runs",
        "WITH dead AS ("
        "  UPDATE runs r SET status = 'died', finished_at = coalesce(r.finished_at, now())"
        "  WHERE r.status = 'running' AND r.id <> $2::bigint AND NOT EXISTS ("
        "    SELECT 1 FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
        "    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
        "      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        "      AND l.classid::bigint = $1::bigint AND l.objid::bigint = r.id"
        "      AND " SCR_RUNS_LIVE_HOLDER ")"
        "  RETURNING r.id),"
        " back AS ("
        "  UPDATE urls u SET state = 'queued', lease_run = NULL, lease_until = NULL"
        "  WHERE u.state = 'leased' AND u.lease_run IS DISTINCT FROM $2::bigint"
        "    AND (u.lease_run IN (SELECT id FROM dead) OR u.lease_until < now()"
        "         OR u.lease_run IN (SELECT id FROM runs WHERE status <> 'running'))"
        "  RETURNING 1),"
        /* the claims of dead and ended runs end now: they started nothing after
         * least(until, now()), which becomes their last start (the next owner's wait) */
        " cl AS ("
        "  UPDATE host_claims hc SET until = least(hc.until, now()),"
        "    last_start = greatest(hc.last_start, least(hc.until, now()))"
        "  WHERE (hc.job_id, hc.host) IN (SELECT k.job_id, k.host FROM host_claims k"
        "    WHERE k.until > now() AND k.run_id <> $2::bigint"
        "      AND (k.run_id IN (SELECT id FROM dead)"
        "           OR k.run_id IN (SELECT id FROM runs WHERE status <> 'running'))"
        "    ORDER BY k.job_id, k.host FOR UPDATE OF k)"
        "  RETURNING 1)"
        " SELECT count(*), (SELECT count(*) FROM cl) FROM back",
        2, p, err, errlen);
    if (!r)
        return SCR_EDB;
    if (reclaimed)
        *reclaimed = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    if (claims_ended)
        *claims_ended = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

int scr_frontier_seed(PGconn *db, int64_t job_id, const struct scr_strvec *urls,
                      const struct scr_strvec *hosts, int64_t *added, char *err, size_t errlen)
{
    char job[24], *u = scr_db_join_lines(urls), *h = scr_db_join_lines(hosts);
    const char *p[3] = {job, u, h};
    PGresult *r;

    scr_db_i64(job, sizeof(job), job_id);
    r = scr_db_exec(db, "adding the seeds",
                    /* a URL already known (found as a link, or a sitemap) becomes a seed
                     * too; only new rows are counted as added (xmax = 0) */
                    "WITH ins AS (INSERT INTO urls (job_id, url, host, depth, seed)"
                    " SELECT $1::bigint, d.url, d.host, 0, true FROM"
                    /* a URL twice in one batch: once (DO UPDATE may touch a row only once) */
                    "  (SELECT DISTINCT ON (x.url) x.url, x.host, x.n"
                    "   FROM unnest(string_to_array($2, E'\\n'), string_to_array($3, E'\\n'))"
                    "     WITH ORDINALITY AS x(url, host, n)"
                    "   WHERE $2 <> '' ORDER BY x.url, x.n) d"
                    " ORDER BY d.n"
                    " ON CONFLICT (job_id, url) DO UPDATE SET seed = true WHERE NOT urls.seed"
                    " RETURNING xmax = 0 AS inserted)"
                    " SELECT count(*) FILTER (WHERE inserted) FROM ins",
                    3, p, err, errlen);
    free(u);
    free(h);
    if (!r)
        return SCR_EDB;
    *added = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

int scr_frontier_count_settled(PGconn *db, int64_t job_id, int64_t *count, char *err,
                               size_t errlen)
{
    char job[24];
    const char *p[1] = {job};
    PGresult *r;

    scr_db_i64(job, sizeof(job), job_id);
    r = scr_db_exec(db, "counting settled URLs",
                    "SELECT count(*) FROM urls WHERE job_id = $1::bigint"
                    " AND state IN ('done', 'failed', 'skipped')",
                    1, p, err, errlen);
    if (!r)
        return SCR_EDB;
    *count = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

/* The lease statement (docs/internals/islands.md, docs/internals/leases.md):
 *  cand:  the first $2 due URLs, not of excluded hosts nor of hosts another run claims;
 *  pick:  their hosts: those this run claims already, and of the others (in frontier order)
 *         a fair share: 1/live of them, live = the job's live runs (heartbeat within the
 *         TTL), so that islands starting together spread the hosts between them;
 *  claim: the picked hosts, claimed in host order (so claimants lock rows in one order and
 *         never deadlock): a new row, or an existing one that is expired, released or
 *         already ours.  Concurrent claimants serialize on the row; the loser's WHERE fails
 *         and its row is not returned.  Taking another run's claim keeps greatest(last_start,
 *         until) as the last start: the previous owner started nothing after its until;
 *  c, l:  the candidates whose host was claimed are leased (SKIP LOCKED: never waits);
 *  the result: the leased URLs, then one row per claimed host (id NULL) with the age of the
 *  last start the database knows of. */
static const char LEASE_SQL[] =
    "WITH cand AS ("
    "  SELECT u.id, u.host, row_number() OVER (ORDER BY u.depth, u.id) AS rn FROM urls u"
    "  WHERE u.job_id = $1::bigint AND u.state = 'queued' AND u.next_attempt_at <= now()"
    "    AND ($5 = '' OR u.host <> ALL (string_to_array($5, E'\\n')))"
    "    AND NOT EXISTS (SELECT 1 FROM host_claims o WHERE o.job_id = $1::bigint"
    "      AND o.host = u.host AND o.run_id <> $3::bigint AND o.until >= now())"
    "  ORDER BY u.depth, u.id LIMIT $2::int),"
    " ch AS ("
    "  SELECT cand.host, min(cand.rn) AS first, EXISTS (SELECT 1 FROM host_claims m"
    "    WHERE m.job_id = $1::bigint AND m.host = cand.host AND m.run_id = $3::bigint"
    "      AND m.until >= now()) AS mine"
    "  FROM cand GROUP BY cand.host),"
    " pick AS ("
    "  SELECT x.host FROM (SELECT ch.host, ch.mine,"
    "    row_number() OVER (PARTITION BY ch.mine ORDER BY ch.first) AS k,"
    "    count(*) OVER (PARTITION BY ch.mine) AS total FROM ch) x"
    "  WHERE x.mine OR x.k <= ceil(x.total::numeric / greatest(1, (SELECT count(*) FROM runs r"
    "    WHERE r.job_id = $1::bigint AND r.status = 'running'"
    "      AND r.heartbeat_at > now() - $4::bigint * interval '1 millisecond')))),"
    " claim AS ("
    "  INSERT INTO host_claims AS hc (job_id, host, run_id, until)"
    "  SELECT $1::bigint, pick.host, $3::bigint,"
    "    now() + $4::bigint * interval '1 millisecond' FROM pick ORDER BY pick.host"
    "  ON CONFLICT (job_id, host) DO UPDATE SET run_id = EXCLUDED.run_id,"
    "    until = EXCLUDED.until,"
    "    last_start = CASE WHEN hc.run_id = EXCLUDED.run_id THEN hc.last_start"
    "                      ELSE greatest(hc.last_start, hc.until) END"
    "  WHERE hc.until < now() OR hc.run_id = EXCLUDED.run_id"
    "  RETURNING hc.host, hc.last_start),"
    " c AS ("
    "  SELECT u.id FROM urls u"
    "  WHERE u.id IN (SELECT id FROM cand) AND u.host IN (SELECT host FROM claim)"
    "    AND u.state = 'queued'"
    "  FOR UPDATE SKIP LOCKED),"
    " l AS ("
    "  UPDATE urls u SET state = 'leased', lease_run = $3::bigint,"
    "    lease_until = now() + $4::bigint * interval '1 millisecond',"
    "    attempts = u.attempts + 1"
    "  FROM c WHERE u.id = c.id"
    "  RETURNING u.id, u.url, u.host, u.depth, u.attempts,"
    /* a page last extracted with other rules or parsers is fetched unconditionally */
    "    CASE WHEN u.kind = 'page' AND u.extract_hash IS DISTINCT FROM (SELECT r.extract_hash"
    "      FROM runs r WHERE r.id = $3::bigint) THEN '' ELSE coalesce(u.etag, '') END AS etag,"
    "    CASE WHEN u.kind = 'page' AND u.extract_hash IS DISTINCT FROM (SELECT r.extract_hash"
    "      FROM runs r WHERE r.id = $3::bigint) THEN '' ELSE coalesce(u.last_modified, '') END"
    "      AS lm, u.kind, u.hops)"
    " SELECT l.id, l.url, l.host, l.depth, l.attempts, l.etag, l.lm, l.kind, l.hops,"
    "   NULL::bigint FROM l"
    " UNION ALL"
    " SELECT NULL, NULL, claim.host, NULL, NULL, NULL, NULL, NULL, NULL,"
    "   coalesce(floor(extract(epoch FROM now() - claim.last_start) * 1000)::bigint, -1)"
    " FROM claim";

int scr_frontier_lease(PGconn *db, int64_t job_id, int64_t run_id, int n, int64_t ttl_ms,
                       const struct scr_strvec *exclude_hosts, struct scr_lease_item **items,
                       size_t *count, struct scr_claim **claims, size_t *nclaims, char *err,
                       size_t errlen)
{
    char job[24], run[24], lim[24], ttl[24];
    char *exclude = scr_db_join_lines(exclude_hosts);
    const char *p[5] = {job, lim, run, ttl, exclude};
    struct scr_lease_item *v = NULL;
    struct scr_claim *cv = NULL;
    PGresult *r;
    int rows, nv = 0, nc = 0;

    *items = NULL;
    *count = 0;
    *claims = NULL;
    *nclaims = 0;
    scr_db_i64(job, sizeof(job), job_id);
    scr_db_i64(run, sizeof(run), run_id);
    scr_db_i64(lim, sizeof(lim), n);
    scr_db_i64(ttl, sizeof(ttl), ttl_ms);
    r = scr_db_exec(db, "leasing URLs", LEASE_SQL, 5, p, err, errlen);
    free(exclude);
    if (!r)
        return SCR_EDB;
    rows = PQntuples(r);
    if (rows > 0) {
        v = scr_xcalloc((size_t)rows, sizeof(*v));
        cv = scr_xcalloc((size_t)rows, sizeof(*cv));
    }
    for (int i = 0; i < rows; i++) {
        if (PQgetisnull(r, i, 0)) {
            cv[nc].host = scr_xstrdup(PQgetvalue(r, i, 2));
            cv[nc].age_ms = strtoll(PQgetvalue(r, i, 9), NULL, 10);
            nc++;
            continue;
        }
        v[nv].url_id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        v[nv].url = scr_xstrdup(PQgetvalue(r, i, 1));
        v[nv].host = scr_xstrdup(PQgetvalue(r, i, 2));
        v[nv].depth = (int)strtol(PQgetvalue(r, i, 3), NULL, 10);
        v[nv].attempts = (int)strtol(PQgetvalue(r, i, 4), NULL, 10);
        v[nv].etag = scr_xstrdup(PQgetvalue(r, i, 5));
        v[nv].last_modified = scr_xstrdup(PQgetvalue(r, i, 6));
        v[nv].kind =
            strcmp(PQgetvalue(r, i, 7), "sitemap") == 0 ? SCR_TASK_SITEMAP : SCR_TASK_PAGE;
        v[nv].hops = (int)strtol(PQgetvalue(r, i, 8), NULL, 10);
        nv++;
    }
    PQclear(r);
    /* results come back in an arbitrary order: keep the frontier's order */
    for (int i = 1; i < nv; i++) {
        struct scr_lease_item t = v[i];
        int j = i - 1;
        while (j >= 0 && (v[j].depth > t.depth ||
                          (v[j].depth == t.depth && v[j].url_id > t.url_id))) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = t;
    }
    if (nv == 0) {
        free(v);
        v = NULL;
    }
    if (nc == 0) {
        free(cv);
        cv = NULL;
    }
    *items = v;
    *count = (size_t)nv;
    *claims = cv;
    *nclaims = (size_t)nc;
    return SCR_OK;
}

int scr_frontier_renew(PGconn *db, int64_t run_id, int64_t ttl_ms, char *err, size_t errlen)
{
    char run[24], ttl[24];
    const char *p[2] = {run, ttl};

    scr_db_i64(run, sizeof(run), run_id);
    scr_db_i64(ttl, sizeof(ttl), ttl_ms);
    return scr_db_command(db, "renewing leases",
                          "WITH r AS (UPDATE runs SET heartbeat_at = now() WHERE id = $1::bigint)"
                          " UPDATE urls SET lease_until = now() + $2::bigint * interval '1 millisecond'"
                          " WHERE lease_run = $1::bigint AND state = 'leased'",
                          2, p, err, errlen);
}

/* One result: the URL's new state (only while this run holds its lease), the fetch row, its
 * records and its new outlinks, in one statement.  Prepared once per connection by
 * scr_frontier_prepare: parsing and planning this statement cost PostgreSQL more than
 * running it.  Under --max-pages ($21 = the room left, counted by the store thread) the
 * known links are left out before the LIMIT by a scalar subquery with LIMIT 1: an index probe
 * per link.  (NOT EXISTS there lets the generic plan hash the whole frontier per result.)
 * LINK_FILTER and LINK_LIMIT are those two parts of the outlink insert.
 * Without a fetch ($26, not lost) a URL put back ('queued') or failed (its host unreachable in
 * --host-down-runs runs: outages.h) gives its lease's attempt back.
 * The lost form ($26 no fetch and $27 lost): the URL was in flight on worker $11 ($12), which
 * was lost.  The attempt is kept, the loss is added to lost_count / lost_workers (lw), and at
 * $28 losses the URL is quarantined: 'failed' with a reason naming every lost worker; the
 * statement returns the new state and error so the caller knows. */
#define STORE_SQL(LINK_FILTER, LINK_LIMIT, SM_LIMIT) \
    "WITH prev AS (SELECT content_hash FROM urls WHERE id = $1::bigint)," \
    " lw AS (" \
    "  SELECT format('rank %s on %s in run %s', $11::int, $12::text, $2::bigint) AS who)," \
    " u AS (" \
    "  UPDATE urls SET" \
    "    state = CASE WHEN $27::boolean AND lost_count + 1 >= $28::int THEN 'failed'" \
    "      ELSE $3 END," \
    "    lease_run = NULL, lease_until = NULL," \
    "    next_attempt_at = CASE WHEN $3 = 'queued'" \
    "      THEN now() + $20::bigint * interval '1 millisecond' ELSE next_attempt_at END," \
    "    attempts = CASE WHEN $26::boolean AND $3 IN ('queued', 'failed') AND NOT $27::boolean" \
    "      THEN greatest(attempts - 1, 0) ELSE attempts END," \
    "    lost_count = lost_count + CASE WHEN $27::boolean THEN 1 ELSE 0 END," \
    "    lost_workers = CASE WHEN $27::boolean" \
    "      THEN concat_ws('; ', lost_workers, (SELECT who FROM lw)) ELSE lost_workers END," \
    "    last_fetch_at = CASE WHEN $26::boolean THEN last_fetch_at ELSE now() END," \
    "    last_status = CASE WHEN $26::boolean THEN last_status ELSE nullif($4::int, 0) END," \
    "    error = CASE WHEN $27::boolean AND lost_count + 1 >= $28::int" \
    "      THEN format('quarantined: in flight on %s workers that were lost (%s); '" \
    "        || 'not retried automatically', lost_count + 1," \
    "        concat_ws('; ', lost_workers, (SELECT who FROM lw)))" \
    "      ELSE nullif($13, '') END," \
    "    etag = coalesce(nullif($14, ''), etag)," \
    "    last_modified = coalesce(nullif($15, ''), last_modified)," \
    "    content_hash = coalesce(nullif($16, ''), content_hash)," \
    "    extract_hash = CASE WHEN NOT $26::boolean AND $4::int BETWEEN 200 AND 299" \
    "      AND $13 = '' THEN (SELECT r.extract_hash FROM runs r WHERE r.id = $2::bigint)" \
    "      ELSE extract_hash END" \
    "  WHERE id = $1::bigint AND lease_run = $2::bigint AND state = 'leased'" \
    "  RETURNING id, job_id, depth, hops, url, attempts, state, error)," \
    " f AS (" \
    "  INSERT INTO fetches (url_id, job_id, run_id, url, attempt, http_status, final_url," \
    "    content_type, bytes, elapsed_ms, wait_ms, redirects, worker_rank, worker_host," \
    "    error, etag, last_modified, content_hash, changed, encoding)" \
    "  SELECT u.id, u.job_id, $2::bigint, u.url, u.attempts, nullif($4::int, 0)," \
    "    nullif($5, ''), nullif($6, ''), $7::bigint, $8::int, $9::int, $10::int, $11::int," \
    "    $12, nullif($13, ''), nullif($14, ''), nullif($15, ''), nullif($16, '')," \
    "    CASE WHEN $4::int = 304 THEN false" \
    "         WHEN (SELECT content_hash FROM prev) IS NULL OR $16 = '' THEN NULL" \
    "         ELSE (SELECT content_hash FROM prev) <> $16 END," \
    "    nullif($29, '')" \
    "  FROM u WHERE NOT $26::boolean RETURNING id, url_id, job_id)," \
    " rec AS (" \
    "  INSERT INTO records (fetch_id, url_id, job_id, parser, rule_set, record_type," \
    "    rules_hash, data)" \
    "  SELECT f.id, f.url_id, f.job_id, e->>'parser', e->>'rule_set', e->>'record'," \
    "    e->>'rules_hash'," \
    "    coalesce(e->'data', 'null'::jsonb)" \
    "  FROM f, jsonb_array_elements($17::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY x.n)," \
    " l AS (" \
    "  INSERT INTO urls (job_id, url, host, depth, hops, discovered_by)" \
    "  SELECT u.job_id, x.url, x.host, u.depth + $22::int, $23::int, u.id" \
    "  FROM u, unnest(string_to_array($18, E'\\n'), string_to_array($19, E'\\n'))" \
    "    WITH ORDINALITY AS x(url, host, n)" \
    "  WHERE $18 <> '' AND " LINK_FILTER \
    "  ORDER BY x.n" \
    "  " LINK_LIMIT \
    "  ON CONFLICT (job_id, url) DO NOTHING RETURNING 1)," \
    " sm AS (" \
    "  INSERT INTO urls (job_id, url, host, depth, kind, hops, discovered_by)" \
    "  SELECT u.job_id, x.url, x.host, 0, 'sitemap', u.hops + 1, u.id" \
    "  FROM u, unnest(string_to_array($24, E'\\n'), string_to_array($25, E'\\n'))" \
    "    WITH ORDINALITY AS x(url, host, n)" \
    "  WHERE $24 <> '' AND " LINK_FILTER \
    "  ORDER BY x.n" \
    "  " SM_LIMIT \
    "  ON CONFLICT (job_id, url) DO NOTHING RETURNING 1)" \
    " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM l) + (SELECT count(*) FROM sm)," \
    "   (SELECT state FROM u), (SELECT error FROM u)"

/* Without a cap the links need no filter and no limit (ON CONFLICT drops the known ones);
 * the plan without them is leaner.  $21 is still named so that both have the same
 * parameters. */
#define STORE_NPARAMS 29
#define STORE_NAME "scr_store"
#define STORE_CAP_NAME "scr_store_cap"
static const char STORE_SQL_NOCAP[] = STORE_SQL("$21::bigint IS NULL", "", "");
/* Nested sitemaps count against --max-pages like links: they get the room the links left. */
static const char STORE_SQL_CAP[] =
    STORE_SQL("(SELECT 1 FROM urls k WHERE k.job_id = u.job_id AND k.url = x.url LIMIT 1)"
              " IS NULL",
              "LIMIT greatest(0, $21::bigint)",
              "LIMIT greatest(0, $21::bigint - (SELECT count(*) FROM l))");

int scr_frontier_prepare(PGconn *db, char *err, size_t errlen)
{
    const char *p[1] = {STORE_NAME};
    PGresult *r;
    int have, rc;

    /* a connection handed back and forth (store stopped and started again) has them already */
    r = scr_db_exec(db, "looking up prepared statements",
                    "SELECT 1 FROM pg_prepared_statements WHERE name = $1", 1, p, err, errlen);
    if (!r)
        return SCR_EDB;
    have = PQntuples(r) > 0;
    PQclear(r);
    if (have)
        return SCR_OK;
    rc = scr_db_prepare(db, STORE_NAME, STORE_SQL_NOCAP, STORE_NPARAMS, err, errlen);
    if (rc == SCR_OK)
        rc = scr_db_prepare(db, STORE_CAP_NAME, STORE_SQL_CAP, STORE_NPARAMS, err, errlen);
    if (rc == SCR_OK)
        rc = scr_frontier_prepare_group(db, err, errlen);
    return rc;
}

int scr_frontier_store(PGconn *db, int64_t run_id, struct scr_store_item *it, char *err,
                       size_t errlen)
{
    const struct scr_result *res = &it->res;
    char url_id[24], run[24], status[24], bytes[24], elapsed[24], wait[24], redirects[24],
        rank[24], delay[24], cap[24], ddelta[24], hops[24], quarantine[24];
    /* the SQL boundary: the lists become '\n'-joined texts here */
    char *links = scr_db_join_lines(&it->links);
    char *link_hosts = scr_db_join_lines(&it->link_hosts);
    char *sm_links = scr_db_join_lines(&it->sitemap_links);
    char *sm_hosts = scr_db_join_lines(&it->sitemap_hosts);
    const char *p[19] = {url_id, run, scr_url_state_name(it->new_state), status, res->final_url,
                         res->content_type, bytes, elapsed, wait, redirects, rank,
                         it->worker_host, res->error, res->etag, res->last_modified,
                         res->content_hash, it->records_json, links, link_hosts};
    const char *p2[STORE_NPARAMS];
    PGresult *r;
    int rc = SCR_EDB;

    scr_db_i64(url_id, sizeof(url_id), (int64_t)res->url_id);
    scr_db_i64(run, sizeof(run), run_id);
    scr_db_i64(status, sizeof(status), res->http_status);
    scr_db_i64(bytes, sizeof(bytes), (int64_t)res->bytes);
    scr_db_i64(elapsed, sizeof(elapsed), res->elapsed_ms);
    scr_db_i64(wait, sizeof(wait), res->wait_ms);
    scr_db_i64(redirects, sizeof(redirects), res->redirects);
    scr_db_i64(rank, sizeof(rank), it->worker_rank);
    scr_db_i64(delay, sizeof(delay), it->retry_delay_ms);
    scr_db_i64(cap, sizeof(cap), it->url_room);
    memcpy(p2, p, sizeof(p));
    p2[19] = delay;
    p2[20] = it->max_urls > 0 ? cap : NULL;
    scr_db_i64(ddelta, sizeof(ddelta), it->link_depth_delta);
    scr_db_i64(hops, sizeof(hops), it->link_hops);
    p2[21] = ddelta;
    p2[22] = hops;
    p2[23] = sm_links;
    p2[24] = sm_hosts;
    p2[25] = it->no_fetch ? "true" : "false";
    p2[26] = it->lost ? "true" : "false";
    assert(!it->lost || it->quarantine_losses > 0);
    scr_db_i64(quarantine, sizeof(quarantine), it->quarantine_losses);
    p2[27] = quarantine;
    p2[28] = res->encoding ? res->encoding : "";
    r = scr_db_exec_prepared(db, "storing a result",
                             it->max_urls > 0 ? STORE_CAP_NAME : STORE_NAME, STORE_NPARAMS, p2,
                             err, errlen);
    if (!r)
        goto out;
    it->stored = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    it->new_urls = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    if (it->stored && it->lost && strncmp(PQgetvalue(r, 0, 3), "quarantined:", 12) == 0) {
        /* its quarantine_losses-th loss: failed, with the reason the statement
         * wrote (naming every lost worker, over all runs) */
        it->new_state = SCR_URL_FAILED;
        it->quarantined = 1;
        free(it->res.error);
        it->res.error = scr_xstrdup(PQgetvalue(r, 0, 3));
    }
    PQclear(r);
    rc = SCR_OK;
out:
    free(links);
    free(link_hosts);
    free(sm_links);
    free(sm_hosts);
    return rc;
}

int scr_frontier_count(PGconn *db, int64_t job_id, int64_t *count, char *err, size_t errlen)
{
    char job[24];
    const char *p[1] = {job};
    PGresult *r;

    scr_db_i64(job, sizeof(job), job_id);
    r = scr_db_exec(db, "counting the job's URLs",
                    "SELECT count(*) FROM urls WHERE job_id = $1::bigint", 1, p, err, errlen);
    if (!r)
        return SCR_EDB;
    *count = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

int scr_frontier_add_sitemaps(PGconn *db, int64_t job_id, const struct scr_strvec *urls,
                              const struct scr_strvec *hosts, int64_t room, int64_t *added,
                              char *err, size_t errlen)
{
    char job[24], lim[24], *u = scr_db_join_lines(urls), *h = scr_db_join_lines(hosts);
    const char *p[4] = {job, u, h, room >= 0 ? lim : NULL};
    PGresult *r;

    scr_db_i64(job, sizeof(job), job_id);
    scr_db_i64(lim, sizeof(lim), room);
    *added = 0;
    /* under a cap, the known ones are left out before the LIMIT (see STORE_SQL) */
    r = scr_db_exec(db, "queueing sitemaps",
                    "WITH s AS (INSERT INTO urls (job_id, url, host, depth, kind)"
                    " SELECT $1::bigint, x.url, x.host, 0, 'sitemap'"
                    " FROM unnest(string_to_array($2, E'\\n'), string_to_array($3, E'\\n'))"
                    "   WITH ORDINALITY AS x(url, host, n)"
                    " WHERE $2 <> '' AND ($4::bigint IS NULL OR (SELECT 1 FROM urls k"
                    "   WHERE k.job_id = $1::bigint AND k.url = x.url LIMIT 1) IS NULL)"
                    " ORDER BY x.n LIMIT $4::bigint" /* LIMIT NULL: no limit */
                    " ON CONFLICT (job_id, url) DO NOTHING RETURNING 1)"
                    " SELECT count(*) FROM s",
                    4, p, err, errlen);
    free(u);
    free(h);
    if (!r)
        return SCR_EDB;
    *added = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

int scr_frontier_outlook(PGconn *db, int64_t job_id, int64_t run_id, struct scr_outlook *o,
                         char *err, size_t errlen)
{
    char job[24], run[24];
    const char *p[2] = {job, run};
    PGresult *r;

    scr_db_i64(job, sizeof(job), job_id);
    scr_db_i64(run, sizeof(run), run_id);
    r = scr_db_exec(
        db, "looking at the frontier",
        "SELECT"
        " (SELECT count(*) FROM urls WHERE job_id = $1::bigint AND state = 'queued'"
        "    AND next_attempt_at <= now()),"
        " (SELECT count(*) FROM urls WHERE job_id = $1::bigint AND state = 'queued'"
        "    AND next_attempt_at > now()),"
        " coalesce((SELECT ceil(extract(epoch FROM min(next_attempt_at) - now()) * 1000)::bigint"
        "    FROM urls WHERE job_id = $1::bigint AND state = 'queued'"
        "    AND next_attempt_at > now()), 0),"
        " (SELECT count(*) FROM urls WHERE job_id = $1::bigint AND state = 'leased'"
        "    AND lease_run <> $2::bigint)",
        2, p, err, errlen);
    if (!r)
        return SCR_EDB;
    o->queued_ready = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    o->queued_later = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    o->next_due_ms = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    o->leased_other = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

int scr_frontier_release(PGconn *db, int64_t run_id, char *err, size_t errlen)
{
    char run[24];
    const char *p[1] = {run};

    scr_db_i64(run, sizeof(run), run_id);
    return scr_db_command(db, "returning unfinished leases",
                          "UPDATE urls SET state = 'queued', lease_run = NULL, lease_until = NULL,"
                          " attempts = greatest(attempts - 1, 0)"
                          " WHERE lease_run = $1::bigint AND state = 'leased'",
                          1, p, err, errlen);
}

