/* mpisession.c - MPI start-up and shutdown for the commands, and SCR_MPI_CHECK's helper
 * (see mpisession.h and docs/internals/shutdown.md).
 *
 * Invariants: nothing here blocks inside MPI before MPI_Finalize, which is called only after
 * every send has completed and every rank has passed the non-blocking barrier (so the
 * in-binary ucp_disconnect_nb of cli/mpi_finalize_fix.c is safe); a job with a rank that
 * cannot reach the barrier ends with MPI_Abort instead, because MPI_Finalize would wait for
 * it forever.  Called by cli/cmd_crawl.c and cli/cmd_check.c (and SCR_MPI_CHECK everywhere
 * MPI is called).
 */
#include "common/mpisession.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"

/* How long the ranks may take to meet at the end. */
#define END_TIMEOUT_MS 60000

int scr_mpisession_check(int mpi_rc, const char *call, const char *file, int line)
{
    char msg[MPI_MAX_ERROR_STRING] = "";
    const char *slash = strrchr(file, '/');
    int len = 0;

    if (mpi_rc == MPI_SUCCESS)
        return SCR_OK;
    /* the one MPI call not checked through SCR_MPI_CHECK: it is the check */
    if (MPI_Error_string(mpi_rc, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof(msg), "MPI error %d", mpi_rc);
    scr_error("%s failed: %s (%s:%d)", call, msg, slash ? slash + 1 : file, line);
    return SCR_EMPI;
}

int scr_mpisession_init(struct scr_mpisession *ms, int *argc, char ***argv, const char *prog,
                        enum scr_log_level level)
{
    int rc;

    memset(ms, 0, sizeof(*ms));
    ms->size = 1;
    snprintf(ms->host, sizeof(ms->host), "?");
    rc = SCR_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &ms->provided));
    if (rc != SCR_OK) {
        fprintf(stderr, "%s: MPI_Init failed\n", prog);
        goto out;
    }
    /* with the default error handler a failure here has ended the job already */
    if ((rc = SCR_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &ms->rank))) != SCR_OK ||
        (rc = SCR_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &ms->size))) != SCR_OK)
        scr_mpisession_abort(SCR_EXIT_FAILURE);
    if (gethostname(ms->host, sizeof(ms->host) - 1) != 0)
        snprintf(ms->host, sizeof(ms->host), "?");
    scr_log_setup(ms->rank, ms->host, level);
    if (ms->provided < MPI_THREAD_FUNNELED)
        scr_warn("this MPI library gives thread level %d, not MPI_THREAD_FUNNELED: scrape's "
                 "threads never call MPI, which works with every MPICH build seen so far",
                 ms->provided);
out:
    return rc;
}

void scr_mpisession_abort(int code)
{
    fflush(stdout);
    fflush(stderr);
    (void)SCR_MPI_CHECK(MPI_Abort(MPI_COMM_WORLD, code));
}

void scr_mpisession_end(struct scr_comm *c, int code, const char *abandon_why)
{
    fflush(stdout);
    fflush(stderr);
    if (abandon_why && c && c->size > 1) {
        scr_error("ending the job with MPI_Abort (%d): %s", code, abandon_why);
        scr_mpisession_abort(code);
    }
    if (c && c->ops->finish(c, END_TIMEOUT_MS) != SCR_OK) {
        scr_error("ranks did not meet at the end within %d s; aborting the job",
                  END_TIMEOUT_MS / 1000);
        scr_mpisession_abort(code ? code : SCR_EXIT_CLUSTER);
    }
    scr_comm_free(c);
    (void)SCR_MPI_CHECK(MPI_Finalize());
}
