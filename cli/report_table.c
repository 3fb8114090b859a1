/* report_table.c - the HTML tables of `scrape report` (cli/cmd_report.c): a query result as a
 * table, its first row as name/value pairs, and the line said when a section has no data.
 *
 * Every value and column name goes through scr_html_text() (report_svg.h): hosts, URLs, error
 * texts and rule-set names come from crawled sites.  NULL is shown as "–"; numeric columns
 * (by their PostgreSQL type) are right-aligned.  Nothing here allocates; errors of out are
 * the caller's to check (ferror()).
 */
#include "cli/report_table.h"

#include "cli/report_svg.h"

/* int8, int2, int4, float4, float8, numeric */
static int numeric_type(Oid t)
{
    return t == 20 || t == 21 || t == 23 || t == 700 || t == 701 || t == 1700;
}

/* One <td>: the value escaped, "–" for NULL; numbers right-aligned. */
static void put_cell(FILE *out, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        fputs("<td class=\"null\">–</td>", out);
        return;
    }
    fputs(numeric_type(PQftype(res, col)) ? "<td class=\"num\">" : "<td>", out);
    scr_html_text(out, PQgetvalue(res, row, col), 0);
    fputs("</td>", out);
}

/* A <table class="CLS"> of the result: a header per column (its name), a row per row. */
void scr_report_table(FILE *out, const PGresult *res, const char *cls)
{
    fprintf(out, "<table class=\"%s\">\n<thead><tr>", cls);
    for (int c = 0; c < PQnfields(res); c++) {
        fputs("<th>", out);
        scr_html_text(out, PQfname(res, c), 0);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    for (int i = 0; i < PQntuples(res); i++) {
        fputs("<tr>", out);
        for (int c = 0; c < PQnfields(res); c++)
            put_cell(out, res, i, c);
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

/* The first row of the result as a two-column table: name, value. */
void scr_report_pairs(FILE *out, const PGresult *res, const char *cls)
{
    fprintf(out, "<table class=\"pairs %s\">\n<tbody>\n", cls);
    for (int c = 0; PQntuples(res) > 0 && c < PQnfields(res); c++) {
        fputs("<tr><th>", out);
        scr_html_text(out, PQfname(res, c), 0);
        fputs("</th>", out);
        put_cell(out, res, 0, c);
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

void scr_report_empty(FILE *out, const char *text)
{
    fputs("<p class=\"empty\">", out);
    scr_html_text(out, text, 0);
    fputs("</p>\n", out);
}
