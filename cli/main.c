/* main.c - the scrape binary: picks the command, and for a crawl, the role by MPI rank.
 *
 *   mpiexec -f machinefile ./scrape --seed urls.txt   rank 0 coordinates, the others work
 *   ./scrape --seed urls.txt                           one process: coordinator + threads
 *   mpiexec -f machinefile ./scrape check [--probe URL]   every node and link, the database
 *   ./scrape doctor -f machinefile                   before MPI: which hosts share one job
 *   mpiexec -n 3 ./scrape reextract --job J [--warc F...] parse stored pages again, no fetch
 *   ./scrape init-db | export | report | jobs | extract | url | robots | version | help
 *
 * Every command answers --help and -h here, before it starts MPI or reads anything, so help
 * never waits for a database or a peer.  A mistyped command gets the nearest name.
 * Everything else lives in libscrape; this file only wires it up.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/error.h"
#include "common/suggest.h"

static int cmd_version(int argc, char **argv, int start)
{
    (void)argc, (void)argv, (void)start;
    return scr_cmd_version();
}

static int cmd_help(int argc, char **argv, int start)
{
    (void)argc, (void)argv, (void)start;
    scr_cmd_usage();
    return SCR_EXIT_OK;
}

static void help_crawl(void) { scr_cmd_usage(); }
static void help_check(void) { scr_cmd_check_usage(); }
static void help_doctor(void) { scr_cmd_doctor_usage(stdout); }

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv, int start);
    void (*help)(void); /* NULL: print `usage` */
    const char *usage;
} commands[] = {
    {"crawl", scr_cmd_crawl, help_crawl, NULL},
    {"reextract", scr_cmd_reextract, NULL,
     "usage: [mpiexec -n N] scrape reextract --job NAME [--rules FILE] [--parsers LIST]\n"
     "                                      [--warc FILE [FILE...]] [--db CONNINFO] [options]\n"
     "  Runs the parsers again over pages already stored as WARC records, with no HTTP\n"
     "  request: rank 0 reads the pages and sends them to the workers in batches, and the\n"
     "  records are stored as a new run of the job (runs.kind = 'reextract'), referencing\n"
     "  each page's fetch row.  Without --warc: each URL's latest fetch that has a record\n"
     "  (fetches.warc_file, written by crawl --warc-dir).  With --warc: every HTTP response\n"
     "  record of the files (WARC/1.0 or 1.1, .warc or .warc.gz, e.g. wget --warc-file or\n"
     "  Heritrix); URLs new to the job get urls rows (state done) and fetches rows that\n"
     "  point into the files.  The frontier is not changed: links are stored as records,\n"
     "  never queued.  A page is done once per parsers + rules + version: a reextract cut\n"
     "  short and started again does only the pages left.  Damaged records are reported\n"
     "  and skipped (exit 5).  See docs/reextract.md.\n"},
    {"check", scr_cmd_check, help_check, NULL},
    {"doctor", scr_cmd_doctor, help_doctor, NULL},
    {"init-db", scr_cmd_init_db, NULL,
     "usage: scrape init-db [--db CONNINFO | --db-file FILE] [--reader ROLE]\n"
     "  Creates or updates the schema; --reader ROLE (created if missing, no password) may\n"
     "  read every table and view.  Exit 3 when the database is unreachable.\n"},
    {"export", scr_cmd_export, NULL,
     "usage: scrape export --job NAME [--format jsonl|csv] [--parser P] [--record R]\n"
     "                     [--since TIME] [--csv-raw] [-o FILE] [--db CONNINFO]\n"
     "  Writes a job's records, one JSON object a line or CSV (cells that start with\n"
     "  = + - @ get a ', unless --csv-raw).  See docs/queries.md.\n"},
    {"report", scr_cmd_report, NULL,
     "usage: scrape report --job NAME [-o FILE.html] [--db CONNINFO]\n"
     "  One self-contained HTML page of charts and tables: pages per minute per worker,\n"
     "  status codes, slow and failing hosts, records per rule set, runs.  See\n"
     "  docs/report.md.\n"},
    {"jobs", scr_cmd_jobs, NULL,
     "usage: scrape jobs [--job NAME] [--db CONNINFO | --db-file FILE]\n"
     "  Lists the jobs of the database: each one's last run (id, status, exit code, end,\n"
     "  UTC) and the settings it keeps for its runs (docs/cron.md).  Read-only.\n"},
    {"extract", scr_cmd_extract, NULL,
     "usage: scrape extract [--rules FILE] [--parsers LIST] [--content-type TYPE]\n"
     "                      [--strip-tracking] [--strip-param L] [--sort-query]\n"
     "                      --url URL PAGE.html|-\n"
     "  Prints the records of a saved page, as a crawl with the same settings stores them.\n"},
    {"url", scr_cmd_url, NULL,
     "usage: scrape url [--base BASE] [--strip-tracking] [--strip-param L] [--sort-query]\n"
     "                  [--max-url-length N] URL...\n"
     "  Prints each URL normalized, as a crawl would queue it.\n"},
    {"robots", scr_cmd_robots, NULL,
     "usage: scrape robots --agent NAME --robots FILE|- URL...\n"
     "  Prints allow or disallow for each URL, per the robots.txt in FILE.\n"},
    {"version", cmd_version, NULL,
     "usage: scrape version | scrape --version | scrape -V\n"
     "  Prints the version, build, protocol and library versions.\n"},
    {"help", cmd_help, NULL,
     "usage: scrape help | scrape COMMAND --help\n"
     "  Prints every command and every setting.\n"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Short usage for `scrape` alone: it used to start a crawl without a seed, which only failed
 * after the database retries. */
static void brief_usage(FILE *f)
{
    fprintf(f, "usage: scrape [crawl] --seed FILE [--db CONNINFO] [options]\n"
               "       scrape COMMAND [options]\n\n"
               "commands: ");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "%s%s", i ? ", " : "", commands[i].name);
    fprintf(f, "\n\nscrape COMMAND --help explains one; scrape help lists every setting.\n");
}

static int wants_help(int argc, char **argv, int start)
{
    for (int i = start; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    const char *names[NCOMMANDS], *near;
    const struct command *c = &commands[0]; /* crawl, also when no command is named */
    int start = cmd ? 2 : 1;

    if (argc < 2) {
        brief_usage(stderr);
        return SCR_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        return scr_cmd_version();
    if (cmd) {
        c = NULL;
        for (size_t i = 0; i < NCOMMANDS; i++) {
            names[i] = commands[i].name;
            if (strcmp(cmd, commands[i].name) == 0)
                c = &commands[i];
        }
        if (!c) {
            near = scr_suggest(cmd, names, NCOMMANDS);
            if (near)
                fprintf(stderr, "scrape: unknown command '%s' (did you mean %s?); see scrape "
                                "help\n", cmd, near);
            else
                fprintf(stderr, "scrape: unknown command '%s' (see scrape help)\n", cmd);
            return SCR_EXIT_USAGE;
        }
    }
    if (wants_help(argc, argv, start)) {
        if (c->help)
            c->help();
        else
            fputs(c->usage, stdout);
        return SCR_EXIT_OK;
    }
    return c->run(argc, argv, start);
}
