/* meta.c - the "meta" parser: what a page says about itself.
 *
 * One record per HTML page, {"parser":"meta","data":{...}}, whose keys appear in this order
 * and only when found (and non-empty):
 *   "title"       text of the first <title> (outside <svg>), whitespace collapsed
 *   "article_title" the title without the site's name (below)
 *   "description" content of the first <meta name="description">
 *   "canonical"   href of the first <link rel="canonical">, resolved against the base and
 *                 normalized like an outlink (dropped when it does not normalize)
 *   "lang"        the lang attribute of <html>
 *   "og"          {suffix: content} for <meta property="og:SUFFIX"> (name= is accepted too)
 *   "twitter"     {suffix: content} for <meta name="twitter:SUFFIX"> (property= accepted too)
 *   "h1"          [text of each non-empty <h1>, whitespace collapsed]
 * Names, properties and rel tokens match case-insensitively; og/twitter suffixes are
 * lower-cased; the first occurrence of a key wins.  Every value is whitespace-collapsed and
 * made valid UTF-8.  The data is {} when the page has none of these.
 *
 * article_title, for analysts: "Hermitian matrix - Wikipedia" gives "Hermitian matrix".  Only
 * what the page itself says is used, and a part of the title is cut only where two of these
 * agree (docs/queries.md, section 16):
 *   1. The title split at a separator (" - ", " – ", " — ", " | ", " · ", " :: ", " » ", each
 *      with its spaces) into the part before and the part after: a part equal (ASCII case
 *      ignored) to og:title, else to the first <h1>, is the article title.  Every separator
 *      is tried, so "Jon Snow | Game of Thrones Wiki | Fandom" with <h1>Jon Snow gives "Jon
 *      Snow".
 *   2. Else, with og:site_name: the part after the last separator whose text contains the
 *      site name is cut ("Biden signs bill - The Washington Post", site "Washington Post"),
 *      else the part before the first one that does ("Example News | Story").
 *   3. Else the title as it is.
 * Without a <title>, og:title and then the first <h1> stand in for it.  The key is absent only
 * when the page has none of the three.
 *
 * State: the borrowed env pointer from setup (for url_opts).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/json.h"
#include "parsers/builtin.h"

/* What one walk of the document finds; nodes are borrowed from the document. */
struct found {
    xmlNode *title;
    xmlChar *description;
    xmlChar *canonical;
    xmlChar *lang;
    json_t *og;
    json_t *twitter;
    json_t *h1;
};

static int meta_setup(void **state, const struct scr_parser_env *env, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    *state = (void *)env;
    return SCR_OK;
}

/* A JSON string of s[0..len) with whitespace collapsed, or NULL when that leaves it empty
 * (*nomem is set when jansson could not allocate the string). */
static json_t *collapsed(const char *s, size_t len, int *nomem)
{
    size_t n;
    char *c = scr_text_collapse(s, len, &n);
    json_t *j = NULL;

    if (n > 0) {
        j = scr_json_text(c, n);
        if (!j)
            *nomem = 1;
    }
    free(c);
    return j;
}

static int inside_svg(const xmlNode *n)
{
    for (n = n->parent; n; n = n->parent)
        if (scr_dom_is(n, "svg"))
            return 1;
    return 0;
}

/* Does the space-separated token list `list` hold `token` (ASCII case-insensitive)? */
static int has_token(const char *list, const char *token)
{
    size_t k = strlen(token);

    while (*list) {
        size_t n;
        while (scr_html_isspace((unsigned char)*list))
            list++;
        n = 0;
        while (list[n] && !scr_html_isspace((unsigned char)list[n]))
            n++;
        if (n == k && strncasecmp(list, token, k) == 0)
            return 1;
        list += n;
    }
    return 0;
}

/* Sets obj[lower-cased key] = collapsed value unless obj already has the key. */
static int add_prefixed(json_t *obj, const char *key, const char *value)
{
    char *k = NULL;
    json_t *v = NULL;
    size_t i, klen;
    int nomem = 0, rc = SCR_OK;

    if (!key[0] || !value)
        goto out;
    k = scr_utf8_sanitize(key, strlen(key), &klen);
    for (i = 0; i < klen; i++)
        if (k[i] >= 'A' && k[i] <= 'Z')
            k[i] = (char)(k[i] | 0x20);
    if (json_object_get(obj, k))
        goto out;
    v = collapsed(value, strlen(value), &nomem);
    if (nomem) {
        rc = SCR_ENOMEM;
        goto out;
    }
    if (v && json_object_set_new_nocheck(obj, k, v) != 0) /* takes v even on failure */
        rc = SCR_ENOMEM;
out:
    free(k);
    return rc;
}

/* Handles one <meta> element. */
static int on_meta(struct found *f, xmlNode *n)
{
    xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
    xmlChar *prop = xmlGetProp(n, (const xmlChar *)"property");
    xmlChar *content = xmlGetProp(n, (const xmlChar *)"content");
    const char *nm = (const char *)name, *pr = (const char *)prop;
    int rc = SCR_OK;

    if (!content)
        goto out;
    if (nm && strcasecmp(nm, "description") == 0 && !f->description) {
        f->description = content;
        content = NULL;
    } else if (pr && strncasecmp(pr, "og:", 3) == 0) {
        rc = add_prefixed(f->og, pr + 3, (const char *)content);
    } else if (nm && strncasecmp(nm, "og:", 3) == 0) {
        rc = add_prefixed(f->og, nm + 3, (const char *)content);
    } else if (nm && strncasecmp(nm, "twitter:", 8) == 0) {
        rc = add_prefixed(f->twitter, nm + 8, (const char *)content);
    } else if (pr && strncasecmp(pr, "twitter:", 8) == 0) {
        rc = add_prefixed(f->twitter, pr + 8, (const char *)content);
    }
out:
    xmlFree(name);
    xmlFree(prop);
    xmlFree(content);
    return rc;
}

/* Handles one <link> element: remembers the first rel=canonical href. */
static void on_link(struct found *f, xmlNode *n)
{
    xmlChar *rel, *href;

    if (f->canonical)
        return;
    rel = xmlGetProp(n, (const xmlChar *)"rel");
    if (rel && has_token((const char *)rel, "canonical")) {
        href = xmlGetProp(n, (const xmlChar *)"href");
        if (href)
            f->canonical = href;
    }
    xmlFree(rel);
}

/* Appends the collapsed text of an <h1> to f->h1, if not empty. */
static int on_h1(struct found *f, xmlNode *n)
{
    xmlChar *text = xmlNodeGetContent(n);
    json_t *v;
    int nomem = 0, rc = SCR_OK;

    if (!text)
        return SCR_OK; /* xmlNodeGetContent() returns NULL for an element with no text */
    v = collapsed((const char *)text, (size_t)xmlStrlen(text), &nomem);
    if (nomem)
        rc = SCR_ENOMEM;
    else if (v && json_array_append_new(f->h1, v) != 0)
        rc = SCR_ENOMEM;
    xmlFree(text);
    return rc;
}

/* The separators between an article's title and its site's name, spaces included. */
static const char *const SEPARATORS[] = {" - ", " \xE2\x80\x93 ", " \xE2\x80\x94 ", " | ",
                                         " \xC2\xB7 ", " :: ", " \xC2\xBB "};
#define N_SEPARATORS (sizeof(SEPARATORS) / sizeof(SEPARATORS[0]))

/* The length of the separator at s, or 0. */
static size_t separator_at(const char *s)
{
    if (*s != ' ')
        return 0;
    for (size_t i = 0; i < N_SEPARATORS; i++) {
        size_t n = strlen(SEPARATORS[i]);
        if (strncmp(s, SEPARATORS[i], n) == 0)
            return n;
    }
    return 0;
}

/* Is s[0..n) equal to w (ASCII case ignored)? */
static int part_is(const char *s, size_t n, const char *w)
{
    return w && *w && strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* Does s[0..n) contain w (ASCII case ignored)? */
static int part_has(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);

    for (size_t i = 0; k && i + k <= n; i++)
        if (strncasecmp(s + i, w, k) == 0)
            return 1;
    return 0;
}

/* The article title of a page titled t (collapsed; see the top of this file): a malloc'd
 * string, or NULL when t is NULL. */
static char *article_title(const char *t, const char *og_title, const char *site,
                           const char *h1)
{
    const char *cands[2] = {og_title, h1};
    size_t len, k;

    if (!t)
        return NULL;
    len = strlen(t);
    for (size_t c = 0; c < 2; c++) { /* 1. a part agrees with og:title or the <h1> */
        for (size_t i = 0; i < len; i++) {
            if ((k = separator_at(t + i)) == 0)
                continue;
            if (part_is(t, i, cands[c]))
                return scr_xstrndup(t, i);
            if (part_is(t + i + k, len - i - k, cands[c]))
                return scr_xstrdup(t + i + k);
        }
    }
    if (site && *site) { /* 2. the site's name is cut */
        for (size_t i = len; i-- > 0;)
            if ((k = separator_at(t + i)) != 0 && i > 0 && part_has(t + i + k, len - i - k, site))
                return scr_xstrndup(t, i);
        for (size_t i = 0; i < len; i++)
            if ((k = separator_at(t + i)) != 0 && i + k < len && part_has(t, i, site))
                return scr_xstrdup(t + i + k);
    }
    return scr_xstrdup(t); /* 3. */
}

/* data["article_title"] from the title (or og:title, or the first <h1>), og:site_name and
 * the first <h1>; title is the collapsed <title> or NULL. */
static int set_article_title(json_t *data, const char *title, json_t *og, json_t *h1s)
{
    const char *og_title = json_string_value(json_object_get(og, "title"));
    const char *site = json_string_value(json_object_get(og, "site_name"));
    const char *h1 = json_string_value(json_array_get(h1s, 0));
    char *a = article_title(title ? title : og_title ? og_title : h1, og_title, site, h1);
    int rc = SCR_OK;

    if (a && *a && json_object_set_new_nocheck(data, "article_title", scr_json_cstr(a)) != 0)
        rc = SCR_ENOMEM;
    free(a);
    return rc;
}

/* One walk over the document, filling f. */
static int walk(xmlDoc *doc, struct found *f)
{
    xmlNode *top = (xmlNode *)doc, *n;
    int rc = SCR_OK;

    for (n = top; n && rc == SCR_OK; n = scr_dom_next(n, top, 0)) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (scr_dom_is(n, "meta"))
            rc = on_meta(f, n);
        else if (scr_dom_is(n, "link"))
            on_link(f, n);
        else if (scr_dom_is(n, "h1"))
            rc = on_h1(f, n);
        else if (scr_dom_is(n, "title") && !f->title && !inside_svg(n))
            f->title = n;
        else if (scr_dom_is(n, "html") && !f->lang)
            f->lang = xmlGetProp(n, (const xmlChar *)"lang");
    }
    return rc;
}

/* data[key] = collapsed s, when s is not empty after collapsing. */
static int set_text(json_t *data, const char *key, const xmlChar *s)
{
    json_t *v;
    int nomem = 0;

    if (!s)
        return SCR_OK;
    v = collapsed((const char *)s, (size_t)xmlStrlen(s), &nomem);
    if (nomem)
        return SCR_ENOMEM;
    if (v && json_object_set_new_nocheck(data, key, v) != 0)
        return SCR_ENOMEM;
    return SCR_OK;
}

static int meta_parse(void *state, const struct scr_page *page, struct scr_emit *out)
{
    const struct scr_parser_env *env = state;
    struct found f;
    json_t *data = NULL;
    xmlChar *title = NULL;
    char *canon = NULL;
    int rc;

    memset(&f, 0, sizeof(f));
    if (!page->doc) {
        rc = SCR_OK;
        goto out;
    }
    data = json_object();
    f.og = json_object();
    f.twitter = json_object();
    f.h1 = json_array();
    if (!data || !f.og || !f.twitter || !f.h1) {
        rc = SCR_ENOMEM;
        goto out;
    }
    rc = walk(page->doc, &f);
    if (rc)
        goto out;

    if (f.title && (title = xmlNodeGetContent(f.title)) != NULL)
        rc = set_text(data, "title", title);
    if (!rc)
        rc = set_article_title(data, json_string_value(json_object_get(data, "title")), f.og,
                               f.h1);
    if (!rc)
        rc = set_text(data, "description", f.description);
    if (!rc && f.canonical) {
        int nrc = scr_url_normalize(page->base, (const char *)f.canonical,
                                    env ? env->url_opts : NULL, &canon, NULL, NULL, 0);
        if (nrc == SCR_ENOMEM)
            rc = nrc;
        else if (nrc == 0 && json_object_set_new_nocheck(data, "canonical", scr_json_cstr(canon)))
            rc = SCR_ENOMEM;
    }
    if (!rc)
        rc = set_text(data, "lang", f.lang);
    if (!rc && json_object_size(f.og) && json_object_set_nocheck(data, "og", f.og))
        rc = SCR_ENOMEM;
    if (!rc && json_object_size(f.twitter) && json_object_set_nocheck(data, "twitter", f.twitter))
        rc = SCR_ENOMEM;
    if (!rc && json_array_size(f.h1) && json_object_set_nocheck(data, "h1", f.h1))
        rc = SCR_ENOMEM;
    if (rc)
        goto out;
    rc = scr_emit_record(out, "meta", data);
    data = NULL;
out:
    json_decref(data);
    json_decref(f.og);
    json_decref(f.twitter);
    json_decref(f.h1);
    xmlFree(f.description);
    xmlFree(f.canonical);
    xmlFree(f.lang);
    xmlFree(title);
    free(canon);
    return rc;
}

const struct scr_parser scr_parser_meta = {
    .name = "meta",
    .abi_version = SCR_PARSER_ABI,
    .summary = "title, description, canonical, lang, Open Graph, Twitter card, h1",
    .setup = meta_setup,
    .teardown = NULL,
    .parse = meta_parse,
};
