/* extract.h - one response in, records and outlinks out.
 *
 * The extractor holds the enabled parsers and their per-run state.  It is the one code path
 * for both the crawl (worker/) and `scrape extract` (cli/), which is why the records stored
 * by a crawl equal what `scrape extract` prints for the same page.
 */
#ifndef SCR_EXTRACT_H
#define SCR_EXTRACT_H

#include <stddef.h>

#include "parsers/parser.h"

struct scr_extractor;
struct scr_settings;

/* Fills env from the run's settings: the one place that says which setting becomes which
 * field, used by the coordinator's preflight, the workers, `scrape extract` and
 * bench_extract, so each builds the extractor the crawl runs.  url_opts (from
 * scr_urlopts_init() on the same settings: --strip-tracking, --strip-param, --sort-query,
 * --max-url-length), rules_text and rules_name (the rules file's text and name, or NULL) are
 * borrowed and must outlive every extractor made from env; "" as rules_text means none. */
void scr_extract_env_from_settings(struct scr_parser_env *env, const struct scr_settings *s,
                                   const struct scr_url_opts *url_opts, const char *rules_text,
                                   const char *rules_name);

/* Builds an extractor for the comma-separated parser list (NULL or "" = SCR_PARSERS_DEFAULT)
 * and runs each parser's setup.  env is copied; the strings it points to are borrowed and
 * must outlive the extractor.  On failure returns SCR_EINVAL/SCR_ENOTFOUND/..., writes the
 * reason ("unknown parser 'x'", "rules.conf:12: ...") into err, and *out is untouched. */
int scr_extractor_new(struct scr_extractor **out, const char *parser_list,
                      const struct scr_parser_env *env, char *err, size_t errlen);
void scr_extractor_free(struct scr_extractor *x);

/* Returns 1 when the content type (or, when it is NULL, a sniff of the body) says HTML. */
int scr_extract_is_html(const char *content_type, const char *body, size_t len);

/* 1 when a response with this Content-Type is parsed under --content-types: its media type
 * (parameters dropped, ASCII case-insensitive) is one of the comma list types (NULL = none);
 * with no Content-Type, when the body looks like HTML (scr_extract_is_html).  The rule the
 * worker and scrape reextract share. */
int scr_extract_type_allowed(const char *content_type, const char *types, const char *body,
                             size_t len);

/* Parses one response once and runs every enabled parser on it, appending to out.  (The
 * worker calls it only for 2xx responses whose media type is in --content-types.)
 * Non-HTML responses produce nothing and return 0.  *out keeps what was emitted even when a
 * parser fails; the first parser error is returned after all parsers ran. */
int scr_extractor_run(struct scr_extractor *x, const char *url, const char *content_type,
                      const char *body, size_t len, struct scr_emit *out);

#endif
