/* cmd_report.c - `scrape report`: one self-contained HTML page about a job, from the database.
 *
 *   scrape report --job NAME [--db CONNINFO] [-o FILE]
 *
 * The page has: a summary; pages per minute over time with one line per worker (rank@host),
 * one chart for each of the job's last CHART_RUNS runs with fetches, so the owner of a mixed
 * cluster sees whether the slow node keeps up; the status codes; the hosts with most errors
 * and the slowest hosts (median and p95 transfer time); the records per parser and rule set;
 * and the table of runs.  Charts are inline SVG drawn by cli/report_svg.c; the style sheet is
 * inline; there is no script and no reference to anything outside the file, so it opens
 * anywhere, offline, years later.
 *
 * Invariants: every query is below (the SQL lives in this one block) and reads the job through
 * the views of schema.sql where one fits, inside one REPEATABLE READ READ ONLY transaction
 * (every section sees the same snapshot); every value from the database reaches the page
 * through scr_html_text(), since hosts, URLs, error texts and rule-set names come from the
 * crawled sites or the people who run the crawl; the page depends only on the data and the
 * server's clock (one "generated" line), never on the machine it is written on.  With -o the
 * page goes to a new temporary file beside FILE (scr_file_create: mkstemp, never a planted
 * name), renamed to FILE once complete.  Exit 2 for an unknown job.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/report_svg.h"
#include "cli/report_table.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/strvec.h"
#include "common/version.h"
#include "coordinator/db.h"

#define CHART_RUNS 5      /* runs charted in "pages per minute", newest first */
#define CHART_BUCKETS 60  /* at most this many points per line */
#define TOP_HOSTS "10"    /* rows of the two host charts */
#define TOP_RECORDS "20"  /* bars of the records chart */
#define CHART_WIDTH 1040  /* px, every chart: the page is 1060 px wide */

/* ------------------------------------------------------------------ SQL
 * $1 is the job's id in every query but the per-run one.  Column names are the headers of the
 * tables written from them (scr_report_table, report_table.c). */

#define TS(col) "to_char(" col ", 'YYYY-MM-DD HH24:MI:SS')"

static const char SQL_JOB[] = "SELECT id, " TS("now()") " FROM jobs WHERE name = $1";

static const char SQL_SUMMARY[] =
    "SELECT count(*) AS fetches, count(*) FILTER (WHERE error IS NULL) AS \"without error\","
    " count(*) FILTER (WHERE error IS NOT NULL) AS errors,"
    " (SELECT count(*) FROM records WHERE job_id = $1::bigint) AS records,"
    " count(DISTINCT url_id) AS \"URLs fetched\","
    " (SELECT string_agg(state || ' ' || n, ', ' ORDER BY state) FROM (SELECT state, count(*) n"
    "  FROM urls WHERE job_id = $1::bigint GROUP BY state) s) AS \"URLs by state\","
    " (SELECT count(DISTINCT u.host) FROM fetches g JOIN urls u ON u.id = g.url_id"
    "  WHERE g.job_id = $1::bigint) AS hosts,"
    " coalesce(sum(bytes), 0) AS bytes, " TS("min(fetched_at)") " AS \"first fetch\", "
    TS("max(fetched_at)") " AS \"last fetch\""
    " FROM fetches WHERE job_id = $1::bigint";

/* The runs with fetches, the last first: id, first and last fetch (seconds since 1970, in
 * the exact text the server gives). */
static const char SQL_RUN_SPANS[] =
    "SELECT run_id, extract(epoch FROM min(fetched_at)), extract(epoch FROM max(fetched_at))"
    " FROM fetches WHERE job_id = $1::bigint GROUP BY run_id ORDER BY run_id DESC";

/* $1 run id, $2 start of the first bucket (seconds since 1970), $3 bucket width (seconds).
 * A worker of the run (run_workers, rank > 0) that stored no fetch gets one row of bucket 0
 * and count 0: its line is drawn at zero rather than left out. */
static const char SQL_THROUGHPUT[] =
    "SELECT coalesce(worker_rank, -1), coalesce(worker_host, '?'),"
    " floor((extract(epoch FROM fetched_at) - $2::numeric) / $3::numeric)::int, count(*)"
    " FROM fetches WHERE run_id = $1::bigint GROUP BY 1, 2, 3"
    " UNION ALL SELECT w.rank, w.host, 0, 0 FROM run_workers w WHERE w.run_id = $1::bigint"
    " AND w.rank > 0 AND NOT EXISTS (SELECT 1 FROM fetches f WHERE f.run_id = $1::bigint"
    "  AND f.worker_rank = w.rank)"
    " ORDER BY 1, 2, 3";

static const char SQL_STATUS[] =
    "SELECT http_status, fetches FROM status_counts WHERE job_id = $1::bigint"
    " ORDER BY http_status NULLS LAST";

static const char SQL_HOST_ERRORS[] =
    "WITH top AS (SELECT job_id, host, fetches, errors, http_4xx, http_5xx, network_errors"
    "  FROM host_stats WHERE job_id = $1::bigint AND errors > 0"
    "  ORDER BY errors DESC, host LIMIT " TOP_HOSTS ")"
    " SELECT t.host, t.errors, t.fetches, t.http_4xx AS \"4xx\", t.http_5xx AS \"5xx\","
    " t.network_errors AS \"no response\", e.error AS \"most frequent error\","
    " e.url AS \"for example\" FROM top t LEFT JOIN LATERAL (SELECT f.error, min(f.url) AS url"
    "  FROM fetches f JOIN urls u ON u.id = f.url_id WHERE u.job_id = t.job_id"
    "  AND u.host = t.host AND f.error IS NOT NULL GROUP BY f.error"
    "  ORDER BY count(*) DESC, f.error LIMIT 1) e ON true"
    " ORDER BY t.errors DESC, t.host";

static const char SQL_HOST_LATENCY[] =
    "SELECT host, round(p95_ms::numeric) AS \"p95 ms\", round(median_ms::numeric) AS"
    " \"median ms\", fetches FROM host_stats WHERE job_id = $1::bigint AND p95_ms IS NOT NULL"
    " ORDER BY p95_ms DESC, host LIMIT " TOP_HOSTS;

static const char SQL_RECORDS_CHART[] =
    "SELECT CASE WHEN parser = 'rules' THEN 'rules: ' || coalesce(rule_set, '?') ELSE parser"
    " END, count(*) FROM records WHERE job_id = $1::bigint GROUP BY parser, rule_set"
    " ORDER BY 2 DESC, 1 LIMIT " TOP_RECORDS;

static const char SQL_RECORDS_TABLE[] =
    "SELECT parser, rule_set AS \"rule set\", record_type AS record, count(*) AS records,"
    " count(DISTINCT url_id) AS pages FROM records WHERE job_id = $1::bigint"
    " GROUP BY 1, 2, 3 ORDER BY 1, 2 NULLS FIRST, 3 NULLS FIRST";

/* The rules feedback of each run (runs.summary "rule_sets", coordinator/rulestats.h). */
static const char SQL_RULES_FEEDBACK[] =
    "SELECT r.id AS run, x.key AS \"rule set\", (x.value ->> 'pages')::bigint AS pages,"
    " (x.value ->> 'records')::bigint AS records,"
    " (x.value ->> 'dropped')::bigint AS \"dropped (required)\","
    " (x.value ->> 'empty')::bigint AS \"empty records\","
    " (x.value ->> 'empty_fields')::bigint AS \"empty fields\""
    " FROM runs r, jsonb_each(CASE WHEN jsonb_typeof(r.summary -> 'rule_sets') = 'object'"
    "   THEN r.summary -> 'rule_sets' ELSE '{}'::jsonb END) AS x(key, value)"
    " WHERE r.job_id = $1::bigint ORDER BY r.id, x.key";

static const char SQL_RUNS[] =
    "SELECT run_id AS run, " TS("started_at") " AS started, " TS("finished_at") " AS ended,"
    " status || coalesce(' (exit ' || exit_code || ')', '') AS \"state (exit)\", pages, records,"
    " errors, round(pages_per_s::numeric, 1) AS \"pages/s\", workers,"
    " (SELECT string_agg(w.rank || '@' || w.host, ' ' ORDER BY w.rank) FROM run_workers w"
    "  WHERE w.run_id = s.run_id) AS \"rank@host\", island"
    " FROM run_summary s WHERE job_id = $1::bigint ORDER BY run_id";

/* ------------------------------------------------------------------ the page */

static const char STYLE[] =
    "body{margin:0;padding:24px 32px;background:#fff;color:#1d2330;"
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,"
    "sans-serif}\n"
    "main{max-width:1060px;margin:0 auto}\n"
    "h1{font-size:24px;margin:0 0 4px}\n"
    "h2{font-size:18px;margin:36px 0 8px;padding-bottom:4px;border-bottom:1px solid #d9dce3}\n"
    "h3{font-size:15px;margin:22px 0 6px}\n"
    ".generated,.note{color:#5a6270}\n"
    ".empty{padding:12px 16px;background:#f6f7f9;border-left:4px solid #b8bcc6}\n"
    "table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}\n"
    "th,td{padding:4px 10px;border-bottom:1px solid #e4e6eb;text-align:left;"
    "vertical-align:top}\n"
    "td{overflow-wrap:anywhere}\n"
    "th{background:#f4f5f7;font-weight:600;white-space:nowrap}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.null{color:#9aa0ab}\n"
    "table.pairs th{width:160px}\n"
    "figure{margin:18px 0}\n"
    "figcaption{font-size:13px;font-weight:600;color:#3a4150}\n"
    "svg.chart{display:block;margin:8px 0 4px}\n"
    "svg.chart text{font:12px system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
    "fill:#333}\n"
    "svg.chart .axis-title{font-weight:600;fill:#555}\n"
    "svg.chart .grid{stroke:#e6e8ec;stroke-width:1}\n"
    "svg.chart .axis-line{stroke:#8a8f99;stroke-width:1}\n";

struct report {
    PGconn *db;
    FILE *out;
    const char *job_id; /* the job's id as text: $1 of the queries */
    char err[1024];
};

static PGresult *job_query(struct report *r, const char *what, const char *sql)
{
    const char *p[1] = {r->job_id};
    return scr_db_exec(r->db, what, sql, 1, p, r->err, sizeof(r->err));
}

static void write_head(FILE *out, const char *job, const char *generated)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>scrape report: ", out);
    scr_html_text(out, job, 0);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", STYLE);
    fputs("<header>\n<h1>Crawl report: <span class=\"job\">", out);
    scr_html_text(out, job, 0);
    fputs("</span></h1>\n<p class=\"generated\">Generated ", out);
    scr_html_text(out, generated, 0);
    fputs(" UTC by scrape " SCR_VERSION " from the job's database; times are UTC.</p>\n"
          "</header>\n", out);
}

/* ------------------------------------------------------------------ pages per minute */

struct worker_line {
    char name[160]; /* rank@host: the series */
    char key[200];  /* the legend: rank@host: N fetches */
    long long fetches;
    double *y; /* pages per minute in each bucket; into one block owned by the caller */
};

/* The bucket width for a run of span seconds: the smallest round width that gives at most
 * CHART_BUCKETS buckets. */
static double bucket_width(double span)
{
    static const double widths[] = {1,    2,    5,     10,    15,    30,    60,
                                    120,  300,  600,   900,   1800,  3600,  7200,
                                    10800, 21600, 43200, 86400, 172800, 604800};
    size_t n = sizeof(widths) / sizeof(widths[0]);

    for (size_t i = 0; i < n; i++)
        if (floor(span / widths[i]) + 1 <= CHART_BUCKETS)
            return widths[i];
    return ceil(span / (CHART_BUCKETS - 1) / widths[n - 1]) * widths[n - 1];
}

/* Fills lines from the throughput rows (ordered by rank, host, bucket): one line per worker,
 * each with y[n] from ys.  Returns the number of lines. */
static size_t worker_lines(const PGresult *res, struct worker_line *lines, double *ys, size_t n,
                           double width)
{
    size_t count = 0;

    for (int i = 0; i < PQntuples(res); i++) {
        const char *rank = PQgetvalue(res, i, 0), *host = PQgetvalue(res, i, 1);
        long bucket = strtol(PQgetvalue(res, i, 2), NULL, 10);
        long long k = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        struct worker_line *w;

        if (i == 0 || strcmp(rank, PQgetvalue(res, i - 1, 0)) != 0 ||
            strcmp(host, PQgetvalue(res, i - 1, 1)) != 0) {
            w = &lines[count];
            w->y = ys + count * n;
            snprintf(w->name, sizeof(w->name), "%s@%.120s", rank, host);
            count++;
        }
        w = &lines[count - 1];
        bucket = bucket < 0 ? 0 : (size_t)bucket >= n ? (long)n - 1 : bucket;
        w->y[bucket] += (double)k * 60.0 / width;
        w->fetches += k;
    }
    for (size_t i = 0; i < count; i++)
        snprintf(lines[i].key, sizeof(lines[i].key), "%s: %lld fetches", lines[i].name,
                 lines[i].fetches);
    return count;
}

/* The time axis: a labelled tick every few buckets, at round times. */
static size_t time_ticks(struct scr_svg_tick *t, size_t max, double t0, double width, size_t n)
{
    size_t every = (n + max - 1) / max, count = 0;

    for (size_t i = 0; i < n && count < max; i += every) {
        time_t at = (time_t)floor(t0 + (double)i * width);
        struct tm tm;
        gmtime_r(&at, &tm);
        t[count].at = (double)i / (double)n;
        strftime(t[count].label, sizeof(t[count].label),
                 width >= 86400 ? "%m-%d" : width >= 60 ? "%H:%M" : "%H:%M:%S", &tm);
        count++;
    }
    return count;
}

/* One run's time axis: first and last fetch, the buckets (start, width in seconds, count). */
struct run_span {
    const char *id;
    double first, last, start, width;
    size_t n;
};

/* Writes "HH:MM:SS" (with the date when with_date) of t, seconds since 1970, UTC. */
static void put_time(FILE *out, double t, int with_date)
{
    time_t at = (time_t)floor(t);
    struct tm tm;
    char text[32];

    gmtime_r(&at, &tm);
    strftime(text, sizeof(text), with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
    fputs(text, out);
}

/* Draws the lines of one run; keys[i] is the legend of lines[i]. */
static void draw_run(FILE *out, const struct run_span *run, const struct worker_line *lines,
                     const char *const *keys, size_t nlines)
{
    struct scr_svg_plot p = {CHART_WIDTH, 0, 70, 24, 16, 0, 0, 0};
    struct scr_svg_tick ticks[8];
    char title[200];
    long long fetches = 0;
    double top = 0;

    for (size_t i = 0; i < nlines; i++) {
        fetches += lines[i].fetches;
        for (size_t b = 0; b < run->n; b++)
            top = fmax(top, lines[i].y[b]);
    }
    p.bottom = scr_svg_legend_height(nlines, 3);
    p.height = 260 + p.bottom;
    p.vmax = scr_svg_nice_max(top, 5, &p.vstep);
    snprintf(title, sizeof(title), "Run %s: pages per minute by worker, %.0f s buckets", run->id,
             run->width);
    fprintf(out, "<figure class=\"run\" data-run=\"%s\">\n<figcaption>Run %s: %lld fetches by %zu"
            " worker%s, ", run->id, run->id, fetches, nlines, nlines == 1 ? "" : "s");
    put_time(out, run->first, 1);
    fputs(" to ", out);
    put_time(out, run->last, floor(run->first / 86400) != floor(run->last / 86400));
    fprintf(out, " UTC, in buckets of %.0f s.</figcaption>\n", run->width);
    scr_svg_open(out, &p, "throughput", title);
    scr_svg_y_axis(out, &p, "pages per minute");
    scr_svg_x_axis(out, &p, ticks, time_ticks(ticks, 8, run->start, run->width, run->n),
                   "time (UTC)");
    for (size_t i = 0; i < nlines; i++)
        scr_svg_line(out, &p, lines[i].y, run->n, i, lines[i].name);
    scr_svg_legend(out, &p, keys, nlines, 3);
    scr_svg_close(out);
    fputs("</figure>\n", out);
}

/* The number of workers in the throughput rows (ordered by rank, host). */
static size_t count_workers(const PGresult *res)
{
    size_t n = 0;

    for (int i = 0; i < PQntuples(res); i++)
        if (i == 0 || strcmp(PQgetvalue(res, i, 0), PQgetvalue(res, i - 1, 0)) != 0 ||
            strcmp(PQgetvalue(res, i, 1), PQgetvalue(res, i - 1, 1)) != 0)
            n++;
    return n;
}

/* One run's chart, from a row of SQL_RUN_SPANS: its id, first and last fetch (seconds since
 * 1970 as the server wrote them, exact).  SCR_EDB (r->err). */
static int chart_run(struct report *r, const PGresult *spans, int row)
{
    struct run_span run = {PQgetvalue(spans, row, 0), strtod(PQgetvalue(spans, row, 1), NULL),
                           strtod(PQgetvalue(spans, row, 2), NULL), 0, 0, 0};
    char start_text[32], width_text[32];
    const char *p[3] = {run.id, start_text, width_text};
    struct worker_line *lines;
    const char **keys;
    double *ys;
    size_t nlines;
    PGresult *res;

    /* buckets start at a multiple of their width, so the ticks fall on round times */
    run.width = bucket_width(run.last - run.first);
    run.start = floor(run.first / run.width) * run.width;
    run.n = (size_t)floor((run.last - run.start) / run.width) + 1;
    snprintf(start_text, sizeof(start_text), "%.0f", run.start);
    snprintf(width_text, sizeof(width_text), "%.0f", run.width);
    res = scr_db_exec(r->db, "counting a run's fetches per worker and minute", SQL_THROUGHPUT,
                      3, p, r->err, sizeof(r->err));
    if (!res)
        return SCR_EDB;
    nlines = count_workers(res);
    lines = scr_xcalloc(nlines + 1, sizeof(*lines));
    keys = scr_xcalloc(nlines + 1, sizeof(*keys));
    ys = scr_xcalloc((nlines + 1) * run.n, sizeof(*ys)); /* run.n ~ CHART_BUCKETS */
    nlines = worker_lines(res, lines, ys, run.n, run.width);
    for (size_t i = 0; i < nlines; i++)
        keys[i] = lines[i].key;
    draw_run(r->out, &run, lines, keys, nlines);
    free(ys);
    free(keys);
    free(lines);
    PQclear(res);
    return SCR_OK;
}

static int section_throughput(struct report *r)
{
    PGresult *res = job_query(r, "finding the runs with fetches", SQL_RUN_SPANS);
    int rc = SCR_OK, runs;

    if (!res)
        return SCR_EDB;
    fputs("<section id=\"throughput\">\n<h2>Pages per minute, per worker</h2>\n"
          "<p class=\"note\">Every stored fetch (errors and 304s too) by the minute it was stored,"
          " one line per worker rank and its host, the last run first.  On a mixed cluster, a"
          " node whose line stays below the others' is the one that does not keep up.</p>\n",
          r->out);
    runs = PQntuples(res);
    if (runs == 0)
        scr_report_empty(r->out, "No fetches: nothing to chart.");
    for (int i = 0; i < runs && i < CHART_RUNS && rc == SCR_OK; i++)
        rc = chart_run(r, res, i);
    if (runs > CHART_RUNS)
        fprintf(r->out, "<p class=\"note\">%d earlier runs with fetches are not charted.</p>\n",
                runs - CHART_RUNS);
    fputs("</section>\n", r->out);
    PQclear(res);
    return rc;
}

/* ------------------------------------------------------------------ bar charts */

static const char *status_fill(const char *status)
{
    long s = status ? strtol(status, NULL, 10) : 0; /* "error" and the like: 0 */

    if (s >= 200 && s < 300)
        return "#2ca02c";
    if (s >= 300 && s < 400)
        return "#1f77b4";
    if (s >= 400 && s < 500)
        return "#ff7f0e";
    if (s >= 500)
        return "#d62728";
    return "#7f7f7f";
}

/* Bars from the result's first column (label) and second (value); NULL labels become
 * null_label.  Caller frees; never NULL. */
static struct scr_svg_bar *result_bars(const PGresult *res, const char *null_label,
                                       const char *fill, double *top)
{
    size_t n = (size_t)PQntuples(res);
    struct scr_svg_bar *b = scr_xcalloc(n + 1, sizeof(*b));

    *top = 0;
    for (size_t i = 0; i < n; i++) {
        b[i].label = PQgetisnull(res, (int)i, 0) ? null_label : PQgetvalue(res, (int)i, 0);
        b[i].value = strtod(PQgetvalue(res, (int)i, 1), NULL);
        b[i].inner = -1;
        b[i].fill = fill ? fill : status_fill(PQgetisnull(res, (int)i, 0) ? NULL
                                              : PQgetvalue(res, (int)i, 0));
        *top = fmax(*top, b[i].value);
    }
    return b;
}

static int section_status(struct report *r)
{
    PGresult *res = job_query(r, "counting the status codes", SQL_STATUS);
    struct scr_svg_plot p = {CHART_WIDTH, 300, 70, 24, 24, 44, 0, 0};
    struct scr_svg_bar *bars = NULL;
    double top;
    int rc = SCR_OK;

    if (!res)
        return SCR_EDB;
    fputs("<section id=\"status\">\n<h2>Status codes</h2>\n<p class=\"note\">Fetches per HTTP"
          " status, retries included; <q>no response</q> counts the transfers that got no HTTP"
          " answer (timeouts, refused connections, DNS errors).</p>\n", r->out);
    if (PQntuples(res) == 0) {
        scr_report_empty(r->out, "No fetches.");
    } else {
        bars = result_bars(res, "no response", NULL, &top);
        p.vmax = scr_svg_nice_max(fmax(top, 5), 5, &p.vstep);
        scr_svg_open(r->out, &p, "status", "Fetches per HTTP status");
        scr_svg_y_axis(r->out, &p, "fetches");
        scr_svg_vbars(r->out, &p, bars, (size_t)PQntuples(res));
        scr_svg_close(r->out);
    }
    fputs("</section>\n", r->out);
    free(bars);
    PQclear(res);
    return rc;
}

/* A horizontal bar chart of n rows, CLS and its title. */
static void draw_hbars(FILE *out, const struct scr_svg_bar *bars, size_t n, double top,
                       const char *cls, const char *title, const char *unit)
{
    struct scr_svg_plot p = {CHART_WIDTH, 0, 290, 240, 8, 30, 0, 0};

    p.height = p.top + p.bottom + 30 * (int)n;
    p.vmax = scr_svg_nice_max(fmax(top, 6), 6, &p.vstep); /* counts: whole steps */
    scr_svg_open(out, &p, cls, title);
    scr_svg_hbars(out, &p, bars, n, unit);
    scr_svg_close(out);
}

static int hosts_errors(struct report *r)
{
    PGresult *res = job_query(r, "finding the hosts with most errors", SQL_HOST_ERRORS);
    struct scr_svg_bar *bars = NULL;
    double top;
    int rc = SCR_OK;

    if (!res)
        return SCR_EDB;
    fputs("<h3>Most errors</h3>\n", r->out);
    if (PQntuples(res) == 0) {
        scr_report_empty(r->out, "No fetch ended in an error.");
    } else {
        bars = result_bars(res, "?", "#d62728", &top);
        draw_hbars(r->out, bars, (size_t)PQntuples(res), top, "host-errors",
                   "Hosts with most errors", "errors");
        scr_report_table(r->out, res, "host-errors");
    }
    free(bars);
    PQclear(res);
    return rc;
}

static int hosts_latency(struct report *r)
{
    PGresult *res = job_query(r, "finding the slowest hosts", SQL_HOST_LATENCY);
    struct scr_svg_bar *bars = NULL;
    char (*text)[64] = NULL;
    double top;
    int rc = SCR_OK, n;

    if (!res)
        return SCR_EDB;
    n = PQntuples(res);
    fputs("<h3>Slowest (transfer time on the worker, p95 pale, median dark)</h3>\n", r->out);
    if (n == 0) {
        scr_report_empty(r->out, "No fetches.");
    } else {
        bars = result_bars(res, "?", "#1f77b4", &top);
        text = scr_xcalloc((size_t)n, sizeof(*text));
        for (int i = 0; i < n; i++) {
            bars[i].inner = strtod(PQgetvalue(res, i, 2), NULL);
            snprintf(text[i], sizeof(text[i]), "median %s ms, p95 %s ms",
                     PQgetvalue(res, i, 2), PQgetvalue(res, i, 1));
            bars[i].text = text[i];
        }
        draw_hbars(r->out, bars, (size_t)n, top, "host-latency", "Slowest hosts (p95)", "ms");
        scr_report_table(r->out, res, "host-latency");
    }
    free(text);
    free(bars);
    PQclear(res);
    return rc;
}

/* Hosts whose robots.txt got no answer in a run (host_outages; written only when there are
 * some): since when, in how many runs, and what became of their URLs. */
static int hosts_unreachable(struct report *r)
{
    PGresult *res = job_query(
        r, "finding unreachable hosts",
        "SELECT o.host, o.runs, to_char(o.since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
        " AS \"down since (UTC)\", o.last_error AS \"last error\","
        " count(u.id) FILTER (WHERE u.state = 'failed') AS \"URLs failed\","
        " count(u.id) FILTER (WHERE u.state = 'queued') AS \"URLs waiting\","
        " min(u.error) FILTER (WHERE u.state = 'failed') AS reason"
        " FROM host_outages o LEFT JOIN urls u ON u.job_id = o.job_id AND u.host = o.host"
        " WHERE o.job_id = $1::bigint GROUP BY o.host, o.runs, o.since, o.last_error"
        " ORDER BY o.runs DESC, o.host LIMIT " TOP_HOSTS);

    if (!res)
        return SCR_EDB;
    if (PQntuples(res) > 0) {
        fputs("<h3>Unreachable hosts</h3>\n<p class=\"note\">robots.txt got no answer in these"
              " runs; their URLs fail after <code>--host-down-runs</code> runs and"
              " <code>--host-down-after</code>.</p>\n", r->out);
        scr_report_table(r->out, res, "host-down");
    }
    PQclear(res);
    return SCR_OK;
}

static int section_hosts(struct report *r)
{
    int rc;

    fputs("<section id=\"hosts\">\n<h2>Hosts</h2>\n", r->out);
    if (!(rc = hosts_unreachable(r)) && !(rc = hosts_errors(r)))
        rc = hosts_latency(r);
    fputs("</section>\n", r->out);
    return rc;
}

static int section_records(struct report *r)
{
    PGresult *chart = job_query(r, "counting records per parser", SQL_RECORDS_CHART), *table;
    struct scr_svg_bar *bars = NULL;
    double top;
    int rc = SCR_OK;

    if (!chart)
        return SCR_EDB;
    if (!(table = job_query(r, "counting records per rule set", SQL_RECORDS_TABLE))) {
        PQclear(chart);
        return SCR_EDB;
    }
    fputs("<section id=\"records\">\n<h2>Records</h2>\n<p class=\"note\">Records per parser,"
          " and for the rules parser per rule set (the <code>site</code> of the rules file);"
          " pages: the URLs they came from.</p>\n", r->out);
    if (PQntuples(chart) == 0) {
        scr_report_empty(r->out, "No records.");
    } else {
        bars = result_bars(chart, "?", "#9467bd", &top);
        draw_hbars(r->out, bars, (size_t)PQntuples(chart), top, "records",
                   "Records per parser and rule set", "records");
        scr_report_table(r->out, table, "records");
    }
    PQclear(table);
    if (!(table = job_query(r, "reading the rules feedback", SQL_RULES_FEEDBACK))) {
        PQclear(chart);
        free(bars);
        return SCR_EDB;
    }
    if (PQntuples(table) > 0) {
        fputs("<h3>Rules feedback</h3>\n<p class=\"note\">Per run and rule set: pages whose"
              " URL it matched, records stored, records dropped because a"
              " <code>required</code> field found nothing, records left out because no field"
              " found anything, and fields of stored records that found nothing (left out, or"
              " their <code>default</code> used).</p>\n", r->out);
        scr_report_table(r->out, table, "rulefeedback");
    }
    fputs("</section>\n", r->out);
    free(bars);
    PQclear(table);
    PQclear(chart);
    return rc;
}

/* ------------------------------------------------------------------ tables */

static int section_summary(struct report *r, int *has_fetches)
{
    PGresult *res = job_query(r, "summing up the job", SQL_SUMMARY);

    if (!res)
        return SCR_EDB;
    *has_fetches = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    fputs("<section id=\"summary\">\n<h2>Summary</h2>\n", r->out);
    scr_report_pairs(r->out, res, "summary");
    if (!*has_fetches)
        scr_report_empty(r->out, "This job has no fetches yet: there is nothing to chart. The runs, "
                            "if any, are listed below.");
    fputs("</section>\n", r->out);
    PQclear(res);
    return SCR_OK;
}

static int section_runs(struct report *r)
{
    PGresult *res = job_query(r, "listing the runs", SQL_RUNS);

    if (!res)
        return SCR_EDB;
    fputs("<section id=\"runs\">\n<h2>Runs</h2>\n<p class=\"note\">From each run's summary,"
          " written when it ends (empty while it runs or if it died); pages counts results,"
          " errors included.</p>\n", r->out);
    if (PQntuples(res) == 0)
        scr_report_empty(r->out, "No runs.");
    else
        scr_report_table(r->out, res, "runs");
    fputs("</section>\n", r->out);
    PQclear(res);
    return SCR_OK;
}

/* The whole page.  SCR_EDB (r->err). */
static int report_write(struct report *r, const char *job, const char *generated)
{
    int rc, has_fetches = 0;

    write_head(r->out, job, generated);
    if ((rc = section_summary(r, &has_fetches)))
        return rc;
    if (has_fetches && ((rc = section_throughput(r)) || (rc = section_status(r)) ||
                        (rc = section_hosts(r)) || (rc = section_records(r))))
        return rc;
    if ((rc = section_runs(r)))
        return rc;
    fputs("</main>\n</body>\n</html>\n", r->out);
    return SCR_OK;
}

/* ------------------------------------------------------------------ the command */

/* Splits -o FILE out of the positional arguments.  0, or SCR_EUSAGE. */
static int take_output(const struct scr_strvec *pos, const char **output, char *err,
                       size_t errlen)
{
    if (pos->n == 2 && strcmp(pos->v[0], "-o") == 0) {
        *output = pos->v[1];
        return SCR_OK;
    }
    if (pos->n == 0)
        return SCR_OK;
    snprintf(err, errlen, "unexpected argument '%s'", pos->v[0]);
    return SCR_EUSAGE;
}

/* Connects, opens the read-only snapshot and finds the job: its id into job_id and the
 * server's time into generated.  An exit code. */
static int report_open(struct report *r, const struct scr_settings *s, char *job_id,
                       size_t idlen, char *generated, size_t genlen)
{
    const char *p[1] = {s->job};
    PGresult *res = NULL;
    int code = SCR_EXIT_OK;

    if ((code = scr_db_connect(&r->db, scr_db_conninfo(s->db), 0, r->err, sizeof(r->err))))
        return code == SCR_EUSAGE ? SCR_EXIT_USAGE : SCR_EXIT_DB;
    if (scr_db_command(r->db, "starting the report",
                       "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, r->err,
                       sizeof(r->err)) ||
        scr_db_command(r->db, "setting the time zone", "SET LOCAL TimeZone = 'UTC'", 0, NULL,
                       r->err, sizeof(r->err)) ||
        scr_db_command(r->db, "setting the encoding", "SET client_encoding = 'UTF8'", 0, NULL,
                       r->err, sizeof(r->err)) ||
        !(res = scr_db_exec(r->db, "finding the job", SQL_JOB, 1, p, r->err, sizeof(r->err)))) {
        code = SCR_EXIT_DB;
        goto out;
    }
    if (PQntuples(res) != 1) {
        char jobs[512];
        if (scr_db_list_names(r->db, "listing the jobs", "SELECT name FROM jobs ORDER BY name",
                              0, NULL, 20, jobs, sizeof(jobs), r->err, sizeof(r->err))) {
            code = SCR_EXIT_DB;
            goto out;
        }
        snprintf(r->err, sizeof(r->err), "no job named '%s' in this database (its jobs: %s)",
                 s->job, jobs);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    snprintf(job_id, idlen, "%s", PQgetvalue(res, 0, 0));
    snprintf(generated, genlen, "%s", PQgetvalue(res, 0, 1));
out:
    PQclear(res);
    return code;
}

int scr_cmd_report(int argc, char **argv, int start)
{
    struct scr_settings s;
    struct scr_strvec pos;
    struct report r = {NULL, stdout, NULL, ""};
    const char *output = NULL;
    char job_id[32], generated[64], *part = NULL;
    int code = SCR_EXIT_OK;
    struct scr_cli_extra extra[] = {{"output", &output, NULL, NULL}};

    scr_settings_init(&s);
    scr_strvec_init(&pos);
    if (scr_cli_parse(argc, argv, start, &s, extra, 1, &pos, r.err, sizeof(r.err)) ||
        take_output(&pos, &output, r.err, sizeof(r.err))) {
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if ((code = report_open(&r, &s, job_id, sizeof(job_id), generated, sizeof(generated))))
        goto out;
    r.job_id = job_id;
    if (output && strcmp(output, "-") != 0) {
        if (!(r.out = scr_file_create(output, &part, r.err, sizeof(r.err)))) {
            r.out = stdout;
            code = SCR_EXIT_USAGE;
            goto out;
        }
    }
    if (report_write(&r, s.job, generated) != SCR_OK) { /* SCR_EDB, the reason in r.err */
        code = SCR_EXIT_DB;
        goto out;
    }
    if (fflush(r.out) != 0 || ferror(r.out)) {
        snprintf(r.err, sizeof(r.err), "writing the report: %s", strerror(errno));
        code = SCR_EXIT_FAILURE;
        goto out;
    }
    if (part) {
        FILE *f = r.out;
        r.out = stdout;
        if (scr_file_commit(f, part, output, r.err, sizeof(r.err))) {
            code = SCR_EXIT_FAILURE;
            goto out;
        }
        fprintf(stderr, "scrape report: job '%s' to %s\n", s.job, output);
    }
out:
    if (code)
        fprintf(stderr, "scrape report: %s\n", r.err);
    if (r.out != stdout)
        scr_file_discard(r.out, part);
    PQfinish(r.db);
    free(part);
    scr_strvec_release(&pos);
    scr_settings_release(&s);
    return code;
}
