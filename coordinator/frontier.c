/* frontier.c - the SQL of the crawl (see frontier.h for the invariants).
 *
 * Called by the coordinator at start-up and at the end, and by the store thread during the
 * run, always with the connection the caller owns.  All values are parameters.
 */
#include "coordinator/frontier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "coordinator/db.h"

/* First key of the run advisory locks: (RUN_LOCK_KEY, run id). */
#define RUN_LOCK_KEY 1396921858
/* Transaction lock serializing the start of runs of one job: (JOB_LOCK_KEY, job id). */
#define JOB_LOCK_KEY 1396921859

/* SQL: the session `a` (pg_stat_activity) holding a run's lock is a scrape run's, not an
 * analyst's: its role may update the runs table.  Anyone can take any advisory lock, and set
 * any application_name, but a reader role cannot write runs. */
#define LIVE_HOLDER "coalesce(has_table_privilege(a.usesysid, 'runs', 'UPDATE'), false)"

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
    scr_robots_cache_free(it->robots, it->nrobots);
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

static void i64(char *buf, size_t len, int64_t v)
{
    snprintf(buf, len, "%lld", (long long)v);
}

/* The SQL boundary of a list: its strings '\n'-joined, for string_to_array($n, E'\n')
 * (no URL or host contains a newline).  Caller frees. */
static char *join_lines(const struct scr_strvec *sv)
{
    struct scr_buf b;

    scr_buf_init(&b);
    for (size_t i = 0; sv && i < sv->n; i++) {
        if (i)
            scr_buf_putc(&b, '\n');
        scr_buf_puts(&b, sv->v[i]);
    }
    return scr_buf_detach(&b, NULL);
}

int scr_frontier_job(PGconn *db, const char *name, int64_t *job_id, char *err, size_t errlen)
{
    const char *p[1] = {name};
    PGresult *r = scr_db_exec(db, "creating the job",
                              "WITH ins AS (INSERT INTO jobs (name) VALUES ($1) "
                              "ON CONFLICT (name) DO NOTHING RETURNING id) "
                              "SELECT id FROM ins UNION ALL SELECT id FROM jobs WHERE name = $1",
                              1, p, err, errlen);
    if (!r)
        return SCR_EDB;
    if (PQntuples(r) < 1) {
        snprintf(err, errlen, "job '%s' could not be created", name);
        PQclear(r);
        return SCR_EDB;
    }
    *job_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

int scr_frontier_run_begin(PGconn *db, int64_t job_id, const char *command,
                           const char *settings_json, int insecure, const char *host,
                           int if_idle, int64_t *run_id, char *err, size_t errlen)
{
    char job[24], pid[24];
    const char *p[6] = {job, command, settings_json, insecure ? "true" : "false", host, pid};
    PGresult *r;
    int rc = SCR_EDB;

    i64(job, sizeof(job), job_id);
    i64(pid, sizeof(pid), (int64_t)getpid());
    /* The row and its lock become visible together: another run's reclaim can never see
     * this run without its lock and take it for dead. */
    if (scr_db_command(db, "BEGIN", "BEGIN", 0, NULL, err, errlen))
        return SCR_EDB;
    /* Waits for another run's start, or a foreign holder of the lock, in a loop SIGTERM
     * ends; with --if-idle a foreign holder is named and the run not started. */
    rc = scr_db_advisory_lock(db, JOB_LOCK_KEY, job_id, 1, if_idle, -1, "locking the job", err,
                              errlen);
    if (rc)
        goto fail;
    if (if_idle) {
        char key[24];
        const char *lp[2] = {key, job};
        i64(key, sizeof(key), RUN_LOCK_KEY);
        /* A run is live when a scrape session holds its lock (LIVE_HOLDER); a lock held only
         * by another session (an analyst may take any advisory lock) is named, not obeyed. */
        r = scr_db_exec(db, "looking for live runs",
                        "SELECT r.id, coalesce(r.coordinator_host, '?'), r.started_at::text,"
                        "  bool_or(" LIVE_HOLDER "),"
                        "  string_agg(format('pid %s, user %s, application %s', l.pid,"
                        "    coalesce(a.usename, '?'), coalesce(nullif(a.application_name, ''),"
                        "    '?')), '; ')"
                        " FROM runs r JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted"
                        "  AND l.objsubid = 2 AND l.classid::bigint = $1::bigint"
                        "  AND l.objid::bigint = r.id AND l.database = (SELECT oid FROM"
                        "  pg_database WHERE datname = current_database())"
                        " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
                        " WHERE r.job_id = $2::bigint AND r.status = 'running'"
                        " GROUP BY r.id ORDER BY 4 DESC, r.id",
                        2, lp, err, errlen);
        if (!r)
            goto fail;
        for (int i = 0; i < PQntuples(r); i++) {
            if (PQgetvalue(r, i, 3)[0] == 't') {
                snprintf(err, errlen, "another run of this job is active: run %s on %s since %s",
                         PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
                PQclear(r);
                PQclear(PQexec(db, "ROLLBACK"));
                return SCR_EBUSY;
            }
            scr_warn("run %s's lock is held by another session (%s), not a scrape run: the run "
                     "is taken for dead",
                     PQgetvalue(r, i, 0), PQgetvalue(r, i, 4));
        }
        PQclear(r);
    }
    r = scr_db_exec(db, "creating the run",
                    "INSERT INTO runs (job_id, command, settings, insecure, coordinator_host, "
                    "coordinator_pid) VALUES ($1, $2, $3::jsonb, $4, $5, $6) RETURNING id",
                    6, p, err, errlen);
    if (!r)
        goto fail;
    *run_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    rc = scr_frontier_run_lock(db, *run_id, err, errlen);
    if (rc)
        goto fail;
    if (scr_db_command(db, "COMMIT", "COMMIT", 0, NULL, err, errlen))
        goto fail;
    return SCR_OK;
fail:
    PQclear(PQexec(db, "ROLLBACK"));
    /* SCR_EBUSY only for --if-idle: a foreign holder of the run's own lock is an error */
    return rc == SCR_ESTOPPED || (rc == SCR_EBUSY && if_idle) ? rc : SCR_EDB;
}

int scr_frontier_run_lock(PGconn *db, int64_t run_id, char *err, size_t errlen)
{
    char run[24];
    const char *p[1] = {run};
    int rc;

    i64(run, sizeof(run), run_id);
    /* After a reconnect our old session may hold it until the server notices it is gone:
     * wait for that (SIGTERM ends the wait).  A foreign session holding it is refused. */
    rc = scr_db_advisory_lock(db, RUN_LOCK_KEY, run_id, 0, 1, -1, "locking the run", err,
                              errlen);
    if (rc)
        return rc;
    /* after a reconnect: if another run took us for dead meanwhile, we are alive again (the
     * leases it took back are its now, and our store statements will see that) */
    return scr_db_command(db, "marking the run alive",
                          "UPDATE runs SET status = 'running', finished_at = NULL"
                          " WHERE id = $1::bigint AND status = 'died'",
                          1, p, err, errlen);
}

int scr_frontier_recrawl(PGconn *db, int64_t job_id, int64_t age_ms, int64_t *count, char *err,
                         size_t errlen)
{
    char job[24], age[24];
    const char *p[2] = {job, age};
    PGresult *r;

    i64(job, sizeof(job), job_id);
    i64(age, sizeof(age), age_ms);
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

int scr_frontier_reclaim(PGconn *db, int64_t run_id, int64_t *reclaimed, char *err,
                         size_t errlen)
{
    char key[24], run[24];
    const char *p[2] = {key, run};
    PGresult *r;

    i64(key, sizeof(key), RUN_LOCK_KEY);
    i64(run, sizeof(run), run_id);
    r = scr_db_exec(
        db, "reclaiming the leases of dead runs",
        "WITH dead AS ("
        "  UPDATE runs r SET status = 'died', finished_at = coalesce(r.finished_at, now())"
        "  WHERE r.status = 'running' AND r.id <> $2::bigint AND NOT EXISTS ("
        "    SELECT 1 FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
        "    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
        "      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        "      AND l.classid::bigint = $1::bigint AND l.objid::bigint = r.id"
        "      AND " LIVE_HOLDER ")"
        "  RETURNING r.id),"
        " back AS ("
        "  UPDATE urls u SET state = 'queued', lease_run = NULL, lease_until = NULL"
        "  WHERE u.state = 'leased' AND u.lease_run IS DISTINCT FROM $2::bigint"
        "    AND (u.lease_run IN (SELECT id FROM dead) OR u.lease_until < now()"
        "         OR u.lease_run IN (SELECT id FROM runs WHERE status <> 'running'))"
        "  RETURNING 1)"
        " SELECT count(*) FROM back",
        2, p, err, errlen);
    if (!r)
        return SCR_EDB;
    if (reclaimed)
        *reclaimed = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

int scr_frontier_seed(PGconn *db, int64_t job_id, const struct scr_strvec *urls,
                      const struct scr_strvec *hosts, int64_t *added, char *err, size_t errlen)
{
    char job[24], *u = join_lines(urls), *h = join_lines(hosts);
    const char *p[3] = {job, u, h};
    PGresult *r;

    i64(job, sizeof(job), job_id);
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

    i64(job, sizeof(job), job_id);
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

int scr_frontier_run_worker(PGconn *db, int64_t run_id, const struct scr_run_worker *w,
                            char *err, size_t errlen)
{
    char run[24], rank[24], cores[24], pages[24], bytes[24], errors[24], records[24],
        busy[24], idle[24], cpu[24], rss[24], rate[32];
    const char *p[18] = {run, rank, w->host, w->arch, w->os, cores, w->version, w->build_id,
                         w->state, pages, bytes, errors, records,
                         w->has_bye ? busy : NULL, w->has_bye ? idle : NULL,
                         w->has_bye ? cpu : NULL, w->has_bye ? rss : NULL, rate};

    i64(run, sizeof(run), run_id);
    snprintf(rank, sizeof(rank), "%d", w->rank);
    snprintf(cores, sizeof(cores), "%u", w->cores);
    snprintf(pages, sizeof(pages), "%llu", (unsigned long long)w->pages);
    snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)w->bytes);
    snprintf(errors, sizeof(errors), "%llu", (unsigned long long)w->errors);
    snprintf(records, sizeof(records), "%llu", (unsigned long long)w->records);
    snprintf(busy, sizeof(busy), "%llu", (unsigned long long)w->busy_ms);
    snprintf(idle, sizeof(idle), "%llu", (unsigned long long)w->idle_ms);
    snprintf(cpu, sizeof(cpu), "%llu", (unsigned long long)w->cpu_ms);
    snprintf(rss, sizeof(rss), "%llu", (unsigned long long)w->max_rss_kb);
    snprintf(rate, sizeof(rate), "%.3f", w->pages_per_s);
    return scr_db_command(db, "storing the per-worker figures",
                          "INSERT INTO run_workers (run_id, rank, host, arch, os, cores, version,"
                          " build_id, state, pages, bytes, errors, records, busy_ms, idle_ms,"
                          " cpu_ms, max_rss_kb, pages_per_s) VALUES ($1::bigint, $2::int, $3,"
                          " $4, $5, $6::int, $7, $8, $9, $10::bigint, $11::bigint, $12::bigint,"
                          " $13::bigint, $14::bigint, $15::bigint, $16::bigint, $17::bigint,"
                          " $18::float8) ON CONFLICT (run_id, rank) DO NOTHING",
                          18, p, err, errlen);
}

int scr_frontier_lease(PGconn *db, int64_t job_id, int64_t run_id, int n, int64_t ttl_ms,
                       const struct scr_strvec *exclude_hosts, struct scr_lease_item **items,
                       size_t *count, char *err, size_t errlen)
{
    char job[24], run[24], lim[24], ttl[24];
    char *exclude = join_lines(exclude_hosts);
    const char *p[5] = {job, lim, run, ttl, exclude};
    struct scr_lease_item *v = NULL;
    PGresult *r;
    int rows;

    *items = NULL;
    *count = 0;
    i64(job, sizeof(job), job_id);
    i64(run, sizeof(run), run_id);
    i64(lim, sizeof(lim), n);
    i64(ttl, sizeof(ttl), ttl_ms);
    r = scr_db_exec(
        db, "leasing URLs",
        "WITH c AS ("
        "  SELECT id FROM urls"
        "  WHERE job_id = $1::bigint AND state = 'queued' AND next_attempt_at <= now()"
        "    AND ($5 = '' OR host <> ALL (string_to_array($5, E'\\n')))"
        "  ORDER BY depth, id LIMIT $2::int FOR UPDATE SKIP LOCKED)"
        " UPDATE urls u SET state = 'leased', lease_run = $3::bigint,"
        "   lease_until = now() + $4::bigint * interval '1 millisecond',"
        "   attempts = u.attempts + 1"
        " FROM c WHERE u.id = c.id"
        " RETURNING u.id, u.url, u.host, u.depth, u.attempts,"
        "   coalesce(u.etag, ''), coalesce(u.last_modified, ''), u.kind, u.hops",
        5, p, err, errlen);
    free(exclude);
    if (!r)
        return SCR_EDB;
    rows = PQntuples(r);
    if (rows > 0)
        v = scr_xcalloc((size_t)rows, sizeof(*v));
    for (int i = 0; i < rows; i++) {
        v[i].url_id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        v[i].url = scr_xstrdup(PQgetvalue(r, i, 1));
        v[i].host = scr_xstrdup(PQgetvalue(r, i, 2));
        v[i].depth = (int)strtol(PQgetvalue(r, i, 3), NULL, 10);
        v[i].attempts = (int)strtol(PQgetvalue(r, i, 4), NULL, 10);
        v[i].etag = scr_xstrdup(PQgetvalue(r, i, 5));
        v[i].last_modified = scr_xstrdup(PQgetvalue(r, i, 6));
        v[i].kind = strcmp(PQgetvalue(r, i, 7), "sitemap") == 0 ? SCR_TASK_SITEMAP : SCR_TASK_PAGE;
        v[i].hops = (int)strtol(PQgetvalue(r, i, 8), NULL, 10);
    }
    PQclear(r);
    /* results come back in an arbitrary order: keep the frontier's order */
    for (int i = 1; i < rows; i++) {
        struct scr_lease_item t = v[i];
        int j = i - 1;
        while (j >= 0 && (v[j].depth > t.depth ||
                          (v[j].depth == t.depth && v[j].url_id > t.url_id))) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = t;
    }
    for (int i = 0; i < rows; i++) {
        if (!v[i].url || !v[i].host || !v[i].etag || !v[i].last_modified) {
            for (int k = 0; k < rows; k++)
                scr_lease_item_release(&v[k]);
            free(v);
            return SCR_ENOMEM;
        }
    }
    *items = v;
    *count = (size_t)rows;
    return SCR_OK;
}

int scr_frontier_renew(PGconn *db, int64_t run_id, int64_t ttl_ms, char *err, size_t errlen)
{
    char run[24], ttl[24];
    const char *p[2] = {run, ttl};

    i64(run, sizeof(run), run_id);
    i64(ttl, sizeof(ttl), ttl_ms);
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
 * LINK_FILTER and LINK_LIMIT are those two parts of the outlink insert. */
#define STORE_SQL(LINK_FILTER, LINK_LIMIT) \
    "WITH prev AS (SELECT content_hash FROM urls WHERE id = $1::bigint)," \
    " u AS (" \
    "  UPDATE urls SET state = $3," \
    "    lease_run = NULL, lease_until = NULL," \
    "    next_attempt_at = CASE WHEN $3 = 'queued'" \
    "      THEN now() + $20::bigint * interval '1 millisecond' ELSE next_attempt_at END," \
    "    attempts = CASE WHEN $26::boolean AND $3 = 'queued' THEN greatest(attempts - 1, 0)" \
    "      ELSE attempts END," \
    "    last_fetch_at = CASE WHEN $26::boolean THEN last_fetch_at ELSE now() END," \
    "    last_status = CASE WHEN $26::boolean THEN last_status ELSE nullif($4::int, 0) END," \
    "    error = nullif($13, '')," \
    "    etag = coalesce(nullif($14, ''), etag)," \
    "    last_modified = coalesce(nullif($15, ''), last_modified)," \
    "    content_hash = coalesce(nullif($16, ''), content_hash)" \
    "  WHERE id = $1::bigint AND lease_run = $2::bigint AND state = 'leased'" \
    "  RETURNING id, job_id, depth, url, attempts)," \
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
    "    nullif($27, '')" \
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
    "  INSERT INTO urls (job_id, url, host, depth, kind, discovered_by)" \
    "  SELECT u.job_id, x.url, x.host, 0, 'sitemap', u.id" \
    "  FROM u, unnest(string_to_array($24, E'\\n'), string_to_array($25, E'\\n'))" \
    "    AS x(url, host) WHERE $24 <> ''" \
    "  ON CONFLICT (job_id, url) DO NOTHING RETURNING 1)" \
    " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM l) + (SELECT count(*) FROM sm)"

/* Without a cap the links need no filter and no limit (ON CONFLICT drops the known ones);
 * the plan without them is leaner.  $21 is still named so that both have 27 parameters. */
#define STORE_NAME "scr_store"
#define STORE_CAP_NAME "scr_store_cap"
static const char STORE_SQL_NOCAP[] = STORE_SQL("$21::bigint IS NULL", "");
static const char STORE_SQL_CAP[] =
    STORE_SQL("(SELECT 1 FROM urls k WHERE k.job_id = u.job_id AND k.url = x.url LIMIT 1)"
              " IS NULL",
              "LIMIT greatest(0, $21::bigint)");

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
    rc = scr_db_prepare(db, STORE_NAME, STORE_SQL_NOCAP, 27, err, errlen);
    if (rc == SCR_OK)
        rc = scr_db_prepare(db, STORE_CAP_NAME, STORE_SQL_CAP, 27, err, errlen);
    return rc;
}

int scr_frontier_store(PGconn *db, int64_t run_id, struct scr_store_item *it, char *err,
                       size_t errlen)
{
    const struct scr_result *res = &it->res;
    char url_id[24], run[24], status[24], bytes[24], elapsed[24], wait[24], redirects[24],
        rank[24], delay[24], cap[24], ddelta[24], hops[24];
    /* the SQL boundary: the lists become '\n'-joined texts here */
    char *links = join_lines(&it->links), *link_hosts = join_lines(&it->link_hosts);
    char *sm_links = join_lines(&it->sitemap_links), *sm_hosts = join_lines(&it->sitemap_hosts);
    const char *p[19] = {url_id, run, scr_url_state_name(it->new_state), status, res->final_url,
                         res->content_type, bytes, elapsed, wait, redirects, rank,
                         it->worker_host, res->error, res->etag, res->last_modified,
                         res->content_hash, it->records_json, links, link_hosts};
    const char *p2[27];
    PGresult *r;
    int rc = SCR_EDB;

    i64(url_id, sizeof(url_id), (int64_t)res->url_id);
    i64(run, sizeof(run), run_id);
    i64(status, sizeof(status), res->http_status);
    i64(bytes, sizeof(bytes), (int64_t)res->bytes);
    i64(elapsed, sizeof(elapsed), res->elapsed_ms);
    i64(wait, sizeof(wait), res->wait_ms);
    i64(redirects, sizeof(redirects), res->redirects);
    i64(rank, sizeof(rank), it->worker_rank);
    i64(delay, sizeof(delay), it->retry_delay_ms);
    i64(cap, sizeof(cap), it->url_room);
    memcpy(p2, p, sizeof(p));
    p2[19] = delay;
    p2[20] = it->max_urls > 0 ? cap : NULL;
    i64(ddelta, sizeof(ddelta), it->link_depth_delta);
    i64(hops, sizeof(hops), it->link_hops);
    p2[21] = ddelta;
    p2[22] = hops;
    p2[23] = sm_links;
    p2[24] = sm_hosts;
    p2[25] = it->no_fetch ? "true" : "false";
    p2[26] = res->encoding ? res->encoding : "";
    r = scr_db_exec_prepared(db, "storing a result",
                             it->max_urls > 0 ? STORE_CAP_NAME : STORE_NAME, 27, p2, err, errlen);
    if (!r)
        goto out;
    it->stored = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    it->new_urls = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
    rc = SCR_OK;
out:
    free(links);
    free(link_hosts);
    free(sm_links);
    free(sm_hosts);
    return rc;
}

int scr_frontier_robots_get(PGconn *db, const struct scr_strvec *hosts, int64_t max_age_ms,
                            struct scr_robots_cache **out, size_t *count, char *err,
                            size_t errlen)
{
    char age[24], *joined;
    const char *p[2] = {NULL, age};
    struct scr_robots_cache *v = NULL;
    PGresult *r;
    int rows;

    *out = NULL;
    *count = 0;
    if (!hosts || hosts->n == 0)
        return SCR_OK;
    i64(age, sizeof(age), max_age_ms);
    joined = join_lines(hosts);
    p[0] = joined;
    r = scr_db_exec(db, "reading cached robots.txt",
                    "SELECT host, coalesce(robots_status, 0), coalesce(robots_body, '')"
                    " FROM hosts WHERE host = ANY (string_to_array($1, E'\\n'))"
                    " AND robots_fetched_at > now() - $2::bigint * interval '1 millisecond'"
                    " AND robots_status > 0 AND robots_status < 500",
                    2, p, err, errlen);
    free(joined);
    if (!r)
        return SCR_EDB;
    rows = PQntuples(r);
    if (rows > 0)
        v = scr_xcalloc((size_t)rows, sizeof(*v));
    for (int i = 0; i < rows; i++) {
        v[i].host = scr_xstrdup(PQgetvalue(r, i, 0));
        v[i].status = (int)strtol(PQgetvalue(r, i, 1), NULL, 10);
        v[i].body = scr_xstrdup(PQgetvalue(r, i, 2));
    }
    PQclear(r);
    *out = v;
    *count = (size_t)rows;
    return SCR_OK;
}

void scr_robots_cache_free(struct scr_robots_cache *c, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(c[i].host);
        free(c[i].body);
    }
    free(c);
}

int scr_frontier_robots_put(PGconn *db, const char *host, const char *url, int status,
                            const char *body, const char *error, char *err, size_t errlen)
{
    char st[24];
    const char *p[5] = {host, url, st, body, error};

    i64(st, sizeof(st), status);
    return scr_db_command(db, "saving robots.txt",
                          "INSERT INTO hosts (host, robots_url, robots_status, robots_body,"
                          " robots_error, robots_fetched_at)"
                          " VALUES ($1, $2, nullif($3::int, 0), $4, nullif($5, ''), now())"
                          " ON CONFLICT (host) DO UPDATE SET robots_url = EXCLUDED.robots_url,"
                          " robots_status = EXCLUDED.robots_status,"
                          " robots_body = EXCLUDED.robots_body,"
                          " robots_error = EXCLUDED.robots_error,"
                          " robots_fetched_at = EXCLUDED.robots_fetched_at",
                          5, p, err, errlen);
}

int scr_frontier_count(PGconn *db, int64_t job_id, int64_t *count, char *err, size_t errlen)
{
    char job[24];
    const char *p[1] = {job};
    PGresult *r;

    i64(job, sizeof(job), job_id);
    r = scr_db_exec(db, "counting the job's URLs",
                    "SELECT count(*) FROM urls WHERE job_id = $1::bigint", 1, p, err, errlen);
    if (!r)
        return SCR_EDB;
    *count = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

int scr_frontier_add_sitemaps(PGconn *db, int64_t job_id, const struct scr_strvec *urls,
                              const struct scr_strvec *hosts, char *err, size_t errlen)
{
    char job[24], *u = join_lines(urls), *h = join_lines(hosts);
    const char *p[3] = {job, u, h};
    int rc;

    i64(job, sizeof(job), job_id);
    rc = scr_db_command(db, "queueing sitemaps",
                          "INSERT INTO urls (job_id, url, host, depth, kind)"
                          " SELECT $1::bigint, x.url, x.host, 0, 'sitemap'"
                          " FROM unnest(string_to_array($2, E'\\n'), string_to_array($3, E'\\n'))"
                          " AS x(url, host) WHERE $2 <> ''"
                          " ON CONFLICT (job_id, url) DO NOTHING",
                          3, p, err, errlen);
    free(u);
    free(h);
    return rc;
}

int scr_frontier_outlook(PGconn *db, int64_t job_id, int64_t run_id, struct scr_outlook *o,
                         char *err, size_t errlen)
{
    char job[24], run[24];
    const char *p[2] = {job, run};
    PGresult *r;

    i64(job, sizeof(job), job_id);
    i64(run, sizeof(run), run_id);
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

    i64(run, sizeof(run), run_id);
    return scr_db_command(db, "returning unfinished leases",
                          "UPDATE urls SET state = 'queued', lease_run = NULL, lease_until = NULL,"
                          " attempts = greatest(attempts - 1, 0)"
                          " WHERE lease_run = $1::bigint AND state = 'leased'",
                          1, p, err, errlen);
}

int scr_frontier_run_end(PGconn *db, int64_t run_id, const char *status, int exit_code,
                         const char *summary_json, const char *nodes_json, char *err,
                         size_t errlen)
{
    char run[24], code[24];
    const char *p[5] = {run, status, code, summary_json, nodes_json};

    i64(run, sizeof(run), run_id);
    i64(code, sizeof(code), exit_code);
    return scr_db_command(db, "closing the run",
                          "UPDATE runs SET status = $2, exit_code = $3::int, finished_at = now(),"
                          " summary = $4::jsonb, nodes = $5::jsonb WHERE id = $1::bigint",
                          5, p, err, errlen);
}
