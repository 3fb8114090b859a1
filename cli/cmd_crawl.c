/* cmd_crawl.c - `scrape [crawl] --seed FILE ...`: start MPI, pick the role, end cleanly.
 *
 * Ending (common/mpisession.c): the coordinator returns after every result is stored and
 * every worker said BYE; then all ranks meet in a non-blocking barrier (no spinning) and call
 * MPI_Finalize, which mpi_finalize_fix.c keeps from hanging over TCP.  If a worker was lost,
 * MPI_Finalize can never complete (it needs every rank), so rank 0 ends the job with MPI_Abort(exit code)
 * once the results are safe.  A worker rank ignores the command line: its settings and
 * rules arrive from rank 0 over MPI, so a worker node needs only the binary.
 */
#include <curl/curl.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/comm.h"
#include "common/error.h"
#include "common/log.h"
#include "common/mpisession.h"
#include "common/settings.h"
#include "common/wire.h"
#include "coordinator/coordinator.h"
#include "coordinator/db.h"
#include "coordinator/reextract.h"
#include "worker/worker.h"

/* What rank 0 runs: a crawl, or `scrape reextract` over warc (NULL for a crawl). */
struct rank0_job {
    const struct scr_strvec *warc; /* reextract: the --warc files (may be empty) */
    int reextract;
};

static void run_rank0(struct scr_comm *c, struct scr_settings *s, const char *command,
                      const struct rank0_job *job, struct scr_run_outcome *out)
{
    if (job->reextract)
        scr_reextract_run(c, s, command, job->warc, out);
    else
        scr_coordinator_run(c, s, command, out);
}

static void on_signal(int sig)
{
    (void)sig;
    if (scr_coordinator_stop < 2)
        scr_coordinator_stop++;
}

struct local_worker {
    pthread_t thread;
    struct scr_comm *ep;
    int rc;
};

static void *local_worker_main(void *arg)
{
    struct local_worker *lw = arg;
    lw->rc = scr_worker_run(lw->ep);
    return NULL;
}

/* Runs the coordinator with in-process worker threads (no mpiexec). */
static int run_local(struct scr_settings *s, const char *command, const struct rank0_job *job)
{
    int n = s->local_workers > 0 ? s->local_workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    struct scr_comm **eps;
    struct local_worker *lw;
    struct scr_run_outcome out;

    if (n < 1)
        n = 1;
    eps = scr_xcalloc((size_t)n + 1, sizeof(*eps));
    lw = scr_xcalloc((size_t)n, sizeof(*lw));
    if (scr_comm_local_new(n + 1, eps)) {
        fprintf(stderr, "scrape: out of memory\n");
        free(eps);
        free(lw);
        return SCR_EXIT_FAILURE;
    }
    for (int i = 0; i < n; i++) {
        lw[i].ep = eps[i + 1];
        if (pthread_create(&lw[i].thread, NULL, local_worker_main, &lw[i]) != 0) {
            fprintf(stderr, "scrape: cannot start worker thread %d\n", i + 1);
            lw[i].ep = NULL;
        }
    }
    run_rank0(eps[0], s, command, job, &out);
    for (int i = 0; i < n; i++) {
        if (lw[i].ep) {
            pthread_join(lw[i].thread, NULL);
            scr_comm_free(lw[i].ep);
        }
    }
    scr_comm_free(eps[0]);
    free(eps);
    free(lw);
    return out.exit_code;
}

static char *command_line(int argc, char **argv)
{
    struct scr_buf b;

    scr_buf_init(&b);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i)
            scr_buf_putc(&b, ' ');
        /* never store a password given on the command line */
        if (i > 0 && (strcmp(argv[i - 1], "--db") == 0 || strcmp(argv[i - 1], "--header") == 0))
            a = "(hidden)";
        else if (strncmp(a, "--db=", 5) == 0)
            a = "--db=(hidden)";
        else if (strncmp(a, "--header=", 9) == 0) /* a header may be a bearer token */
            a = "--header=(hidden)";
        scr_buf_puts(&b, a);
    }
    return scr_buf_detach(&b, NULL);
}

static int run_command(int argc, char **argv, int start, int reextract)
{
    struct scr_strvec warc;
    struct rank0_job job;
    struct scr_settings s;
    struct scr_strvec pos;
    struct scr_comm *c = NULL;
    struct scr_run_outcome out = {0, 0, 0};
    struct scr_mpisession ms;
    char err[512], *command = NULL;
    int rank, size, code = SCR_EXIT_OK, help = 0, lvl;
    struct scr_cli_extra extra[] = {{"help", NULL, &help, NULL}, {"warc", NULL, NULL, &warc}};

    signal(SIGPIPE, SIG_IGN);
    scr_strvec_init(&warc);
    job.warc = &warc;
    job.reextract = reextract;
    if (scr_settings_init(&s))
        return SCR_EXIT_FAILURE;
    scr_strvec_init(&pos);
    if (scr_mpisession_init(&ms, &argc, &argv, "scrape", SCR_LOG_INFO) != SCR_OK)
        return SCR_EXIT_FAILURE;
    rank = ms.rank;
    size = ms.size;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();

    if (rank > 0) {
        /* a worker: everything it needs comes from rank 0 */
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        if (scr_comm_mpi_new(&c) == SCR_OK) {
            int rc = scr_worker_run(c);
            if (rc && rc != SCR_EVERSION && rc != SCR_ESTOPPED)
                scr_error("worker stopped: %s", scr_strerror(rc));
        }
        goto finish;
    }

    if (scr_cli_parse(argc, argv, start, &s, extra, reextract ? 2 : 1, &pos, err,
                      sizeof(err))) {
        fprintf(stderr, "scrape: %s\n", err);
        code = SCR_EXIT_USAGE;
    } else if (help) {
        scr_cmd_usage();
    } else if (reextract && pos.n && !warc.n) {
        fprintf(stderr, "scrape: unexpected argument '%s' (WARC files follow --warc; see "
                        "scrape reextract --help)\n", pos.v[0]);
        code = SCR_EXIT_USAGE;
    } else if (reextract && s.seed) {
        fprintf(stderr, "scrape: reextract fetches nothing: --seed has no use here\n");
        code = SCR_EXIT_USAGE;
    } else if (!reextract && pos.n) {
        fprintf(stderr, "scrape: unexpected argument '%s' (see scrape crawl --help)\n",
                pos.v[0]);
        code = SCR_EXIT_USAGE;
    } else if ((lvl = scr_log_level_parse(s.log_level)) < 0) {
        fprintf(stderr, "scrape: --log-level: '%s' is not error, warn, info or debug\n",
                s.log_level);
        code = SCR_EXIT_USAGE;
    } else if (scr_settings_read_secrets(&s, err, sizeof(err))) {
        fprintf(stderr, "scrape: %s\n", err);
        code = SCR_EXIT_USAGE;
    } else {
        scr_log_set_level((enum scr_log_level)lvl);
        if (size > 1)
            scr_cli_warn_db_argv(argc, argv, start);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        scr_db_set_stop_flag(&scr_coordinator_stop); /* lock waits at start end on a signal */
        command = command_line(argc, argv);
        if (size == 1) {
            for (size_t i = 0; i < pos.n; i++)
                scr_strvec_push(&warc, pos.v[i]); /* --warc A B C: B and C too */
            code = run_local(&s, command, &job);
        } else {
            for (size_t i = 0; i < pos.n; i++)
                scr_strvec_push(&warc, pos.v[i]);
            if (scr_comm_mpi_new(&c) == SCR_OK) {
                run_rank0(c, &s, command, &job, &out);
                code = out.exit_code;
            } else {
                code = SCR_EXIT_FAILURE;
            }
        }
    }
    if (rank == 0 && size > 1 && !c && scr_comm_mpi_new(&c) == SCR_OK) {
        /* usage error before the coordinator ran: let the waiting workers go, quietly */
        scr_coordinator_stop_workers(c, "the coordinator stopped: see its error");
    }
finish:
    scr_mpisession_end(c, code,
                       out.lost_workers || out.unfinished_workers
                           ? "a rank was lost, so MPI_Finalize cannot complete; the results are "
                             "stored"
                           : NULL);
    free(command);
    scr_strvec_release(&pos);
    scr_strvec_release(&warc);
    scr_settings_release(&s);
    xmlCleanupParser();
    curl_global_cleanup();
    return code;
}

int scr_cmd_crawl(int argc, char **argv, int start)
{
    return run_command(argc, argv, start, 0);
}

int scr_cmd_reextract(int argc, char **argv, int start)
{
    return run_command(argc, argv, start, 1);
}
