/* summary.h - the run's figures, its progress line and its summary.
 *
 * struct scr_tally is what the dispatcher counts while the run goes (results stored, URLs
 * settled, bytes, errors); summary.c turns it, with the peers' figures, into the live
 * progress line, the run's summary JSON, the per-worker rows (run_workers, written through
 * runs.c) and the summary printed at the end.
 */
#ifndef SCR_SUMMARY_H
#define SCR_SUMMARY_H

#include <stdint.h>

#include <libpq-fe.h>

struct scr_peers;

struct scr_tally {
    uint64_t skipped;          /* URLs settled 'skipped' (robots.txt) */
    int64_t settled_at_start;  /* URLs of the job already done/failed/skipped at the start */
    int64_t settled;           /* URLs this run brought to a final state */
    int tty;                   /* stderr is a terminal: a live status line */
    int64_t start_ms, start_cpu_us;
    uint64_t stored, lost_results, failed, retried, records, bytes, errors, new_urls;
    uint64_t lost_urls;        /* URLs in flight on workers that were lost (an attempt each) */
    uint64_t quarantined;      /* ... of which quarantined (their second loss) */
    uint64_t hosts_down;       /* hosts whose robots.txt got no answer (down in this run) */
    uint64_t hosts_failed;     /* ... of which down in --host-down-runs runs: URLs failed */
    char host_failed[600];     /* the first of those: "HOST: host unreachable in N runs ..." */
    int64_t last_progress_ms;
};

/* One run_workers row per worker rank of peers (rank 0 has none), as a run ends: what each
 * did, with its pages per second over its own time (BYE's busy + idle) or else over secs.  A
 * row that cannot be written is logged as a warning and the others are still written. */
void scr_summary_store_workers(const struct scr_peers *peers, PGconn *db, int64_t run_id,
                               double secs);

/* Writes secs as "42s", "3m07s", "2h05m", or "?" when out of range, into buf. */
void scr_summary_fmt_secs(char *buf, size_t len, double secs);

#endif
