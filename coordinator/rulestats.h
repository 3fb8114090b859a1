/* rulestats.h - rank 0's feedback for rules authors: per rule set, what a run's pages got.
 *
 * Each RESULT of a parsed page carries what each matched rule set did on it (wire.h,
 * scr_result.rules_stats; parsers/rules.h).  The dispatcher thread adds those of every stored
 * result here; the end of the run puts the sums in runs.summary ("rule_sets") and prints them
 * (summary.c).  Every rule set of the rules file has a row, also one that matched no page.
 */
#ifndef SCR_RULESTATS_H
#define SCR_RULESTATS_H

#include <jansson.h>
#include <stdio.h>

struct scr_rulestats {
    json_t *sets; /* rule set name -> {"pages","records","dropped","empty","empty_fields"};
                   * NULL when the run has no rules */
};

/* Starts the sums with a zero row for each rule set of rules_text (borrowed; NULL or a text
 * that does not compile: no rows until results bring some). */
void scr_rulestats_init(struct scr_rulestats *rs, const char *rules_text);
void scr_rulestats_release(struct scr_rulestats *rs);

/* Adds one page's feedback (a JSON array text; NULL, "" or malformed: nothing). */
void scr_rulestats_add(struct scr_rulestats *rs, const char *page_json);

/* Sets summary["rule_sets"] to the sums (nothing when the run has no rules). */
void scr_rulestats_put(const struct scr_rulestats *rs, json_t *summary);

/* Prints the table of the run summary to f (nothing when the run has no rules). */
void scr_rulestats_print(const struct scr_rulestats *rs, FILE *f);

#endif
