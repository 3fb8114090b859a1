/* cmd_export.c - `scrape export`: a job's records as JSON Lines or CSV.
 *
 *   scrape export --job NAME [--format jsonl|csv] [--parser P] [--record R] [--since TIME]
 *                 [--csv-raw] [-o FILE]
 *
 * Memory stays flat for any number of records: the rows come through a server-side cursor,
 * FETCH_ROWS at a time, inside one REPEATABLE READ READ ONLY transaction, so the CSV header
 * (collected first) and the rows see the same snapshot.  With -o the output goes to a new
 * temporary file beside FILE (mkstemp: a planted FILE.part symlink is never followed), renamed
 * to FILE once complete: a failed export never leaves a file that looks whole.
 *
 * JSONL: one object per record, {url, fetched_at, parser, rule_set, record, data}, built by the
 * server.  CSV (RFC 4180, CRLF, header row): url, fetched_at, parser, rule_set, record, then a
 * `data` column (the record's JSON) when the selection holds records of parsers other than
 * rules, then one column per field name of the selected rules records (sorted; a field named
 * like a fixed column, or starting with "data.", is headed "data.NAME"): the value as
 * PostgreSQL's ->> gives it (a string as is, a number as stored, an array or object as JSON),
 * an empty cell for null or missing.  A cell that starts with =, +, -, @, TAB or CR would be a
 * formula in a spreadsheet, so it gets a leading ' (OWASP's advice on CSV injection) unless
 * --csv-raw asks for the values as stored, for programs.
 * Every value is a query parameter.  Exit 2 for a bad option, or an unknown job, --parser
 * or --record (the message lists what the database or the job holds).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/strvec.h"
#include "coordinator/db.h"

#define FETCH_ROWS "1000"

/* The selection: $1 job id, $2 parser, $3 record type, $4 since (NULL = no filter).  The
 * row queries join the URL and the fetch they print; the field-name queries read records
 * alone, and the fetch only for --since (the server drops the EXISTS when $4 is NULL). */
#define EXPORT_WHERE                                                                           \
    " WHERE r.job_id = $1::bigint AND ($2::text IS NULL OR r.parser = $2)"                     \
    " AND ($3::text IS NULL OR r.record_type = $3)"
#define EXPORT_FROM                                                                            \
    " FROM records r JOIN urls u ON u.id = r.url_id JOIN fetches f ON f.id = r.fetch_id"       \
    EXPORT_WHERE " AND ($4::timestamptz IS NULL OR f.fetched_at >= $4::timestamptz)"
#define EXPORT_RECORDS                                                                         \
    " FROM records r" EXPORT_WHERE " AND ($4::timestamptz IS NULL OR EXISTS (SELECT 1"        \
    " FROM fetches f WHERE f.id = r.fetch_id AND f.fetched_at >= $4::timestamptz))"

static const char SQL_JSONL[] =
    "DECLARE export_rows NO SCROLL CURSOR FOR"
    " SELECT json_build_object('url', u.url, 'fetched_at', f.fetched_at, 'parser', r.parser,"
    " 'rule_set', r.rule_set, 'record', r.record_type, 'data', r.data)::text" EXPORT_FROM
    " ORDER BY r.id";

/* The CSV row query is SQL_CSV_HEAD, then SQL_CSV_KEY once per rules field name (the name is
 * parameter $N: column 6 + k is its value, as ->> gives it, which keeps numbers exactly as
 * stored), then SQL_CSV_TAIL.  One expression per field, rather than an array of them built
 * per row, costs the server a third of the time. */
static const char SQL_CSV_HEAD[] =
    "DECLARE export_rows NO SCROLL CURSOR FOR"
    " SELECT u.url, to_json(f.fetched_at) #>> '{}', r.parser, r.rule_set, r.record_type,"
    " CASE WHEN r.parser <> 'rules' THEN r.data::text END";
#define SQL_CSV_KEY ", CASE WHEN r.parser = 'rules' THEN r.data ->> $%zu::text END"
static const char SQL_CSV_TAIL[] = EXPORT_FROM " ORDER BY r.id";

static const char SQL_KEYS[] =
    "SELECT DISTINCT k.k FROM (SELECT r.data" EXPORT_RECORDS
    " AND r.parser = 'rules' AND jsonb_typeof(r.data) = 'object') s,"
    " jsonb_object_keys(s.data) AS k (k) ORDER BY 1";

static const char SQL_OTHERS[] =
    "SELECT EXISTS (SELECT 1" EXPORT_RECORDS " AND r.parser <> 'rules')";

struct export_opts {
    const char *format, *parser, *record, *since, *output;
    int csv_raw;
};

/* Writes one CSV field, quoted when it holds a quote, comma, CR or LF (RFC 4180); unless raw,
 * a value a spreadsheet would run as a formula starts with a ' inside the field. */
static void csv_field(FILE *out, const char *s, int first, int raw)
{
    int formula;

    if (!first)
        fputc(',', out);
    if (!s || !s[0])
        return;
    formula = !raw && strchr("=+-@\t\r", s[0]);
    if (!strpbrk(s, "\",\r\n")) {
        if (formula)
            fputc('\'', out);
        fputs(s, out);
        return;
    }
    fputc('"', out);
    if (formula)
        fputc('\'', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* Writes the rows of one FETCH result in CSV: columns 0-4, the data (5) when with_data, and
 * the rules fields from column 6 on. */
static void csv_rows(FILE *out, PGresult *r, const struct scr_strvec *keys, int with_data,
                     int raw)
{
    for (int i = 0; i < PQntuples(r); i++) {
        int is_rules = strcmp(PQgetvalue(r, i, 2), "rules") == 0;

        for (int c = 0; c < 5; c++)
            csv_field(out, PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c), c == 0, raw);
        if (with_data)
            csv_field(out, is_rules ? NULL : PQgetvalue(r, i, 5), 0, raw);
        for (size_t k = 0; k < keys->n; k++) {
            int c = 6 + (int)k;
            csv_field(out, is_rules && !PQgetisnull(r, i, c) ? PQgetvalue(r, i, c) : NULL, 0,
                      raw);
        }
        fputs("\r\n", out);
    }
}

/* Collects the CSV columns: the rules field names into keys, and whether a data column is
 * needed.  SCR_EDB with the message in err. */
static int csv_columns(PGconn *db, const char *const *p, struct scr_strvec *keys, int *with_data,
                       char *err, size_t errlen)
{
    PGresult *r = scr_db_exec(db, "collecting the field names", SQL_KEYS, 4, p, err, errlen);

    if (!r)
        return SCR_EDB;
    for (int i = 0; i < PQntuples(r); i++)
        scr_strvec_push(keys, PQgetvalue(r, i, 0));
    PQclear(r);
    r = scr_db_exec(db, "looking for other records", SQL_OTHERS, 4, p, err, errlen);
    if (!r)
        return SCR_EDB;
    *with_data = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return SCR_OK;
}

/* The CSV row query for these field names into sql, and its parameters (the four of p4, then
 * the names, borrowed from keys) into *params (caller frees).  SCR_ETOOBIG (err) past the
 * protocol's 65535 parameters; otherwise what appending to sql returns. */
static int csv_query(const struct scr_strvec *keys, const char *const *p4, struct scr_buf *sql,
                     const char ***params, char *err, size_t errlen)
{
    int rc;

    if (keys->n > 65535 - 4) {
        snprintf(err, errlen, "%zu field names in the rules records: at most 65531 fit a CSV",
                 keys->n);
        return SCR_ETOOBIG;
    }
    *params = scr_xreallocarray(NULL, 4 + keys->n, sizeof(**params));
    for (size_t k = 0; k < 4; k++)
        (*params)[k] = p4[k];
    for (size_t k = 0; k < keys->n; k++)
        (*params)[4 + k] = keys->v[k];
    rc = scr_buf_puts(sql, SQL_CSV_HEAD);
    for (size_t k = 0; !rc && k < keys->n; k++)
        rc = scr_buf_printf(sql, SQL_CSV_KEY, 5 + k);
    return rc ? rc : scr_buf_puts(sql, SQL_CSV_TAIL);
}

/* The fixed columns, always in this order; `data` only when a record of another parser is
 * in the selection, but reserved always, so a field's column is named the same in any
 * export. */
static const char *const fixed_columns[] = {"url", "fetched_at", "parser", "rule_set", "record",
                                            "data"};

/* Whether a rules field name must be written as "data.NAME": when it is a fixed column's
 * name (a field called `url`, as in docs/rules.md's example), or when it starts with
 * "data." itself.  The mapping is one to one and never gives a fixed column's name, so no
 * two columns of the header are named alike. */
static int field_needs_prefix(const char *name)
{
    if (strncmp(name, "data.", 5) == 0)
        return 1;
    for (size_t i = 0; i < sizeof(fixed_columns) / sizeof(fixed_columns[0]); i++)
        if (strcmp(name, fixed_columns[i]) == 0)
            return 1;
    return 0;
}

/* Writes the CSV header row.  SCR_ENOMEM, or 0. */
static int csv_header(FILE *out, const struct scr_strvec *keys, int with_data, int raw)
{
    struct scr_buf name;
    int rc = SCR_OK;

    scr_buf_init(&name);
    fputs("url,fetched_at,parser,rule_set,record", out);
    if (with_data)
        fputs(",data", out);
    for (size_t k = 0; k < keys->n; k++) {
        if (!field_needs_prefix(keys->v[k])) {
            csv_field(out, keys->v[k], 0, raw);
            continue;
        }
        scr_buf_reset(&name);
        if ((rc = scr_buf_printf(&name, "data.%s", keys->v[k])))
            goto out;
        csv_field(out, name.data, 0, raw);
    }
    fputs("\r\n", out);
out:
    scr_buf_release(&name);
    return rc;
}

/* Streams the selection to out.  SCR_EDB, SCR_EIO or SCR_ETOOBIG (err), or SCR_ENOMEM. */
static int export_rows(PGconn *db, const struct export_opts *o, const char *const *p4, FILE *out,
                       long long *count, char *err, size_t errlen)
{
    int csv = strcmp(o->format, "csv") == 0, with_data = 0, rc = SCR_OK;
    struct scr_strvec keys;
    struct scr_buf sql;
    const char **params = NULL;
    PGresult *r;

    scr_strvec_init(&keys);
    scr_buf_init(&sql);
    if (csv) {
        if ((rc = csv_columns(db, p4, &keys, &with_data, err, errlen)) ||
            (rc = csv_query(&keys, p4, &sql, &params, err, errlen)) ||
            (rc = csv_header(out, &keys, with_data, o->csv_raw)))
            goto out;
    }
    if (scr_db_command(db, "opening the cursor", csv ? sql.data : SQL_JSONL,
                       csv ? 4 + (int)keys.n : 4, csv ? (const char *const *)params : p4, err,
                       errlen)) {
        rc = SCR_EDB;
        goto out;
    }
    for (;;) {
        int n;
        r = scr_db_exec(db, "fetching records", "FETCH " FETCH_ROWS " FROM export_rows", 0,
                        NULL, err, errlen);
        if (!r) {
            rc = SCR_EDB;
            goto out;
        }
        n = PQntuples(r);
        if (csv) {
            csv_rows(out, r, &keys, with_data, o->csv_raw);
        } else {
            for (int i = 0; i < n; i++) {
                fputs(PQgetvalue(r, i, 0), out);
                fputc('\n', out);
            }
        }
        PQclear(r);
        *count += n;
        if (ferror(out)) {
            snprintf(err, errlen, "writing the export: %s", strerror(errno));
            rc = SCR_EIO;
            goto out;
        }
        if (n == 0)
            break;
    }
out:
    if (rc == SCR_ENOMEM)
        snprintf(err, errlen, "out of memory");
    free(params);
    scr_buf_release(&sql);
    scr_strvec_release(&keys);
    return rc;
}

/* Turns --since into a timestamptz text: a time ('2024-05-01 12:00', ISO 8601) or an age
 * ('2 hours', '1 day': now minus that).  The server parses both.  0, or SCR_EUSAGE. */
static int parse_since(PGconn *db, const char *since, char *out, size_t outlen, char *err,
                       size_t errlen)
{
    static const char *const forms[] = {"SELECT $1::timestamptz::text",
                                        "SELECT (now() - $1::interval)::text"};
    char ignored[512];

    for (size_t i = 0; i < 2; i++) {
        PGresult *r = scr_db_exec(db, "--since", forms[i], 1, &since, ignored, sizeof(ignored));
        if (r) {
            snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
            PQclear(r);
            return SCR_OK;
        }
    }
    snprintf(err, errlen, "--since %s: not a time or an interval", since);
    return SCR_EUSAGE;
}

/* Says that there is no job called job, and which jobs there are.  An exit code. */
static int no_job(PGconn *db, const char *job)
{
    char err[512], jobs[512];

    if (scr_db_list_names(db, "listing the jobs", "SELECT name FROM jobs ORDER BY name", 0,
                          NULL, 20, jobs, sizeof(jobs), err, sizeof(err))) {
        fprintf(stderr, "scrape export: %s\n", err);
        return SCR_EXIT_DB;
    }
    fprintf(stderr, "scrape export: no job named '%s' in this database (its jobs: %s)\n", job,
            jobs);
    return SCR_EXIT_USAGE;
}

/* --parser and --record must name what the job holds: a typo would otherwise export nothing
 * and exit 0.  p is the selection ($1 job id, $2 parser, $3 record type).  Exit 2 with the
 * names the job has (the record types of --parser's records when both are given), or 0. */
static int check_selection(PGconn *db, const char *job, const char *const *p)
{
    static const char *const exists[] = {
        "SELECT EXISTS (SELECT 1 FROM records WHERE job_id = $1::bigint AND parser = $2)",
        "SELECT EXISTS (SELECT 1 FROM records WHERE job_id = $1::bigint"
        " AND ($2::text IS NULL OR parser = $2) AND record_type = $3)"};
    static const char *const names[] = {
        "SELECT DISTINCT parser FROM records WHERE job_id = $1::bigint ORDER BY 1",
        "SELECT DISTINCT record_type FROM records WHERE job_id = $1::bigint"
        " AND ($2::text IS NULL OR parser = $2) AND record_type IS NOT NULL ORDER BY 1"};
    char err[512], have[512];

    for (int i = 0; i < 2; i++) {
        const char *want = p[1 + i];
        PGresult *r;
        int found;

        if (!want)
            continue;
        r = scr_db_exec(db, i ? "checking --record" : "checking --parser", exists[i],
                        i ? 3 : 2, p, err, sizeof(err));
        if (!r) {
            fprintf(stderr, "scrape export: %s\n", err);
            return SCR_EXIT_DB;
        }
        found = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
        if (found)
            continue;
        if (scr_db_list_names(db, "listing what the job holds", names[i], i ? 2 : 1, p, 30,
                              have, sizeof(have), err, sizeof(err))) {
            fprintf(stderr, "scrape export: %s\n", err);
            return SCR_EXIT_DB;
        }
        if (i == 0)
            fprintf(stderr, "scrape export: no records of parser '%s' in job '%s' (its parsers: "
                    "%s)\n", want, job, have);
        else if (p[1])
            fprintf(stderr, "scrape export: no records of type '%s' from parser '%s' in job "
                    "'%s' (its record types: %s)\n", want, p[1], job, have);
        else
            fprintf(stderr, "scrape export: no records of type '%s' in job '%s' (its record "
                    "types: %s)\n", want, job, have);
        return SCR_EXIT_USAGE;
    }
    return SCR_EXIT_OK;
}

/* Splits -o FILE (or --output) out of the positional arguments.  0, or SCR_EUSAGE. */
static int take_output(struct scr_strvec *pos, struct export_opts *o, char *err, size_t errlen)
{
    if (pos->n == 2 && strcmp(pos->v[0], "-o") == 0) {
        o->output = pos->v[1];
        return SCR_OK;
    }
    if (pos->n == 0)
        return SCR_OK;
    snprintf(err, errlen, "unexpected argument '%s'", pos->v[0]);
    return SCR_EUSAGE;
}

int scr_cmd_export(int argc, char **argv, int start)
{
    struct scr_settings s;
    struct scr_strvec pos;
    struct export_opts o = {"jsonl", NULL, NULL, NULL, NULL, 0};
    PGconn *db = NULL;
    PGresult *r = NULL;
    FILE *out = stdout;
    char err[1024], job_id[32], since[64], *part = NULL;
    const char *p[4];
    long long count = 0;
    int code = SCR_EXIT_OK;
    struct scr_cli_extra extra[] = {{"format", &o.format, NULL, NULL},
                                    {"parser", &o.parser, NULL, NULL},
                                    {"record", &o.record, NULL, NULL},
                                    {"since", &o.since, NULL, NULL},
                                    {"output", &o.output, NULL, NULL},
                                    {"csv-raw", NULL, &o.csv_raw, NULL}};

    scr_settings_init(&s);
    scr_strvec_init(&pos);
    if (scr_cli_parse(argc, argv, start, &s, extra, 6, &pos, err, sizeof(err)) ||
        take_output(&pos, &o, err, sizeof(err))) {
        fprintf(stderr, "scrape export: %s\n", err);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if (strcmp(o.format, "jsonl") != 0 && strcmp(o.format, "csv") != 0) {
        fprintf(stderr, "scrape export: --format must be jsonl or csv, not '%s'\n", o.format);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if ((code = scr_db_connect(&db, scr_db_conninfo(s.db), 0, err, sizeof(err)))) {
        fprintf(stderr, "scrape export: %s\n", err);
        code = code == SCR_EUSAGE ? SCR_EXIT_USAGE : SCR_EXIT_DB;
        goto out;
    }
    /* before BEGIN: a failed parse would abort the transaction */
    if (o.since && parse_since(db, o.since, since, sizeof(since), err, sizeof(err))) {
        fprintf(stderr, "scrape export: %s\n", err);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if (scr_db_command(db, "starting the export",
                       "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err,
                       sizeof(err)) ||
        scr_db_command(db, "setting the time zone", "SET LOCAL TimeZone = 'UTC'", 0, NULL, err,
                       sizeof(err))) {
        fprintf(stderr, "scrape export: %s\n", err);
        code = SCR_EXIT_DB;
        goto out;
    }
    p[0] = s.job;
    if (!(r = scr_db_exec(db, "finding the job", "SELECT id FROM jobs WHERE name = $1", 1, p,
                          err, sizeof(err)))) {
        fprintf(stderr, "scrape export: %s\n", err);
        code = SCR_EXIT_DB;
        goto out;
    }
    if (PQntuples(r) != 1) {
        code = no_job(db, s.job);
        goto out;
    }
    snprintf(job_id, sizeof(job_id), "%s", PQgetvalue(r, 0, 0));
    p[0] = job_id;
    p[1] = o.parser;
    p[2] = o.record;
    p[3] = o.since ? since : NULL;
    if ((code = check_selection(db, s.job, p)))
        goto out;
    if (o.output && strcmp(o.output, "-") != 0) {
        if (!(out = scr_file_create(o.output, &part, err, sizeof(err)))) {
            fprintf(stderr, "scrape export: %s\n", err);
            out = stdout;
            code = SCR_EXIT_USAGE;
            goto out;
        }
    }
    switch (export_rows(db, &o, p, out, &count, err, sizeof(err))) {
    case SCR_OK:
        break;
    case SCR_EDB:
        code = SCR_EXIT_DB;
        break;
    default:
        code = SCR_EXIT_FAILURE;
        break;
    }
    if (fflush(out) != 0 && !code) {
        snprintf(err, sizeof(err), "writing the export: %s", strerror(errno));
        code = SCR_EXIT_FAILURE;
    }
    if (code) {
        fprintf(stderr, "scrape export: %s\n", err);
    } else if (part) {
        FILE *f = out;
        out = stdout;
        if (scr_file_commit(f, part, o.output, err, sizeof(err))) {
            fprintf(stderr, "scrape export: %s\n", err);
            code = SCR_EXIT_FAILURE;
        }
        if (!code)
            fprintf(stderr, "scrape export: %lld records to %s\n", count, o.output);
    }
out:
    if (out != stdout)
        scr_file_discard(out, part);
    PQclear(r);
    PQfinish(db);
    free(part);
    scr_strvec_release(&pos);
    scr_settings_release(&s);
    return code;
}
