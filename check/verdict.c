/* verdict.c - `scrape check`'s verdict: which ranks are unusable, which only warned about.
 *
 * Every row is compared with rank 0's and with the limits; the marks it gets are the table's
 * MARK column.  Upper-case marks (other build or protocol, no or bad report, failed probe, no
 * answer) make a rank unusable and the check exit 7; lower-case ones (slow link, clock skew,
 * other MPI) are warnings.  Pure: reads the rows, writes their verdict fields.  Called by
 * cli/cmd_check.c.
 */
#include "check/check.h"

#include <stdio.h>
#include <string.h>

#include "common/error.h"

/* --- the verdict ----------------------------------------------------------------------- */

static int same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static void add_mark(struct scr_check_row *r, int fatal, const char *mark)
{
    size_t n = strlen(r->marks);

    if (fatal)
        r->unusable = 1;
    else
        r->warnings++;
    snprintf(r->marks + n, sizeof(r->marks) - n, "%s%s", n ? ", " : "", mark);
}

int scr_check_judge(struct scr_check_row *rows, size_t n, const struct scr_check_limits *lim)
{
    static const struct scr_msg_hello none;
    const struct scr_msg_hello *ref = n ? &rows[0].report.node : &none;
    int unusable = 0;

    for (size_t i = 0; i < n; i++) {
        struct scr_check_row *r = &rows[i];
        const struct scr_msg_hello *h = &r->report.node;

        r->unusable = 0;
        r->warnings = 0;
        r->marks[0] = '\0';
        if (r->report_rc == SCR_ELOST) {
            add_mark(r, 1, "NO REPORT");
        } else if (r->report_rc == SCR_EPROTO) {
            add_mark(r, 1, "BAD REPORT");
        } else {
            if (r->report_rc == SCR_EVERSION)
                add_mark(r, 1, "CHECK LAYOUT DIFFERS");
            if (h->protocol != ref->protocol)
                add_mark(r, 1, "PROTOCOL DIFFERS");
            if (!same(h->version, ref->version) || !same(h->build_id, ref->build_id))
                add_mark(r, 1, "BUILD DIFFERS");
        }
        if (r->report_rc == SCR_OK) {
            uint32_t st = r->report.probe.stage;
            if (lim->probe_asked && st != SCR_PROBE_OK) {
                char m[64];
                snprintf(m, sizeof(m), "PROBE: %s", scr_check_probe_stage_name(st));
                for (char *p = m + 7; *p; p++)
                    if (*p >= 'a' && *p <= 'z')
                        *p = (char)(*p - 'a' + 'A');
                add_mark(r, 1, m);
            }
        }
        if (r->measured && !r->net.ok)
            add_mark(r, 1, "NO ANSWER");
        if (r->measured && r->net.ok) {
            if (r->net.rtt_ns > lim->max_rtt_ns || r->net.mbps < lim->min_mbps)
                add_mark(r, 0, "slow link");
            if (lim->max_offset_ns > 0 && (r->net.offset_ns > lim->max_offset_ns ||
                                           r->net.offset_ns < -lim->max_offset_ns))
                add_mark(r, 0, "clock skew");
        }
        /* other libcurl/libxml2/PCRE2 versions are normal in a mixed cluster: the table's
         * versions section shows them, without a mark */
        if (r->report_rc == SCR_OK && i > 0 && !same(h->mpi_version, ref->mpi_version))
            add_mark(r, 0, "MPI differs");
        unusable += r->unusable;
    }
    return unusable;
}
