/* extract.c - one response in, records and outlinks out (see extract.h).
 *
 * The extractor is the single code path from a fetched body to records, shared by the crawl
 * (worker/) and `scrape extract` (cli/).  An HTML body is parsed exactly once, with libxml2's
 * recovering HTML parser, and every enabled parser reads the same xmlDoc; the document is
 * freed before scr_extractor_run() returns, so nothing of a page outlives its call.
 *
 * Invariants: a parser's setup has run before its parse is called, and its teardown runs
 * exactly once, in scr_extractor_free(); each enabled parser appears once, in list order.
 * Every parser is called for every response: page.doc is NULL when the response is not HTML,
 * is empty or could not be parsed (the built-in parsers then emit nothing).
 *
 * The body is decoded to UTF-8 first, as a browser would (decode.c: BOM, header charset,
 * <meta> prescan, UTF-8, windows-1252; bad bytes become U+FFFD), and libxml2 is given that
 * UTF-8 with the encoding fixed, so it neither re-detects nor stops at a byte it cannot
 * decode.  The encoding used is reported in scr_emit.encoding.
 *
 * libxml2 is never allowed to print: each parse gets an error handler that drops the messages
 * (broken markup is the normal case on the web, not news).  HTML_PARSE_HUGE is never set, so
 * libxml2's limits on names, text nodes and depth hold against hostile pages.  An extractor is
 * used by one thread at a time; several extractors may run in parallel threads.
 *
 * The per-page budget (budget.h, env->parse_timeout_ms and env->parse_memory) covers the
 * parse and every parser.  libxml2 is stopped cleanly with xmlStopParser() from its own SAX
 * callbacks (startElement and characters, the clock read every 256 calls), and the budget is
 * checked again between parsers; a page over budget fails with SCR_ELIMIT and the reason in
 * out->error, and its records and links are dropped.  One tag is parsed without a callback,
 * and libxml2 2.9 checks each attribute against all earlier ones of its tag (N^2: 40,000
 * attributes take 12 s), so before parsing, attributes past SCR_HTML_MAX_ATTRS in one tag are
 * cut out of a copy of the body (cap_attributes()).
 */
#include "parsers/extract.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/encoding.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/json.h"
#include "common/settings.h"
#include "parsers/budget.h"
#include "parsers/builtin.h"
#include "parsers/decode.h"
#include "parsers/html5.h"

/* The text is UTF-8 (decode.c): libxml2 is told so, and told to ignore <meta charset>. */
#define HTML_OPTIONS                                                                  \
    (HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | \
     HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC)

/* Attributes kept in one tag; the rest are dropped before libxml2 sees the page (see
 * cap_attributes()).  2,000 cost libxml2 about 8 ms; real pages have a few dozen. */
#define SCR_HTML_MAX_ATTRS 2000
/* SAX callbacks between two reads of the CPU clock. */
#define GUARD_CLOCK_EVERY 256

/* How far into a body without a Content-Type the sniffer looks. */
#define SNIFF_WINDOW 1024

struct slot {
    const struct scr_parser *parser;
    void *state; /* what its setup made */
};

struct scr_extractor {
    struct scr_parser_env env; /* copied; the strings are the caller's */
    struct slot *slots;
    size_t n;     /* enabled parsers */
    size_t ready; /* slots[0..ready) have been set up and need teardown */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void scr_extract_env_from_settings(struct scr_parser_env *env, const struct scr_settings *s,
                                   const struct scr_url_opts *url_opts, const char *rules_text,
                                   const char *rules_name)
{
    memset(env, 0, sizeof(*env));
    env->rules_text = rules_text && *rules_text ? rules_text : NULL;
    env->rules_name = rules_name;
    env->text_max = (size_t)s->text_max;
    env->max_links = (size_t)s->max_links;
    env->url_opts = url_opts;
    env->parse_timeout_ms = s->parse_timeout_ms;
    env->parse_memory = s->parse_memory;
}

void scr_extractor_free(struct scr_extractor *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->ready; i++)
        if (x->slots[i].parser->teardown)
            x->slots[i].parser->teardown(x->slots[i].state);
    free(x->slots);
    free(x);
}

/* Writes "unknown parser 'name' (known: links, meta, ...)" into err. */
static void unknown_parser(const char *name, char *err, size_t errlen)
{
    struct scr_buf known;
    size_t i, n = scr_parser_count();

    scr_buf_init(&known);
    for (i = 0; i < n; i++)
        if (scr_buf_printf(&known, "%s%s", i ? ", " : "", scr_parser_at(i)->name))
            break; /* the list is only a courtesy */
    set_err(err, errlen, "unknown parser '%s' (known: %s)", name, known.data ? known.data : "");
    scr_buf_release(&known);
}

/* Adds the parser named name[0..len) (whitespace around it tolerated) to x, unless it is
 * there already.  An empty name, as in "links,,meta" or "links,", is skipped. */
static int add_parser(struct scr_extractor *x, const char *name, size_t len, char *err,
                      size_t errlen)
{
    const struct scr_parser *p;
    char buf[128];

    while (len && scr_html_isspace((unsigned char)name[0])) {
        name++;
        len--;
    }
    while (len && scr_html_isspace((unsigned char)name[len - 1]))
        len--;
    if (len == 0)
        return SCR_OK;
    if (len >= sizeof(buf)) {
        set_err(err, errlen, "unknown parser '%.40s...'", name);
        return SCR_ENOTFOUND;
    }
    memcpy(buf, name, len);
    buf[len] = '\0';
    p = scr_parser_find(buf);
    if (!p) {
        unknown_parser(buf, err, errlen);
        return SCR_ENOTFOUND;
    }
    for (size_t i = 0; i < x->n; i++)
        if (x->slots[i].parser == p)
            return SCR_OK; /* a duplicate is harmless: keep the first */
    assert(x->n < scr_parser_count()); /* each parser once: slots has one per parser */
    x->slots[x->n++].parser = p;
    return SCR_OK;
}

int scr_extractor_new(struct scr_extractor **out, const char *parser_list,
                      const struct scr_parser_env *env, char *err, size_t errlen)
{
    struct scr_extractor *x = NULL;
    const char *s, *comma;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (!out) {
        rc = SCR_EINVAL;
        goto out;
    }
    /* libxml2 before 2.10 does not make its first initialization thread-safe: build the
     * first extractor before starting threads (main() does). */
    scr_budget_install();
    xmlInitParser();
    x = scr_xcalloc(1, sizeof(*x));
    x->slots = scr_xcalloc(scr_parser_count(), sizeof(*x->slots));
    if (env)
        x->env = *env;

    s = parser_list;
    if (!s || strspn(s, " \t\r\n") == strlen(s))
        s = SCR_PARSERS_DEFAULT;
    for (;;) {
        comma = strchr(s, ',');
        rc = add_parser(x, s, comma ? (size_t)(comma - s) : strlen(s), err, errlen);
        if (rc)
            goto out;
        if (!comma)
            break;
        s = comma + 1;
    }
    if (x->n == 0) {
        set_err(err, errlen, "no parser named in '%s'", parser_list);
        rc = SCR_EINVAL;
        goto out;
    }
    /* A rules file means the rules parser, whether or not the list names it. */
    if (x->env.rules_text && (rc = add_parser(x, "rules", 5, err, errlen)) != SCR_OK)
        goto out;

    for (; x->ready < x->n; x->ready++) {
        struct slot *sl = &x->slots[x->ready];
        if (!sl->parser->setup)
            continue;
        rc = sl->parser->setup(&sl->state, &x->env, err, errlen);
        if (rc) {
            if (err && errlen && !err[0])
                set_err(err, errlen, "parser '%s': %s", sl->parser->name,
                        scr_strerror(rc < 0 ? rc : SCR_EINVAL));
            rc = rc < 0 ? rc : SCR_EINVAL;
            goto out;
        }
    }
    *out = x;
    x = NULL;
    rc = SCR_OK;
out:
    scr_extractor_free(x);
    return rc;
}

/* Compares the media type of a Content-Type value (before any ';', case-insensitive,
 * surrounding whitespace ignored) with type. */
static int media_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);

    while (scr_html_isspace((unsigned char)*ct))
        ct++;
    if (strncasecmp(ct, type, n) != 0)
        return 0;
    ct += n;
    while (scr_html_isspace((unsigned char)*ct))
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* Does p[0..n) start with prefix, ignoring ASCII case? */
static int starts_ci(const char *p, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && strncasecmp(p, prefix, k) == 0;
}

int scr_extract_is_html(const char *content_type, const char *body, size_t len)
{
    const char *p, *end;

    if (content_type && content_type[strspn(content_type, " \t\r\n")] != '\0')
        return media_type_is(content_type, "text/html") ||
               media_type_is(content_type, "application/xhtml+xml");
    /* No (or an empty) Content-Type: sniff.  Skip a UTF-8 BOM, whitespace and comments. */
    if (!body)
        return 0;
    p = body;
    end = body + (len < SNIFF_WINDOW ? len : SNIFF_WINDOW);
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    for (;;) {
        while (p < end && scr_html_isspace((unsigned char)*p))
            p++;
        if (!starts_ci(p, (size_t)(end - p), "<!--"))
            break;
        p = memmem(p + 4, (size_t)(end - p - 4), "-->", 3);
        if (!p)
            return 0;
        p += 3;
    }
    if (starts_ci(p, (size_t)(end - p), "<!doctype html"))
        p += 14;
    else if (starts_ci(p, (size_t)(end - p), "<html"))
        p += 5;
    else
        return 0;
    /* "<htmlx" is not html; the end of the window is given the benefit of the doubt. */
    return p == end || *p == '>' || scr_html_isspace((unsigned char)*p);
}

#if LIBXML_VERSION >= 21200
static void quiet_error(void *ctx, const xmlError *error)
#else
static void quiet_error(void *ctx, xmlErrorPtr error)
#endif
{
    (void)ctx;
    (void)error;
}

/* Does p[0..end) start with the ASCII word w, ignoring case? */
static int word_ci(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(end - p) >= n && strncasecmp(p, w, n) == 0;
}

/* Skips the body of a raw-text element (script, style) from p: returns where its end tag
 * "</name" starts, or end. */
static const char *skip_raw_text(const char *p, const char *end, const char *name)
{
    while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        if (p + 1 < end && p[1] == '/' && word_ci(p + 2, end, name))
            return p;
        p++;
    }
    return end;
}

/* Character classes of the attribute scanner: HTML whitespace, and the bytes that end a
 * name or a bare value.  A table, because the scanner sees every byte of every tag. */
enum { C_SPACE = 1, C_EQ = 2, C_GT = 4, C_SLASH = 8, C_QUOTE = 16 };
static const unsigned char cclass[256] = {
    [' '] = C_SPACE, ['\t'] = C_SPACE, ['\n'] = C_SPACE, ['\f'] = C_SPACE, ['\r'] = C_SPACE,
    ['='] = C_EQ, ['>'] = C_GT, ['/'] = C_SLASH, ['"'] = C_QUOTE, ['\''] = C_QUOTE,
};
#define CC(p) cclass[(unsigned char)*(p)]

/* Scans the attributes of the tag whose name ends at p, up to its '>' (or the end of the
 * body), the way libxml2's htmlParseStartTag() splits them: whitespace-separated names, each
 * with an optional "= value" (quoted or bare).  Returns the position of the tag's end and sets
 * *cut to the start of attribute number max + 1, or NULL when the tag has no more than max. */
static const char *scan_attributes(const char *p, const char *end, size_t max, const char **cut)
{
    size_t count = 0;

    *cut = NULL;
    for (;;) {
        while (p < end && (CC(p) & (C_SPACE | C_SLASH)))
            p++;
        if (p >= end || *p == '>')
            return p;
        if (++count == max + 1)
            *cut = p;
        while (p < end && !(CC(p) & (C_SPACE | C_EQ | C_GT)))
            p++;
        while (p < end && (CC(p) & C_SPACE))
            p++;
        if (p >= end || *p != '=')
            continue;
        p++;
        while (p < end && (CC(p) & C_SPACE))
            p++;
        if (p < end && (CC(p) & C_QUOTE)) {
            const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
            p = q ? q + 1 : end;
        } else {
            while (p < end && !(CC(p) & (C_SPACE | C_GT)))
                p++;
        }
    }
}

/* Returns a copy of body[0..len) in which every tag keeps at most max attributes (the rest of
 * the tag up to its '>' is cut), its length in *outlen; or NULL when no tag has more than max,
 * which is every page but a hostile one (one linear pass, no copy).  Comments and the text of
 * script and style are skipped, as libxml2 does not look for tags there.  Caller frees. */
static char *cap_attributes(const char *body, size_t len, size_t max, size_t *outlen)
{
    const char *p = body, *end = body + len, *copied = body;
    struct scr_buf out;

    scr_buf_init(&out);
    while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        const char *name, *cut;
        size_t nlen;

        p++;
        if (end - p >= 3 && p[0] == '!' && p[1] == '-' && p[2] == '-') {
            const char *q = memmem(p + 3, (size_t)(end - p - 3), "-->", 3);
            p = q ? q + 3 : end;
            continue;
        }
        if (p >= end || !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
            continue;
        name = p;
        while (p < end && !(CC(p) & (C_SPACE | C_GT | C_SLASH)))
            p++;
        nlen = (size_t)(p - name);
        p = scan_attributes(p, end, max, &cut);
        if (cut) {
            scr_buf_append(&out, copied, (size_t)(cut - copied));
            copied = p; /* the tag's '>' (or the end) */
        }
        if (nlen == 6 && strncasecmp(name, "script", 6) == 0)
            p = skip_raw_text(p, end, "script");
        else if (nlen == 5 && strncasecmp(name, "style", 5) == 0)
            p = skip_raw_text(p, end, "style");
    }
    if (copied == body)
        return NULL;
    scr_buf_append(&out, copied, (size_t)(end - copied));
    *outlen = out.len;
    return out.data ? out.data : scr_xstrdup("");
}

/* The SAX callbacks the parse guard wraps, and its counter (in the context's _private). */
struct sax_guard {
    startElementSAXFunc start;
    charactersSAXFunc characters;
    unsigned calls;
};

/* After each wrapped callback: stop the parser once the page's budget is spent.  The clock is
 * read every GUARD_CLOCK_EVERY calls; the memory flag is looked at every time. */
static void guard_tick(htmlParserCtxtPtr ctxt)
{
    struct sax_guard *g = ctxt->_private;
    enum scr_budget_state st = ++g->calls % GUARD_CLOCK_EVERY == 0
                                   ? scr_budget_check("the HTML parser")
                                   : scr_budget_state();

    if (st != SCR_BUDGET_OK && ctxt->instate != XML_PARSER_EOF)
        xmlStopParser(ctxt);
}

/* libxml2 2.9 names an element "a0:a", "o:p" or "fb:like" after the part past the colon (its
 * SAX2 handler splits the name as an XML QName): <a0:a href> became a link, <o:p> a paragraph.
 * HTML5 keeps the whole name, and so does this: the new element gets its full name back. */
static void full_name(htmlParserCtxtPtr ctxt, const xmlChar *name)
{
    xmlNodePtr n = ctxt->node;
    xmlDictPtr dict; /* the document's, which xmlFreeNode() consults (NULL for HTML here) */
    const xmlChar *full;

    if (!n || n->type != XML_ELEMENT_NODE || xmlStrEqual(n->name, name))
        return;
    dict = n->doc ? n->doc->dict : NULL;
    full = dict ? xmlDictLookup(dict, name, -1) : xmlStrdup(name);
    if (!full)
        return; /* out of memory: keep libxml2's name */
    if (!dict || !xmlDictOwns(dict, n->name))
        xmlFree((xmlChar *)n->name);
    n->name = full;
}

static void guarded_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    htmlParserCtxtPtr ctxt = ctx;

    ((struct sax_guard *)ctxt->_private)->start(ctx, name, atts);
    if (name && strchr((const char *)name, ':'))
        full_name(ctxt, name);
    guard_tick(ctxt);
}

static void guarded_characters(void *ctx, const xmlChar *ch, int len)
{
    htmlParserCtxtPtr ctxt = ctx;

    ((struct sax_guard *)ctxt->_private)->characters(ctx, ch, len);
    guard_tick(ctxt);
}

/* Parses body into *doc (NULL when libxml2 gives up, which is not an error: the page simply
 * has no document).  url is recorded as the document's URL and may be NULL.  SCR_ELIMIT when
 * the page's budget ran out (*doc is then NULL). */
static int parse_html(const char *url, const char *content_type, const char *body, size_t len,
                      xmlDoc **doc, const char **encoding)
{
    htmlParserCtxtPtr ctxt = NULL;
    struct sax_guard guard = {0};
    struct scr_decoded dec = {0};
    char *capped = NULL, *mended = NULL;
    size_t clen;
    int rc = SCR_OK;

    *doc = NULL;
    scr_decode_html(content_type, body, len, &dec);
    *encoding = dec.encoding;
    body = dec.text;
    len = dec.len;
    if (len > INT_MAX) {
        rc = SCR_ETOOBIG;
        goto out;
    }
    if ((mended = scr_html5_fix(body, len, &clen)) != NULL) {
        body = mended;
        len = clen;
    }
    if ((capped = cap_attributes(body, len, SCR_HTML_MAX_ATTRS, &clen)) != NULL) {
        body = capped;
        len = clen;
    }
    ctxt = htmlNewParserCtxt();
    if (!ctxt || !ctxt->sax) {
        rc = SCR_ENOMEM;
        goto out;
    }
    guard.start = ctxt->sax->startElement;
    guard.characters = ctxt->sax->characters;
    ctxt->_private = &guard;
    if (guard.start)
        ctxt->sax->startElement = guarded_start;
    if (guard.characters)
        ctxt->sax->characters = guarded_characters;
#if LIBXML_VERSION >= 21300
    xmlCtxtSetErrorHandler(ctxt, quiet_error, NULL);
    *doc = htmlCtxtReadMemory(ctxt, body, (int)len, url, "UTF-8", HTML_OPTIONS);
#else
    {
        /* Before 2.13 some errors (encoding conversion) bypass the context and go to the
         * thread's global handlers, so those are swapped for the parse.  They are
         * thread-local in libxml2, so this does not disturb other threads.  (2.12 marks these
         * globals deprecated in favour of the 2.13 API used above.) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        xmlStructuredErrorFunc saved = xmlStructuredError;
        void *saved_ctx = xmlStructuredErrorContext;

        xmlSetStructuredErrorFunc(NULL, quiet_error);
        *doc = htmlCtxtReadMemory(ctxt, body, (int)len, url, "UTF-8", HTML_OPTIONS);
        xmlSetStructuredErrorFunc(saved_ctx, saved);
#pragma GCC diagnostic pop
    }
#endif
    if (scr_budget_check("the HTML parser") != SCR_BUDGET_OK) {
        if (*doc)
            xmlFreeDoc(*doc);
        *doc = NULL;
        rc = SCR_ELIMIT;
    }
out:
    if (ctxt)
        htmlFreeParserCtxt(ctxt);
    free(capped);
    free(mended);
    scr_decoded_release(&dec);
    return rc;
}

/* Returns the page's base: the first <base href> resolved against url, or NULL when there is
 * none (or it does not resolve to an http(s) URL).  Caller frees. */
static char *find_base(xmlDoc *doc, const char *url)
{
    xmlNode *n;
    char *base = NULL;

    for (n = (xmlNode *)doc; n; n = scr_dom_next(n, (xmlNode *)doc, 0)) {
        xmlChar *href;
        if (!scr_dom_is(n, "base"))
            continue;
        href = xmlGetProp(n, (const xmlChar *)"href");
        if (!href)
            continue; /* <base target=...> only: keep looking */
        if (scr_url_normalize(url, (const char *)href, NULL, &base, NULL, NULL, 0) != 0)
            base = NULL;
        xmlFree(href);
        break;
    }
    return base;
}

int scr_extractor_run(struct scr_extractor *x, const char *url, const char *content_type,
                      const char *body, size_t len, struct scr_emit *out)
{
    struct scr_page page;
    struct scr_budget budget;
    char *base = NULL, why[256];
    int rc = SCR_OK, open = 0;

    memset(&page, 0, sizeof(page));
    if (!x || !out || (!body && len)) {
        rc = SCR_EINVAL;
        goto out;
    }
    page.url = url;
    page.base = url;
    page.content_type = content_type;
    page.body = body;
    page.len = len;
    scr_budget_begin(&budget, x->env.parse_timeout_ms * 1000, x->env.parse_memory);
    open = 1;

    if (len > 0 && scr_extract_is_html(content_type, body, len)) {
        rc = parse_html(url, content_type, body, len, &page.doc, &out->encoding);
        if (rc)
            goto out;
        if (page.doc && (base = find_base(page.doc, url)) != NULL)
            page.base = base;
    }
    assert(x->ready == x->n); /* every parser was set up (scr_extractor_new) */
    for (size_t i = 0; i < x->n; i++) {
        int prc = x->slots[i].parser->parse(x->slots[i].state, &page, out);
        if (scr_budget_check(x->slots[i].parser->name) != SCR_BUDGET_OK) {
            rc = SCR_ELIMIT;
            goto out;
        }
        if (prc && !rc)
            rc = prc < 0 ? prc : SCR_EPARSE;
    }
out:
    if (page.doc)
        xmlFreeDoc(page.doc);
    free(base);
    if (open) {
        scr_budget_end(&budget);
        if (rc == SCR_ELIMIT) {
            /* a page over budget fails as a whole: what was emitted before is partial */
            scr_budget_reason(&budget, why, sizeof(why));
            scr_strvec_reset(&out->records);
            scr_strvec_reset(&out->links);
            free(out->error);
            out->error = scr_xstrdup(why);
        }
    }
    return rc;
}
