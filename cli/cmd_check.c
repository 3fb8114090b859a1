/* cmd_check.c - `mpiexec -f machinefile ./scrape check [--probe URL] [--db CONNINFO]`.
 *
 * The "hello world, then latency and bandwidth" of a cluster guide, for scrape's own needs.
 * Every rank reports its node, build and libraries and probes --probe URL (resolve + TCP
 * connect); rank 0 then ping-pongs with each worker in turn (RTT, MB/s, clock offset),
 * checks the database, prints one row per rank with a MARK column, and exits 0 (usable),
 * 7 (a rank is unusable: other build or protocol, failed probe, no answer) or 3 (the
 * configured database is not usable).  The messages and measurements live in check/
 * (check.h), the database part in coordinator/dbcheck.c; this file runs the sequence
 * and prints.  MPI starts and ends as in cmd_crawl.c (common/mpisession.c): non-blocking
 * transport, an Ibarrier, then MPI_Finalize; MPI_Abort when a rank never answered
 * (MPI_Finalize would need it).
 */
#include <ctype.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "check/check.h"
#include "common/alloc.h"
#include "common/clock.h"
#include "common/comm.h"
#include "common/error.h"
#include "common/log.h"
#include "common/mpisession.h"
#include "common/settings.h"
#include "coordinator/db.h"
#include "coordinator/dbcheck.h"

#define WORKER_IDLE_MS 300000   /* a worker gives up on a silent rank 0 after this */
#define GATHER_EXTRA_MS 30000   /* reports may take the probe's timeout plus this */
#define DB_TIMEOUT_MS 10000
#define MAX_OFFSET_NS 1000000000LL /* "clock skew" beyond 1 s */

struct check_opts {
    const char *probe;          /* NULL: no probe */
    int64_t probe_timeout_ms;
    int64_t max_rtt_ms;
    double min_mbps;
    int insecure;
    const char *db;             /* --db; NULL: $SCRAPE_DB or libpq's defaults */
};

struct check_run {
    struct scr_comm *c;
    int size;
    struct scr_check_row *rows;
    struct scr_dbcheck db;
    int db_rc;
    int pending;                /* reports still expected */
};

/* --- printing helpers ------------------------------------------------------------------ */

/* Copies s for a table cell: control characters (a tab in MPICH's version) become spaces,
 * so a hostile or odd string from another node cannot break the terminal or the layout. */
static void cell(char *out, size_t len, const char *s)
{
    size_t j = 0;

    for (s = s ? s : ""; *s && j + 1 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f) {
            if (j && out[j - 1] != ' ')
                out[j++] = ' ';
        } else {
            out[j++] = (char)ch;
        }
    }
    out[j] = '\0';
}

static void fmt_ms(char *out, size_t len, int64_t ns)
{
    double ms = (double)(ns < 0 ? -ns : ns) / 1e6;
    const char *sign = ns < 0 ? "-" : "";

    if (ms < 0.005)
        sign = ""; /* no "-0.00ms" */
    if (ms >= 10000)
        snprintf(out, len, "%s%.1fs", sign, ms / 1000);
    else if (ms >= 10)
        snprintf(out, len, "%s%.0fms", sign, ms);
    else if (ms >= 1)
        snprintf(out, len, "%s%.1fms", sign, ms);
    else
        snprintf(out, len, "%s%.2fms", sign, ms);
}

static void fmt_mem(char *out, size_t len, uint64_t bytes)
{
    double gib = (double)bytes / (1024.0 * 1024 * 1024);

    if (gib >= 1)
        snprintf(out, len, "%.1fG", gib);
    else
        snprintf(out, len, "%.0fM", (double)bytes / (1024.0 * 1024));
}

static void fmt_mbps(char *out, size_t len, double v)
{
    snprintf(out, len, v < 1 ? "%.2f" : v < 10 ? "%.1f" : "%.0f", v);
}

/* The URL without user and password, for printing. */
static void safe_url(char *out, size_t len, const char *url)
{
    CURLU *u = curl_url();
    char *s = NULL;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_set(u, CURLUPART_USER, NULL, 0);
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
        curl_url_get(u, CURLUPART_URL, &s, 0);
    }
    cell(out, len, s ? s : "(unparsable URL)");
    curl_free(s);
    curl_url_cleanup(u);
}

/* --- rank 0: the sequence -------------------------------------------------------------- */

/* 1 when rank r reported and answered every ping (or was not pinged). */
static int answered(const struct check_run *cr, int r)
{
    const struct scr_check_row *row = &cr->rows[r];
    return row->report_rc != SCR_ELOST && (!row->measured || row->net.ok);
}

/* Tells the workers the check is over (all of them, or only those that answered: a send to
 * a silent rank might never complete, and the job ends with MPI_Abort then anyway). */
static void send_done(struct check_run *cr, int only_answered)
{
    for (int r = 1; r < cr->size; r++) {
        struct scr_buf b;
        int rc;
        if (only_answered && cr->rows && !answered(cr, r))
            continue;
        scr_buf_init(&b);
        rc = scr_check_done_encode(&b);
        if (rc == SCR_OK)
            rc = scr_comm_send_buf(cr->c, r, &b);
        if (rc != SCR_OK)
            scr_error("check: cannot send DONE to rank %d: %s", r, scr_strerror(rc));
        scr_buf_release(&b);
    }
}

static int gather_msg(void *arg, int peer, const char *data, size_t len)
{
    struct check_run *cr = arg;
    struct scr_check_row *row;
    int rc;

    if (peer <= 0 || peer >= cr->size || scr_wire_type(data, len) != SCR_MSG_CHECK_REPORT) {
        scr_warn("check: ignoring a message of type %d from rank %d", scr_wire_type(data, len),
                 peer);
        return 0;
    }
    row = &cr->rows[peer];
    if (row->report_rc != SCR_ELOST)
        return 0; /* a second report: keep the first */
    rc = scr_check_report_decode(&row->report, data, len);
    if (rc != SCR_OK && rc != SCR_EVERSION) {
        scr_error("check: rank %d sent a malformed report (%zu bytes)", peer, len);
        scr_check_report_release(&row->report);
        rc = SCR_EPROTO;
    }
    row->report_rc = rc;
    cr->pending--;
    return cr->pending == 0 ? 1 : 0;
}

static int start_workers(struct check_run *cr, const struct check_opts *o)
{
    struct scr_check_start m;

    memset(&m, 0, sizeof(m));
    m.layout = SCR_CHECK_LAYOUT;
    m.probe_url = (char *)(o->probe ? o->probe : "");
    m.probe_timeout_ms = (uint32_t)o->probe_timeout_ms;
    m.insecure = (uint32_t)o->insecure;
    for (int r = 1; r < cr->size; r++) {
        struct scr_buf b;
        int rc;
        scr_buf_init(&b);
        rc = scr_check_start_encode(&b, &m);
        if (rc == SCR_OK)
            rc = scr_comm_send_buf(cr->c, r, &b);
        scr_buf_release(&b);
        if (rc != SCR_OK) {
            scr_error("check: cannot send START to rank %d: %s", r, scr_strerror(rc));
            return rc;
        }
    }
    return SCR_OK;
}

/* Gathers the reports, waiting at most until deadline_ms (monotonic). */
static void gather(struct check_run *cr, int64_t deadline_ms)
{
    while (cr->pending > 0) {
        int64_t left = deadline_ms - scr_now_ms();
        int rc;
        if (left <= 0)
            break;
        rc = scr_check_wait(cr->c, left, gather_msg, cr);
        if (rc != SCR_OK && rc != SCR_EAGAIN) {
            scr_error("check: receiving reports: %s", scr_strerror(rc));
            break;
        }
    }
}

static void measure_all(struct check_run *cr)
{
    /* 1 MiB each way on a good link; on a slow one from 16 KiB up to what takes 200 ms, so a
     * Pi on a 2 Mbit/s link is measured in about a second rather than a minute */
    struct scr_check_net_opts no = {.small_pings = 20,
                                    .small_bytes = 8,
                                    .big_pings = 5,
                                    .big_bytes = 1024 * 1024,
                                    .timeout_ms = 10000,
                                    .big_min_bytes = 16 * 1024,
                                    .big_target_ms = 200};

    for (int r = 1; r < cr->size; r++) {
        struct scr_check_row *row = &cr->rows[r];
        /* another layout may not speak PING: its row is unusable anyway */
        if (row->report_rc != SCR_OK)
            continue;
        row->measured = 1;
        if (scr_check_measure(cr->c, r, &no, &row->net) != SCR_OK && !row->net.error[0])
            snprintf(row->net.error, sizeof(row->net.error), "out of memory");
        if (!row->net.ok)
            scr_error("check: rank %d: %s", r, row->net.error);
    }
}

/* --- rank 0: the output ---------------------------------------------------------------- */

enum { C_RANK, C_HOST, C_ARCH, C_CORES, C_MEM, C_BUILD, C_RTT, C_MBPS, C_OFFSET, C_PROBE,
       C_MARK, NCOLS };

static const char *const col_names[NCOLS] = {"rank", "host", "arch", "cores", "mem", "build",
                                             "rtt", "MB/s", "offset", "probe", "MARK"};

typedef char row_cells[NCOLS][256];

static void fill_cells(row_cells cells, const struct scr_check_row *row)
{
    const struct scr_msg_hello *h = &row->report.node;
    const struct scr_check_probe *p = &row->report.probe;
    int full = row->report_rc == SCR_OK;

    for (int k = 0; k < NCOLS; k++)
        snprintf(cells[k], sizeof(cells[k]), "%s", "-");
    snprintf(cells[C_RANK], sizeof(cells[0]), "%d", row->rank);
    if (row->report_rc == SCR_OK || row->report_rc == SCR_EVERSION) {
        cell(cells[C_HOST], sizeof(cells[0]), h->host);
        cell(cells[C_BUILD], sizeof(cells[0]), h->build_id);
    } else {
        snprintf(cells[C_HOST], sizeof(cells[C_HOST]), "%s", "?");
    }
    if (full) {
        cell(cells[C_ARCH], sizeof(cells[0]), h->arch);
        snprintf(cells[C_CORES], sizeof(cells[0]), "%u", h->cores);
        fmt_mem(cells[C_MEM], sizeof(cells[0]), h->mem_bytes);
        if (p->stage == SCR_PROBE_OK) {
            char a[32], b[32];
            fmt_ms(a, sizeof(a), (int64_t)p->resolve_us * 1000);
            fmt_ms(b, sizeof(b), (int64_t)p->connect_us * 1000);
            snprintf(cells[C_PROBE], sizeof(cells[0]), "ok %s/%s", a, b);
        } else if (p->stage != SCR_PROBE_NONE) {
            snprintf(cells[C_PROBE], sizeof(cells[C_PROBE]), "%s", "FAILED");
        }
    }
    if (row->rank == 0) {
        snprintf(cells[C_RTT], sizeof(cells[C_RTT]), "%s", "(self)");
        snprintf(cells[C_OFFSET], sizeof(cells[C_OFFSET]), "%s", "0");
    } else if (row->measured && row->net.ok) {
        fmt_ms(cells[C_RTT], sizeof(cells[0]), row->net.rtt_ns);
        fmt_mbps(cells[C_MBPS], sizeof(cells[0]), row->net.mbps);
        /* a sign always, except for a zero */
        cells[C_OFFSET][0] = '+';
        fmt_ms(cells[C_OFFSET] + 1, sizeof(cells[0]) - 1, row->net.offset_ns);
        if (cells[C_OFFSET][1] == '-' || strcmp(cells[C_OFFSET] + 1, "0.00ms") == 0)
            memmove(cells[C_OFFSET], cells[C_OFFSET] + 1, strlen(cells[C_OFFSET]));
    } else if (row->measured) {
        snprintf(cells[C_RTT], sizeof(cells[C_RTT]), "%s", "none");
    }
    cell(cells[C_MARK], sizeof(cells[0]), row->marks);
}

static void print_table(const struct check_run *cr)
{
    row_cells *cells = scr_xcalloc((size_t)cr->size, sizeof(*cells));
    size_t w[NCOLS];

    for (int k = 0; k < NCOLS; k++)
        w[k] = strlen(col_names[k]);
    for (int r = 0; r < cr->size; r++) {
        fill_cells(cells[r], &cr->rows[r]);
        for (int k = 0; k < NCOLS; k++)
            if (strlen(cells[r][k]) > w[k])
                w[k] = strlen(cells[r][k]);
    }
    for (int r = -1; r < cr->size; r++) {
        struct scr_buf line;
        scr_buf_init(&line);
        for (int k = 0; k < NCOLS; k++)
            scr_buf_printf(&line, "%-*s  ", (int)w[k], r < 0 ? col_names[k] : cells[r][k]);
        while (line.len && line.data[line.len - 1] == ' ')
            line.data[--line.len] = '\0';
        printf("%s\n", line.data ? line.data : "");
        scr_buf_release(&line);
    }
    free(cells);
}

static int same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static int same_libs(const struct scr_msg_hello *a, const struct scr_msg_hello *b)
{
    return same_str(a->os, b->os) && same_str(a->curl_version, b->curl_version) &&
           same_str(a->libxml2_version, b->libxml2_version) &&
           same_str(a->pcre2_version, b->pcre2_version) &&
           same_str(a->mpi_version, b->mpi_version);
}

/* Appends rank r to a list printed as ranges: "0-2,5". */
static void list_add(struct scr_buf *b, int *first, int *last, int r)
{
    if (*first >= 0 && r == *last + 1) {
        *last = r;
        return;
    }
    if (*first >= 0)
        scr_buf_printf(b, *first == *last ? "%s%d" : "%s%d-%d", b->len ? "," : "", *first,
                       *last);
    *first = *last = r;
}

static void print_versions(const struct check_run *cr)
{
    char *seen = scr_xcalloc((size_t)cr->size, 1);

    printf("\nversions:\n");
    for (int i = 0; i < cr->size; i++) {
        const struct scr_msg_hello *h = &cr->rows[i].report.node;
        char os[128], curl[64], xml[64], pcre[64], mpi[160];
        struct scr_buf ranks;
        int first = -1, last = -1, n = 0;

        if (seen[i] || cr->rows[i].report_rc != SCR_OK)
            continue;
        scr_buf_init(&ranks);
        for (int j = i; j < cr->size; j++) {
            if (!seen[j] && cr->rows[j].report_rc == SCR_OK &&
                same_libs(h, &cr->rows[j].report.node)) {
                seen[j] = 1;
                list_add(&ranks, &first, &last, j);
                n++;
            }
        }
        list_add(&ranks, &first, &last, -2); /* flush */
        cell(os, sizeof(os), h->os);
        cell(curl, sizeof(curl), h->curl_version);
        cell(xml, sizeof(xml), h->libxml2_version);
        cell(pcre, sizeof(pcre), h->pcre2_version);
        cell(mpi, sizeof(mpi), h->mpi_version);
        printf("  rank%s %s: %s; libcurl %s, libxml2 %s, PCRE2 %s; %s\n", n > 1 ? "s" : "",
               ranks.data ? ranks.data : "?", os, curl, xml, pcre, mpi);
        scr_buf_release(&ranks);
    }
    free(seen);
}

static void print_row_problems(const struct check_run *cr, const struct check_opts *o,
                               const struct scr_check_row *row)
{
    const struct scr_msg_hello *ref = &cr->rows[0].report.node, *h = &row->report.node;
    char host[128], a[64], b[64], c[160];

    cell(host, sizeof(host), h->host ? h->host : "?");
    printf("  rank %d (%s) %s: %s\n", row->rank, host, row->unusable ? "UNUSABLE" : "warning",
           row->marks);
    if (row->report_rc == SCR_ELOST)
        printf("    no report within %lld s: does the node have scrape at the same path, the "
               "same MPICH, and a build that knows 'check'?\n",
               (long long)((o->probe_timeout_ms + GATHER_EXTRA_MS) / 1000));
    if (row->report_rc == SCR_EPROTO)
        printf("    its report could not be read: a different build?\n");
    if ((row->report_rc == SCR_OK || row->report_rc == SCR_EVERSION) &&
        (h->protocol != ref->protocol || !same_str(h->version, ref->version) ||
         !same_str(h->build_id, ref->build_id))) {
        cell(a, sizeof(a), h->build_id);
        cell(b, sizeof(b), h->version);
        printf("    runs scrape %s build %s (protocol %u); rank 0 runs scrape %s build %s "
               "(protocol %u): build every node from the same commit\n",
               b, a, h->protocol, ref->version, ref->build_id, ref->protocol);
    }
    if (row->report_rc == SCR_OK && o->probe && row->report.probe.stage != SCR_PROBE_OK) {
        cell(c, sizeof(c), row->report.probe.error);
        printf("    probe: %s: %s\n", scr_check_probe_stage_name(row->report.probe.stage), c);
    }
    if (row->measured && !row->net.ok)
        printf("    ping-pong: %s\n", row->net.error);
    if (row->measured && row->net.ok) {
        if (row->net.rtt_ns > o->max_rtt_ms * 1000000 || row->net.mbps < o->min_mbps) {
            fmt_ms(a, sizeof(a), row->net.rtt_ns);
            fmt_mbps(b, sizeof(b), row->net.mbps);
            printf("    rtt %s (slow above %lld ms), %s MB/s with %u KiB each way (slow below "
                   "%g MB/s): the node works, but takes fewer batches\n",
                   a, (long long)o->max_rtt_ms, b, row->net.payload / 1024, o->min_mbps);
        }
        if (row->net.offset_ns > MAX_OFFSET_NS || row->net.offset_ns < -MAX_OFFSET_NS) {
            fmt_ms(a, sizeof(a), row->net.offset_ns);
            printf("    its clock is %s off rank 0's: log times will not line up (is NTP "
                   "running?)\n", a);
        }
    }
    if (row->report_rc == SCR_OK && row->rank > 0 && !same_str(h->mpi_version, ref->mpi_version)) {
        cell(a, sizeof(a), h->mpi_version);
        cell(c, sizeof(c), ref->mpi_version);
        printf("    MPI library '%s', rank 0 has '%s': use the same MPICH everywhere\n", a, c);
    }
}

static void print_report(const struct check_run *cr, const struct check_opts *o, int unusable,
                         int code)
{
    const struct scr_msg_hello *me = &cr->rows[0].report.node;
    const struct scr_dbcheck *db = &cr->db;
    char host[128], mpi[160], url[512];
    int warnings = 0, problems = 0;

    cell(host, sizeof(host), me->host);
    cell(mpi, sizeof(mpi), me->mpi_version);
    printf("scrape check: %d rank%s; rank 0 on %s runs scrape %s build %s, protocol %u, %s\n",
           cr->size, cr->size == 1 ? "" : "s", host, me->version, me->build_id, me->protocol,
           mpi);
    if (!db->reachable) {
        printf("database: %s: %s\n",
               !db->configured             ? "not configured"
               : cr->db_rc == SCR_EUSAGE ? "WRONG CONNINFO" /* a mistake: exit 2 */
                                         : "UNREACHABLE",
               db->configured ? db->problem
                              : "no --db and no SCRAPE_DB, and libpq's defaults do not connect");
    } else {
        printf("database: %s: %s, %s%s\n", db->usable ? "ok" : "NOT USABLE", db->server,
               db->where, db->configured ? "" : " (not configured: libpq's defaults)");
        if (db->schema_version == 0)
            printf("  schema: empty: the first run creates it\n");
        else if (db->schema_version > 0)
            printf("  schema: version %d (this scrape needs %d)\n", db->schema_version,
                   SCR_SCHEMA_VERSION);
        else
            printf("  schema: present, but its version is not readable by this role\n");
        if (db->privileges[0])
            printf("  privileges: %s\n", db->privileges);
        if (db->problem[0])
            printf("  problem: %s\n", db->problem);
    }
    if (o->probe) {
        safe_url(url, sizeof(url), o->probe);
        printf("probe: %s from every rank: resolve/connect times, timeout %g s\n", url,
               (double)o->probe_timeout_ms / 1000);
    } else {
        printf("probe: none (--probe URL checks that every rank resolves and connects)\n");
    }
    if (cr->size > 1)
        printf("network: rank 0 to each worker: rtt = median of 20 round trips of 8 bytes, "
               "MB/s = median of 5 of up to 1 MiB each way, less the rtt (a slow link gets "
               "a smaller payload), offset = clock difference (NTP-style); "
               "slow link above %lld ms or below %g MB/s\n",
               (long long)o->max_rtt_ms, o->min_mbps);
    else
        printf("network: one rank (no mpiexec): nothing to measure\n");
    printf("\n");
    print_table(cr);
    print_versions(cr);
    for (int r = 0; r < cr->size; r++) {
        warnings += cr->rows[r].warnings > 0 && !cr->rows[r].unusable;
        if (cr->rows[r].marks[0]) {
            if (!problems++)
                printf("\nproblems:\n");
            print_row_problems(cr, o, &cr->rows[r]);
        }
    }
    printf("\nresult: %d of %d rank%s usable", cr->size - unusable, cr->size,
           cr->size == 1 ? "" : "s");
    if (warnings)
        printf(" (%d with warnings)", warnings);
    if (db->configured)
        printf("; database %s", db->usable ? "usable" : "NOT usable");
    printf("; exit %d\n", code);
}

/* --- the command ----------------------------------------------------------------------- */

void scr_cmd_check_usage(void)
{
    printf("usage: mpiexec -f machinefile scrape check [--probe URL] [--db CONNINFO] [options]\n"
           "       scrape check ...                 without mpiexec: this node only\n\n"
           "Every rank reports its node, build and libraries and probes URL (resolve and TCP\n"
           "connect); rank 0 measures the link to each worker and checks the database.\n\n"
           "  --probe URL              http(s) URL every rank resolves and connects to\n"
           "  --probe-timeout TIME     give up on the probe after this [5s]\n"
           "  --max-rtt TIME           a slower round trip marks a slow link [50ms]\n"
           "  --min-bandwidth MB/s     less marks a slow link [10]\n"
           "  --db CONNINFO            the database to check (else --db-file, SCRAPE_DB,\n"
           "                           libpq defaults); keep the password out of the command\n"
           "                           line: --db-file FILE, a service file or ~/.pgpass\n"
           "  --db-file FILE           read the conninfo from FILE (mode 600) on rank 0\n"
           "  --insecure               do not verify the probe's TLS certificate\n\n"
           "exit codes: 0 every rank usable, 3 the configured database is not usable,\n"
           "  7 a rank is unusable (other build or protocol, failed probe, no answer)\n");
}

/* Parses rank 0's options into o.  Returns an exit code: SCR_EXIT_OK to go on, else stop. */
static int parse_options(int argc, char **argv, int start, struct scr_settings *s,
                         struct check_opts *o, int *help)
{
    const char *probe = NULL, *ptmo = NULL, *rtt = NULL, *bw = NULL;
    struct scr_cli_extra extra[] = {{"help", NULL, help, NULL},
                                    {"probe", &probe, NULL, NULL},
                                    {"probe-timeout", &ptmo, NULL, NULL},
                                    {"max-rtt", &rtt, NULL, NULL},
                                    {"min-bandwidth", &bw, NULL, NULL}};
    struct scr_strvec pos;
    char err[512], *end = NULL;
    int lvl, code = SCR_EXIT_USAGE;

    scr_strvec_init(&pos);
    memset(o, 0, sizeof(*o));
    o->probe_timeout_ms = 5000;
    o->max_rtt_ms = 50;
    o->min_mbps = 10;
    if (scr_cli_parse(argc, argv, start, s, extra, sizeof(extra) / sizeof(extra[0]), &pos, err,
                      sizeof(err))) {
        fprintf(stderr, "scrape check: %s\n", err);
    } else if (*help) {
        scr_cmd_check_usage();
        code = SCR_EXIT_OK;
    } else if (pos.n) {
        fprintf(stderr, "scrape check: unexpected argument '%s' (see scrape check --help)\n",
                pos.v[0]);
    } else if ((lvl = scr_log_level_parse(s->log_level)) < 0) {
        fprintf(stderr, "scrape check: --log-level: '%s' is not error, warn, info or debug\n",
                s->log_level);
    } else if (probe && strncasecmp(probe, "http://", 7) != 0 &&
               strncasecmp(probe, "https://", 8) != 0) {
        fprintf(stderr, "scrape check: --probe: '%s' is not an http:// or https:// URL\n", probe);
    } else if (ptmo && (scr_parse_duration_ms(ptmo, &o->probe_timeout_ms) ||
                        o->probe_timeout_ms < 100 || o->probe_timeout_ms > 600000)) {
        fprintf(stderr, "scrape check: --probe-timeout: '%s' is not a time from 100ms to 10m\n",
                ptmo);
    } else if (rtt && (scr_parse_duration_ms(rtt, &o->max_rtt_ms) || o->max_rtt_ms < 0)) {
        fprintf(stderr, "scrape check: --max-rtt: '%s' is not a time such as 50ms\n", rtt);
    } else if (bw && (!(o->min_mbps = strtod(bw, &end), end != bw && *end == '\0') ||
                      o->min_mbps < 0)) {
        fprintf(stderr, "scrape check: --min-bandwidth: '%s' is not a number of MB/s\n", bw);
    } else {
        scr_log_set_level((enum scr_log_level)lvl);
        o->probe = probe && *probe ? probe : NULL;
        o->insecure = s->insecure;
        o->db = s->db;
        code = SCR_EXIT_OK;
        *help = 0;
    }
    scr_strvec_release(&pos);
    return code;
}

/* Rank 0: the whole check.  Sets *lost when a worker never answered. */
static int run_check(struct check_run *cr, const struct check_opts *o, int *lost)
{
    struct scr_check_limits lim;
    int64_t start_ms = scr_now_ms();
    int unusable, code;

    cr->rows = scr_xcalloc((size_t)cr->size, sizeof(*cr->rows));
    for (int r = 0; r < cr->size; r++) {
        cr->rows[r].rank = r;
        cr->rows[r].report_rc = SCR_ELOST; /* until its report arrives */
    }
    cr->pending = cr->size - 1;
    if (cr->size > 1)
        start_workers(cr, o); /* they probe while rank 0 does the same and the database */
    if (scr_check_self(&cr->rows[0].report, o->probe, o->probe_timeout_ms, o->insecure)) {
        fprintf(stderr, "scrape check: out of memory\n");
        send_done(cr, 0);
        return SCR_EXIT_FAILURE;
    }
    cr->rows[0].report_rc = SCR_OK;
    cr->db_rc = scr_dbcheck_run(&cr->db, o->db, DB_TIMEOUT_MS);
    if (cr->size > 1) {
        gather(cr, start_ms + o->probe_timeout_ms + GATHER_EXTRA_MS);
        measure_all(cr);
    }
    memset(&lim, 0, sizeof(lim));
    lim.max_rtt_ns = o->max_rtt_ms * 1000000;
    lim.min_mbps = o->min_mbps;
    lim.max_offset_ns = MAX_OFFSET_NS;
    lim.probe_asked = o->probe != NULL;
    unusable = scr_check_judge(cr->rows, (size_t)cr->size, &lim);
    *lost = 0;
    for (int r = 1; r < cr->size; r++)
        if (!answered(cr, r))
            *lost = 1;
    if (cr->size > 1)
        send_done(cr, 1);
    if (cr->db.configured && cr->db_rc == SCR_EUSAGE)
        code = SCR_EXIT_USAGE; /* a conninfo mistake (scr_db_classify) */
    else if (cr->db.configured && cr->db_rc != SCR_OK)
        code = SCR_EXIT_DB;
    else
        code = unusable ? SCR_EXIT_CLUSTER : SCR_EXIT_OK;
    print_report(cr, o, unusable, code);
    return code;
}

int scr_cmd_check(int argc, char **argv, int start)
{
    struct scr_settings s;
    struct check_opts o;
    struct check_run cr;
    struct scr_mpisession ms;
    int rank, size, code = SCR_EXIT_OK, help = 0, lost = 0;

    signal(SIGPIPE, SIG_IGN);
    memset(&cr, 0, sizeof(cr));
    if (scr_settings_init(&s))
        return SCR_EXIT_FAILURE;
    if (scr_mpisession_init(&ms, &argc, &argv, "scrape check", SCR_LOG_WARN) != SCR_OK) {
        scr_settings_release(&s);
        return SCR_EXIT_FAILURE;
    }
    rank = ms.rank;
    size = ms.size;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cr.size = size;
    if (size > 1 && scr_comm_mpi_new(&cr.c) != SCR_OK) {
        code = SCR_EXIT_FAILURE;
        scr_mpisession_abort(code);
    }

    if (rank > 0) {
        /* a worker: the probe URL and everything else come from rank 0 */
        int rc;
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        rc = scr_check_serve(cr.c, WORKER_IDLE_MS);
        if (rc != SCR_OK)
            scr_error("check: %s", scr_strerror(rc));
        goto finish;
    }
    code = parse_options(argc, argv, start, &s, &o, &help);
    if (code == SCR_EXIT_OK && !help && size > 1)
        scr_cli_warn_db_argv(argc, argv, start);
    if (code == SCR_EXIT_OK && !help)
        code = run_check(&cr, &o, &lost);
    else if (size > 1)
        send_done(&cr, 0); /* usage error or --help: let the waiting workers go */
finish:
    scr_mpisession_end(cr.c, code,
                       lost ? "a rank did not answer, so MPI_Finalize cannot complete" : NULL);
    cr.c = NULL;
    if (cr.rows)
        for (int r = 0; r < size; r++)
            scr_check_report_release(&cr.rows[r].report);
    free(cr.rows);
    scr_settings_release(&s);
    curl_global_cleanup();
    return code;
}
