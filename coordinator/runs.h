/* runs.h - a crawl's jobs and runs in PostgreSQL: the jobs, runs and run_workers tables.
 *
 * A job is a named crawl that outlives its runs; a run is one start of the coordinator on it.
 * The invariants (docs/internals/leases.md):
 *  - a run holds a session advisory lock (SCR_RUNS_LOCK_KEY, run id) for its whole life; a run
 *    whose lock is gone is dead, and scr_frontier_reclaim returns its leases to the queue;
 *  - the run's row and its lock become visible together, so no other run's reclaim ever sees
 *    a live run without its lock;
 *  - runs of one job start one at a time (a transaction lock on the job), so two runs starting
 *    at once cannot both see the job idle.
 * Called by the coordinator at start-up and at the end (setup.c, summary.c), and by the store
 * thread after a reconnect (scr_runs_lock), always with the connection the caller owns.
 */
#ifndef SCR_RUNS_H
#define SCR_RUNS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* First key of the run advisory locks: (SCR_RUNS_LOCK_KEY, run id). */
#define SCR_RUNS_LOCK_KEY 1396921858

/* SQL: the session `a` (pg_stat_activity) holding a run's lock is a scrape run's, not an
 * analyst's: its role may update the runs table.  Anyone can take any advisory lock, and set
 * any application_name, but a reader role cannot write runs. */
#define SCR_RUNS_LIVE_HOLDER \
    "coalesce(has_table_privilege(a.usesysid, 'runs', 'UPDATE'), false)"

/* Finds or creates the job; *job_id is its id. */
int scr_runs_job(PGconn *db, const char *name, int64_t *job_id, char *err, size_t errlen);

/* The runs.settings column: every setting but the secret ones, formatted as text
 * ({"max-depth":"3",...}).  Malloc'd, the caller frees (NULL only when jansson failed). */
struct scr_settings;
char *scr_runs_settings_json(const struct scr_settings *s);

/* Inserts the run's row and takes its advisory lock on this connection.  With if_idle, it
 * first looks for a live run of the job (under a transaction lock on the job, so two runs
 * starting at once cannot both see the job idle) and returns SCR_EBUSY, naming it in err,
 * when there is one.  Strings borrowed. */
int scr_runs_begin(PGconn *db, int64_t job_id, const char *command, const char *settings_json,
                   int insecure, const char *host, const char *island, int if_idle,
                   int64_t *run_id, char *err, size_t errlen);

/* Takes the run's advisory lock on this connection (again, after a reconnect). */
int scr_runs_lock(PGconn *db, int64_t run_id, char *err, size_t errlen);

/* One worker's figures for its run_workers row (strings borrowed). */
struct scr_run_worker {
    int rank;
    const char *host, *arch, *os, *version, *build_id, *state;
    unsigned cores;
    uint64_t pages, bytes, errors, records;
    int has_bye;                  /* without BYE the four below are unknown (NULL) */
    uint64_t busy_ms, idle_ms, cpu_ms, max_rss_kb;
    double pages_per_s;
};

/* Inserts the run_workers row of w (once per run and rank). */
int scr_runs_worker(PGconn *db, int64_t run_id, const struct scr_run_worker *w, char *err,
                    size_t errlen);

/* Closes the run's row: status, exit code, summary and nodes (JSON texts, borrowed). */
int scr_runs_end(PGconn *db, int64_t run_id, const char *status, int exit_code,
                 const char *summary_json, const char *nodes_json, char *err, size_t errlen);

#endif
