/* runs.c - the SQL of jobs, runs and run_workers (see runs.h for the invariants).
 *
 * Called by the coordinator at start-up and at the end, and by the store thread after a
 * reconnect, always with the connection the caller owns.  All values are parameters.
 */
#include "coordinator/runs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/error.h"
#include "common/settings.h"
#include "common/log.h"
#include "coordinator/db.h"

/* Transaction lock serializing the start of runs of one job: (JOB_LOCK_KEY, job id). */
#define JOB_LOCK_KEY 1396921859

int scr_runs_job(PGconn *db, const char *name, int64_t *job_id, char *err, size_t errlen)
{
    const char *p[1] = {name};
    PGresult *r = NULL;

    /* Two runs creating one job at once (islands started together): the INSERT of the one
     * that lost waits for the other's commit and does nothing, and its SELECT still reads
     * the statement's older snapshot, so it finds no row.  The next try sees it. */
    for (int attempt = 0; attempt < 3; attempt++) {
        PQclear(r);
        r = scr_db_exec(db, "creating the job",
                        "WITH ins AS (INSERT INTO jobs (name) VALUES ($1) "
                        "ON CONFLICT (name) DO NOTHING RETURNING id) "
                        "SELECT id FROM ins UNION ALL SELECT id FROM jobs WHERE name = $1",
                        1, p, err, errlen);
        if (!r)
            return SCR_EDB;
        if (PQntuples(r) >= 1) {
            *job_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
            PQclear(r);
            return SCR_OK;
        }
    }
    snprintf(err, errlen, "job '%s' could not be created", name);
    PQclear(r);
    return SCR_EDB;
}

int scr_runs_begin(PGconn *db, int64_t job_id, const char *command, const char *settings_json,
                   int insecure, const char *host, const char *island, int if_idle,
                   int64_t *run_id, char *err, size_t errlen)
{
    char job[24], pid[24];
    const char *p[7] = {job,  command, settings_json, insecure ? "true" : "false",
                        host, pid,     island && *island ? island : host};
    PGresult *r;
    int rc = SCR_EDB;

    scr_db_i64(job, sizeof(job), job_id);
    scr_db_i64(pid, sizeof(pid), (int64_t)getpid());
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
        scr_db_i64(key, sizeof(key), SCR_RUNS_LOCK_KEY);
        /* A run is live when a scrape session holds its lock (SCR_RUNS_LIVE_HOLDER); a lock
         * held only by another session (an analyst may take any advisory lock) is named, not
         * obeyed. */
        r = scr_db_exec(db, "looking for live runs",
                        "SELECT r.id, coalesce(r.coordinator_host, '?'), r.started_at::text,"
                        "  bool_or(" SCR_RUNS_LIVE_HOLDER "),"
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
                    "coordinator_pid, island) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7) "
                    "RETURNING id",
                    7, p, err, errlen);
    if (!r)
        goto fail;
    *run_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    rc = scr_runs_lock(db, *run_id, err, errlen);
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

int scr_runs_lock(PGconn *db, int64_t run_id, char *err, size_t errlen)
{
    char run[24];
    const char *p[1] = {run};
    int rc;

    scr_db_i64(run, sizeof(run), run_id);
    /* After a reconnect our old session may hold it until the server notices it is gone:
     * wait for that (SIGTERM ends the wait).  A foreign session holding it is refused. */
    rc = scr_db_advisory_lock(db, SCR_RUNS_LOCK_KEY, run_id, 0, 1, -1, "locking the run", err,
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

int scr_runs_worker(PGconn *db, int64_t run_id, const struct scr_run_worker *w, char *err,
                    size_t errlen)
{
    char run[24], rank[24], cores[24], pages[24], bytes[24], errors[24], records[24],
        busy[24], idle[24], cpu[24], rss[24], rate[32];
    const char *p[18] = {run, rank, w->host, w->arch, w->os, cores, w->version, w->build_id,
                         w->state, pages, bytes, errors, records,
                         w->has_bye ? busy : NULL, w->has_bye ? idle : NULL,
                         w->has_bye ? cpu : NULL, w->has_bye ? rss : NULL, rate};

    scr_db_i64(run, sizeof(run), run_id);
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

int scr_runs_end(PGconn *db, int64_t run_id, const char *status, int exit_code,
                 const char *summary_json, const char *nodes_json, char *err, size_t errlen)
{
    char run[24], code[24];
    const char *p[5] = {run, status, code, summary_json, nodes_json};

    scr_db_i64(run, sizeof(run), run_id);
    scr_db_i64(code, sizeof(code), exit_code);
    return scr_db_command(db, "closing the run",
                          "UPDATE runs SET status = $2, exit_code = $3::int, finished_at = now(),"
                          " summary = $4::jsonb, nodes = $5::jsonb WHERE id = $1::bigint",
                          5, p, err, errlen);
}

char *scr_runs_settings_json(const struct scr_settings *s)
{
    size_t n;
    const struct scr_setting_def *defs = scr_settings_table(&n);
    json_t *o = json_object();
    char *val, *txt;

    for (size_t i = 0; i < n; i++) {
        if (defs[i].secret)
            continue;
        val = scr_settings_format(s, &defs[i]);
        json_object_set_new(o, defs[i].name, json_string(val));
        free(val);
    }
    txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}
