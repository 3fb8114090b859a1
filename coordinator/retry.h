/* retry.h - what a fetch outcome means for its URL: done, retry later, or failed. */
#ifndef SCR_RETRY_H
#define SCR_RETRY_H

#include <stdint.h>

#include "common/wire.h"
#include "coordinator/frontier.h"

enum scr_outcome {
    SCR_OUTCOME_DONE,   /* a usable answer (2xx, 3xx, 304) */
    SCR_OUTCOME_RETRY,  /* transient: timeouts, connection errors, 5xx, 408, 429 */
    SCR_OUTCOME_FAILED  /* permanent, or transient max_attempts times */
};

/* 1 when r is a transient failure: worth a retry of its URL, and an error of its host (its
 * streak grows, see scr_hosts_outcome).  Timeouts, connection and TLS handshake errors,
 * 5xx, 408, 429.  Not: a cut body, the address guard's refusal, a certificate that does not
 * verify, other 4xx, any success. */
int scr_retry_transient(const struct scr_result *r);

/* Classifies r, the attempts-th attempt (1-based).  For RETRY, *delay_ms is the backoff:
 * 2 s doubled per attempt, at most 10 min. */
enum scr_outcome scr_retry_classify(const struct scr_result *r, int attempts, int max_attempts,
                                    int64_t *delay_ms);

/* A URL in flight on a worker that was lost (silent for --peer-timeout) gets no result, but
 * the lease it was on counts as an attempt: RETRY with the backoff of a transient failure
 * (*delay_ms as above), or FAILED on the max_attempts-th attempt.  Whether it is quarantined
 * instead (SCR_RETRY_QUARANTINE_LOSSES) depends on its losses over all runs, which only the
 * database knows: the store statement decides that (frontier.c). */
enum scr_outcome scr_retry_lost(int attempts, int max_attempts, int64_t *delay_ms);

/* A URL that was in flight on this many lost workers, in one run or over several, is
 * quarantined: 'failed', never retried automatically (docs/internals/leases.md). */
#define SCR_RETRY_QUARANTINE_LOSSES 2

/* The URL state for an outcome (done, queued, failed). */
enum scr_url_state scr_retry_state(enum scr_outcome o);

#endif
