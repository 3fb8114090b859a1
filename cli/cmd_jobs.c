/* cmd_jobs.c - `scrape jobs`: every job of the database, its stored settings and last run.
 *
 *   scrape jobs [--job NAME] [--db CONNINFO | --db-file FILE]
 *
 * One line per job: name, last run's id, status, exit code and end (UTC; "-" while it runs
 * or when there is none), then the job's stored settings (jobs.settings, coordinator/jobs.h)
 * as name=value pairs.  Read-only, in one READ ONLY transaction; a database without the
 * schema has no jobs, and one of schema 2 no stored settings.  Exit 2 for a bad option or an
 * unknown --job, 3 when the database is unreachable.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/strvec.h"
#include "coordinator/db.h"

/* $1: a job name, or NULL for all.  to_jsonb(j): jobs.settings is NULL before schema 3. */
static const char SQL_JOBS[] =
    "SELECT j.name, coalesce(r.id::text, '-'), coalesce(r.status, '-'),"
    "  coalesce(r.exit_code::text, '-'),"
    "  coalesce(to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '-'),"
    "  coalesce(to_jsonb(j) -> 'settings', '{}'::jsonb)::text"
    " FROM jobs j LEFT JOIN LATERAL (SELECT id, status, exit_code, finished_at FROM runs"
    "   WHERE job_id = j.id ORDER BY id DESC LIMIT 1) r ON true"
    " WHERE $1::text IS NULL OR j.name = $1"
    " ORDER BY j.name";

/* The stored settings as "name=value name=value" (sorted by name), malloc'd. */
static char *settings_text(const char *json)
{
    json_t *o = json_loads(json, 0, NULL), *v;
    const char **names = NULL;
    const char *name;
    struct scr_buf b;
    size_t n = 0, i = 0;

    scr_buf_init(&b);
    if (json_is_object(o) && (n = json_object_size(o)) > 0) {
        names = calloc(n, sizeof(*names));
        json_object_foreach(o, name, v) {
            if (names && i < n)
                names[i++] = name;
        }
        for (size_t a = 1; names && a < i; a++)
            for (size_t c = a; c > 0 && strcmp(names[c - 1], names[c]) > 0; c--) {
                const char *t = names[c];
                names[c] = names[c - 1];
                names[c - 1] = t;
            }
        for (size_t k = 0; names && k < i; k++) {
            const char *val = json_string_value(json_object_get(o, names[k]));
            if (b.len)
                scr_buf_putc(&b, ' ');
            scr_buf_puts(&b, names[k]);
            scr_buf_putc(&b, '=');
            scr_buf_puts(&b, val && *val ? val : "''");
        }
    }
    if (!b.len)
        scr_buf_puts(&b, "(none stored)");
    free(names);
    json_decref(o);
    return scr_buf_detach(&b, NULL);
}

int scr_cmd_jobs(int argc, char **argv, int start)
{
    struct scr_settings s;
    struct scr_strvec pos;
    const char *job = NULL;
    const char *p[1];
    char err[1024];
    PGconn *db = NULL;
    PGresult *r = NULL;
    int code = SCR_EXIT_OK;

    scr_settings_init(&s);
    scr_strvec_init(&pos);
    if (scr_cli_parse(argc, argv, start, &s, NULL, 0, &pos, err, sizeof(err))) {
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if (pos.n) {
        snprintf(err, sizeof(err), "unexpected argument '%s' (see scrape jobs --help)",
                 pos.v[0]);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    job = scr_settings_was_given(&s, "job") ? s.job : NULL;
    p[0] = job;
    if (scr_db_connect(&db, scr_db_conninfo(s.db), 0, err, sizeof(err))) {
        code = SCR_EXIT_DB;
        goto out;
    }
    if (scr_db_command(db, "starting", "BEGIN READ ONLY", 0, NULL, err, sizeof(err)) ||
        !(r = scr_db_exec(db, "looking for the schema", "SELECT to_regclass('jobs') IS NULL",
                          0, NULL, err, sizeof(err)))) {
        code = SCR_EXIT_DB;
        goto out;
    }
    if (PQgetvalue(r, 0, 0)[0] == 't') {
        snprintf(err, sizeof(err), "no jobs: this database has no scrape schema yet "
                                   "(scrape init-db, or a first crawl, creates it)");
        code = job ? SCR_EXIT_USAGE : SCR_EXIT_OK;
        if (!job)
            fprintf(stderr, "scrape jobs: %s\n", err);
        goto out;
    }
    PQclear(r);
    if (!(r = scr_db_exec(db, "listing the jobs", SQL_JOBS, 1, p, err, sizeof(err)))) {
        code = SCR_EXIT_DB;
        goto out;
    }
    if (job && PQntuples(r) == 0) {
        snprintf(err, sizeof(err), "no job named '%s' in this database (scrape jobs lists "
                                   "them)", job);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    printf("%-20s %8s %-11s %4s %-19s %s\n", "job", "last_run", "status", "exit",
           "finished (UTC)", "stored settings");
    for (int i = 0; i < PQntuples(r); i++) {
        char *st = settings_text(PQgetvalue(r, i, 5));
        printf("%-20s %8s %-11s %4s %-19s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), st);
        free(st);
    }
    if (fflush(stdout) != 0) {
        snprintf(err, sizeof(err), "writing the list failed");
        code = SCR_EXIT_FAILURE;
    }
out:
    if (code)
        fprintf(stderr, "scrape jobs: %s\n", err);
    PQclear(r);
    PQfinish(db);
    scr_strvec_release(&pos);
    scr_settings_release(&s);
    return code;
}
