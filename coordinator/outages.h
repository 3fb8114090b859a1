/* outages.h - hosts that stayed unreachable across runs (table host_outages).
 *
 * A host whose robots.txt gets no answer (connection refused, timeout, 5xx) --max-attempts
 * times in a run is down for that run; its URLs are put back.  This module remembers it per
 * job: when the outage began, in how many runs, the last error.  After --host-down-runs runs
 * and --host-down-after since the first, the host's queued URLs fail with the reason.  A
 * usable robots.txt (an answer below 500) ends the outage.  Each run makes the down hosts'
 * queued URLs due at start, so every run tries them again and says so.
 *
 * Invariants: one row per (job, host); a run counts once (last_run_id); only the run that
 * holds the host's claim fetches its robots.txt, so only it counts (docs/internals/islands.md).
 * Called by the store thread (record, clear) and by set-up (due), with the caller's
 * connection; strings are borrowed unless said otherwise.
 */
#ifndef SCR_OUTAGES_H
#define SCR_OUTAGES_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* What scr_outages_record found. */
struct scr_outage {
    char since[32];   /* the first failure, UTC: 2026-12-04T21:40:01Z */
    int runs;         /* runs in which the host was down, this one included */
    int final;        /* the limits are reached: the host's queued URLs failed */
    int64_t failed;   /* how many URLs this call moved to 'failed' */
    char reason[512]; /* with final: the URLs' error ("host unreachable in 3 runs since ...") */
};

/* Inside the caller's transaction: counts this run's outage of host (error: why, e.g.
 * "robots.txt unavailable (Connection refused)"), then, when runs >= max_runs (> 0) and the
 * first failure is at least after_ms old, moves the job's queued URLs of host to 'failed'
 * with o->reason.  SCR_OK or SCR_EDB (err). */
int scr_outages_record(PGconn *db, int64_t job_id, int64_t run_id, const char *host,
                       const char *error, int max_runs, int64_t after_ms, struct scr_outage *o,
                       char *err, size_t errlen);

/* Ends the outage of host for the job (its robots.txt answered).  SCR_OK or SCR_EDB. */
int scr_outages_clear(PGconn *db, int64_t job_id, const char *host, char *err, size_t errlen);

/* At start: makes the queued URLs of the job's down hosts due now; *hosts and *urls get how
 * many hosts and URLs that changed.  SCR_OK or SCR_EDB. */
int scr_outages_due(PGconn *db, int64_t job_id, int64_t *hosts, int64_t *urls, char *err,
                    size_t errlen);

#endif
