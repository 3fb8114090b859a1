/* commands.h - the scrape subcommands.  Each returns a process exit code (enum scr_exit). */
#ifndef SCR_CLI_COMMANDS_H
#define SCR_CLI_COMMANDS_H

#include <stdio.h>

int scr_cmd_crawl(int argc, char **argv, int start);
/* `scrape reextract`: the parsers over stored pages (coordinator/reextract.h). */
int scr_cmd_reextract(int argc, char **argv, int start);
int scr_cmd_init_db(int argc, char **argv, int start);
int scr_cmd_extract(int argc, char **argv, int start);
int scr_cmd_url(int argc, char **argv, int start);
int scr_cmd_robots(int argc, char **argv, int start);
int scr_cmd_export(int argc, char **argv, int start);
int scr_cmd_report(int argc, char **argv, int start);
int scr_cmd_jobs(int argc, char **argv, int start);
int scr_cmd_check(int argc, char **argv, int start);
int scr_cmd_doctor(int argc, char **argv, int start);
int scr_cmd_version(void);
void scr_cmd_usage(void);
/* The --help texts of check and doctor (the others' are in main.c's command table). */
void scr_cmd_check_usage(void);
void scr_cmd_doctor_usage(FILE *f);

#endif
