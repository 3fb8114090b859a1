/* db.h - the coordinator's PostgreSQL connection: connect, schema, checked queries.
 *
 * Only rank 0 ever talks to PostgreSQL.  Every value travels as a query parameter
 * (PQexecParams), never inside SQL text.  Messages never contain the password: the conninfo
 * is never printed, and every libpq message that goes into err passes scr_db_redact first
 * (libpq quotes pieces of a malformed conninfo, and a malformed URI whole).
 */
#ifndef SCR_DB_H
#define SCR_DB_H

#include <libpq-fe.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct scr_strvec;

#define SCR_SCHEMA_VERSION 3

/* The conninfo to use: --db if given (or --db-file's contents: the command-line parser reads
 * that file into the db setting, on rank 0), else $SCRAPE_DB, else "" (libpq's PG*
 * defaults).  Call on rank 0 only: workers never read SCRAPE_DB or PG*.  Borrowed from its
 * sources. */
const char *scr_db_conninfo(const char *opt);

/* Connects, retrying with backoff (250 ms doubling to 5 s) for up to retry_ms (0 = one try)
 * while the failure may pass, and not after a signal set the stop flag.  On failure returns
 * what scr_db_classify says: SCR_EUSAGE at once for a mistake retrying cannot fix (callers
 * exit SCR_EXIT_USAGE), SCR_EDBCONN once retry_ms is spent (SCR_EXIT_DB); the message, with
 * a hint and passwords redacted, is in err. */
int scr_db_connect(PGconn **out, const char *conninfo, int64_t retry_ms, char *err, size_t errlen);

/* The one classification of a failed connection, for every command that connects.  db is
 * the failed connection (borrowed; NULL when conninfo did not parse).  Writes the message with
 * passwords redacted to err and returns SCR_EUSAGE when retrying cannot help (a malformed
 * conninfo, with "use dbname=X or postgresql://HOST/X" for a bare word such as `--db crawl`;
 * a database or role that does not exist; failed authentication; no password; pg_hba.conf
 * refuses; an invalid option value such as sslmode=bogus), with a hint appended; else
 * SCR_EDBCONN (the server does not answer, is starting up, has no free slot).  Recognised by
 * libpq's English message text: a server with another lc_messages gets SCR_EDBCONN. */
int scr_db_classify(PGconn *db, const char *conninfo, char *err, size_t errlen);

/* The largest --db-file. */
#define SCR_DB_FILE_MAX 16384

/* Reads a conninfo from the file at path (--db-file): lines joined with a space, blank lines
 * and '#' lines left out.  The file must be a regular file that neither group nor others may
 * access (it may hold the password): else SCR_EUSAGE, with a reason naming the path and
 * never the contents in err.  On success *out is the conninfo; the caller frees it. */
int scr_db_read_file(const char *path, char **out, char *err, size_t errlen);

/* Copies in to out (outlen bytes, always NUL-terminated) with every password replaced by
 * "***": the value of password=... and sslpassword=... (quoted or not, in a keyword string or
 * a URI query) and the user:PASSWORD@ of a URI.  For any text that may quote a conninfo:
 * libpq's error messages, a conninfo itself. */
void scr_db_redact(const char *in, char *out, size_t outlen);

/* 1 when the conninfo (keywords or URI, well-formed or not) holds a password. */
int scr_db_has_password(const char *conninfo);

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

/* As scr_db_exec_prepared, with each parameter's length and format (1 = binary; a text
 * parameter's length is ignored), for PQexecPrepared. */
PGresult *scr_db_exec_prepared_bin(PGconn *db, const char *what, const char *name, int nparams,
                                   const char *const *params, const int *lengths,
                                   const int *formats, char *err, size_t errlen);

/* Runs a statement that returns nothing interesting; SCR_EDB on failure. */
int scr_db_command(PGconn *db, const char *what, const char *sql, int nparams,
                   const char *const *params, char *err, size_t errlen);

/* 1 when the connection is broken (the caller reconnects). */
int scr_db_broken(PGconn *db);

/* Parameters travel as text.  Writes v in decimal to buf (len bytes; 24 hold any int64_t). */
void scr_db_i64(char *buf, size_t len, int64_t v);

/* The SQL boundary of a list: its strings '\n'-joined, for string_to_array($n, E'\n') (no URL
 * or host contains a newline); NULL or empty gives "".  Returns a new string: caller frees. */
char *scr_db_join_lines(const struct scr_strvec *sv);

/* For a message that lists what exists ("the jobs are 'a', 'b'"): runs sql and writes the
 * first column of its rows into out (outlen bytes, always NUL-terminated), each quoted and
 * comma-separated, at most max of them and then ", ... (N in all)"; "none" when there is no
 * row.  0, or SCR_EDB with the message in err (out is then ""). */
int scr_db_list_names(PGconn *db, const char *what, const char *sql, int nparams,
                      const char *const *params, size_t max, char *out, size_t outlen,
                      char *err, size_t errlen);

/* The flag (borrowed for the process's life; the crawl's SIGINT/SIGTERM counter) that ends
 * scr_db_advisory_lock's waits.  NULL (the default): nothing ends them but the lock. */
void scr_db_set_stop_flag(const volatile sig_atomic_t *flag);

/* Takes the advisory lock (key1, key2) on db, for the session or (xact) the transaction,
 * without ever waiting inside the server, where a signal cannot reach: pg_try_advisory_lock
 * again and again, with naps of up to 250 ms.  Anyone can take any advisory lock (the
 * functions are PUBLIC), so while it waits it says who holds the lock (scr_db_lock_holder),
 * after 2 s and then every 30 s.  Returns SCR_OK (held), SCR_ESTOPPED (the stop flag was
 * set), SCR_EBUSY (give_up_ms >= 0 passed, or foreign_busy and the holder is not a scrape
 * session: err names it) or SCR_EDB. */
int scr_db_advisory_lock(PGconn *db, int32_t key1, int64_t key2, int xact, int foreign_busy,
                         int64_t give_up_ms, const char *what, char *err, size_t errlen);

/* Describes into who the session holding advisory lock (key1, key2) other than this one:
 * "a scrape session (pid N, user U, application A)" when its role may update the runs table,
 * else "another session (...)", and sets *is_scrape.  SCR_ENOTFOUND when no other session
 * holds it (who says "another session"), SCR_EDB on a query error. */
int scr_db_lock_holder(PGconn *db, int32_t key1, int64_t key2, char *who, size_t wholen,
                       int *is_scrape);

#endif
