/* suggest.h - "did you mean": the nearest of a list of names to a mistyped one.
 *
 * Used for mistyped options, config keys and subcommands.  Distance is the optimal string
 * alignment form of Damerau-Levenshtein (insert, delete, substitute, swap two neighbours),
 * with '_' and '-' taken as equal, so max_depth finds max-depth.
 */
#ifndef SCR_SUGGEST_H
#define SCR_SUGGEST_H

#include <stddef.h>

/* The Damerau-Levenshtein (OSA) distance between a and b, '_' == '-', capped: any distance
 * above `cap` is returned as cap + 1 (and names longer than 64 bytes count as far). */
int scr_suggest_distance(const char *a, const char *b, int cap);

/* The name in names[0..n) nearest to word, if it is within 2 edits (and closer than the
 * word's own length, so "x" does not suggest "db"); NULL if none.  Borrowed from names. */
const char *scr_suggest(const char *word, const char *const *names, size_t n);

#endif
