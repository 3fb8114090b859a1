/* builtin.h - internal to parsers/: the built-in parsers and the helpers they share.
 *
 * Not part of the public interface (that is parser.h and extract.h).  The registry
 * (registry.c) lists the five parsers declared here; the helpers are small and used by more
 * than one parser.
 */
#ifndef SCR_PARSERS_BUILTIN_H
#define SCR_PARSERS_BUILTIN_H

#include <stddef.h>

#include <libxml/tree.h>

#include "parsers/parser.h"

extern const struct scr_parser scr_parser_links;  /* links.c */
extern const struct scr_parser scr_parser_meta;   /* meta.c */
extern const struct scr_parser scr_parser_jsonld; /* jsonld.c */
extern const struct scr_parser scr_parser_text;   /* text.c */
extern const struct scr_parser scr_parser_rules;  /* rules.c (rules.h) */

/* Appends urls[0..n) to e->links, skipping any URL e->links already holds and duplicates
 * within urls, so e->links keeps first-occurrence order and has no duplicates.  The strings
 * are copied (borrowed from the caller).  O(e->links.n + n).  SCR_ENOMEM only when jansson
 * could not allocate; some URLs may then have been appended.  (emit.c) */
int scr_emit_links(struct scr_emit *e, const char *const *urls, size_t n);

/* Returns a malloc'd copy of s[0..len) with every run of ASCII whitespace (space, TAB, LF,
 * FF, CR) replaced by one space and leading and trailing whitespace removed; its length in
 * *outlen (may be NULL).  Other bytes, including U+00A0, are copied unchanged.  Never NULL
 * (out of memory aborts); the caller frees with free().  (text.c) */
char *scr_text_collapse(const char *s, size_t len, size_t *outlen);

/* Is n an element whose (lower-case, as libxml2's HTML parser makes them) name is `name`? */
static inline int scr_dom_is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->name &&
           xmlStrcasecmp(n->name, (const xmlChar *)name) == 0;
}

/* The node after n in document order (pre-order) inside the subtree of top, or NULL when the
 * walk is over; with skip_children the walk does not enter n's children.  Iterative, so a
 * deeply nested page costs no stack. */
static inline xmlNode *scr_dom_next(xmlNode *n, const xmlNode *top, int skip_children)
{
    if (!skip_children && n->children &&
        (n->type == XML_ELEMENT_NODE || n->type == XML_DOCUMENT_NODE ||
         n->type == XML_HTML_DOCUMENT_NODE))
        return n->children;
    while (n && n != top) {
        if (n->next)
            return n->next;
        n = n->parent;
    }
    return NULL;
}

/* Is c ASCII whitespace as HTML defines it (space, TAB, LF, FF, CR)? */
static inline int scr_html_isspace(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

#endif
