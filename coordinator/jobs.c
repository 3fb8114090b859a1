/* jobs.c - a job's stored settings and its extraction hash (see jobs.h for the contract).
 *
 * jobs.settings is a JSON object of setting name -> value text (as scr_settings_format
 * writes it and scr_settings_set reads it back), holding only job settings that some run
 * gave explicitly; the latest given value of each wins.  Reading happens before the run
 * exists and writes nothing (a database without the schema stays empty: bad input must
 * leave nothing behind); writing happens once the run's row is in.
 */
#include "coordinator/jobs.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/sha256.h"
#include "coordinator/db.h"
#include "parsers/parser.h"

/* Settings that say where or how this process runs, not what the job crawls; with the
 * secrets, they are never stored with the job. */
static const char *const not_job[] = {
    "seed",      "db",         "db-file",   "job",         "proxy-user-file",
    "if-idle",   "island",     "local-workers", "lease-ttl", "db-retry",
    "heartbeat", "peer-timeout", "progress-interval", "log-level", "quiet",
    "concurrency", "parse-threads",
};

int scr_jobs_is_job_setting(const char *name)
{
    const struct scr_setting_def *d = scr_settings_find(name);

    if (!d || d->secret)
        return 0;
    for (size_t i = 0; i < sizeof(not_job) / sizeof(not_job[0]); i++)
        if (strcmp(name, not_job[i]) == 0)
            return 0;
    return 1;
}

void scr_jobs_extract_hash(const struct scr_settings *s, const char *rules_text, char hex[65])
{
    struct scr_buf b;
    char *text;
    size_t len;

    scr_buf_init(&b);
    scr_buf_puts(&b, "scrape extraction 1\nparsers=");
    scr_buf_puts(&b, s->parsers && *s->parsers ? s->parsers : SCR_PARSERS_DEFAULT);
    scr_buf_puts(&b, "\ncontent-types=");
    scr_buf_puts(&b, s->content_types ? s->content_types : "");
    scr_buf_puts(&b, "\nrules=");
    scr_buf_puts(&b, rules_text ? rules_text : "");
    text = scr_buf_detach(&b, &len);
    scr_sha256_hex(text, len, hex);
    free(text);
}

/* "name=value" appended to b, space-separated. */
static void put_pair(struct scr_buf *b, const char *name, const char *value)
{
    if (b->len)
        scr_buf_putc(b, ' ');
    scr_buf_puts(b, name);
    scr_buf_putc(b, '=');
    scr_buf_puts(b, *value ? value : "''");
}

int scr_jobs_apply_stored(struct scr_settings *s, char *err, size_t errlen)
{
    const char *p[1] = {s->job};
    struct scr_buf used, over;
    PGconn *db = NULL;
    PGresult *r = NULL;
    json_t *stored = NULL, *v;
    const char *name;
    char msg[512];
    int rc = SCR_EDB;

    scr_buf_init(&used);
    scr_buf_init(&over);
    /* the run's own wait: a mistake is SCR_EUSAGE at once, a silent server is waited for
     * --db-retry long (db.h) */
    rc = scr_db_connect(&db, scr_db_conninfo(s->db), s->db_retry_ms, err, errlen);
    if (rc != SCR_OK)
        goto out;
    rc = SCR_EDB;
    /* read-only: a database without the table or the column has nothing stored */
    r = scr_db_exec(db, "looking for the job's settings",
                    "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid ="
                    " to_regclass('jobs') AND attname = 'settings' AND NOT attisdropped)",
                    0, NULL, err, errlen);
    if (!r)
        goto out;
    if (PQgetvalue(r, 0, 0)[0] == 't') {
        PQclear(r);
        r = scr_db_exec(db, "reading the job's settings",
                        "SELECT settings::text FROM jobs WHERE name = $1 AND settings IS NOT NULL",
                        1, p, err, errlen);
        if (!r)
            goto out;
        if (PQntuples(r) == 1)
            stored = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    }
    rc = SCR_OK;
    if (!json_is_object(stored) || json_object_size(stored) == 0) {
        scr_info("job '%s' has no stored settings: the job settings given to this run are "
                 "kept for its later runs", s->job);
        goto out;
    }
    json_object_foreach(stored, name, v) {
        const char *val = json_string_value(v);
        if (!val || !scr_jobs_is_job_setting(name)) {
            scr_warn("job '%s': stored setting '%s' is not a job setting of this version; "
                     "ignored", s->job, name);
            continue;
        }
        if (scr_settings_was_given(s, name)) {
            const struct scr_setting_def *d = scr_settings_find(name);
            char *now = scr_settings_format(s, d), abs[PATH_MAX];
            /* the rules path is stored absolute */
            const char *cmp = strcmp(name, "rules") == 0 && *now && realpath(now, abs) ? abs
                                                                                    : now;
            if (strcmp(cmp, val) != 0)
                put_pair(&over, name, now);
            free(now);
            continue;
        }
        if (scr_settings_set(s, name, val, msg, sizeof(msg))) {
            scr_warn("job '%s': stored setting %s=%s no longer applies (%s); ignored", s->job,
                     name, val, msg);
            continue;
        }
        put_pair(&used, name, val);
    }
    {
        size_t n;
        const struct scr_setting_def *defs = scr_settings_table(&n);
        struct scr_buf fresh;
        scr_buf_init(&fresh);
        for (size_t i = 0; i < n; i++) {
            char *now;
            if (!scr_jobs_is_job_setting(defs[i].name) ||
                !scr_settings_was_given(s, defs[i].name) ||
                json_object_get(stored, defs[i].name))
                continue;
            now = scr_settings_format(s, &defs[i]);
            put_pair(&fresh, defs[i].name, now);
            free(now);
        }
        scr_info("job '%s': using stored settings %s%s%s%s%s%s", s->job,
                 used.len ? used.data : "(none: all given)",
                 over.len ? "; overridden on the command line: " : "",
                 over.len ? over.data : "", fresh.len ? "; new: " : "",
                 fresh.len ? fresh.data : "",
                 over.len || fresh.len ? " (stored for later runs)" : "");
        scr_buf_release(&fresh);
    }
out:
    json_decref(stored);
    PQclear(r);
    PQfinish(db);
    scr_buf_release(&used);
    scr_buf_release(&over);
    return rc;
}

int scr_jobs_save(PGconn *db, int64_t job_id, int64_t run_id, const struct scr_settings *s,
                  const char *hash, char *err, size_t errlen)
{
    size_t n;
    const struct scr_setting_def *defs = scr_settings_table(&n);
    json_t *given = json_object();
    char job[24], run[24], *gj = NULL, abs[PATH_MAX];
    const char *p[3] = {job, NULL, NULL};
    PGresult *r = NULL;
    int rc = SCR_EDB;

    scr_db_i64(job, sizeof(job), job_id);
    scr_db_i64(run, sizeof(run), run_id);
    for (size_t i = 0; i < n; i++) {
        char *val;
        if (!scr_jobs_is_job_setting(defs[i].name) || !scr_settings_was_given(s, defs[i].name))
            continue;
        val = scr_settings_format(s, &defs[i]);
        /* a rules path is kept absolute: cron runs elsewhere */
        if (strcmp(defs[i].name, "rules") == 0 && *val && realpath(val, abs)) {
            free(val);
            val = scr_xstrdup(abs);
        }
        json_object_set_new(given, defs[i].name, json_string(val ? val : ""));
        free(val);
    }
    gj = json_dumps(given, JSON_COMPACT | JSON_SORT_KEYS);
    p[1] = gj ? gj : "{}";
    if (scr_db_command(db, "storing the job's settings",
                       "UPDATE jobs SET settings = coalesce(settings, '{}'::jsonb) || $2::jsonb"
                       " WHERE id = $1::bigint",
                       2, p, err, errlen))
        goto out;
    /* the hash of the job's previous run that has one, and this run's */
    p[0] = run;
    p[1] = hash;
    p[2] = job;
    r = scr_db_exec(db, "recording the extraction hash",
                    "WITH prev AS (SELECT extract_hash FROM runs WHERE job_id = $3::bigint"
                    "   AND id < $1::bigint AND extract_hash IS NOT NULL"
                    "   ORDER BY id DESC LIMIT 1),"
                    " u AS (UPDATE runs SET extract_hash = $2 WHERE id = $1::bigint)"
                    " SELECT coalesce((SELECT extract_hash <> $2 FROM prev), false)",
                    3, p, err, errlen);
    if (!r)
        goto out;
    if (PQgetvalue(r, 0, 0)[0] == 't')
        scr_info("rules or parsers changed since the last run: pages are fetched "
                 "unconditionally");
    rc = SCR_OK;
out:
    PQclear(r);
    free(gj);
    json_decref(given);
    return rc;
}
