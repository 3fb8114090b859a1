/* html5.h - where libxml2 2.9's HTML 4 tokenizer and an HTML5 one part, mended before it parses.
 *
 * libxml2 2.9.14 tokenizes HTML as HTML 4 did.  Three differences lose or invent data; this
 * pass rewrites the (UTF-8) text so that libxml2 builds the tree a browser would:
 *
 *   - character references HTML5 decodes and libxml2 does not: the legacy named references
 *     without ';' (&copy 2024, &amp in text; in an attribute only when no '=' or letter or
 *     digit follows: href="?a=1&copy=2" stays as it is) and the upper-case &AMP; &LT; &GT;
 *     &QUOT; &COPY; &REG; become &name; (which libxml2 knows);
 *   - the content of <title> and <textarea> is RCDATA (text with character references, no
 *     tags) up to its end tag: each '<' in it becomes &lt;.  A <title> never closed is left
 *     to libxml2's recovery, which ends it at the next tag: HTML5 makes the rest of the page
 *     its title, so a browser shows an empty page, and a crawler would lose every link;
 *   - (in extract.c, not here) an element whose name holds a ':' keeps its whole name
 *     ("a0:a", "o:p", "fb:like"); libxml2 kept only what follows the colon.
 *
 * Comments, <!...> and <?...>, and the raw text of script, style, xmp, iframe, noembed and
 * noframes are left alone, as a tokenizer does.  One linear pass; nothing is copied for a page
 * that needs no change.
 */
#ifndef SCR_HTML5_H
#define SCR_HTML5_H

#include <stddef.h>

/* Returns the mended copy of text[0..len) and its length in *outlen, or NULL when the text
 * needs no change (no copy).  Caller frees.  Out of memory aborts (common/alloc.h). */
char *scr_html5_fix(const char *text, size_t len, size_t *outlen);

#endif
