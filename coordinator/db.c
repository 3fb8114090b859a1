/* db.c - connection, schema and checked statements for rank 0 (see db.h). */
#include "coordinator/db.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strvec.h"

extern const char scr_schema_sql[];

/* Advisory lock key (first int4) for schema changes; the second is 0. */
#define SCHEMA_LOCK_KEY 0x53435201

/* A lock wait says who holds the lock after this long, then this often. */
#define LOCK_REPORT_FIRST_MS 2000
#define LOCK_REPORT_EVERY_MS 30000

static const volatile sig_atomic_t *stop_flag;

void scr_db_set_stop_flag(const volatile sig_atomic_t *flag)
{
    stop_flag = flag;
}

const char *scr_db_conninfo(const char *opt)
{
    const char *env;

    if (opt && *opt)
        return opt;
    env = getenv("SCRAPE_DB");
    return env && *env ? env : "";
}

/* Copies the password value starting at in (quoted '...' with backslash escapes, or up to a
 * space, a double quote or, in a URI, '&' or '#') as "***"; returns where the value ends. */
static const char *skip_value(const char *in, int uri, struct scr_buf *b)
{
    scr_buf_puts(b, "***");
    if (*in == '\'') {
        for (in++; *in && *in != '\''; in++)
            if (*in == '\\' && in[1])
                in++;
        return *in ? in + 1 : in;
    }
    while (*in && !isspace((unsigned char)*in) && *in != '"' &&
           !(uri && (*in == '&' || *in == '#')))
        in++;
    return in;
}

void scr_db_redact(const char *in, char *out, size_t outlen)
{
    struct scr_buf b;
    int uri = 0;

    scr_buf_init(&b);
    while (*in) {
        if (strncmp(in, "://", 3) == 0) {
            /* scheme://user:password@host: from the first ':' to the last '@' of the word */
            const char *end = in + 3, *colon = NULL, *at = NULL;
            uri = 1;
            while (*end && !isspace((unsigned char)*end) && *end != '"')
                end++;
            for (const char *q = in + 3; q < end; q++) {
                if (*q == '@')
                    at = q;
                else if (*q == ':' && !colon && !at)
                    colon = q;
            }
            scr_buf_append(&b, in, 3);
            in += 3;
            if (colon && at && colon < at) {
                scr_buf_append(&b, in, (size_t)(colon + 1 - in));
                scr_buf_puts(&b, "***");
                in = at;
            }
            continue;
        }
        if (strncmp(in, "password", 8) == 0) {
            const char *q = in + 8;
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q == '=') {
                for (q++; *q == ' ' || *q == '\t'; q++)
                    ;
                scr_buf_append(&b, in, (size_t)(q - in));
                in = skip_value(q, uri, &b);
                continue;
            }
        }
        scr_buf_putc(&b, *in++);
    }
    snprintf(out, outlen, "%s", b.data ? b.data : "");
    scr_buf_release(&b);
}

int scr_db_has_password(const char *conninfo)
{
    size_t size;
    char *red;
    int has;

    if (!conninfo)
        return 0;
    size = strlen(conninfo) * 4 + 16; /* "***" for each character of a password, and more */
    red = scr_xmalloc(size);
    scr_db_redact(conninfo, red, size);
    has = strcmp(red, conninfo) != 0;
    free(red);
    return has;
}

/* Appends the lines of text to b, one space between them, leaving out blank lines, lines that
 * start with '#' and the spaces around each line. */
static void join_lines(const char *text, struct scr_buf *b)
{
    while (*text) {
        const char *eol = strchr(text, '\n'), *end;
        if (!eol)
            eol = text + strlen(text);
        while (text < eol && isspace((unsigned char)*text))
            text++;
        end = eol;
        while (end > text && isspace((unsigned char)end[-1]))
            end--;
        if (end > text && *text != '#') {
            if (b->len)
                scr_buf_putc(b, ' ');
            scr_buf_append(b, text, (size_t)(end - text));
        }
        text = *eol ? eol + 1 : eol;
    }
}

int scr_db_read_file(const char *path, char **out, char *err, size_t errlen)
{
    struct scr_buf raw, joined;
    struct stat st;
    char chunk[4096];
    ssize_t n;
    int fd = -1, rc = SCR_EUSAGE;

    scr_buf_init(&raw);
    scr_buf_init(&joined);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); /* a FIFO must not block */
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "--db-file %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "--db-file %s: not a regular file", path);
        goto out;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        /* like ssh with a private key: a password others can read is refused, not used */
        snprintf(err, errlen,
                 "--db-file %s: group or others may access it (mode %04o); it may hold the "
                 "database password: chmod 600 %s",
                 path, (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "--db-file %s: %s", path, strerror(errno));
            goto out;
        }
        if (raw.len + (size_t)n > SCR_DB_FILE_MAX) {
            snprintf(err, errlen, "--db-file %s: larger than %d bytes", path, SCR_DB_FILE_MAX);
            goto out;
        }
        scr_buf_append(&raw, chunk, (size_t)n);
    }
    if (raw.len && memchr(raw.data, '\0', raw.len)) {
        snprintf(err, errlen, "--db-file %s: binary data (NUL byte)", path);
        goto out;
    }
    join_lines(raw.data ? raw.data : "", &joined);
    if (!joined.len) {
        snprintf(err, errlen, "--db-file %s: no conninfo in it (only blank or # lines)", path);
        goto out;
    }
    *out = scr_buf_detach(&joined, NULL);
    rc = SCR_OK;
out:
    if (fd >= 0)
        close(fd);
    if (raw.data)
        memset(raw.data, 0, raw.len);
    scr_buf_release(&raw);
    scr_buf_release(&joined);
    return rc;
}

/* Drops the trailing newline and spaces of a message and any password in it (libpq quotes
 * parts of a malformed conninfo, and a URI whole). */
static void chomp(char *s, size_t size)
{
    char *tmp = scr_xmalloc(size);
    size_t n;

    scr_db_redact(s, tmp, size);
    memcpy(s, tmp, strlen(tmp) + 1);
    free(tmp);
    n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

/* application_name is "scrape" from the first moment (pg_stat_activity tells scrape's
 * sessions apart), unless the conninfo names another. */
static PGconn *connect_once(const char *conninfo)
{
    const char *kw[] = {"fallback_application_name", "dbname", NULL};
    const char *val[] = {"scrape", conninfo, NULL};

    return PQconnectdbParams(kw, val, 1);
}

/* A plausible database name: what `--db crawl` meant (echoed in the hint: no password can
 * hide in it). */
static int looks_like_dbname(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '_' && s[n] != '-' && s[n] != '.')
            return 0;
    return n > 0 && n <= 63;
}

#define NEED_PASSWORD "a password is needed: put it in ~/.pgpass or the --db-file (mode 600)"

/* Permanent connection failures: libpq's (and the server's) message text, English.  A server
 * whose lc_messages is another language words them otherwise: those are retried (exit 3). */
static const struct {
    const char *a, *b; /* both must occur in the message (b may be NULL) */
    const char *hint;
} permanent[] = {
    {"database \"", "\" does not exist",
     "the database does not exist: create it (createdb NAME; scrape init-db) or fix dbname="},
    {"role \"", "\" does not exist",
     "the role does not exist: create it (CREATE ROLE ... LOGIN) or fix user="},
    {"password authentication failed", NULL,
     "wrong user name or password: check ~/.pgpass or the --db-file"},
    {"authentication failed", NULL, "the server refused the credentials: check user= and "
                                    "the server's pg_hba.conf"},
    {"no pg_hba.conf entry", NULL,
     "the server's pg_hba.conf does not let this user connect to this database from here"},
    {"no password supplied", NULL, NEED_PASSWORD},
    {"invalid port number", NULL, "port= must be a number"},
    {"invalid integer value", NULL, "the option needs a number"},
    {"invalid ", " value", "an option of the conninfo has a value libpq does not know (see "
                           "the PostgreSQL manual, \"Parameter Key Words\")"},
};

int scr_db_classify(PGconn *db, const char *conninfo, char *err, size_t errlen)
{
    char *why = NULL;
    PQconninfoOption *parsed = PQconninfoParse(conninfo, &why);
    size_t used;

    if (!parsed) {
        /* malformed: retrying cannot help */
        size_t n = why ? strlen(why) : 0;
        while (n && (why[n - 1] == '\n' || why[n - 1] == ' '))
            why[--n] = '\0';
        if (looks_like_dbname(conninfo))
            snprintf(err, errlen,
                     "the database conninfo '%s' is malformed: a conninfo is key=value pairs "
                     "or a URI: use dbname=%s or postgresql://HOST/%s",
                     conninfo, conninfo, conninfo);
        else
            snprintf(err, errlen,
                     "the database conninfo is malformed: %s (a conninfo is key=value pairs, "
                     "dbname=crawl host=db, or a URI, postgresql://user@db/crawl)",
                     why ? why : "out of memory");
        chomp(err, errlen);
        PQfreemem(why);
        return SCR_EUSAGE;
    }
    PQconninfoFree(parsed);
    if (!db || PQstatus(db) == CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s",
                 db ? "(connected)" : "out of memory");
        return SCR_EDBCONN;
    }
    snprintf(err, errlen, "cannot connect to PostgreSQL: %s", PQerrorMessage(db));
    chomp(err, errlen);
    used = strlen(err);
    if (PQconnectionNeedsPassword(db)) {
        snprintf(err + used, errlen - used, " (not retried: %s)", NEED_PASSWORD);
        return SCR_EUSAGE;
    }
    for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++) {
        const char *a = strstr(err, permanent[i].a);
        if (a && (!permanent[i].b || strstr(a, permanent[i].b))) {
            snprintf(err + used, errlen - used, " (not retried: %s)", permanent[i].hint);
            return SCR_EUSAGE;
        }
    }
    return SCR_EDBCONN;
}

int scr_db_connect(PGconn **out, const char *conninfo, int64_t retry_ms, char *err, size_t errlen)
{
    int64_t deadline = scr_now_ms() + retry_ms, wait_ms = 250;
    PGconn *db;
    int rc;

    for (;;) {
        char *why = NULL;
        PQconninfoOption *parsed = PQconninfoParse(conninfo, &why);
        PQfreemem(why);
        if (!parsed)
            return scr_db_classify(NULL, conninfo, err, errlen);
        PQconninfoFree(parsed);
        db = connect_once(conninfo);
        if (db && PQstatus(db) == CONNECTION_OK) {
            /* no NOTICE per existing object when schema.sql is applied again */
            PGresult *r = PQexec(db, "SET client_min_messages = warning");
            PQclear(r);
            *out = db;
            return SCR_OK;
        }
        rc = scr_db_classify(db, conninfo, err, errlen);
        PQfinish(db);
        if (rc != SCR_EDBCONN || scr_now_ms() + wait_ms > deadline ||
            (stop_flag && *stop_flag))
            return rc;
        scr_warn("%s; retrying in %lld ms", err, (long long)wait_ms);
        scr_sleep_us(wait_ms * 1000);
        if (stop_flag && *stop_flag)
            return rc;
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
    chomp(err, errlen);
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

PGresult *scr_db_exec_prepared_bin(PGconn *db, const char *what, const char *name, int nparams,
                                   const char *const *params, const int *lengths,
                                   const int *formats, char *err, size_t errlen)
{
    return checked(db, PQexecPrepared(db, name, nparams, params, lengths, formats, 0), what,
                   err, errlen);
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

void scr_db_i64(char *buf, size_t len, int64_t v)
{
    snprintf(buf, len, "%lld", (long long)v);
}

char *scr_db_join_lines(const struct scr_strvec *sv)
{
    struct scr_buf b;

    scr_buf_init(&b);
    for (size_t i = 0; sv && i < sv->n; i++) {
        if (i)
            scr_buf_putc(&b, '\n');
        scr_buf_puts(&b, sv->v[i]);
    }
    return scr_buf_detach(&b, NULL);
}

int scr_db_list_names(PGconn *db, const char *what, const char *sql, int nparams,
                      const char *const *params, size_t max, char *out, size_t outlen,
                      char *err, size_t errlen)
{
    PGresult *r = scr_db_exec(db, what, sql, nparams, params, err, errlen);
    size_t n, used = 0;

    if (outlen)
        out[0] = '\0';
    if (!r)
        return SCR_EDB;
    n = (size_t)PQntuples(r);
    if (n == 0)
        snprintf(out, outlen, "none");
    for (size_t i = 0; i < n && i < max && used < outlen; i++) {
        int w = snprintf(out + used, outlen - used, "%s'%s'", i ? ", " : "",
                         PQgetvalue(r, (int)i, 0));
        used += w > 0 ? (size_t)w : 0;
    }
    if (n > max && used < outlen)
        snprintf(out + used, outlen - used, ", ... (%zu in all)", n);
    PQclear(r);
    return SCR_OK;
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
    char key[16];
    const char *params[1] = {key};
    int v, rc = SCR_OK, locked = 0;

    v = schema_version(db, err, errlen);
    if (v < 0)
        return SCR_EDB;
    if (v != 0 && v >= SCR_SCHEMA_VERSION && !apply_always)
        goto check;
    /* Under a session advisory lock, concurrent runs apply it one at a time.  The version is
     * read again once the lock is held, in a statement of its own: a run that waited while
     * another applied it (runs started together: islands) must not apply it again, because
     * applying locks the tables that run is already crawling with (ALTER TABLE, CREATE INDEX)
     * and its leases would deadlock with this transaction. */
    rc = scr_db_advisory_lock(db, SCHEMA_LOCK_KEY, 0, 0, 0, -1, "locking for the schema", err,
                              errlen);
    if (rc)
        return rc;
    locked = 1;
    v = schema_version(db, err, errlen);
    if (v < 0) {
        rc = SCR_EDB;
        goto out;
    }
    if (v != 0 && v >= SCR_SCHEMA_VERSION && !apply_always)
        goto out;
    /* An older schema is upgraded the same way: schema.sql is idempotent and raises the
     * version last. */
    if (v > 0 && v < SCR_SCHEMA_VERSION)
        scr_info("upgrading the database's scrape schema from version %d to %d", v,
                 SCR_SCHEMA_VERSION);
    if (scr_db_command(db, "BEGIN", "BEGIN", 0, NULL, err, errlen)) {
        rc = SCR_EDB;
        goto out;
    }
    r = PQexec(db, scr_schema_sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "applying schema.sql: %s", PQerrorMessage(db));
        chomp(err, errlen);
        PQclear(r);
        PQclear(PQexec(db, "ROLLBACK"));
        r = NULL;
        rc = SCR_EDB;
        goto out;
    }
    PQclear(r);
    r = NULL;
    if (scr_db_command(db, "COMMIT", "COMMIT", 0, NULL, err, errlen)) {
        rc = SCR_EDB;
        goto out;
    }
    v = schema_version(db, err, errlen);
    if (v < 0)
        rc = SCR_EDB;
out:
    if (locked) {
        char uerr[256];
        snprintf(key, sizeof(key), "%d", SCHEMA_LOCK_KEY);
        /* an error here leaves the lock to the session's end, which is near for a failure */
        (void)scr_db_command(db, "unlocking the schema",
                             "SELECT pg_advisory_unlock($1::int, 0)", 1, params, uerr,
                             sizeof(uerr));
    }
    if (rc)
        return rc;
check:
    if (v != SCR_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "the database has scrape schema version %d, this scrape needs version %d", v,
                 SCR_SCHEMA_VERSION);
        return SCR_ESCHEMA;
    }
    return SCR_OK;
}

int scr_db_lock_holder(PGconn *db, int32_t key1, int64_t key2, char *who, size_t wholen,
                       int *is_scrape)
{
    char k1[24], k2[24];
    const char *p[2] = {k1, k2};
    PGresult *r;
    char err[256];
    int rc = SCR_ENOTFOUND;

    snprintf(k1, sizeof(k1), "%ld", (long)key1);
    snprintf(k2, sizeof(k2), "%lld", (long long)key2);
    snprintf(who, wholen, "another session");
    *is_scrape = 0;
    /* A scrape session is one whose role may write the runs table: a reader's cannot, and
     * neither can its application_name, which anyone may set, make it one. */
    r = scr_db_exec(db, "finding who holds a lock",
                    "SELECT l.pid, coalesce(a.usename, '?'),"
                    "  coalesce(nullif(a.application_name, ''), '?'),"
                    "  coalesce(has_table_privilege(a.usesysid, to_regclass('runs'), 'UPDATE'),"
                    "           false)"
                    " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
                    "  AND l.classid::bigint = $1::bigint AND l.objid::bigint = $2::bigint"
                    "  AND l.database = (SELECT oid FROM pg_database"
                    "                    WHERE datname = current_database())"
                    "  AND l.pid IS DISTINCT FROM pg_backend_pid()"
                    " ORDER BY 4 DESC LIMIT 1",
                    2, p, err, sizeof(err));
    if (!r)
        return SCR_EDB;
    if (PQntuples(r) == 1) {
        *is_scrape = PQgetvalue(r, 0, 3)[0] == 't';
        snprintf(who, wholen, "%s (pid %s, user %s, application %s)",
                 *is_scrape ? "a scrape session" : "another session", PQgetvalue(r, 0, 0),
                 PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
        rc = SCR_OK;
    }
    PQclear(r);
    return rc;
}

/* Sleeps ms, in short steps, unless the stop flag is or becomes set: 1 then. */
static int nap_unless_stopped(int64_t ms)
{
    for (int64_t slept = 0; slept < ms; slept += 50) {
        if (stop_flag && *stop_flag)
            return 1;
        scr_sleep_us(50 * 1000);
    }
    return stop_flag && *stop_flag;
}

int scr_db_advisory_lock(PGconn *db, int32_t key1, int64_t key2, int xact, int foreign_busy,
                         int64_t give_up_ms, const char *what, char *err, size_t errlen)
{
    char k1[24], k2[24], who[256] = "another session";
    const char *p[2] = {k1, k2};
    int64_t start = scr_now_ms(), report_at = start + LOCK_REPORT_FIRST_MS, wait_ms = 20;

    snprintf(k1, sizeof(k1), "%ld", (long)key1);
    snprintf(k2, sizeof(k2), "%lld", (long long)key2);
    for (;;) {
        int got, is_scrape = 1, found;
        int64_t now;
        PGresult *r = scr_db_exec(db, what,
                                  xact ? "SELECT pg_try_advisory_xact_lock($1::int, $2::int)"
                                       : "SELECT pg_try_advisory_lock($1::int, $2::int)",
                                  2, p, err, errlen);
        if (!r)
            return SCR_EDB;
        got = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
        if (got)
            return SCR_OK;
        found = scr_db_lock_holder(db, key1, key2, who, sizeof(who), &is_scrape);
        if (found == SCR_EDB) {
            snprintf(err, errlen, "%s: cannot find who holds the lock", what);
            return SCR_EDB;
        }
        now = scr_now_ms();
        if (found == SCR_OK && !is_scrape && foreign_busy) {
            snprintf(err, errlen, "%s: the lock is held by %s, not a scrape run", what, who);
            return SCR_EBUSY;
        }
        if (give_up_ms >= 0 && now - start >= give_up_ms) {
            snprintf(err, errlen, "%s: gave up after %lld ms: the lock is held by %s", what,
                     (long long)(now - start), who);
            return SCR_EBUSY;
        }
        if (now >= report_at) {
            scr_warn("%s: waiting for the lock, held by %s%s", what, who,
                     is_scrape ? "" : ", not a scrape run (SIGTERM ends the wait)");
            report_at = now + LOCK_REPORT_EVERY_MS;
        }
        if (nap_unless_stopped(wait_ms)) {
            snprintf(err, errlen, "%s: interrupted while waiting for the lock, held by %s", what,
                     who);
            return SCR_ESTOPPED;
        }
        wait_ms = wait_ms * 2 > 250 ? 250 : wait_ms * 2;
    }
}
