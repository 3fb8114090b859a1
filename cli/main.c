/* main.c - the scrape binary: picks the command, and for a crawl, the role by MPI rank.
 *
 *   mpiexec -f machinefile ./scrape --seed urls.txt   rank 0 coordinates, the others work
 *   ./scrape --seed urls.txt                           one process: coordinator + threads
 *   mpiexec -f machinefile ./scrape check [--probe URL]   every node and link, the database
 *   ./scrape doctor -f machinefile                   before MPI: which hosts share one job
 *   ./scrape init-db | export | report | extract | url | robots | version | help
 *
 * Everything else lives in libscrape; this file only wires it up.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/error.h"

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;

    if (!cmd || strcmp(cmd, "crawl") == 0)
        return scr_cmd_crawl(argc, argv, cmd ? 2 : 1);
    if (strcmp(cmd, "init-db") == 0)
        return scr_cmd_init_db(argc, argv, 2);
    if (strcmp(cmd, "extract") == 0)
        return scr_cmd_extract(argc, argv, 2);
    if (strcmp(cmd, "url") == 0)
        return scr_cmd_url(argc, argv, 2);
    if (strcmp(cmd, "robots") == 0)
        return scr_cmd_robots(argc, argv, 2);
    if (strcmp(cmd, "check") == 0)
        return scr_cmd_check(argc, argv, 2);
    if (strcmp(cmd, "doctor") == 0)
        return scr_cmd_doctor(argc, argv, 2);
    if (strcmp(cmd, "export") == 0)
        return scr_cmd_export(argc, argv, 2);
    if (strcmp(cmd, "report") == 0)
        return scr_cmd_report(argc, argv, 2);
    if (strcmp(cmd, "version") == 0)
        return scr_cmd_version();
    if (strcmp(cmd, "help") == 0) {
        scr_cmd_usage();
        return SCR_EXIT_OK;
    }
    fprintf(stderr, "scrape: unknown command '%s' (see scrape help)\n", cmd);
    return SCR_EXIT_USAGE;
}
