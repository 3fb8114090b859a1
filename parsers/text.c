/* text.c - the "text" parser: the visible text of a page.
 *
 * Walks the document in order and keeps the text nodes a reader would see: the content of
 * <head>, <script>, <style>, <noscript>, <template> and of any element with the `hidden`
 * attribute is left out; comments are not text.  Block-level elements (p, div, li, td, br,
 * h1..h6, ...) separate the words on either side of them; inline elements (a, span, b, ...)
 * do not, so "<b>foo</b>bar" reads "foobar" as in a browser.  Runs of ASCII whitespace
 * become one space and the result is trimmed; U+00A0 (&nbsp;) is kept.
 *
 * Output: one record per HTML page,
 *   {"parser":"text","data":{"text":"...","truncated":false,"length":N}}
 * where length is the size in bytes of the whole text and text holds at most env->text_max
 * bytes of it (0 = 1 MiB), cut before a UTF-8 sequence rather than through it, in which case
 * truncated is true.  Memory is bounded by the cap, not by the page: past the cap the walk
 * only counts.
 *
 * Also exports scr_text_collapse() (builtin.h), the same whitespace rule for other parsers.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/json.h"
#include "parsers/builtin.h"

#define TEXT_MAX_DEFAULT ((size_t)1 << 20)

/* Elements whose content is not shown. */
static const char *const skipped[] = {"head", "script", "style", "noscript", "template"};

/* Elements that begin and end a block (or a line) of text. */
static const char *const blocks[] = {
    "address", "article", "aside",  "blockquote", "body",     "br",      "caption", "center",
    "dd",      "details", "dialog", "dir",        "div",      "dl",      "dt",      "fieldset",
    "figcaption", "figure", "footer", "form",     "frameset", "h1",      "h2",      "h3",
    "h4",      "h5",      "h6",     "header",     "hgroup",   "hr",      "html",    "legend",
    "li",      "listing", "main",   "menu",       "nav",      "ol",      "optgroup", "option",
    "p",       "plaintext", "pre",  "section",    "summary",  "table",   "tbody",   "td",
    "textarea", "tfoot",  "th",     "thead",      "tr",       "ul",      "xmp",
};

/* The text built so far.  Whitespace is collapsed as bytes arrive: a run of it becomes a
 * pending space, written only before the next visible byte and never at the start. */
struct collect {
    struct scr_buf buf; /* at most cap bytes of the text */
    size_t cap;
    size_t total;    /* length of the whole text, stored or not */
    int pending;     /* a space is owed before the next visible byte */
    int full;        /* something did not fit */
};

static int in_list(const xmlNode *n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (xmlStrcasecmp(n->name, (const xmlChar *)list[i]) == 0)
            return 1;
    return 0;
}

static int is_block(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE && in_list(n, blocks, sizeof(blocks) / sizeof(*blocks));
}

static int is_skipped(xmlNode *n)
{
    return in_list(n, skipped, sizeof(skipped) / sizeof(*skipped)) ||
           xmlHasProp(n, (const xmlChar *)"hidden") != NULL;
}

/* Stores s[0..len) (part of the text, starting on a character boundary) as far as the cap
 * allows, never splitting a UTF-8 sequence; counts all of it. */
static int store(struct collect *c, const char *s, size_t len)
{
    size_t room;

    c->total += len;
    if (c->full)
        return SCR_OK;
    room = c->cap - c->buf.len;
    if (len > room) {
        len = room;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
        c->full = 1;
    }
    return len ? scr_buf_append(&c->buf, s, len) : SCR_OK;
}

/* Adds s[0..len) to the text, collapsing whitespace. */
static int put(struct collect *c, const char *s, size_t len)
{
    size_t i = 0, run;
    int rc;

    while (i < len) {
        if (scr_html_isspace((unsigned char)s[i])) {
            c->pending = 1;
            i++;
            continue;
        }
        for (run = i; run < len && !scr_html_isspace((unsigned char)s[run]); run++)
            ;
        if (c->pending && c->total > 0 && (rc = store(c, " ", 1)) != SCR_OK)
            return rc;
        c->pending = 0;
        if ((rc = store(c, s + i, run - i)) != SCR_OK)
            return rc;
        i = run;
    }
    return SCR_OK;
}

char *scr_text_collapse(const char *s, size_t len, size_t *outlen)
{
    struct collect c;
    char *out;
    size_t n;
    int rc;

    memset(&c, 0, sizeof(c));
    scr_buf_init(&c.buf);
    c.cap = (size_t)-1;
    rc = put(&c, s, len);
    assert(rc == SCR_OK); /* the output is no longer than s, which is in memory */
    (void)rc;
    out = scr_buf_detach(&c.buf, &n);
    if (outlen)
        *outlen = n;
    return out;
}

/* Walks the document, feeding visible text to c. */
static int walk(xmlDoc *doc, struct collect *c)
{
    xmlNode *top = (xmlNode *)doc, *n = doc->children;
    int rc = SCR_OK;

    while (n && rc == SCR_OK) {
        if (n->type == XML_ELEMENT_NODE && !is_skipped(n)) {
            if (is_block(n))
                c->pending = 1;
            if (n->children) {
                n = n->children;
                continue;
            }
        } else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content)
                rc = put(c, (const char *)n->content, (size_t)xmlStrlen(n->content));
        }
        /* n and its subtree are done: move on, closing the blocks we leave. */
        for (;;) {
            if (n == top) {
                n = NULL;
                break;
            }
            if (is_block(n))
                c->pending = 1;
            if (n->next) {
                n = n->next;
                break;
            }
            n = n->parent;
        }
    }
    return rc;
}

static int text_setup(void **state, const struct scr_parser_env *env, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    *state = (void *)env;
    return SCR_OK;
}

/* The record is written by hand rather than through jansson: the text is tens of KB and
 * jansson escapes it one character at a time (over half of this parser's cost, measured with
 * callgrind).  The bytes are the same as jansson's compact output; the fixtures check it. */
static int text_parse(void *state, const struct scr_page *page, struct scr_emit *out)
{
    const struct scr_parser_env *env = state;
    struct collect c;
    struct scr_buf rec;
    char *clean = NULL;
    size_t clean_len = 0;
    int rc;

    memset(&c, 0, sizeof(c));
    scr_buf_init(&c.buf);
    scr_buf_init(&rec);
    if (!page->doc) {
        rc = SCR_OK;
        goto out;
    }
    c.cap = env && env->text_max ? env->text_max : TEXT_MAX_DEFAULT;
    rc = walk(page->doc, &c);
    if (rc)
        goto out;
    while (c.buf.len > 0 && c.buf.data[c.buf.len - 1] == ' ')
        c.buf.len--; /* a cut may end on the space between two words */
    clean = scr_utf8_sanitize(c.buf.data ? c.buf.data : "", c.buf.len, &clean_len);
    if (scr_buf_puts(&rec, "{\"parser\":\"text\",\"data\":{\"text\":") ||
        scr_json_escape(&rec, clean, clean_len) ||
        scr_buf_printf(&rec, ",\"truncated\":%s,\"length\":%zu}}", c.full ? "true" : "false",
                       c.total)) {
        rc = SCR_ENOMEM;
        goto out;
    }
    rc = scr_emit_record_json(out, scr_buf_detach(&rec, NULL));
out:
    free(clean);
    scr_buf_release(&rec);
    scr_buf_release(&c.buf);
    return rc;
}

const struct scr_parser scr_parser_text = {
    .name = "text",
    .abi_version = SCR_PARSER_ABI,
    .summary = "visible text of the page, whitespace collapsed, capped at text_max bytes",
    .setup = text_setup,
    .teardown = NULL,
    .parse = text_parse,
};
