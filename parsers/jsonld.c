/* jsonld.c - the "jsonld" parser: structured data from <script type="application/ld+json">.
 *
 * Each such block (the type matched case-insensitively, parameters ignored) is parsed with
 * jansson and yields one record per item, {"parser":"jsonld","data":ITEM}, where an item is
 *   - the top-level object, or
 *   - each object element of a top-level array, and
 *   - in place of an object (or array element) holding an "@graph" array, each object member
 *     of that array (an "@graph" holding a single object counts as a one-member array).
 * The item is emitted as it is (so "@type" is kept); nothing is added.  Non-object items are
 * skipped, as are empty blocks.  Comment or CDATA wrappers around the JSON ("<!-- ... -->",
 * "<![CDATA[ ... ]]>", "//<![CDATA[ ... //]]>"), which some sites use, are ignored.
 *
 * A block that does not parse is not fatal: it gives one record
 *   {"parser":"jsonld","data":{"error":TEXT,"line":N,"source_snippet":FIRST_200_BYTES}}
 * where TEXT is jansson's message, N the line within the block and the snippet the first 200
 * bytes of the block after leading whitespace (not cutting a UTF-8 sequence).
 *
 * A page gives at most SCR_JSONLD_MAX item records (every block and @graph counts): one array
 * of tiny objects would otherwise make 300,000 records of a 900 KB page.  Past the cap the
 * items are counted, not emitted, and one record closes the page's output:
 *   {"parser":"jsonld","data":{"error":"more than N JSON-LD items on this page: ...",
 *    "dropped":D}}
 *
 * Strings holding "\u0000" are accepted and the NUL replaced by U+FFFD, since jsonb refuses
 * it.  No state between pages.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/json.h"
#include "parsers/builtin.h"

#define SNIPPET_MAX 200
#define STR_(x) #x
#define STR(x) STR_(x)
#define SCR_JSONLD_MAX_TEXT STR(SCR_JSONLD_MAX)

/* One page's output: the records emitted so far, the items past the cap. */
struct jsonld_out {
    struct scr_emit *out;
    size_t emitted;
    long long dropped;
};

/* Emits one item record (takes ownership of data), or counts it past the cap. */
static int emit_one(struct jsonld_out *o, json_t *data)
{
    if (o->emitted >= SCR_JSONLD_MAX) {
        json_decref(data);
        o->dropped++;
        return SCR_OK;
    }
    o->emitted++;
    return scr_emit_record(o->out, "jsonld", data);
}

/* Is this <script> JSON-LD? */
static int is_jsonld_script(xmlNode *n)
{
    xmlChar *type;
    const char *t;
    size_t len;
    int yes = 0;

    if (!scr_dom_is(n, "script"))
        return 0;
    type = xmlGetProp(n, (const xmlChar *)"type");
    if (!type)
        return 0;
    t = (const char *)type;
    while (scr_html_isspace((unsigned char)*t))
        t++;
    len = strlen("application/ld+json");
    if (strncasecmp(t, "application/ld+json", len) == 0) {
        t += len;
        while (scr_html_isspace((unsigned char)*t))
            t++;
        yes = *t == '\0' || *t == ';';
    }
    xmlFree(type);
    return yes;
}

/* Blanks out comment and CDATA wrappers around the JSON in s[0..len), in place, keeping every
 * newline so jansson's line numbers still count the block's lines.  The JavaScript-style
 * forms, with "//" or a C comment around the CDATA markers, are wrappers too. */
static void blank_wrappers(char *s, size_t len)
{
    static const char *const open[] = {"<!--", "//<![CDATA[", "/*<![CDATA[*/", "<![CDATA["};
    static const char *const close[] = {"-->", "//]]>", "/*]]>*/", "]]>"};
    const size_t count = sizeof(open) / sizeof(*open);
    size_t a = 0, b = len, i, k;

    for (i = 0; i < 2; i++) { /* twice: "<!-- <![CDATA[" nests */
        while (a < b && scr_html_isspace((unsigned char)s[a]))
            a++;
        while (b > a && scr_html_isspace((unsigned char)s[b - 1]))
            b--;
        for (k = 0; k < count; k++) {
            size_t lo = strlen(open[k]);
            if (b - a >= lo && memcmp(s + a, open[k], lo) == 0) {
                memset(s + a, ' ', lo);
                a += lo;
                break;
            }
        }
        for (k = 0; k < count; k++) {
            size_t lc = strlen(close[k]);
            if (b - a >= lc && memcmp(s + b - lc, close[k], lc) == 0) {
                b -= lc;
                memset(s + b, ' ', lc);
                break;
            }
        }
    }
}

/* Replaces, in place, every string under v that holds a NUL by its sanitized copy.  jansson
 * bounds the nesting of what it parses, which bounds this recursion. */
static int fix_nuls(json_t *v)
{
    const char *key;
    json_t *m;
    size_t i;
    int rc;

    if (json_is_string(v)) {
        size_t len = json_string_length(v);
        const char *s = json_string_value(v);
        if (memchr(s, '\0', len)) {
            size_t n;
            char *c = scr_utf8_sanitize(s, len, &n);
            rc = json_string_setn_nocheck(v, c, n) == 0 ? SCR_OK : SCR_ENOMEM;
            free(c);
            return rc;
        }
    } else if (json_is_object(v)) {
        json_object_foreach(v, key, m)
            if ((rc = fix_nuls(m)) != SCR_OK)
                return rc;
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m)
            if ((rc = fix_nuls(m)) != SCR_OK)
                return rc;
    }
    return SCR_OK;
}

/* Emits item (borrowed) as a record, or its "@graph" members in its place. */
static int emit_item(struct jsonld_out *out, json_t *item)
{
    json_t *graph, *m;
    size_t i;
    int rc;

    if (!json_is_object(item))
        return SCR_OK;
    graph = json_object_get(item, "@graph");
    if (json_is_array(graph)) {
        json_array_foreach(graph, i, m)
            if (json_is_object(m) && (rc = emit_one(out, json_incref(m))))
                return rc;
        return SCR_OK;
    }
    if (json_is_object(graph))
        return emit_one(out, json_incref(graph));
    return emit_one(out, json_incref(item));
}

/* The record for a block that did not parse. */
static int emit_error(struct jsonld_out *out, const json_error_t *jerr, const char *src,
                      size_t len)
{
    size_t n;
    json_t *data;

    while (len && scr_html_isspace((unsigned char)*src)) {
        src++;
        len--;
    }
    n = len < SNIPPET_MAX ? len : SNIPPET_MAX;
    while (n < len && n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
        n--; /* do not cut a UTF-8 sequence */
    data = json_pack("{s:o,s:i,s:o}", "error", scr_json_cstr(jerr->text), "line", jerr->line,
                     "source_snippet", scr_json_text(src, n));
    if (!data)
        return SCR_ENOMEM;
    return emit_one(out, data);
}

/* Parses one block (src is modified: wrappers blanked) and emits its records. */
static int parse_block(struct jsonld_out *out, char *src, size_t len)
{
    json_error_t jerr;
    json_t *root = NULL, *m;
    size_t i;
    int rc = SCR_OK;

    blank_wrappers(src, len);
    if (strspn(src, " \t\r\n\f") == len)
        goto out; /* nothing to parse */
    root = json_loadb(src, len, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        rc = emit_error(out, &jerr, src, len);
        goto out;
    }
    rc = fix_nuls(root);
    if (rc)
        goto out;
    if (json_is_array(root)) {
        json_array_foreach(root, i, m)
            if ((rc = emit_item(out, m)) != SCR_OK)
                goto out;
    } else {
        rc = emit_item(out, root);
    }
out:
    json_decref(root);
    return rc;
}

static int jsonld_parse(void *state, const struct scr_page *page, struct scr_emit *out)
{
    xmlNode *top = (xmlNode *)page->doc, *n;
    struct jsonld_out o = {out, 0, 0};
    int rc = SCR_OK;

    (void)state;
    for (n = top; n && rc == SCR_OK; n = scr_dom_next(n, top, 0)) {
        xmlChar *text;
        if (!is_jsonld_script(n))
            continue;
        text = xmlNodeGetContent(n);
        if (text) {
            rc = parse_block(&o, (char *)text, (size_t)xmlStrlen(text));
            xmlFree(text);
        }
    }
    if (rc == SCR_OK && o.dropped) {
        json_t *data = json_pack("{s:s,s:I}", "error",
                                 "more than " SCR_JSONLD_MAX_TEXT " JSON-LD items on this "
                                 "page: the rest were dropped",
                                 "dropped", (json_int_t)o.dropped);
        rc = data ? scr_emit_record(out, "jsonld", data) : SCR_ENOMEM;
    }
    return rc;
}

const struct scr_parser scr_parser_jsonld = {
    .name = "jsonld",
    .abi_version = SCR_PARSER_ABI,
    .summary = "JSON-LD items from <script type=\"application/ld+json\">",
    .setup = NULL,
    .teardown = NULL,
    .parse = jsonld_parse,
};
