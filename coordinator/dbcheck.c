/* dbcheck.c - the database part of `scrape check` (see dbcheck.h).
 *
 * What a crawl needs from PostgreSQL: a connection; the schema at this binary's version, or
 * an empty database plus CREATE on the current schema so the first run can apply schema.sql;
 * and SELECT, INSERT and UPDATE on every scrape table with USAGE on their id sequences.  The
 * list of tables is read from the embedded schema.sql, so a new table is checked without a
 * change here.  Called by cli/cmd_check.c on rank 0 only.
 */
#include "coordinator/dbcheck.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "coordinator/db.h"

extern const char scr_schema_sql[];

/* The tables schema.sql creates, as a PostgreSQL array literal: {scrape_meta,jobs,...}. */
static int schema_tables(struct scr_buf *out)
{
    static const char create[] = "CREATE TABLE ", ine[] = "IF NOT EXISTS ";
    const char *p = scr_schema_sql;
    int n = 0, rc = scr_buf_putc(out, '{');

    while (rc == SCR_OK && (p = strstr(p, create)) != NULL) {
        size_t len = 0;
        p += sizeof(create) - 1;
        if (strncmp(p, ine, sizeof(ine) - 1) == 0)
            p += sizeof(ine) - 1;
        while (isalnum((unsigned char)p[len]) || p[len] == '_')
            len++;
        if (!len)
            continue;
        if (n++)
            rc = scr_buf_putc(out, ',');
        if (rc == SCR_OK)
            rc = scr_buf_append(out, p, len);
        p += len;
    }
    if (rc == SCR_OK)
        rc = scr_buf_putc(out, '}');
    return rc;
}

static PGconn *connect_db(const char *conninfo, int64_t timeout_ms)
{
    char tmo[32];
    /* Before dbname: values in the user's conninfo override these two. */
    const char *kw[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *val[] = {tmo, "scrape check", conninfo, NULL};
    int64_t s = (timeout_ms + 999) / 1000;

    /* libpq treats 1 s as 2 s; it is a minimum, not a precise limit */
    snprintf(tmo, sizeof(tmo), "%lld", (long long)(s < 2 ? 2 : s));
    return PQconnectdbParams(kw, val, 1);
}

static void describe_where(struct scr_dbcheck *o, PGconn *db)
{
    const char *host = PQhost(db), *port = PQport(db);
    int v = PQserverVersion(db);

    if (v >= 100000)
        snprintf(o->server, sizeof(o->server), "PostgreSQL %d.%d", v / 10000, v % 10000);
    else
        snprintf(o->server, sizeof(o->server), "PostgreSQL %d.%d.%d", v / 10000,
                 v / 100 % 100, v % 100);
    snprintf(o->where, sizeof(o->where), "database \"%s\" as \"%s\" on %s%s%s%s",
             PQdb(db), PQuser(db), host && host[0] == '/' ? "socket " : "",
             host && *host ? host : "localhost", port && *port ? ":" : "", port ? port : "");
}

/* The schema version: 0 = no scrape schema, -1 = there is one the role may not read (the
 * privilege check says so next), < -1 = an SCR_E* error with err filled. */
static int read_version(PGconn *db, char *err, size_t errlen)
{
    PGresult *r = scr_db_exec(db, "looking for the scrape schema",
                              "SELECT to_regclass('scrape_meta') IS NOT NULL,"
                              " coalesce(has_table_privilege(to_regclass('scrape_meta'),"
                              " 'SELECT'), false)",
                              0, NULL, err, errlen);
    int v;

    if (!r)
        return SCR_EDB;
    if (strcmp(PQgetvalue(r, 0, 0), "t") != 0 || strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
        v = strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? -1 : 0;
        PQclear(r);
        return v;
    }
    PQclear(r);
    r = scr_db_exec(db, "reading the schema version",
                    "SELECT value FROM scrape_meta WHERE key = 'schema_version'", 0, NULL, err,
                    errlen);
    if (!r)
        return SCR_EDB;
    v = PQntuples(r) == 1 ? (int)strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    if (v <= 0) {
        snprintf(err, errlen, "scrape_meta holds no valid schema_version");
        return SCR_ESCHEMA;
    }
    return v;
}

/* 1 when the role may create tables in its current schema, 0 when not, < 0 on error. */
static int can_create(PGconn *db, char *schema, size_t slen, char *err, size_t errlen)
{
    PGresult *r = scr_db_exec(db, "checking CREATE on the current schema",
                              "SELECT current_schema(), "
                              "coalesce(has_schema_privilege(current_schema(), 'CREATE'), false)",
                              0, NULL, err, errlen);
    int ok;

    if (!r)
        return SCR_EDB;
    snprintf(schema, slen, "%s", PQgetisnull(r, 0, 0) ? "(none: search_path is empty)"
                                                      : PQgetvalue(r, 0, 0));
    ok = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    PQclear(r);
    return ok;
}

static const char table_sql[] =
    "SELECT t, to_regclass(t) IS NOT NULL,"
    " coalesce(has_table_privilege(to_regclass(t), 'SELECT'), false),"
    " coalesce(has_table_privilege(to_regclass(t), 'INSERT'), false),"
    " coalesce(has_table_privilege(to_regclass(t), 'UPDATE'), false),"
    " coalesce((SELECT bool_and(has_sequence_privilege(s.oid, 'USAGE'))"
    "   FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
    "   WHERE d.classid = 'pg_class'::regclass AND d.refobjid = to_regclass(t)"
    "     AND d.deptype IN ('a', 'i')), true)"
    " FROM unnest($1::text[]) AS t";

/* Lists the tables that are missing or lack a privilege into missing / denied. */
static int check_tables(PGconn *db, struct scr_buf *missing, struct scr_buf *denied, int *ntables,
                        char *err, size_t errlen)
{
    static const char *const what[] = {"SELECT", "INSERT", "UPDATE", "sequence USAGE"};
    struct scr_buf arr;
    const char *params[1];
    PGresult *r;
    int rc;

    scr_buf_init(&arr);
    rc = schema_tables(&arr);
    if (rc != SCR_OK) {
        scr_buf_release(&arr);
        return rc;
    }
    params[0] = arr.data;
    r = scr_db_exec(db, "checking table privileges", table_sql, 1, params, err, errlen);
    scr_buf_release(&arr);
    if (!r)
        return SCR_EDB;
    *ntables = PQntuples(r);
    for (int i = 0; i < PQntuples(r); i++) {
        const char *t = PQgetvalue(r, i, 0);
        if (strcmp(PQgetvalue(r, i, 1), "t") != 0) {
            scr_buf_printf(missing, "%s%s", missing->len ? ", " : "", t);
            continue;
        }
        for (int k = 0; k < 4; k++)
            if (strcmp(PQgetvalue(r, i, 2 + k), "t") != 0)
                scr_buf_printf(denied, "%s%s on %s", denied->len ? ", " : "", what[k], t);
    }
    PQclear(r);
    return SCR_OK;
}

/* Privileges of a database that has the schema. */
static int check_privileges(struct scr_dbcheck *o, PGconn *db)
{
    struct scr_buf missing, denied;
    char schema[128], err[512];
    int n = 0, create = 0, rc;

    scr_buf_init(&missing);
    scr_buf_init(&denied);
    rc = check_tables(db, &missing, &denied, &n, err, sizeof(err));
    if (rc == SCR_OK && missing.len) {
        create = can_create(db, schema, sizeof(schema), err, sizeof(err));
        if (create < 0)
            rc = SCR_EDB;
    }
    if (rc != SCR_OK) {
        snprintf(o->problem, sizeof(o->problem), "%s", rc == SCR_EDB ? err : scr_strerror(rc));
    } else if (denied.len) {
        snprintf(o->privileges, sizeof(o->privileges), "missing %s", denied.data);
        snprintf(o->problem, sizeof(o->problem),
                 "the role lacks %s (GRANT them, or connect as the schema's owner)",
                 denied.data);
        rc = SCR_EDB;
    } else if (missing.len && !create) {
        snprintf(o->problem, sizeof(o->problem),
                 "tables %s are missing and the role may not create them in schema %s",
                 missing.data, schema);
        rc = SCR_EDB;
    } else if (missing.len) {
        snprintf(o->privileges, sizeof(o->privileges),
                 "can read and write the %d scrape tables; the next run creates %s", n,
                 missing.data);
    } else {
        snprintf(o->privileges, sizeof(o->privileges),
                 "can read, insert and update all %d scrape tables", n);
    }
    scr_buf_release(&missing);
    scr_buf_release(&denied);
    return rc;
}

int scr_dbcheck_run(struct scr_dbcheck *o, const char *opt_db, int64_t timeout_ms)
{
    const char *conninfo = scr_db_conninfo(opt_db);
    char err[512], schema[128];
    PGconn *db;
    int rc = SCR_OK, v;

    memset(o, 0, sizeof(*o));
    o->configured = *conninfo != '\0';
    o->schema_version = -1;
    db = connect_db(conninfo, timeout_ms);
    if (!db || PQstatus(db) != CONNECTION_OK) {
        /* the same classification as a crawl's: SCR_EUSAGE for a mistake, with its hint */
        rc = scr_db_classify(db, conninfo, o->problem, sizeof(o->problem));
        PQfinish(db);
        return rc;
    }
    o->reachable = 1;
    describe_where(o, db);
    v = read_version(db, err, sizeof(err));
    if (v < -1) {
        snprintf(o->problem, sizeof(o->problem), "%s", err);
        rc = v;
        goto out;
    }
    o->schema_version = v;
    if (v == 0) {
        int c = can_create(db, schema, sizeof(schema), err, sizeof(err));
        if (c < 0) {
            snprintf(o->problem, sizeof(o->problem), "%s", err);
            rc = SCR_EDB;
        } else if (!c) {
            snprintf(o->problem, sizeof(o->problem),
                     "the database is empty and the role may not create tables in schema %s "
                     "(GRANT CREATE ON SCHEMA %s, or run scrape init-db as its owner)",
                     schema, schema);
            rc = SCR_EDB;
        } else {
            snprintf(o->privileges, sizeof(o->privileges),
                     "may create tables in schema %s", schema);
        }
        goto out;
    }
    if (v > 0 && v != SCR_SCHEMA_VERSION) {
        snprintf(o->problem, sizeof(o->problem),
                 "the database has scrape schema version %d, this scrape needs version %d", v,
                 SCR_SCHEMA_VERSION);
        rc = SCR_ESCHEMA;
        goto out;
    }
    rc = check_privileges(o, db);
out:
    o->usable = rc == SCR_OK;
    PQfinish(db);
    return rc;
}
