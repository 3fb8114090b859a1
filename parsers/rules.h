/* rules.h - the extraction rules language: a rules file in, records out.
 *
 * A rules file says, per site, which records to pull out of which pages (docs/rules.md is the
 * complete reference).  It is compiled once per run with scr_rules_compile(): every URL regex,
 * field regex (PCRE2, JIT where available), XPath expression and CSS selector (through
 * parsers/css.c) is compiled then, so a syntax error, an XPath or regex that does not compile
 * or an unknown transform is reported as "NAME:LINE: what is wrong" before the crawl starts.
 * scr_rules_apply() then runs the compiled rules on one parsed page; nothing is compiled per
 * page.
 *
 * The files: rules_compile.c compiles (and frees), rules_eval.c applies, rules_value.c holds
 * the values and transforms both use (rules_value.h), rules_xpath.c the compiler's XPath
 * checks.  The "rules" parser (rules.c, scr_parser_rules in builtin.h) wraps the two calls:
 * its setup compiles env->rules_text, its parse applies the result.
 *
 * Thread-safety: a struct scr_rules is used by one thread at a time.  libxml2 caches function
 * lookups inside a compiled XPath expression while evaluating it, so compiled XPath must not
 * be evaluated from two threads at once; each extractor (one per worker thread) compiles its
 * own copy in its setup.  The PCRE2 codes are read-only after compilation; match data is
 * allocated per page, with a match context holding the limits.  The process-wide totals
 * (scr_rules_totals) are atomic.
 */
#ifndef SCR_RULES_H
#define SCR_RULES_H

#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <libxml/xpath.h>
#include <pcre2.h>

#include "common/url.h"
#include "parsers/parser.h"

/* Bounds that keep one hostile page from producing unbounded output. */
#define SCR_RULES_EACH_MAX 10000 /* records from one `each` on one page */
#define SCR_RULES_LIST_MAX 10000 /* values in one list (`all`) field */

/* Bounds that keep one hostile page from taking unbounded time (rules_eval.c; docs/rules.md,
 * "Limits").  A regex that hits one of the PCRE2 limits on a page is abandoned for the rest
 * of that page (its fields are missing there) and the page's fetch row says which field.  An
 * XPath evaluation that needs more than SCR_RULES_XPATH_OPS steps (libxml2's opLimit: about
 * 0.5 s) selects nothing, with the same kind of note.  Both sit inside the page's budget
 * (--parse-timeout, --parse-memory), which is checked between fields. */
#define SCR_RULES_RE_MATCH_LIMIT 1000000 /* pcre2_set_match_limit: ~1-20 ms of backtracking */
#define SCR_RULES_RE_DEPTH_LIMIT 100000  /* pcre2_set_depth_limit (interpreter only) */
#define SCR_RULES_RE_HEAP_KIB 65536      /* pcre2_set_heap_limit, KiB (interpreter only) */
#define SCR_RULES_XPATH_OPS 50000000UL   /* xmlXPathContext.opLimit, per evaluation */

/* ---- the compiled form (built by rules_compile.c, read by rules_eval.c; read-only) ----- */

enum scr_rules_source {
    SCR_RULES_SRC_XPATH, /* `css` (compiled to XPath) or `xpath` */
    SCR_RULES_SRC_REGEX  /* `regex`: the page source, or the `each` node's text */
};

/* What a selected node gives. */
enum scr_rules_take {
    SCR_RULES_TAKE_TEXT, /* its text content (XPath string-value); the default */
    SCR_RULES_TAKE_HTML, /* an element's markup, as libxml2 serializes it */
    SCR_RULES_TAKE_ATTR  /* an element's attribute `attr` */
};

enum scr_rules_op {
    SCR_RULES_OP_TRIM,
    SCR_RULES_OP_COLLAPSE,
    SCR_RULES_OP_LOWER,
    SCR_RULES_OP_UPPER,
    SCR_RULES_OP_URL,
    SCR_RULES_OP_REGEX,
    SCR_RULES_OP_NUMBER /* always the last step */
};

struct scr_rules_step {
    enum scr_rules_op op;
    pcre2_code *re; /* SCR_RULES_OP_REGEX: has at least one capture group */
};

struct scr_rules_field {
    char *name;
    int line;
    enum scr_rules_source source;
    char *selector;        /* as written in the file, for messages */
    xmlXPathCompExprPtr xp; /* SCR_RULES_SRC_XPATH */
    pcre2_code *re;        /* SCR_RULES_SRC_REGEX: has at least one capture group */
    enum scr_rules_take take;
    char *attr;            /* SCR_RULES_TAKE_ATTR: lower-cased attribute name */
    struct scr_rules_step *steps;
    size_t nsteps, capsteps; /* cap*: allocated, the compiler's business (SCR_GROW) */
    int all;               /* a list field */
    int required;          /* a record missing this field is dropped */
    int number;            /* the last step is `number`: values are JSON numbers */
    char *def;             /* the `default` value, or NULL */
    json_t *def_json;      /* def as the JSON value emitted (a number when `number`) */
};

struct scr_rules_record {
    char *name;
    int line;
    xmlXPathCompExprPtr each; /* NULL: one record per page */
    struct scr_rules_field *fields;
    size_t nfields, capfields;
};

struct scr_rules_site {
    char *name;
    int line;
    pcre2_code **match; /* a page belongs to the site when its URL matches any of them */
    size_t nmatch, capmatch;
    struct scr_rules_record *records;
    size_t nrecords, caprecords;
};

struct scr_rules {
    struct scr_rules_site *sites;
    size_t nsites, capsites;
    char hash[17];      /* first 16 hex digits of the SHA-256 of the rules text */
    uint32_t max_pairs; /* the most capture pairs (whole match included) of any regex */
    void *c_locale;     /* a locale_t for the "C" locale: `number` is locale-free */
};

/* Counts of what applying rules did; scr_rules_apply() adds to them. */
struct scr_rules_stats {
    uint64_t pages;   /* pages whose URL matched at least one site */
    uint64_t records; /* records emitted */
    uint64_t dropped; /* records dropped because a `required` field was missing */
    uint64_t empty;   /* records not emitted because none of their fields was found */
    uint64_t empty_fields; /* fields of emitted records that found no value (left out, or
                            * their `default` used) */
};

/* ---- functions --------------------------------------------------------------------------- */

/* Compiles the rules in text (NUL-terminated, borrowed) into *out, which the caller frees with
 * scr_rules_free().  name is the file's name for messages ("rules" when NULL).  On failure
 * returns SCR_EPARSE (a mistake in the file) or SCR_ENOMEM/SCR_EINVAL, writes
 * "NAME:LINE: what is wrong" into err (truncated to errlen), and leaves *out untouched.  The
 * first mistake is reported, and nothing is left allocated. */
int scr_rules_compile(struct scr_rules **out, const char *text, const char *name, char *err,
                      size_t errlen);
void scr_rules_free(struct scr_rules *r);

/* Runs every site whose match regex matches page->url on the page, in file order, and appends
 * one record per record definition (per node for `each`) to out:
 *   {"parser":"rules","rule_set":SITE,"record":RECORD,"rules_hash":HASH,"data":{...}}
 * url_opts (may be NULL) is how the `url` transform normalizes.  Pages without a document
 * (page->doc NULL: not HTML) produce nothing.  Adds to *stats (may be NULL) and to the
 * process-wide totals, and sets out->rules_stats to the counts of each matched site (NULL
 * when none matched).  Returns SCR_ENOMEM when memory ran out (out keeps what was emitted
 * before); a selector that matches nothing is not an error.  A regex or XPath over its limit
 * leaves its field missing and writes the first such field into out->error.  Returns
 * SCR_ELIMIT when the calling thread's page budget (budget.h) ran out: the budget is checked
 * between fields, and evaluation stops there. */
int scr_rules_apply(const struct scr_rules *r, const struct scr_page *page,
                    const struct scr_url_opts *url_opts, struct scr_emit *out,
                    struct scr_rules_stats *stats);

/* Copies into *out the sums of every scr_rules_apply() call in this process so far (all
 * extractors and threads): how many records were emitted, dropped for a missing `required`
 * field, or left out as empty.  For the worker's statistics and for tests. */
void scr_rules_totals(struct scr_rules_stats *out);

#endif
