/* db.h - the coordinator's PostgreSQL connection: connect, schema, checked queries.
 *
 * Only rank 0 ever talks to PostgreSQL.  Every value travels as a query parameter
 * (PQexecParams), never inside SQL text.  Messages never contain the password: libpq's
 * error texts do not, and the conninfo is never printed.
 */
#ifndef SCR_DB_H
#define SCR_DB_H

#include <libpq-fe.h>
#include <stdint.h>

#define SCR_SCHEMA_VERSION 2

/* The conninfo to use: --db if given, else $SCRAPE_DB, else "" (libpq's PG* defaults).
 * Borrowed from its sources. */
const char *scr_db_conninfo(const char *opt);

/* Connects, retrying with backoff for up to retry_ms (0 = one try).  On failure returns
 * SCR_EDBCONN with libpq's message in err. */
int scr_db_connect(PGconn **out, const char *conninfo, int64_t retry_ms, char *err, size_t errlen);

/* Applies schema.sql if the database has no scrape schema yet, under an advisory lock so two
 * runs starting at once do not race; then checks the version.  SCR_ESCHEMA on a mismatch. */
int scr_db_ensure_schema(PGconn *db, int apply_always, char *err, size_t errlen);

/* Runs a statement with text parameters (NULL = SQL NULL).  Returns the result (caller
 * PQclear()s it) when its status is COMMAND_OK or TUPLES_OK; otherwise NULL, with the
 * server's message and the statement's name in err. */
/* 1 when the last statement of this thread that failed did so for a deadlock or a
 * serialization failure: the transaction was rolled back, and running it again may work. */
int scr_db_retryable(void);

PGresult *scr_db_exec(PGconn *db, const char *what, const char *sql, int nparams,
                      const char *const *params, char *err, size_t errlen);

/* Prepares sql under `name` on this connection (PQprepare); SCR_EDB with the message in err.
 * Prepared statements belong to the connection: prepare again after reconnecting. */
int scr_db_prepare(PGconn *db, const char *name, const char *sql, int nparams, char *err,
                   size_t errlen);

/* As scr_db_exec, for a statement prepared by scr_db_prepare. */
PGresult *scr_db_exec_prepared(PGconn *db, const char *what, const char *name, int nparams,
                               const char *const *params, char *err, size_t errlen);

/* Runs a statement that returns nothing interesting; SCR_EDB on failure. */
int scr_db_command(PGconn *db, const char *what, const char *sql, int nparams,
                   const char *const *params, char *err, size_t errlen);

/* 1 when the connection is broken (the caller reconnects). */
int scr_db_broken(PGconn *db);

#endif
