/* report_table.h - the HTML tables of `scrape report` (see report_table.c). */
#ifndef SCR_REPORT_TABLE_H
#define SCR_REPORT_TABLE_H

#include <stdio.h>

#include <libpq-fe.h>

/* A <table class="CLS"> of res: a header per column (its name), a row per row.  res and cls
 * are borrowed. */
void scr_report_table(FILE *out, const PGresult *res, const char *cls);
/* The first row of res as a two-column table (name, value), class "pairs CLS". */
void scr_report_pairs(FILE *out, const PGresult *res, const char *cls);
/* <p class="empty">TEXT</p>, the text escaped. */
void scr_report_empty(FILE *out, const char *text);

#endif
