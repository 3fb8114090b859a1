/* css.h - CSS selectors compiled to XPath 1.0, for the extraction rules.
 *
 * Users write field selectors in CSS; libxml2 evaluates only XPath.  The rules parser compiles
 * each selector once per run with scr_css_to_xpath(), then hands the text to xmlXPathCompile().
 * The XPath is written for documents from libxml2's HTML parser, whose element and attribute
 * names are lower-case.  The supported subset is listed at the top of css.c and in
 * docs/internals/css.md; anything outside it is refused with the column of the problem.
 */
#ifndef SCR_CSS_H
#define SCR_CSS_H

#include <stddef.h>

/* Longest selector accepted, in bytes; longer input fails with SCR_ETOOBIG. */
#define SCR_CSS_MAX_LEN 4096
/* Deepest nesting of :not() accepted (":not(:not(.a))" is depth 2). */
#define SCR_CSS_MAX_DEPTH 4

/* Compiles css (a selector, or a comma-separated group of them) to an XPath 1.0 expression;
 * the members of a group are joined with '|', so the result is a node-set in document order.
 *
 * relative = 0: the expression matches anywhere in the document ("//p").
 * relative = 1: it matches descendants of the context node, never the node itself (".//p"),
 *               for the fields of `each` records; evaluate it with xmlXPathNodeEval().
 *
 * A selector ending in ::text selects the matched elements' text-node children; one ending in
 * ::attr(name) selects their attribute node `name`.
 *
 * css is borrowed and must be a NUL-terminated string (untrusted: any bytes are safe).  On
 * success returns 0 and stores in *xpath_out a malloc'd string the caller frees with free().
 * On failure *xpath_out is set to NULL, a message is written into err (if err is not NULL and
 * errlen > 0; truncated to fit) and the return is:
 *   SCR_EPARSE   a syntax error or an unsupported construct: "column 7: expected ']'"; the
 *                column counts characters from 1;
 *   SCR_ETOOBIG  css is longer than SCR_CSS_MAX_LEN bytes;
 *   SCR_EINVAL   css or xpath_out is NULL.
 * Out of memory aborts (common/alloc.h). */
int scr_css_to_xpath(const char *css, int relative, char **xpath_out, char *err, size_t errlen);

#endif
