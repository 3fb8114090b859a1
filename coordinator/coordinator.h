/* coordinator.h - rank 0: owns the frontier, feeds the workers, stores every result. */
#ifndef SCR_COORDINATOR_H
#define SCR_COORDINATOR_H

#include <signal.h>

#include "common/comm.h"
#include "common/settings.h"

struct scr_run_outcome {
    int exit_code;      /* enum scr_exit */
    int lost_workers;   /* workers lost or refused */
    int unfinished_workers; /* workers that never said BYE (the run was cut short) */
};

/* Runs a crawl as rank 0 of c: seeds, leases, dispatches, stores, ends the run, prints the
 * summary.  s is the full settings (rank 0 reads --seed and --rules itself); command is the
 * command line for the run's row.  Never returns before every result that arrived is stored
 * or the database is gone. */
void scr_coordinator_run(struct scr_comm *c, struct scr_settings *s, const char *command,
                         struct scr_run_outcome *out);

/* Set from a signal handler: 1 = stop handing out work and finish, 2 = stop now. */
extern volatile sig_atomic_t scr_coordinator_stop;

/* The run did not start (a usage error, the database, --if-idle): receives each worker's
 * HELLO (for up to 10 s; a message never received makes UCX warn at MPI_Finalize), then
 * sends each a WELCOME refusal marked not_started, so that it exits without an ERROR line.
 * reason is borrowed. */
void scr_coordinator_stop_workers(struct scr_comm *c, const char *reason);

#endif
