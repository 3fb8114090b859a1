/* cmd_robots.c - `scrape robots`: would this crawler be allowed to fetch these URLs?
 *
 *   scrape robots --agent NAME --robots FILE URL...
 *
 * Reads a saved robots.txt and prints "allow URL" or "disallow URL" per argument, in order,
 * using scr_robots_parse() and scr_robots_allowed_url(): the code the crawl runs, so the
 * answer is the crawl's.  URLs are matched as given (not normalized); an argument without
 * "scheme://" is taken as a path.  FILE may be "-" for standard input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "coordinator/robots.h"

static const char usage[] = "usage: scrape robots --agent NAME --robots FILE|- URL...\n";

int scr_cmd_robots(int argc, char **argv, int start)
{
    struct scr_settings s;
    struct scr_strvec pos;
    struct scr_buf body;
    struct scr_robots *r = NULL;
    const char *agent = NULL, *file = NULL;
    char err[512];
    int code = SCR_EXIT_OK, rc;
    struct scr_cli_extra extra[] = {{"agent", &agent, NULL, NULL},
                                    {"robots", &file, NULL, NULL}};

    scr_settings_init(&s);
    scr_strvec_init(&pos);
    scr_buf_init(&body);
    if (scr_cli_parse(argc, argv, start, &s, extra, 2, &pos, err, sizeof(err))) {
        fprintf(stderr, "scrape robots: %s\n%s", err, usage);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if (!agent || !*agent || !file || pos.n == 0) {
        fprintf(stderr, "scrape robots: %s\n%s",
                !agent || !*agent ? "--agent is required"
                : !file           ? "--robots is required"
                                  : "no URL given",
                usage);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    /* a little more than the parser's cap, so it sees that more follows and drops a line
     * the cap cuts, as it would in a crawl */
    body.data = scr_file_read(file, 2 * (size_t)SCR_ROBOTS_MAX_BYTES, SCR_FILE_CUT, &body.len,
                              err, sizeof(err));
    if (!body.data) {
        fprintf(stderr, "scrape robots: %s\n", err);
        code = SCR_EXIT_USAGE;
        goto out;
    }
    if ((rc = scr_robots_parse(body.data, body.len, &r)) != SCR_OK) {
        fprintf(stderr, "scrape robots: %s: %s\n", file, scr_strerror(rc));
        code = SCR_EXIT_FAILURE;
        goto out;
    }
    for (size_t i = 0; i < pos.n; i++)
        printf("%s %s\n", scr_robots_allowed_url(r, agent, pos.v[i]) ? "allow" : "disallow",
               pos.v[i]);
    if (fflush(stdout))
        code = SCR_EXIT_FAILURE;
out:
    scr_robots_free(r);
    scr_buf_release(&body);
    scr_strvec_release(&pos);
    scr_settings_release(&s);
    return code;
}
