/* options.c - argv to settings (see options.h).  The settings table decides names, types
 * and checks; this file only splits "--name=value" and finds the value. */
#include "cli/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/suggest.h"
#include "coordinator/db.h"

static int apply(struct scr_settings *s, const char *name, const char *value, char *err,
                 size_t errlen)
{
    char msg[512];
    int rc;

    if (scr_settings_file_only(name)) {
        snprintf(err, errlen, "%s", scr_settings_file_only(name));
        return SCR_EUSAGE;
    }
    rc = scr_settings_set(s, name, value, msg, sizeof(msg));
    if (rc) {
        snprintf(err, errlen, "%s", msg);
        return SCR_EUSAGE;
    }
    scr_settings_mark_given(s, name);
    return SCR_OK;
}

/* --db-file: read the conninfo here, on the rank that parses the command line (rank 0; a
 * worker never does), unless --db (or db = in the config file) gave one, which wins. */
static int resolve_db_file(struct scr_settings *s, char *err, size_t errlen)
{
    char *conninfo = NULL;

    if (!s->db_file || !*s->db_file || (s->db && *s->db))
        return SCR_OK;
    if (scr_db_read_file(s->db_file, &conninfo, err, errlen))
        return SCR_EUSAGE;
    free(s->db);
    s->db = conninfo;
    return SCR_OK;
}

/* "unknown option --NAME (did you mean --NEAR?); see scrape CMD --help", NEAR taken from
 * the command's own options, the settings and --config/--help.  The command is the word
 * before argv[start] (scrape export ...), or crawl when there is none (scrape --seed ...). */
static void unknown_option(int argc, char **argv, int start, const char *name,
                           const struct scr_cli_extra *extra, size_t nextra, char *err,
                           size_t errlen)
{
    static const char *const own[] = {"config", "help"};
    const char *cmd = start >= 2 && start - 1 < argc ? argv[start - 1] : "crawl";
    const char *near = scr_settings_suggest(name), *cand[2];
    int best = near ? scr_suggest_distance(name, near, 2) : 3;

    for (size_t k = 0; k < nextra + 2; k++) {
        cand[0] = k < nextra ? extra[k].name : own[k - nextra];
        cand[1] = scr_suggest(name, cand, 1);
        if (cand[1] && scr_suggest_distance(name, cand[1], 2) < best) {
            near = cand[1];
            best = scr_suggest_distance(name, near, 2);
        }
    }
    if (near)
        snprintf(err, errlen, "unknown option --%s (did you mean --%s?); see scrape %s --help",
                 name, near, cmd);
    else
        snprintf(err, errlen, "unknown option --%s (see scrape %s --help)", name, cmd);
}

int scr_cli_parse(int argc, char **argv, int start, struct scr_settings *s,
                  const struct scr_cli_extra *extra, size_t nextra,
                  struct scr_strvec *positional, char *err, size_t errlen)
{
    char name[128], msg[512];
    int i;

    /* --config first, so the command line overrides the file */
    for (i = start; i < argc; i++) {
        const char *cfg = NULL;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            cfg = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            cfg = argv[i] + 9;
        if (cfg && scr_settings_load_file(s, cfg, msg, sizeof(msg))) {
            snprintf(err, errlen, "%s", msg);
            return SCR_EUSAGE;
        }
    }
    for (i = start; i < argc; i++) {
        const char *arg = argv[i], *eq, *value = NULL;
        const struct scr_setting_def *d;
        size_t n;
        int found = 0;

        if (strcmp(arg, "--") == 0) {
            for (i++; i < argc; i++)
                scr_strvec_push(positional, argv[i]);
            break;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            scr_strvec_push(positional, arg);
            continue;
        }
        arg += 2;
        eq = strchr(arg, '=');
        n = eq ? (size_t)(eq - arg) : strlen(arg);
        if (n >= sizeof(name)) {
            snprintf(err, errlen, "option too long: --%.40s...", arg);
            return SCR_EUSAGE;
        }
        memcpy(name, arg, n);
        name[n] = '\0';
        if (eq)
            value = eq + 1;
        if (strcmp(name, "config") == 0) {
            if (!eq)
                i++;
            continue;
        }
        for (size_t k = 0; k < nextra; k++) {
            if (strcmp(extra[k].name, name) != 0)
                continue;
            found = 1;
            if (extra[k].flag) {
                *extra[k].flag = 1;
            } else {
                if (!value) {
                    if (i + 1 >= argc) {
                        snprintf(err, errlen, "--%s needs a value", name);
                        return SCR_EUSAGE;
                    }
                    value = argv[++i];
                }
                if (extra[k].list)
                    scr_strvec_push(extra[k].list, value);
                else
                    *extra[k].value = value;
            }
            break;
        }
        if (found)
            continue;
        d = scr_settings_find(name);
        if (!d) {
            unknown_option(argc, argv, start, name, extra, nextra, err, errlen);
            return SCR_EUSAGE;
        }
        if (!value) {
            if (d->type == SCR_SET_BOOL) {
                value = "true";
            } else {
                if (i + 1 >= argc) {
                    snprintf(err, errlen, "--%s needs a value", name);
                    return SCR_EUSAGE;
                }
                value = argv[++i];
            }
        }
        if (apply(s, name, value, err, errlen))
            return SCR_EUSAGE;
    }
    return resolve_db_file(s, err, errlen);
}

void scr_cli_print_settings(void)
{
    size_t n;
    const struct scr_setting_def *defs = scr_settings_table(&n);

    for (size_t i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s", defs[i].name,
                 defs[i].type == SCR_SET_BOOL ? "" : " VALUE");
        printf("  %-26s %s", left, defs[i].help);
        if (defs[i].defval && *defs[i].defval && defs[i].type != SCR_SET_BOOL)
            printf(" [%s]", defs[i].defval);
        printf("\n");
    }
}

void scr_cli_warn_db_argv(int argc, char **argv, int start)
{
    for (int i = start; i < argc; i++) {
        if (strcmp(argv[i], "--header") == 0 || strncmp(argv[i], "--header=", 9) == 0) {
            scr_warn("--header is on the command line, and mpiexec starts every rank with the "
                     "same command line: any user on every node can read it in "
                     "/proc/PID/cmdline. A header that holds a secret belongs in a --config "
                     "file (header = Name: value; read on rank 0 only)");
            break;
        }
    }
    for (int i = start; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            v = argv[i + 1];
        else if (strncmp(argv[i], "--db=", 5) == 0)
            v = argv[i] + 5;
        if (v && scr_db_has_password(v)) {
            scr_warn("--db holds a password, and mpiexec starts every rank with the same "
                     "command line: any user on every node can read it in /proc/PID/cmdline. "
                     "Use --db-file FILE (mode 600, read on rank 0 only), a service file "
                     "(--db service=NAME) or ~/.pgpass instead (docs/cluster.md)");
            return;
        }
    }
}
