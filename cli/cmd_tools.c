/* cmd_tools.c - the small commands: init-db, extract, url, version, help (robots: cmd_robots.c,
 * export: cmd_export.c, report: cmd_report.c).
 *
 * `extract` and `url` run exactly the code a crawl runs (the extractor and the URL
 * normalizer), so what they print is what a crawl would store or queue.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xmlversion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/host.h"
#include "common/url.h"
#include "common/urlopts.h"
#include "common/version.h"
#include "coordinator/db.h"
#include "parsers/extract.h"
#include "parsers/rules.h"

void scr_cmd_usage(void)
{
    printf("scrape %s - a distributed web-scraping work queue (MPI + PostgreSQL)\n\n"
           "usage:\n"
           "  mpiexec -f machinefile scrape [crawl] --seed urls.txt [--db CONNINFO] [options]\n"
           "  scrape [crawl] --seed urls.txt ...      without mpiexec: worker threads\n"
           "  mpiexec -f machinefile scrape check [--probe URL] [--db CONNINFO]\n"
           "                                          check every node, link and the database\n"
           "  scrape doctor -f machinefile [--ssh CMD] [--binary PATH] [--timeout S]\n"
           "                [--write PREFIX]\n"
           "                                          before MPI: which hosts can share one\n"
           "                                          MPI job, which need their own (islands)\n"
           "  scrape init-db [--db CONNINFO] [--reader ROLE]\n"
           "                                          create or update the schema; ROLE may read it\n"
           "  scrape export --job NAME [--format jsonl|csv] [--parser P] [--record R]\n"
           "                [--since TIME] [--csv-raw] [-o FILE]\n"
           "                                          write a job's records (CSV cells that\n"
           "                                          start with = + - @ get a ', unless raw)\n"
           "  scrape report --job NAME [-o FILE.html]  one HTML page of charts and tables\n"
           "  scrape jobs [--job NAME]                 the jobs: last run, stored settings\n"
           "  scrape extract [--rules F] [--parsers L] --url URL PAGE.html|-\n"
           "                                          print the records of a saved page, as a\n"
           "                                          crawl with the same settings stores them\n"
           "                                          (--strip-tracking, --sort-query, ...)\n"
           "  scrape url [--base BASE] [--strip-tracking] [--strip-param L] [--sort-query]\n"
           "             [--max-url-length N] URL...  print the normalized URLs\n"
           "  scrape robots --agent NAME --robots FILE URL...\n"
           "                                          allow or disallow, per robots.txt\n"
           "  scrape version | help\n\n"
           "settings (also in --config FILE as 'name = value'; a job keeps those given to\n"
           "its runs for its later runs, see scrape jobs and docs/cron.md):\n",
           SCR_VERSION);
    scr_cli_print_settings();
    printf("\nexit codes: 0 done, 1 internal error, 2 usage or input error, 3 database "
           "unreachable,\n  4 another run active (--if-idle), 5 some URLs failed, "
           "6 interrupted, 7 a worker was lost\n"
           "  (scrape doctor: 7 a host is unusable, 8 the hosts need several MPI jobs)\n");
}

int scr_cmd_version(void)
{
    struct scr_msg_hello h;

    if (scr_host_describe(&h) != SCR_OK)
        return SCR_EXIT_FAILURE;
    printf("scrape %s (build %s, protocol %u)\n", h.version, h.build_id, h.protocol);
    printf("libcurl %s, libxml2 %s, PCRE2 %s\n%s\n", h.curl_version, h.libxml2_version,
           h.pcre2_version, h.mpi_version);
    scr_msg_hello_release(&h);
    return SCR_EXIT_OK;
}

/* Grants read access to the role current_setting('scrape.reader') names, creating it (LOGIN,
 * no password) when missing.  The name is quoted by format('%I') on the server: no text from
 * the command line is ever pasted into SQL. */
static const char SQL_READER[] =
    "DO $reader$\n"
    "DECLARE r text := current_setting('scrape.reader');\n"
    "BEGIN\n"
    "  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN\n"
    "    EXECUTE format('CREATE ROLE %I LOGIN', r);\n"
    "  END IF;\n"
    "  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), r);\n"
    "  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', r);\n"
    "  EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', r);\n"
    "  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO %I',"
    " r);\n"
    "END\n"
    "$reader$";

/* Whether the role $1 exists, and whether the session's role may create it (CREATEROLE or
 * superuser), and that role's name. */
static const char SQL_READER_CAN[] =
    "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1),"
    " (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user),"
    " current_user";

/* Creates (if missing) the read-only role `name` and grants it SELECT on every table and view
 * of the scrape schema, now and later.  SCR_EUSAGE when the role is missing and the session's
 * role may not create roles (a sentence saying what to do in err: the server's own message
 * is a bare "permission denied to create role"); SCR_EDB with the server's message in err. */
static int grant_reader(PGconn *db, const char *name, char *err, size_t errlen)
{
    const char *p[1] = {name};
    PGresult *can = scr_db_exec(db, "checking who may create the reader role", SQL_READER_CAN, 1,
                                p, err, errlen);

    if (!can)
        return SCR_EDB;
    if (strcmp(PQgetvalue(can, 0, 0), "f") == 0 && strcmp(PQgetvalue(can, 0, 1), "t") != 0) {
        snprintf(err, errlen,
                 "creating the reader role needs CREATEROLE (or a superuser): role %.100s does"
                 " not exist and role %.100s may not create roles; have an administrator run"
                 " `CREATE ROLE %.100s LOGIN` (then run this again to grant it read access) or"
                 " `ALTER ROLE %.100s CREATEROLE` (docs/cluster.md, \"Setting up PostgreSQL\")",
                 name, PQgetvalue(can, 0, 2), name, PQgetvalue(can, 0, 2));
        PQclear(can);
        return SCR_EUSAGE;
    }
    PQclear(can);
    if (scr_db_command(db, "BEGIN", "BEGIN", 0, NULL, err, errlen))
        return SCR_EDB;
    if (scr_db_command(db, "naming the reader role",
                       "SELECT set_config('scrape.reader', $1, true)", 1, p, err, errlen) ||
        scr_db_command(db, "granting read access", SQL_READER, 0, NULL, err, errlen) ||
        scr_db_command(db, "COMMIT", "COMMIT", 0, NULL, err, errlen)) {
        PQclear(PQexec(db, "ROLLBACK"));
        return SCR_EDB;
    }
    return SCR_OK;
}

int scr_cmd_init_db(int argc, char **argv, int start)
{
    struct scr_settings s;
    struct scr_strvec pos;
    PGconn *db = NULL;
    const char *reader = NULL;
    char err[1024];
    int code = SCR_EXIT_OK;
    struct scr_cli_extra extra[] = {{"reader", &reader, NULL, NULL}};

    scr_settings_init(&s);
    scr_strvec_init(&pos);
    if (scr_cli_parse(argc, argv, start, &s, extra, 1, &pos, err, sizeof(err)) || pos.n ||
        (reader && !*reader)) {
        fprintf(stderr, "scrape init-db: %s\n",
                pos.n ? "unexpected argument" : reader && !*reader ? "--reader needs a role name"
                                                                   : err);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if ((code = scr_db_connect(&db, scr_db_conninfo(s.db), 0, err, sizeof(err))) ||
        scr_db_ensure_schema(db, 1, err, sizeof(err))) {
        fprintf(stderr, "scrape init-db: %s\n", err);
        code = code == SCR_EUSAGE ? SCR_EXIT_USAGE : SCR_EXIT_DB;
        goto out;
    }
    printf("scrape schema version %d is in place\n", SCR_SCHEMA_VERSION);
    if (reader) {
        int rc = grant_reader(db, reader, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "scrape init-db: --reader %s: %s\n", reader, err);
            code = rc == SCR_EUSAGE ? SCR_EXIT_USAGE : SCR_EXIT_DB;
            goto out;
        }
        printf("role %s can read the results (set its password with ALTER ROLE)\n", reader);
    }
out:
    PQfinish(db);
    scr_strvec_release(&pos);
    scr_settings_release(&s);
    return code;
}

/* For rules authors, on stderr: no rule set matched the URL (naming them), or what went
 * wrong in a rule set that matched (records dropped for a `required` field, left out as
 * empty, fields that found nothing).  Silent when every record was whole.  stats is the
 * page's scr_emit.rules_stats (NULL: no rule set matched). */
static void rules_feedback(const char *file, const char *rules_text, const char *url,
                           const char *stats)
{
    json_t *a, *e;
    size_t i;

    if (!stats) {
        struct scr_rules *r = NULL;
        char err[256];
        struct scr_buf names;
        scr_buf_init(&names);
        if (scr_rules_compile(&r, rules_text, file, err, sizeof(err)) == SCR_OK) {
            for (size_t k = 0; k < r->nsites; k++) {
                if (k)
                    scr_buf_puts(&names, ", ");
                scr_buf_puts(&names, r->sites[k].name);
            }
            scr_rules_free(r);
        }
        fprintf(stderr, "scrape extract: no rule set in %s matches %s (sites: %s)\n", file, url,
                names.len ? names.data : "none");
        scr_buf_release(&names);
        return;
    }
    a = json_loads(stats, 0, NULL);
    json_array_foreach(a, i, e) {
        json_int_t rec = json_integer_value(json_object_get(e, "records")),
                   dropped = json_integer_value(json_object_get(e, "dropped")),
                   empty = json_integer_value(json_object_get(e, "empty")),
                   fields = json_integer_value(json_object_get(e, "empty_fields"));
        if (dropped || empty || fields)
            fprintf(stderr, "scrape extract: rule set '%s': %lld records; %lld dropped (a "
                            "required field found nothing), %lld empty (no field found "
                            "anything), %lld fields of its records found nothing\n",
                    json_string_value(json_object_get(e, "rule_set")), (long long)rec,
                    (long long)dropped, (long long)empty, (long long)fields);
    }
    json_decref(a);
}

int scr_cmd_extract(int argc, char **argv, int start)
{
    struct scr_settings s;
    struct scr_strvec pos;
    struct scr_extractor *x = NULL;
    struct scr_parser_env env;
    struct scr_urlopts uo;
    struct scr_emit emit;
    const char *url = NULL, *ctype = "text/html";
    char err[1024], *page = NULL, *rules = NULL, *norm = NULL;
    size_t len = 0;
    int code = SCR_EXIT_OK;
    struct scr_cli_extra extra[] = {{"url", &url, NULL, NULL},
                                    {"content-type", &ctype, NULL, NULL}};

    scr_settings_init(&s);
    scr_strvec_init(&pos);
    scr_emit_init(&emit);
    memset(&uo, 0, sizeof(uo));
    xmlInitParser();
    if (scr_cli_parse(argc, argv, start, &s, extra, 2, &pos, err, sizeof(err)) ||
        scr_urlopts_init(&uo, &s, err, sizeof(err))) {
        fprintf(stderr, "scrape extract: %s\n", err);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if (!url || pos.n != 1) {
        fprintf(stderr, "usage: scrape extract [--rules FILE] [--parsers LIST] --url URL "
                        "PAGE.html|-\n");
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if (scr_url_normalize(NULL, url, &uo.opts, &norm, NULL, err, sizeof(err))) {
        fprintf(stderr, "scrape extract: --url %s: %s\n", url, err);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if (s.rules && !(rules = scr_file_read(s.rules, (size_t)16 << 20, SCR_FILE_TEXT, &len, err, sizeof(err)))) {
        fprintf(stderr, "scrape extract: %s\n", err);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    /* the crawl's env (URL options, caps, budget): what a worker would store */
    scr_extract_env_from_settings(&env, &s, &uo.opts, rules, s.rules);
    if (scr_extractor_new(&x, s.parsers, &env, err, sizeof(err))) {
        fprintf(stderr, "scrape extract: %s\n", err);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if (!(page = scr_file_read(pos.v[0], 0, 0, &len, err, sizeof(err)))) {
        fprintf(stderr, "scrape extract: %s\n", err);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if (scr_extractor_run(x, norm, ctype, page, len, &emit) != SCR_OK && !emit.error)
        fprintf(stderr, "scrape extract: a parser reported an error on this page\n");
    if (emit.error)
        fprintf(stderr, "scrape extract: %s\n", emit.error);
    for (size_t i = 0; i < emit.records.n; i++)
        printf("%s\n", emit.records.v[i]);
    if (rules && emit.encoding) /* rules ran: an HTML page */
        rules_feedback(s.rules, rules, norm, emit.rules_stats);
out:
    scr_emit_release(&emit);
    scr_extractor_free(x);
    free(page);
    free(rules);
    free(norm);
    scr_urlopts_release(&uo);
    scr_strvec_release(&pos);
    scr_settings_release(&s);
    return code;
}

int scr_cmd_url(int argc, char **argv, int start)
{
    struct scr_settings s;
    struct scr_strvec pos;
    struct scr_urlopts uo;
    const char *base = NULL;
    char err[512], *out = NULL;
    int code = SCR_EXIT_OK;
    struct scr_cli_extra extra[] = {{"base", &base, NULL, NULL}};

    scr_settings_init(&s);
    scr_strvec_init(&pos);
    memset(&uo, 0, sizeof(uo));
    if (scr_cli_parse(argc, argv, start, &s, extra, 1, &pos, err, sizeof(err)) ||
        scr_urlopts_init(&uo, &s, err, sizeof(err))) {
        fprintf(stderr, "scrape url: %s\n", err);
        code = SCR_EXIT_USAGE;
        goto done;
    }
    if (pos.n == 0) {
        fprintf(stderr, "scrape url: no URL given\nusage: scrape url [--base BASE] URL...\n");
        code = SCR_EXIT_USAGE;
        goto done;
    }
    /* One stdout line per argument, in order, so the output pairs with the input; an invalid
     * URL also goes to stderr, and makes the exit code 2 once every argument is done. */
    for (size_t i = 0; i < pos.n; i++) {
        if (scr_url_normalize(base, pos.v[i], &uo.opts, &out, NULL, err, sizeof(err)) ==
            SCR_OK) {
            printf("%s\n", out);
            free(out);
        } else {
            printf("invalid %s: %s\n", pos.v[i], err);
            fprintf(stderr, "scrape url: invalid URL '%s': %s\n", pos.v[i], err);
            code = SCR_EXIT_USAGE;
        }
    }
done:
    scr_urlopts_release(&uo);
    scr_strvec_release(&pos);
    scr_settings_release(&s);
    return code;
}
