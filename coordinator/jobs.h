/* jobs.h - what a job keeps between its runs: its settings (jobs.settings) and the hash of
 * its extraction (runs.extract_hash, urls.extract_hash).
 *
 * Job settings (docs/cron.md, "A job keeps its settings"): every setting of the table except
 * the secrets and those that say where or how this one process runs (scr_jobs_is_job_setting).
 * A run applies the job's stored values to the job settings that were not given on its
 * command line or in its --config file; those that were given override the stored values
 * and replace them for later runs.  The extraction hash (docs/rules.md, "Changing the rules")
 * covers the parser list, the media types parsed and the rules text: a page last extracted
 * under another hash is fetched without a conditional request.
 * Only rank 0 calls these, with a connection it owns (or none: scr_jobs_apply_stored opens
 * its own).
 */
#ifndef SCR_JOBS_H
#define SCR_JOBS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"

/* 1 when the setting (by name) belongs to the job and is stored with it. */
int scr_jobs_is_job_setting(const char *name);

/* The extraction hash: 64 hex digits of SHA-256 over the parser list (--parsers, or the
 * default), --content-types and the rules text (rules_text may be NULL: none). */
void scr_jobs_extract_hash(const struct scr_settings *s, const char *rules_text,
                           char hex[65]);

/* Reads the stored settings of job s->job, read-only (a database without the schema, or
 * without the job, has none), and applies those not given explicitly to s, logging at INFO
 * which were used and which were overridden.  A stored value that no longer parses is
 * skipped with a warning.  Connects as scr_db_connect() does (waiting --db-retry for a server
 * that does not answer).  Returns SCR_OK; SCR_EUSAGE for a conninfo mistake, SCR_EDBCONN when
 * the server never answered, SCR_EDB when a statement failed, with the reason in err (s may
 * then hold some stored values). */
int scr_jobs_apply_stored(struct scr_settings *s, char *err, size_t errlen);

/* After the run's row exists: stores the job settings given to this run (their current
 * values; --rules as an absolute path) into jobs.settings over the stored ones, records hash
 * as runs.extract_hash, and logs once at INFO when the job's previous run with a hash used
 * another one.  Returns SCR_OK or SCR_EDB with the reason in err. */
int scr_jobs_save(PGconn *db, int64_t job_id, int64_t run_id, const struct scr_settings *s,
                  const char *hash, char *err, size_t errlen);

#endif
