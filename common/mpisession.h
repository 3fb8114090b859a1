/* mpisession.h - one MPI session for a command: start-up, checked MPI calls, and an ending
 * that never spins.
 *
 * `scrape crawl` and `scrape check` start and end MPI the same way, so they do it here:
 *   scr_mpisession_init()  MPI_Init_thread(MPI_THREAD_FUNNELED), a warning when the library
 *                          gives a lower level, rank, size, host name, the log's prefix;
 *   scr_mpisession_end()   MPI_Abort when a rank cannot join the end, else the transport's
 *                          non-blocking finish (sends completed, then MPI_Ibarrier polled with
 *                          MPI_Test and a growing sleep: MPICH 4.0.2 busy-polls inside every
 *                          blocking call), MPI_Abort if that takes over 60 s, then
 *                          MPI_Finalize, which cli/mpi_finalize_fix.c keeps from hanging over
 *                          TCP (docs/internals/shutdown.md).
 * Only the main thread calls these, and only it calls MPI (MPI_THREAD_FUNNELED).
 */
#ifndef SCR_MPISESSION_H
#define SCR_MPISESSION_H

#include "common/comm.h"
#include "common/log.h"

/* Checks one MPI call: evaluates `call` exactly once (the value is stored in the helper's
 * parameter, a local, before it is tested), and on a failure logs "CALL failed: <MPI's error
 * string> (FILE:LINE)" (FILE without its folders).  The expression is SCR_OK or SCR_EMPI:
 *     if ((rc = SCR_MPI_CHECK(MPI_Test(&req, &done, MPI_STATUS_IGNORE))) != SCR_OK)
 *         goto out;                                                                    */
#define SCR_MPI_CHECK(call) scr_mpisession_check((call), #call, __FILE__, __LINE__)

/* What SCR_MPI_CHECK expands to: mpi_rc is the MPI call's return code; call, file and line
 * (static strings) are for the message.  Returns SCR_OK when mpi_rc is MPI_SUCCESS, else
 * logs and returns SCR_EMPI. */
int scr_mpisession_check(int mpi_rc, const char *call, const char *file, int line);

/* This process's place in the job, filled by scr_mpisession_init (the caller owns it; it
 * holds no resources). */
struct scr_mpisession {
    int rank;
    int size;
    int provided;   /* the thread level the library gives */
    char host[256]; /* gethostname(), "?" when unknown */
};

/* Starts MPI with MPI_THREAD_FUNNELED (argc and argv as given to main, passed on to
 * MPI_Init_thread), fills ms and sets up the log's "[rank host]" prefix at `level`.  A
 * library that gives a lower thread level gets a warning, not a refusal: scrape's other
 * threads never call MPI.  On failure writes "PROG: MPI_Init failed" on stderr and returns
 * SCR_EMPI; MPI is then not started and scr_mpisession_end must not be called. */
int scr_mpisession_init(struct scr_mpisession *ms, int *argc, char ***argv, const char *prog,
                        enum scr_log_level level);

/* Ends the job at once with exit code `code` (MPI_Abort on MPI_COMM_WORLD), after flushing
 * stdout and stderr.  Does not return unless MPI_Abort itself fails (then it is logged). */
void scr_mpisession_abort(int code);

/* Ends the session; takes ownership of c (the MPI transport, or NULL when there is no peer:
 * one rank, or the transport could not be made) and frees it.  Flushes stdout and stderr.
 * When abandon_why is not NULL and c has peers, a rank cannot join the end (lost, or never
 * answered), so MPI_Finalize could never complete: logs "ending the job with MPI_Abort
 * (CODE): ABANDON_WHY" and aborts with code.  Otherwise waits for c's sends and a
 * non-blocking barrier with every rank (c->ops->finish) for up to 60 s, aborting the job
 * with code (SCR_EXIT_CLUSTER when code is 0) if they do not meet; then MPI_Finalize. */
void scr_mpisession_end(struct scr_comm *c, int code, const char *abandon_why);

#endif
