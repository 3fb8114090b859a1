/* outages.c - the SQL of hosts unreachable across runs (table host_outages; see outages.h).
 *
 * Every statement is one round trip with parameters only.  scr_outages_record runs inside the
 * store thread's transaction, so the count, the failed URLs and the rest of the group commit
 * together.
 */
#include "coordinator/outages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "coordinator/db.h"

int scr_outages_record(PGconn *db, int64_t job_id, int64_t run_id, const char *host,
                       const char *error, int max_runs, int64_t after_ms, struct scr_outage *o,
                       char *err, size_t errlen)
{
    char job[24], run[24];
    const char *p[4] = {job, host, run, error};
    int64_t age_ms;
    PGresult *r;

    memset(o, 0, sizeof(*o));
    scr_db_i64(job, sizeof(job), job_id);
    scr_db_i64(run, sizeof(run), run_id);
    r = scr_db_exec(db, "counting the host's outage",
                    "INSERT INTO host_outages AS o (job_id, host, since, runs, last_run_id,"
                    " last_error, last_at) VALUES ($1::bigint, $2, now(), 1, $3::bigint, $4, now())"
                    " ON CONFLICT (job_id, host) DO UPDATE SET"
                    " runs = o.runs + CASE WHEN o.last_run_id = $3::bigint THEN 0 ELSE 1 END,"
                    " last_run_id = $3::bigint, last_error = $4, last_at = now()"
                    " RETURNING to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                    " runs, (extract(epoch FROM now() - since) * 1000)::bigint",
                    4, p, err, errlen);
    if (!r)
        return SCR_EDB;
    snprintf(o->since, sizeof(o->since), "%s", PQgetvalue(r, 0, 0));
    o->runs = (int)strtol(PQgetvalue(r, 0, 1), NULL, 10); /* an integer column */
    age_ms = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    PQclear(r);
    if (max_runs <= 0 || o->runs < max_runs || age_ms < after_ms)
        return SCR_OK;
    o->final = 1;
    snprintf(o->reason, sizeof(o->reason), "host unreachable in %d runs since %s: %s", o->runs,
             o->since, error);
    p[2] = o->reason;
    r = scr_db_exec(db, "failing the URLs of an unreachable host",
                    "WITH f AS (UPDATE urls SET state = 'failed', error = $3"
                    " WHERE job_id = $1::bigint AND host = $2 AND state = 'queued' RETURNING 1)"
                    " SELECT count(*) FROM f",
                    3, p, err, errlen);
    if (!r)
        return SCR_EDB;
    o->failed = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

int scr_outages_clear(PGconn *db, int64_t job_id, const char *host, char *err, size_t errlen)
{
    char job[24];
    const char *p[2] = {job, host};

    scr_db_i64(job, sizeof(job), job_id);
    return scr_db_command(db, "ending the host's outage",
                          "DELETE FROM host_outages WHERE job_id = $1::bigint AND host = $2", 2,
                          p, err, errlen);
}

int scr_outages_due(PGconn *db, int64_t job_id, int64_t *hosts, int64_t *urls, char *err,
                    size_t errlen)
{
    char job[24];
    const char *p[1] = {job};
    PGresult *r;

    *hosts = *urls = 0;
    scr_db_i64(job, sizeof(job), job_id);
    r = scr_db_exec(db, "making the URLs of unreachable hosts due",
                    "WITH u AS (UPDATE urls u SET next_attempt_at = now() FROM host_outages o"
                    " WHERE o.job_id = $1::bigint AND u.job_id = $1::bigint AND u.host = o.host"
                    " AND u.state = 'queued' AND u.next_attempt_at > now() RETURNING u.host)"
                    " SELECT count(DISTINCT host), count(*) FROM u",
                    1, p, err, errlen);
    if (!r)
        return SCR_EDB;
    *hosts = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    *urls = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
    return SCR_OK;
}
