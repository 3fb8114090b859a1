/* rules_value.h - a rules field's values and what the rules language does to them.
 *
 * Both sides of the rules language use this module: the compiler (rules_compile.c) checks a
 * field's `default` with scr_rules_value_number(), the evaluator (rules_eval.c) runs every
 * value it selects through scr_rules_values_transform() and scr_rules_value_number().  It
 * depends on neither of them, only on the compiled form's types in rules.h, so the two never
 * call each other.
 *
 * A value is a malloc'd, NUL-terminated string with a length (a value cut from a page body
 * may hold NULs; scr_json_text() replaces them when the JSON is made).  A list of values
 * owns its strings.
 */
#ifndef SCR_RULES_VALUE_H
#define SCR_RULES_VALUE_H

#include <stddef.h>

#include <jansson.h>
#include <libxml/xmlstring.h>

#include "common/url.h"
#include "parsers/rules.h"

struct scr_rules_value {
    char *s; /* owned by the list */
    size_t len;
};

/* A list of values; zero-initialize it, free it with scr_rules_values_release(). */
struct scr_rules_values {
    struct scr_rules_value *v;
    size_t n, cap;
};

/* Frees every value and empties the list (keeps its array). */
void scr_rules_values_clear(struct scr_rules_values *vs);
/* Frees the values and the array; the list is empty and may be used again. */
void scr_rules_values_release(struct scr_rules_values *vs);
/* Appends s (malloc'd, len bytes plus a NUL); takes ownership of s.  The push functions
 * cannot fail (common/alloc.h): the number of values is bounded by the caller
 * (SCR_RULES_LIST_MAX) and their sizes by the page. */
void scr_rules_values_push_owned(struct scr_rules_values *vs, char *s, size_t len);
/* Appends a copy of s[0..len) (borrowed). */
void scr_rules_values_push(struct scr_rules_values *vs, const char *s, size_t len);
/* Appends a copy of the libxml2 string x (NULL: nothing) and frees x with xmlFree. */
void scr_rules_values_push_xml(struct scr_rules_values *vs, xmlChar *x);

/* Appends to vs the first capture group of the first match of re in s[0..len) (borrowed), or
 * with all, of every non-overlapping match, up to SCR_RULES_LIST_MAX values in vs.  md is the
 * caller's match data, large enough for re (scr_rules.max_pairs); mc (may be NULL) holds the
 * match, depth and heap limits (rules.h, SCR_RULES_RE_*).  A match whose first group did not
 * take part gives nothing.  Returns 0, or the PCRE2 error that ended the search early (a limit
 * on a hostile page: PCRE2_ERROR_MATCHLIMIT, _DEPTHLIMIT, _HEAPLIMIT, _JIT_STACKLIMIT); the
 * values found before it are kept. */
int scr_rules_values_regex(pcre2_match_data *md, pcre2_match_context *mc, const pcre2_code *re,
                           const char *s, size_t len, int all, struct scr_rules_values *vs);

/* Applies one transform step to every value of vs, in place: trim, collapse, lower, upper,
 * url (normalized against base with url_opts, which may be NULL; a value that is no URL is
 * dropped) or regex (the captures replace the values; tmp is scratch space the caller owns
 * and releases; md and mc as for scr_rules_values_regex()).  number does nothing here: it is
 * applied when the JSON is made.  all is the field's `all`.  Returns 0, or the PCRE2 error of
 * a regex step that hit a limit (the values found before it are kept). */
int scr_rules_values_transform(const struct scr_rules_step *st, int all, const char *base,
                               const struct scr_url_opts *url_opts, pcre2_match_data *md,
                               pcre2_match_context *mc, struct scr_rules_values *vs,
                               struct scr_rules_values *tmp);

/* The `number` transform of s[0..len) (borrowed): a new JSON integer or real the caller owns
 * (json_decref), or NULL when s holds no digit or is no number anyone writes.  c_locale is
 * scr_rules.c_locale (strtod_l in the "C" locale). */
json_t *scr_rules_value_number(const char *s, size_t len, void *c_locale);

#endif
