/* hostdb.c - the SQL of the hosts the database knows: the robots.txt cache (table hosts) and
 * the host claims of the job's runs (table host_claims); see hostdb.h for the invariants.
 *
 * Called by the store thread during the run, and by the coordinator at the end of the run
 * (scr_hostdb_claims_release_all), always with the connection the caller owns.  All values
 * are parameters.
 */
#include "coordinator/hostdb.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "coordinator/db.h"

int scr_hostdb_robots_get(PGconn *db, const struct scr_strvec *hosts, int64_t max_age_ms,
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
    scr_db_i64(age, sizeof(age), max_age_ms);
    joined = scr_db_join_lines(hosts);
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

void scr_hostdb_robots_free(struct scr_robots_cache *c, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(c[i].host);
        free(c[i].body);
    }
    free(c);
}

int scr_hostdb_robots_put(PGconn *db, const char *host, const char *url, int status,
                          const char *body, const char *error, char *err, size_t errlen)
{
    char st[24];
    const char *p[5] = {host, url, st, body, error};

    scr_db_i64(st, sizeof(st), status);
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

void scr_hostdb_claims_free(struct scr_claim *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].host);
    free(c);
}

int scr_hostdb_claims_update(PGconn *db, int64_t job_id, int64_t run_id, int64_t ttl_ms,
                             const struct scr_strvec *release, const struct scr_strvec *ages,
                             int renew, const struct scr_strvec *keep, struct scr_strvec *held,
                             int64_t *others, char *err, size_t errlen)
{
    char job[24], run[24], ttl[24];
    char *rel = scr_db_join_lines(release), *age = scr_db_join_lines(ages);
    char *kp = scr_db_join_lines(keep);
    const char *p[5] = {job, run, rel, age, ttl};
    PGresult *r = NULL;
    int rc = SCR_EDB;

    scr_db_i64(job, sizeof(job), job_id);
    scr_db_i64(run, sizeof(run), run_id);
    scr_db_i64(ttl, sizeof(ttl), ttl_ms);
    /* statement_timestamp(), not now(): inside the store's group transaction now() is the
     * transaction's start, earlier than the local time the caller noted */
    if (release && release->n &&
        scr_db_command(db, "releasing host claims",
                       "UPDATE host_claims hc SET"
                       "  last_start = CASE WHEN x.age = '' THEN hc.last_start ELSE"
                       "    greatest(hc.last_start, statement_timestamp() -"
                       "      x.age::bigint * interval '1 millisecond') END,"
                       "  until = least(statement_timestamp(), coalesce(CASE WHEN x.age = ''"
                       "    THEN NULL ELSE greatest(hc.last_start, statement_timestamp() -"
                       "      x.age::bigint * interval '1 millisecond') END,"
                       "    hc.last_start, statement_timestamp()))"
                       " FROM unnest(string_to_array($3, E'\\n'), string_to_array($4, E'\\n'))"
                       "   AS x(host, age)"
                       " WHERE hc.job_id = $1::bigint AND hc.host = x.host"
                       "   AND (hc.job_id, hc.host) IN (SELECT k.job_id, k.host FROM host_claims k"
                       "     WHERE k.job_id = $1::bigint AND k.run_id = $2::bigint"
                       "       AND k.host = ANY (string_to_array($3, E'\\n'))"
                       "     ORDER BY k.job_id, k.host FOR UPDATE)"
                       "   AND hc.run_id = $2::bigint",
                       4, p, err, errlen))
        goto out;
    if (renew) {
        const char *q[4] = {job, run, kp, ttl};
        r = scr_db_exec(db, "renewing host claims",
                        "WITH k AS (SELECT k.job_id, k.host FROM host_claims k"
                        "  WHERE k.job_id = $1::bigint AND k.run_id = $2::bigint"
                        "    AND k.until > statement_timestamp()"
                        "    AND k.host = ANY (string_to_array($3, E'\\n'))"
                        "  ORDER BY k.job_id, k.host FOR UPDATE),"
                        " up AS (UPDATE host_claims hc SET until = statement_timestamp() +"
                        "    $4::bigint * interval '1 millisecond'"
                        "  FROM k WHERE hc.job_id = k.job_id AND hc.host = k.host"
                        "  RETURNING hc.host)"
                        " SELECT host, NULL::bigint FROM up"
                        " UNION ALL SELECT NULL, count(*) FROM runs WHERE job_id = $1::bigint"
                        "  AND status = 'running' AND id <> $2::bigint"
                        "  AND heartbeat_at > now() - $4::bigint * interval '1 millisecond'",
                        4, q, err, errlen);
        if (!r)
            goto out;
        for (int i = 0; i < PQntuples(r); i++) {
            if (PQgetisnull(r, i, 0))
                *others = strtoll(PQgetvalue(r, i, 1), NULL, 10);
            else
                scr_strvec_push(held, PQgetvalue(r, i, 0));
        }
    }
    rc = SCR_OK;
out:
    PQclear(r);
    free(rel);
    free(age);
    free(kp);
    return rc;
}

int scr_hostdb_claims_release_all(PGconn *db, int64_t job_id, int64_t run_id,
                                  const struct scr_strvec *hosts, const struct scr_strvec *ages,
                                  char *err, size_t errlen)
{
    char job[24], run[24];
    char *h = scr_db_join_lines(hosts), *a = scr_db_join_lines(ages);
    const char *p[4] = {job, run, h, a};
    int rc;

    scr_db_i64(job, sizeof(job), job_id);
    scr_db_i64(run, sizeof(run), run_id);
    rc = scr_db_command(db, "releasing the run's host claims",
                        "WITH x AS (SELECT * FROM unnest(string_to_array($3, E'\\n'),"
                        "    string_to_array($4, E'\\n')) AS x(host, age) WHERE $3 <> ''),"
                        " k AS (SELECT k.job_id, k.host, (SELECT CASE WHEN x.age = '' THEN NULL"
                        "    ELSE now() - x.age::bigint * interval '1 millisecond' END"
                        "    FROM x WHERE x.host = k.host LIMIT 1) AS ls"
                        "  FROM host_claims k WHERE k.job_id = $1::bigint AND k.run_id = $2::bigint"
                        "    AND k.until > now()"
                        "  ORDER BY k.job_id, k.host FOR UPDATE)"
                        " UPDATE host_claims hc SET last_start = greatest(hc.last_start, k.ls),"
                        "   until = least(now(), coalesce(greatest(hc.last_start, k.ls), now()))"
                        " FROM k WHERE hc.job_id = k.job_id AND hc.host = k.host",
                        4, p, err, errlen);
    free(h);
    free(a);
    return rc;
}
