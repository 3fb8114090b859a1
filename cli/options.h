/* options.h - command-line parsing for every scrape command.
 *
 * Settings (common/settings.h) are accepted as --name VALUE or --name=VALUE (booleans also as
 * a bare --name); a command adds its own options in `extra`.  --config FILE is read first, so
 * command-line values win over the file.
 */
#ifndef SCR_CLI_OPTIONS_H
#define SCR_CLI_OPTIONS_H

#include <stddef.h>

#include "common/settings.h"
#include "common/strvec.h"

struct scr_cli_extra {
    const char *name;    /* without the dashes */
    const char **value;  /* for options with a value (borrowed from argv) */
    int *flag;           /* for flags: set to 1 */
    struct scr_strvec *list; /* for options that may repeat */
};

/* Parses argv[start..argc).  Arguments that are not options go to positional.  --db-file is
 * read here (coordinator/db.h scr_db_read_file) into s->db unless a db was given.  Returns 0,
 * or SCR_EUSAGE with the reason in err. */
int scr_cli_parse(int argc, char **argv, int start, struct scr_settings *s,
                  const struct scr_cli_extra *extra, size_t nextra,
                  struct scr_strvec *positional, char *err, size_t errlen);

/* Warns (scr_warn) when --db on the command line holds a password, and when --header is on
 * the command line (a header may hold a token): under mpiexec every rank's /proc/PID/cmdline
 * shows it.  Call on rank 0 when there is more than one rank. */
void scr_cli_warn_db_argv(int argc, char **argv, int start);

/* Prints every setting with its default and help, for --help. */
void scr_cli_print_settings(void);

#endif
