/* parser.h - the parser interface: how a page becomes records.
 *
 * A parser is a const struct of function pointers with a name and an ABI version first
 * (after SQLite's sqlite3_io_methods and nginx modules).  Parsers are registered in a table and
 * found by name; a duplicate name is refused.  New hooks are appended at the end, never
 * inserted, and SCR_PARSER_ABI is bumped when they are.
 *
 * Each HTML page is parsed once (libxml2, in the extractor); every enabled parser reads the
 * same xmlDoc.  A parser emits records (JSON objects) and, for the links parser, outlinks.
 */
#ifndef SCR_PARSER_H
#define SCR_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "common/strvec.h"
#include "common/url.h"

#define SCR_PARSER_ABI 1

/* The jsonld parser's records from one page, at most (the bound of the rules parser's `each`,
 * SCR_RULES_EACH_MAX); past it one more record says how many items were dropped. */
#define SCR_JSONLD_MAX 10000

/* Per-run settings every parser may read.  Borrowed: valid from setup to teardown. */
struct scr_parser_env {
    const char *rules_text;              /* the rules file's contents, or NULL */
    const char *rules_name;              /* its name, for "rules.conf:LINE: ..." errors */
    size_t text_max;                     /* cap on the text parser's output, bytes */
    size_t max_links;                    /* cap on links taken from one page */
    const struct scr_url_opts *url_opts; /* how outlinks are normalized (may be NULL) */
    /* The per-page budget (parsers/budget.h), enforced by the extractor: CPU time of the
     * parse and every parser together, and memory libxml2 holds for the page.  0 = none. */
    int64_t parse_timeout_ms;
    int64_t parse_memory;
};

/* One fetched response, as the parsers see it.  Everything is borrowed for one parse call. */
struct scr_page {
    const char *url;          /* the final URL (after redirects), normalized */
    const char *base;         /* base for relative links: <base href> resolved, else url */
    const char *content_type; /* the Content-Type header, or NULL */
    const char *body;         /* the body as received (not NUL-terminated in general) */
    size_t len;
    xmlDoc *doc;              /* the parsed HTML document (UTF-8 inside), or NULL */
};

/* What parsing one page produced.  Owned by the caller of scr_extractor_run(). */
struct scr_emit {
    struct scr_strvec records; /* compact JSON objects {"parser":NAME,"data":{...},...} */
    struct scr_strvec links;   /* absolute, normalized outlinks for the frontier, no dups */
    char *error;               /* the first problem worth recording with the page, or NULL:
                                * why the page failed (the budget), or a field that could not
                                * be evaluated (a regex over its match limit) */
    const char *encoding;      /* what the HTML body was decoded from: the Encoding standard's
                                * name ("UTF-8", "windows-1252", "GBK", ...), static; NULL
                                * when no HTML was parsed (parsers/decode.h) */
    char *rules_stats;         /* the rules parser's feedback on this page, malloc'd, or NULL
                                * when no rule set matched: a compact JSON array, one object
                                * per matched rule set, {"rule_set","records","dropped",
                                * "empty","empty_fields"} (rules.h, struct scr_rules_stats) */
};

void scr_emit_init(struct scr_emit *e);
void scr_emit_release(struct scr_emit *e);
void scr_emit_reset(struct scr_emit *e);
/* Adds the record {"parser": parser, "data": data}.  Takes ownership of data (a JSON object)
 * even on failure.  Strings inside must already be valid UTF-8 (see common/json.h). */
int scr_emit_record(struct scr_emit *e, const char *parser, json_t *data);
/* Adds a complete record object, which must contain "parser" and "data".  Takes ownership. */
int scr_emit_record_obj(struct scr_emit *e, json_t *record);
/* Adds a record already written as compact JSON text (malloc'd; ownership taken even on
 * failure), for parsers whose records are too large to go through jansson cheaply.  It must
 * be byte-identical to what scr_emit_record would write (see scr_json_escape). */
int scr_emit_record_json(struct scr_emit *e, char *json);
/* Records why something went wrong on this page in e->error, unless a reason is there already
 * (the first one is kept).  printf-style. */
void scr_emit_error(struct scr_emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct scr_parser {
    const char *name;
    int abi_version; /* SCR_PARSER_ABI */
    const char *summary;
    /* Optional.  Called once per run, before any page: compile what can be compiled.  On
     * failure returns non-zero and writes "file:LINE: what is wrong" into err. */
    int (*setup)(void **state, const struct scr_parser_env *env, char *err, size_t errlen);
    /* Optional.  Frees what setup made. */
    void (*teardown)(void *state);
    /* Reads one page and emits records.  page->doc is NULL for non-HTML pages (the built-in
     * parsers then emit nothing).  A failure on one page is reported by the return code and
     * does not stop the crawl. */
    int (*parse)(void *state, const struct scr_page *page, struct scr_emit *out);
};

/* Registry.  The built-in parsers are always present. */
int scr_parser_register(const struct scr_parser *p); /* SCR_EEXIST, SCR_EVERSION, SCR_ETOOBIG */
const struct scr_parser *scr_parser_find(const char *name); /* NULL when unknown */
size_t scr_parser_count(void);
const struct scr_parser *scr_parser_at(size_t i);

/* The default parser list when --parsers is not given. */
#define SCR_PARSERS_DEFAULT "links,meta"

#endif
