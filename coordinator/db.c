/* db.c - connection, schema and checked statements for rank 0 (see db.h). */
#include "coordinator/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"

extern const char scr_schema_sql[];

/* Advisory lock key (first int4) for schema changes; the second is 0. */
#define SCHEMA_LOCK_KEY 0x53435201

const char *scr_db_conninfo(const char *opt)
{
    const char *env;

    if (opt && *opt)
        return opt;
    env = getenv("SCRAPE_DB");
    return env && *env ? env : "";
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

int scr_db_connect(PGconn **out, const char *conninfo, int64_t retry_ms, char *err, size_t errlen)
{
    int64_t deadline = scr_now_ms() + retry_ms, wait_ms = 250;
    PGconn *db;

    for (;;) {
        db = PQconnectdb(conninfo);
        if (db && PQstatus(db) == CONNECTION_OK) {
            /* no NOTICE per existing object when schema.sql is applied again */
            PGresult *r = PQexec(db, "SET application_name = 'scrape';"
                                     " SET client_min_messages = warning");
            PQclear(r);
            *out = db;
            return SCR_OK;
        }
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s",
                 db ? PQerrorMessage(db) : "out of memory");
        chomp(err);
        PQfinish(db);
        if (scr_now_ms() + wait_ms > deadline)
            return SCR_EDBCONN;
        scr_warn("%s; retrying in %lld ms", err, (long long)wait_ms);
        scr_sleep_us(wait_ms * 1000);
        wait_ms = wait_ms * 2 > 5000 ? 5000 : wait_ms * 2;
    }
}

/* The SQLSTATE of this thread's last failed statement ("" when it had none). */
static _Thread_local char last_sqlstate[6];

/* r if it succeeded, else NULL with the message in err (r is cleared). */
static PGresult *checked(PGconn *db, PGresult *r, const char *what, char *err, size_t errlen)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    const char *state;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(last_sqlstate, sizeof(last_sqlstate), "%s", state ? state : "");
    snprintf(err, errlen, "%s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(db));
    chomp(err);
    PQclear(r);
    return NULL;
}

int scr_db_retryable(void)
{
    /* deadlock_detected, serialization_failure */
    return strcmp(last_sqlstate, "40P01") == 0 || strcmp(last_sqlstate, "40001") == 0;
}

PGresult *scr_db_exec(PGconn *db, const char *what, const char *sql, int nparams,
                      const char *const *params, char *err, size_t errlen)
{
    return checked(db, PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0), what, err,
                   errlen);
}

int scr_db_prepare(PGconn *db, const char *name, const char *sql, int nparams, char *err,
                   size_t errlen)
{
    PGresult *r = checked(db, PQprepare(db, name, sql, nparams, NULL), name, err, errlen);

    if (!r)
        return SCR_EDB;
    PQclear(r);
    return SCR_OK;
}

PGresult *scr_db_exec_prepared(PGconn *db, const char *what, const char *name, int nparams,
                               const char *const *params, char *err, size_t errlen)
{
    return checked(db, PQexecPrepared(db, name, nparams, params, NULL, NULL, 0), what, err,
                   errlen);
}

int scr_db_command(PGconn *db, const char *what, const char *sql, int nparams,
                   const char *const *params, char *err, size_t errlen)
{
    PGresult *r = scr_db_exec(db, what, sql, nparams, params, err, errlen);
    if (!r)
        return SCR_EDB;
    PQclear(r);
    return SCR_OK;
}

int scr_db_broken(PGconn *db)
{
    return PQstatus(db) != CONNECTION_OK;
}

/* Returns the schema version found (0 when there is no scrape schema), or < 0 on error. */
static int schema_version(PGconn *db, char *err, size_t errlen)
{
    PGresult *r = scr_db_exec(db, "looking for the scrape schema",
                              "SELECT to_regclass('scrape_meta') IS NOT NULL", 0, NULL, err,
                              errlen);
    int v = 0;

    if (!r)
        return SCR_EDB;
    if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
        PQclear(r);
        return 0;
    }
    PQclear(r);
    r = scr_db_exec(db, "reading the schema version",
                    "SELECT value FROM scrape_meta WHERE key = 'schema_version'", 0, NULL, err,
                    errlen);
    if (!r)
        return SCR_EDB;
    if (PQntuples(r) == 1)
        v = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

int scr_db_ensure_schema(PGconn *db, int apply_always, char *err, size_t errlen)
{
    PGresult *r = NULL;
    int v, rc = SCR_OK;

    v = schema_version(db, err, errlen);
    if (v < 0)
        return SCR_EDB;
    if (v == 0 || v < SCR_SCHEMA_VERSION || apply_always) {
        /* One transaction under an advisory lock: concurrent first runs apply it once.  An
         * older schema is upgraded the same way: schema.sql is idempotent and raises the
         * version last. */
        if (v > 0 && v < SCR_SCHEMA_VERSION)
            scr_info("upgrading the database's scrape schema from version %d to %d", v,
                     SCR_SCHEMA_VERSION);
        if (scr_db_command(db, "BEGIN", "BEGIN", 0, NULL, err, errlen))
            return SCR_EDB;
        {
            char key[16];
            const char *params[1] = {key};
            snprintf(key, sizeof(key), "%d", SCHEMA_LOCK_KEY);
            if (scr_db_command(db, "locking for the schema",
                               "SELECT pg_advisory_xact_lock($1::int, 0)", 1, params, err,
                               errlen)) {
                rc = SCR_EDB;
                goto out;
            }
        }
        /* Another run may have applied it while this one waited for the lock (runs started
         * together: islands).  Applying it again would lock tables that run is crawling
         * with (CREATE INDEX IF NOT EXISTS takes a SHARE lock before it finds the index),
         * and its leases could deadlock with this transaction. */
        if (!apply_always) {
            int now = schema_version(db, err, errlen);
            if (now < 0) {
                rc = SCR_EDB;
                goto out;
            }
            if (now == SCR_SCHEMA_VERSION) {
                PQclear(PQexec(db, "ROLLBACK"));
                return SCR_OK;
            }
        }
        r = PQexec(db, scr_schema_sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
            snprintf(err, errlen, "applying schema.sql: %s", PQerrorMessage(db));
            chomp(err);
            rc = SCR_EDB;
            goto out;
        }
        PQclear(r);
        r = NULL;
        if (scr_db_command(db, "COMMIT", "COMMIT", 0, NULL, err, errlen))
            return SCR_EDB;
        v = schema_version(db, err, errlen);
        if (v < 0)
            return SCR_EDB;
    }
    if (v != SCR_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "the database has scrape schema version %d, this scrape needs version %d", v,
                 SCR_SCHEMA_VERSION);
        return SCR_ESCHEMA;
    }
    return SCR_OK;
out:
    PQclear(r);
    r = PQexec(db, "ROLLBACK");
    PQclear(r);
    return rc;
}
