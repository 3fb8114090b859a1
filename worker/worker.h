/* worker.h - a worker rank: ask for URLs, fetch them, parse them, send the records back. */
#ifndef SCR_WORKER_H
#define SCR_WORKER_H

#include "common/comm.h"

/* Runs the worker protocol on endpoint c (rank != 0) until the coordinator says STOP, refuses
 * this worker, or falls silent for --peer-timeout.  curl_global_init() and xmlInitParser()
 * must have been called.  Returns 0, SCR_EVERSION (refused), SCR_ELOST, SCR_EPROTO (a
 * malformed BATCH: the worker left without BYE), or another error. */
int scr_worker_run(struct scr_comm *c);

#endif
