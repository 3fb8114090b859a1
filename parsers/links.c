/* links.c - the "links" parser: a page's outlinks.
 *
 * Takes every <a href> and <area href> in document order, resolves it against page->base and
 * normalizes it with scr_url_normalize() and env->url_opts, so a link has the one spelling the
 * frontier uses.  Only http and https survive: javascript:, mailto:, data:, tel: and any other
 * scheme are dropped, as is anything that does not normalize.  The fragment goes in
 * normalization, so "/a#x" and "/a" are one link; duplicates keep their first place.  At most
 * env->max_links links are taken from one page (0 = no limit).
 *
 * Output: one record per HTML page, {"parser":"links","data":{"links":[URL,...]}} (an empty
 * array when there are none), and the same URLs appended to out->links for the frontier.
 * Links inside comments and <script> are not elements in the DOM, so they are never seen;
 * those libxml2 builds inside <template>, <textarea>, <title>, <xmp> and <iframe> are skipped,
 * as a browser would not show them as links.  <noscript> content counts: this crawler runs
 * no scripts.
 *
 * State: the borrowed env pointer from setup.  No per-page state survives a parse call.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/json.h"
#include "parsers/builtin.h"

static int links_setup(void **state, const struct scr_parser_env *env, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    *state = (void *)env; /* borrowed until teardown (parser.h) */
    return SCR_OK;
}

/* Decides from the reference alone whether it could be an http(s) link: a reference with a
 * scheme other than http or https is dropped before any URL work.  Leading C0 controls and
 * spaces, and TAB/CR/LF anywhere, are skipped as URL parsers do ("java\nscript:" is
 * javascript:).  A reference without a scheme is relative and may stay. */
static int scheme_allowed(const char *ref)
{
    char scheme[8];
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)ref;

    while (*p && *p <= 0x20)
        p++;
    for (;; p++) {
        int c = *p;
        if (c == '\t' || c == '\n' || c == '\r')
            continue;
        if (c == ':')
            break;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (n > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) {
            if (n < sizeof(scheme) - 1)
                scheme[n] = (char)(c | 0x20);
            n++;
            continue;
        }
        return 1; /* no scheme: a relative reference */
    }
    if (n == 0)
        return 1; /* ":foo" is a relative path */
    if (n >= sizeof(scheme))
        return 0;
    scheme[n] = '\0';
    return strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0;
}

/* Elements whose content a browser never shows as markup: <template> content is inert, and
 * the others hold raw text in HTML5, although libxml2 builds elements inside them. */
static int inert(const xmlNode *n)
{
    static const char *const names[] = {"template", "textarea", "title", "xmp", "iframe"};

    if (n->type != XML_ELEMENT_NODE)
        return 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
        if (scr_dom_is(n, names[i]))
            return 1;
    return 0;
}

/* Appends url to the links record being written by hand: a JSON string (sanitized as
 * scr_json_text() would, although a normalized URL is ASCII), after a ',' unless first. */
static int put_link(struct scr_buf *rec, const char *url, int first)
{
    size_t len = strlen(url), clean_len;
    char *clean;
    int rc;

    if (!first && scr_buf_putc(rec, ','))
        return SCR_ENOMEM;
    if (scr_utf8_valid(url, len))
        return scr_json_escape(rec, url, len);
    clean = scr_utf8_sanitize(url, len, &clean_len);
    rc = scr_json_escape(rec, clean, clean_len);
    free(clean);
    return rc;
}

/* The record is written by hand rather than built and dumped through jansson (a json_t per
 * URL, then jansson's dump): the bytes are those of jansson's compact output, which the
 * parser fixtures check. */
static int links_parse(void *state, const struct scr_page *page, struct scr_emit *out)
{
    const struct scr_parser_env *env = state;
    const struct scr_url_opts *opts = env ? env->url_opts : NULL;
    size_t max = env ? env->max_links : 0;
    xmlNode *top = (xmlNode *)page->doc, *n;
    struct scr_strvec urls;
    struct scr_buf rec;
    json_t *seen = NULL;
    int rc = SCR_OK;

    scr_strvec_init(&urls);
    scr_buf_init(&rec);
    if (!page->doc)
        goto out;
    seen = json_object(); /* a hash set of the URLs taken so far */
    if (!seen || scr_buf_puts(&rec, "{\"parser\":\"links\",\"data\":{\"links\":[")) {
        rc = SCR_ENOMEM;
        goto out;
    }
    for (n = top; n && (max == 0 || urls.n < max); n = scr_dom_next(n, top, inert(n))) {
        xmlChar *href;
        char *abs = NULL;
        int nrc;

        if (!scr_dom_is(n, "a") && !scr_dom_is(n, "area"))
            continue;
        href = xmlGetProp(n, (const xmlChar *)"href");
        if (!href)
            continue;
        nrc = SCR_EINVAL;
        if (scheme_allowed((const char *)href))
            nrc = scr_url_normalize(page->base, (const char *)href, opts, &abs, NULL, NULL, 0);
        xmlFree(href);
        if (nrc == SCR_ENOMEM) {
            rc = nrc;
            goto out;
        }
        if (nrc != 0)
            continue; /* not a link we can crawl: drop it */
        if (strncmp(abs, "http://", 7) != 0 && strncmp(abs, "https://", 8) != 0) {
            free(abs);
            continue;
        }
        if (json_object_get(seen, abs)) {
            free(abs);
            continue;
        }
        if (json_object_set_new_nocheck(seen, abs, json_null()) != 0 ||
            put_link(&rec, abs, urls.n == 0) != SCR_OK) {
            free(abs);
            rc = SCR_ENOMEM;
            goto out;
        }
        scr_strvec_push_owned(&urls, abs); /* abs is not NULL: cannot fail */
    }
    if (scr_buf_puts(&rec, "]}}")) {
        rc = SCR_ENOMEM;
        goto out;
    }
    rc = scr_emit_record_json(out, scr_buf_detach(&rec, NULL));
    if (rc)
        goto out;
    rc = scr_emit_links(out, (const char *const *)urls.v, urls.n);
out:
    json_decref(seen);
    scr_buf_release(&rec);
    scr_strvec_release(&urls);
    return rc;
}

const struct scr_parser scr_parser_links = {
    .name = "links",
    .abi_version = SCR_PARSER_ABI,
    .summary = "outlinks: <a href> and <area href>, resolved, normalized, http(s) only",
    .setup = links_setup,
    .teardown = NULL,
    .parse = links_parse,
};
