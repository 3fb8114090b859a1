/* dbcheck.h - `scrape check`'s look at the database: reachable, schema version, privileges.
 *
 * Read-only: it connects, reads the schema version and asks PostgreSQL what the connected
 * role may do.  It never creates, writes or locks anything, so it is safe against the
 * database of a running crawl.  Like db.h, nothing here ever prints the conninfo (it may
 * hold a password): only the user, database, host and port libpq reports after connecting.
 */
#ifndef SCR_DBCHECK_H
#define SCR_DBCHECK_H

#include <stdint.h>

struct scr_dbcheck {
    int configured;          /* --db or $SCRAPE_DB was given (else libpq's defaults) */
    int reachable;
    int schema_version;      /* 0: empty, the first run creates the schema; -1: unknown
                              * (unreachable, or scrape_meta not readable) */
    int usable;              /* a crawl could start against it */
    char server[64];         /* "PostgreSQL 15.5" */
    char where[320];         /* database "crawl" as "scrape" on 127.0.0.1:5432 */
    char privileges[320];    /* what the role may do, in words */
    char problem[512];       /* why not usable; "" when usable */
};

/* Checks the database given by opt_db (--db; NULL: $SCRAPE_DB, then libpq's defaults), giving
 * up connecting after timeout_ms.  Fills out; returns SCR_OK when usable, SCR_EDBCONN when
 * unreachable, SCR_ESCHEMA on another schema version, SCR_EDB when a privilege is missing. */
int scr_dbcheck_run(struct scr_dbcheck *out, const char *opt_db, int64_t timeout_ms);

#endif
