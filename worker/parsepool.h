/* parsepool.h - the worker's parse threads: pages are parsed beside the loop, not in it.
 *
 * The worker loop (worker.c) owns MPI, libcurl and the heartbeats; parsing a page (libxml2,
 * the parsers, the rules) may take up to --parse-timeout of CPU time, and must not keep the
 * loop from answering rank 0 meanwhile, or rank 0 declares the worker lost after
 * --peer-timeout.  So the loop hands each page to be parsed to this pool with
 * scr_parsepool_submit() and goes on polling; a parse thread runs the extractor on it and puts
 * it on the finished list, and an eventfd (scr_parsepool_fd(), which the loop polls beside
 * libcurl's sockets) wakes the loop, which takes the finished jobs back with
 * scr_parsepool_take() and sends their RESULTs.  No parse thread calls MPI or libcurl
 * (MPI_THREAD_FUNNELED).
 *
 * Each thread has its own extractor (compiled XPath must not be shared between threads,
 * parsers/rules.h), built in scr_parsepool_new() on the calling thread, before any thread
 * starts (libxml2 2.9's first initialization is not thread-safe).
 */
#ifndef SCR_PARSEPOOL_H
#define SCR_PARSEPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"
#include "parsers/parser.h"
#include "worker/fetch.h"

/* One page to parse.  The loop fills d (the transfer, body included) and r (the RESULT with
 * its common fields, r.final_url the page's normalized URL); the thread adds r.records,
 * r.links and, when something went wrong, rc and error.  Owned by whoever holds it: the loop
 * until submitted, the pool until taken back. */
struct scr_parse_job {
    struct scr_fetch_done *d;
    struct scr_result r;
    int rc;                     /* scr_extractor_run()'s: SCR_ELIMIT = over the page budget */
    char *error;                /* scr_emit.error: why, or NULL */
    struct scr_parse_job *next; /* the pool's lists */
};

struct scr_parsepool;

/* Builds `threads` extractors for the parser list and env (borrowed; must outlive the pool)
 * and starts one thread for each.  On failure returns non-zero with the reason in err, and
 * nothing is left running. */
int scr_parsepool_new(struct scr_parsepool **out, int threads, const char *parser_list,
                      const struct scr_parser_env *env, char *err, size_t errlen);

/* Stops the threads (each finishes its current page, which its budget bounds), joins them,
 * and frees every job not taken back. */
void scr_parsepool_free(struct scr_parsepool *p);

/* Queues job for a parse thread; takes ownership. */
void scr_parsepool_submit(struct scr_parsepool *p, struct scr_parse_job *job);

/* Readable while finished jobs may be waiting. */
int scr_parsepool_fd(const struct scr_parsepool *p);

/* Takes every finished job, oldest first, as a list linked by next (NULL when none); the
 * caller owns them and frees each with scr_parse_job_free(). */
struct scr_parse_job *scr_parsepool_take(struct scr_parsepool *p);

/* Jobs submitted and not yet taken back (queued, being parsed, or finished). */
size_t scr_parsepool_pending(const struct scr_parsepool *p);

/* The most CPU time (microseconds) a parse thread has spent on the page it is parsing now,
 * read from the threads' CPU clocks (pthread_getcpuclockid); 0 when all are idle.  The page
 * budget stops a parse long before this grows large: the loop uses it as a watchdog for a
 * parse the budget cannot reach.  *url (may be NULL) is set to that page's URL, borrowed until
 * the next call into the pool. */
int64_t scr_parsepool_longest_us(struct scr_parsepool *p, const char **url);

/* Frees a job and everything it holds. */
void scr_parse_job_free(struct scr_parse_job *job);

#endif
