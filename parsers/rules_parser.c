/* rules_parser.c - runs compiled rules on a page, and the "rules" parser that does it.
 *
 * scr_rules_apply() takes the compiled form from rules.c and one parsed page: for each site
 * whose match regex matches the page's URL, for each record (or each node of the record's
 * `each` selector), it evaluates every field and emits one record.  A field's values go
 * through a small pipeline: select (XPath node-set, XPath string/number/boolean, or regex
 * captures) -> take (text, html or attribute of each node) -> the transforms in the order
 * written -> drop empty values -> `number` -> JSON.  A single field keeps its first value, a
 * list field (`all`) all of them.  docs/rules.md is the user's view of the same rules.
 *
 * Per-page memory: one xmlXPathContext and one PCRE2 match data per call, freed before the
 * call returns, so nothing of a page outlives it.  The compiled rules are only read (but see
 * rules.h: libxml2 writes a cache into compiled XPath, so one thread at a time).
 *
 * The parser object scr_parser_rules (name "rules") compiles env->rules_text in setup; the
 * extractor enables it whenever a rules file is given (extract.c).
 */
#include "parsers/rules.h"

#include <locale.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLtree.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>
#include <libxml/xpathInternals.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/json.h"
#include "parsers/builtin.h"

/* Most digits `number` reads; a longer run of digits is not a price. */
#define NUMBER_MAX_DIGITS 400

/* One value on its way through a field's pipeline: malloc'd, NUL-terminated, and len long
 * (a value cut from a page body may hold NULs; scr_json_text() replaces them). */
struct val {
    char *s;
    size_t len;
};

struct vals {
    struct val *v;
    size_t n, cap;
};

/* What one scr_rules_apply() call works with. */
struct run {
    const struct scr_rules *r;
    const struct scr_page *page;
    const struct scr_url_opts *url_opts;
    xmlXPathContextPtr xc;
    pcre2_match_data *md;
    struct scr_emit *out;
    struct scr_rules_stats st; /* this page's counts */
    const char *src;           /* the body as valid UTF-8, once a regex needs it, or NULL */
    size_t srclen;
    char *src_owned;           /* src when the body had to be sanitized */
};

static _Atomic uint64_t total_pages, total_records, total_dropped, total_empty;

/* ---- values ------------------------------------------------------------------------------ */

static void vals_clear(struct vals *vs)
{
    for (size_t i = 0; i < vs->n; i++)
        free(vs->v[i].s);
    vs->n = 0;
}

static void vals_release(struct vals *vs)
{
    vals_clear(vs);
    free(vs->v);
    vs->v = NULL;
    vs->cap = 0;
}

/* Appends s (malloc'd, len bytes plus a NUL) and takes it, even on failure. */
static int vals_push_owned(struct vals *vs, char *s, size_t len)
{
    if (vs->n == vs->cap) {
        size_t ncap = vs->cap ? vs->cap * 2 : 4;
        struct val *nv = realloc(vs->v, ncap * sizeof(*nv));
        if (!nv) {
            free(s);
            return SCR_ENOMEM;
        }
        vs->v = nv;
        vs->cap = ncap;
    }
    vs->v[vs->n].s = s;
    vs->v[vs->n].len = len;
    vs->n++;
    return SCR_OK;
}

/* Appends a copy of s[0..len). */
static int vals_push(struct vals *vs, const char *s, size_t len)
{
    char *p = malloc(len + 1);

    if (!p)
        return SCR_ENOMEM;
    memcpy(p, s, len);
    p[len] = '\0';
    return vals_push_owned(vs, p, len);
}

/* Appends a copy of the libxml2 string x (NULL: nothing) and frees x. */
static int vals_push_xml(struct vals *vs, xmlChar *x)
{
    int rc;

    if (!x)
        return SCR_OK;
    rc = vals_push(vs, (const char *)x, strlen((const char *)x));
    xmlFree(x);
    return rc;
}

/* ---- reading nodes ----------------------------------------------------------------------- */

/* The markup of element n, as libxml2 serializes it (UTF-8, no formatting newlines added);
 * NULL on ENOMEM. */
static xmlChar *node_html(xmlDocPtr doc, xmlNodePtr n)
{
    xmlOutputBufferPtr ob = xmlAllocOutputBuffer(NULL);
    xmlChar *s = NULL;

    if (!ob)
        return NULL;
    htmlNodeDumpFormatOutput(ob, doc, n, "UTF-8", 0);
    if (!ob->error)
        s = xmlStrndup(xmlOutputBufferGetContent(ob), (int)xmlOutputBufferGetSize(ob));
    xmlOutputBufferClose(ob);
    return s;
}

/* Appends what node n gives for field f (nothing when it has no such value). */
static int take_node(struct run *ru, const struct scr_rules_field *f, xmlNodePtr n,
                     struct vals *vs)
{
    if (n->type == XML_NAMESPACE_DECL) { /* an xmlNs, not an xmlNode: only its URI */
        const xmlNs *ns = (const xmlNs *)n;
        if (f->take == SCR_RULES_TAKE_ATTR || !ns->href)
            return SCR_OK;
        return vals_push(vs, (const char *)ns->href, strlen((const char *)ns->href));
    }
    switch (f->take) {
    case SCR_RULES_TAKE_ATTR:
        if (n->type != XML_ELEMENT_NODE)
            return SCR_OK;
        return vals_push_xml(vs, xmlGetProp(n, (const xmlChar *)f->attr));
    case SCR_RULES_TAKE_HTML:
        if (n->type == XML_ELEMENT_NODE) {
            xmlChar *h = node_html(ru->page->doc, n);
            return h ? vals_push_xml(vs, h) : SCR_ENOMEM;
        }
        break; /* text and attribute nodes: their text */
    case SCR_RULES_TAKE_TEXT:
        break;
    }
    return vals_push_xml(vs, xmlNodeGetContent(n));
}

/* ---- regex ------------------------------------------------------------------------------- */

/* Appends the first capture group of the first match of re in s[0..len), or with all, of
 * every non-overlapping match (at most SCR_RULES_LIST_MAX values).  A match whose first group
 * did not take part gives nothing.  A match error (the match limit on a hostile page) ends
 * the search, as if there were no more matches. */
static int regex_values(struct run *ru, const pcre2_code *re, const char *s, size_t len, int all,
                        struct vals *vs)
{
    PCRE2_SIZE off = 0, *ov;
    int rc;

    while (off <= len) {
        rc = pcre2_match(re, (PCRE2_SPTR)s, len, off, 0, ru->md, NULL);
        if (rc < 0)
            break;
        ov = pcre2_get_ovector_pointer(ru->md);
        if (rc >= 2 && ov[2] != PCRE2_UNSET && ov[3] >= ov[2]) {
            int prc = vals_push(vs, s + ov[2], ov[3] - ov[2]);
            if (prc)
                return prc;
        }
        if (!all || vs->n >= SCR_RULES_LIST_MAX)
            break;
        if (ov[1] > ov[0] && ov[1] > off) {
            off = ov[1];
        } else { /* an empty match: step over one character */
            off = (ov[1] > off ? ov[1] : off) + 1;
            while (off < len && ((unsigned char)s[off] & 0xC0) == 0x80)
                off++;
        }
    }
    return SCR_OK;
}

/* ---- transforms -------------------------------------------------------------------------- */

/* Length of the whitespace character at s[0..len): ASCII whitespace or U+00A0; 0 if none. */
static size_t space_at(const char *s, size_t len)
{
    if (len >= 1 && (scr_html_isspace((unsigned char)s[0]) || s[0] == '\v'))
        return 1;
    if (len >= 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
        return 2;
    return 0;
}

/* Length of the whitespace character that ends s[0..len); 0 if none. */
static size_t space_before(const char *s, size_t len)
{
    if (len >= 2 && (unsigned char)s[len - 2] == 0xC2 && (unsigned char)s[len - 1] == 0xA0)
        return 2;
    return len >= 1 ? space_at(s + len - 1, 1) : 0;
}

/* trim: drops leading and trailing whitespace, in place. */
static void trim(struct val *v)
{
    size_t a = 0, k;

    while ((k = space_at(v->s + a, v->len - a)) > 0)
        a += k;
    while (v->len > a && (k = space_before(v->s, v->len)) > 0)
        v->len -= k;
    memmove(v->s, v->s + a, v->len - a);
    v->len -= a;
    v->s[v->len] = '\0';
}

/* collapse: every run of whitespace becomes one space, then trim; in place. */
static void collapse(struct val *v)
{
    size_t i = 0, o = 0, k;
    int pending = 0;

    while (i < v->len) {
        if ((k = space_at(v->s + i, v->len - i)) > 0) {
            pending = o > 0;
            i += k;
            continue;
        }
        if (pending)
            v->s[o++] = ' ';
        pending = 0;
        v->s[o++] = v->s[i++];
    }
    v->len = o;
    v->s[o] = '\0';
}

static void change_case(struct val *v, int upper)
{
    for (size_t i = 0; i < v->len; i++) {
        char ch = v->s[i];
        if (upper && ch >= 'a' && ch <= 'z')
            v->s[i] = (char)(ch - 'a' + 'A');
        else if (!upper && ch >= 'A' && ch <= 'Z')
            v->s[i] = (char)(ch - 'A' + 'a');
    }
}

/* Applies one step to every value in *vs; a value the step cannot handle is dropped. */
static int apply_step(struct run *ru, const struct scr_rules_field *f,
                      const struct scr_rules_step *st, struct vals *vs, struct vals *tmp)
{
    size_t i, o = 0;
    int rc = SCR_OK;

    switch (st->op) {
    case SCR_RULES_OP_TRIM:
    case SCR_RULES_OP_COLLAPSE:
        for (i = 0; i < vs->n; i++) {
            if (st->op == SCR_RULES_OP_TRIM)
                trim(&vs->v[i]);
            else
                collapse(&vs->v[i]);
        }
        return SCR_OK;
    case SCR_RULES_OP_LOWER:
    case SCR_RULES_OP_UPPER:
        for (i = 0; i < vs->n; i++)
            change_case(&vs->v[i], st->op == SCR_RULES_OP_UPPER);
        return SCR_OK;
    case SCR_RULES_OP_NUMBER:
        return SCR_OK; /* done when the JSON is made */
    case SCR_RULES_OP_URL:
        for (i = 0; i < vs->n; i++) {
            char *u = NULL;
            if (strlen(vs->v[i].s) == vs->v[i].len &&
                scr_url_normalize(ru->page->base, vs->v[i].s, ru->url_opts, &u, NULL, NULL, 0) ==
                    SCR_OK) {
                free(vs->v[i].s);
                vs->v[o].s = u;
                vs->v[o++].len = strlen(u);
            } else {
                free(vs->v[i].s);
            }
        }
        vs->n = o;
        return SCR_OK;
    case SCR_RULES_OP_REGEX:
        vals_clear(tmp);
        for (i = 0; i < vs->n && rc == SCR_OK; i++)
            rc = regex_values(ru, st->re, vs->v[i].s, vs->v[i].len, f->all, tmp);
        if (rc)
            return rc;
        { /* swap: the captures become the values */
            struct vals t = *vs;
            *vs = *tmp;
            *tmp = t;
        }
        return SCR_OK;
    }
    return SCR_OK;
}

/* ---- number ------------------------------------------------------------------------------ */

/* Length of a thousands-grouping character at s: space, U+00A0, U+2009, U+202F, apostrophe,
 * U+2019; 0 if none. */
static size_t grouper_at(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    if (len >= 1 && (u[0] == ' ' || u[0] == '\''))
        return 1;
    if (len >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
        return 2;
    if (len >= 3 && u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0x89 || u[2] == 0xAF || u[2] == 0x99))
        return 3;
    return 0;
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* How many digits start at s[0..len). */
static size_t digits_at(const char *s, size_t len)
{
    size_t n = 0;

    while (n < len && is_digit(s[n]))
        n++;
    return n;
}

json_t *scr_rules_number(const char *s, size_t len, void *c_locale)
{
    struct scr_buf b;
    size_t i = 0, ndig = 0, j;
    size_t dots = 0, commas = 0, last_comma_tail = 0;
    char last = 0, dec = 0;
    int neg = 0, lead_dot = 0;
    json_t *out = NULL;
    /* The run of the number: digit groups and the separators between them. */
    struct {
        size_t at, n; /* a digit group: s[at..at+n) */
        char sep;     /* the separator after it: '.', ',', 'g' (grouping) or 0 (the end) */
    } g[64];
    size_t ng = 0;

    scr_buf_init(&b);
    while (i < len && !is_digit(s[i]))
        i++;
    if (i == len)
        goto out;
    j = i;
    if (j > 0 && s[j - 1] == '.' && (j < 2 || !is_digit(s[j - 2]))) {
        lead_dot = 1; /* ".5" */
        j--;
    }
    if (j > 0 && s[j - 1] == '-')
        neg = 1;
    else if (j >= 3 && memcmp(s + j - 3, "\xE2\x88\x92", 3) == 0) /* U+2212 minus sign */
        neg = 1;

    /* Collect the groups.  A separator belongs to the number only when a digit follows it; a
     * grouping character only when exactly three digits follow it. */
    while (ng < sizeof(g) / sizeof(*g)) {
        size_t n = digits_at(s + i, len - i), k;
        g[ng].at = i;
        g[ng].n = n;
        g[ng].sep = 0;
        ng++;
        i += n;
        if (lead_dot || i == len)
            break;
        if ((s[i] == '.' || s[i] == ',') && i + 1 < len && is_digit(s[i + 1])) {
            g[ng - 1].sep = s[i];
            i++;
            continue;
        }
        k = grouper_at(s + i, len - i);
        if (k && digits_at(s + i + k, len - i - k) == 3) {
            g[ng - 1].sep = 'g';
            i += k;
            continue;
        }
        break;
    }
    if (ng == sizeof(g) / sizeof(*g))
        g[ng - 1].sep = 0;

    for (j = 0; j + 1 < ng; j++) {
        if (g[j].sep == '.')
            dots++;
        else if (g[j].sep == ',') {
            commas++;
            last_comma_tail = g[j + 1].n;
        }
        if (g[j].sep == '.' || g[j].sep == ',')
            last = g[j].sep;
    }
    /* Which of '.' and ',' is the decimal separator (see docs/rules.md, "number"). */
    if (dots && commas) {
        if ((last == '.' ? dots : commas) > 1)
            goto out; /* "1.234.5,6.7": not a number anyone writes */
        dec = last;
    } else if (dots == 1) {
        dec = '.';
    } else if (commas == 1 && (last_comma_tail != 3 || (g[0].n == 1 && s[g[0].at] == '0'))) {
        dec = ','; /* "12,50", "0,125"; but "1,234" is a thousand and more */
    }

    if (scr_buf_puts(&b, neg ? "-" : "") || (lead_dot && scr_buf_puts(&b, "0.")))
        goto out;
    for (j = 0; j < ng; j++) {
        if (scr_buf_append(&b, s + g[j].at, g[j].n))
            goto out;
        ndig += g[j].n;
        if (g[j].sep && g[j].sep == dec && scr_buf_putc(&b, '.'))
            goto out;
    }
    if (ndig > NUMBER_MAX_DIGITS)
        goto out;
    if (!dec && !lead_dot && ndig <= 18) {
        out = json_integer((json_int_t)strtoll(b.data, NULL, 10));
    } else {
        double d = strtod_l(b.data, NULL, (locale_t)c_locale);
        if (isfinite(d))
            out = json_real(d);
    }
out:
    scr_buf_release(&b);
    return out;
}

/* ---- fields and records ------------------------------------------------------------------ */

/* Sets ru->src: the body as received when it is valid UTF-8 (borrowed), else a copy with each
 * invalid sequence and NUL replaced by U+FFFD, so that a regex sees one character where a
 * legacy page has a byte it cannot decode (and `[^<]*` still runs past it). */
static int page_source(struct run *ru)
{
    const char *body = ru->page->body ? ru->page->body : "";
    size_t len = ru->page->body ? ru->page->len : 0;

    if (scr_utf8_valid(body, len)) {
        ru->src = body;
        ru->srclen = len;
        return SCR_OK;
    }
    ru->src_owned = scr_utf8_sanitize(body, len, &ru->srclen);
    if (!ru->src_owned)
        return SCR_ENOMEM;
    ru->src = ru->src_owned;
    return SCR_OK;
}

/* Selects field f's raw values with node ctx as the context (the document for a plain
 * record, the node for an `each` record). */
static int select_values(struct run *ru, const struct scr_rules_field *f, xmlNodePtr ctx,
                         struct vals *vs)
{
    xmlXPathObjectPtr obj;
    int rc = SCR_OK;

    if (f->source == SCR_RULES_SRC_REGEX) {
        xmlChar *text;
        if (ctx == (xmlNodePtr)ru->page->doc) {
            if (!ru->src && (rc = page_source(ru)) != SCR_OK)
                return rc;
            return regex_values(ru, f->re, ru->src, ru->srclen, f->all, vs);
        }
        text = xmlNodeGetContent(ctx);
        if (text)
            rc = regex_values(ru, f->re, (const char *)text, strlen((const char *)text), f->all,
                              vs);
        xmlFree(text);
        return rc;
    }
    ru->xc->node = ctx;
    obj = xmlXPathCompiledEval(f->xp, ru->xc);
    if (!obj)
        return SCR_OK; /* an evaluation error: nothing selected */
    switch (obj->type) {
    case XPATH_NODESET:
        if (obj->nodesetval) {
            int n = obj->nodesetval->nodeNr;
            for (int i = 0; i < n && rc == SCR_OK; i++) {
                if (vs->n >= (f->all ? SCR_RULES_LIST_MAX : 1))
                    break;
                rc = take_node(ru, f, obj->nodesetval->nodeTab[i], vs);
                if (!f->all)
                    break; /* a single field reads the first node only */
            }
        }
        break;
    case XPATH_STRING:
        if (obj->stringval)
            rc = vals_push(vs, (const char *)obj->stringval, strlen((const char *)obj->stringval));
        break;
    case XPATH_NUMBER:
        if (!isnan(obj->floatval))
            rc = vals_push_xml(vs, xmlXPathCastNumberToString(obj->floatval));
        break;
    case XPATH_BOOLEAN:
        rc = vals_push(vs, obj->boolval ? "true" : "false", obj->boolval ? 4 : 5);
        break;
    default:
        break;
    }
    xmlXPathFreeObject(obj);
    return rc;
}

/* The JSON value of field f at node ctx, or NULL in *out when it is missing. */
static int field_value(struct run *ru, const struct scr_rules_field *f, xmlNodePtr ctx,
                       struct vals *vs, struct vals *tmp, json_t **out)
{
    json_t *arr = NULL, *v;
    size_t i, o;
    int rc;

    *out = NULL;
    vals_clear(vs);
    if ((rc = select_values(ru, f, ctx, vs)) != SCR_OK)
        return rc;
    for (i = 0; i < f->nsteps && vs->n; i++)
        if ((rc = apply_step(ru, f, &f->steps[i], vs, tmp)) != SCR_OK)
            return rc;
    for (i = o = 0; i < vs->n; i++) { /* an empty value is a missing one */
        if (vs->v[i].len)
            vs->v[o++] = vs->v[i];
        else
            free(vs->v[i].s);
    }
    vs->n = o;
    if (f->all && !(arr = json_array()))
        return SCR_ENOMEM;
    for (i = 0; i < vs->n; i++) {
        if (f->number) {
            v = scr_rules_number(vs->v[i].s, vs->v[i].len, ru->r->c_locale);
            if (!v)
                continue; /* no digits: missing (or ENOMEM, which looks the same) */
        } else if (!(v = scr_json_text(vs->v[i].s, vs->v[i].len))) {
            json_decref(arr);
            return SCR_ENOMEM;
        }
        if (!f->all) {
            *out = v;
            return SCR_OK;
        }
        if (json_array_append_new(arr, v) != 0) {
            json_decref(arr);
            return SCR_ENOMEM;
        }
    }
    if (arr && json_array_size(arr) > 0)
        *out = arr;
    else
        json_decref(arr);
    return SCR_OK;
}

/* Builds and emits one record of rec at node ctx, unless it is empty or lacks a required
 * field (counted in ru->st either way). */
static int one_record(struct run *ru, const struct scr_rules_site *site,
                      const struct scr_rules_record *rec, xmlNodePtr ctx, struct vals *vs,
                      struct vals *tmp)
{
    json_t *data = json_object(), *record = NULL, *v;
    size_t found = 0;
    int lacking = 0, rc = SCR_OK;

    if (!data) {
        rc = SCR_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < rec->nfields; i++) {
        const struct scr_rules_field *f = &rec->fields[i];
        if ((rc = field_value(ru, f, ctx, vs, tmp, &v)) != SCR_OK)
            goto out;
        if (v) {
            found++;
        } else if (f->def_json) {
            v = json_incref(f->def_json);
        } else {
            lacking |= f->required;
            continue;
        }
        if (json_object_set_new_nocheck(data, f->name, v) != 0) { /* takes v */
            rc = SCR_ENOMEM;
            goto out;
        }
    }
    if (!found) {
        ru->st.empty++;
        goto out;
    }
    if (lacking) {
        ru->st.dropped++;
        goto out;
    }
    record = json_object();
    if (!record || json_object_set_new_nocheck(record, "parser", json_string("rules")) ||
        json_object_set_new_nocheck(record, "rule_set", json_string(site->name)) ||
        json_object_set_new_nocheck(record, "record", json_string(rec->name)) ||
        json_object_set_new_nocheck(record, "rules_hash", json_string(ru->r->hash)) ||
        json_object_set_nocheck(record, "data", data)) {
        rc = SCR_ENOMEM;
        goto out;
    }
    rc = scr_emit_record_obj(ru->out, record); /* takes record */
    record = NULL;
    if (rc == SCR_OK)
        ru->st.records++;
out:
    json_decref(record);
    json_decref(data);
    return rc;
}

/* Does the page's URL match one of the site's regexes? */
static int site_matches(struct run *ru, const struct scr_rules_site *s, const char *url,
                        size_t len)
{
    for (size_t i = 0; i < s->nmatch; i++)
        if (pcre2_match(s->match[i], (PCRE2_SPTR)url, len, 0, 0, ru->md, NULL) >= 0)
            return 1;
    return 0;
}

#if LIBXML_VERSION >= 21200
static void quiet_xpath(void *ctx, const xmlError *e)
#else
static void quiet_xpath(void *ctx, xmlErrorPtr e)
#endif
{
    (void)ctx;
    (void)e;
}

static int run_record(struct run *ru, const struct scr_rules_site *s,
                      const struct scr_rules_record *rec, struct vals *vs, struct vals *tmp)
{
    xmlNodePtr doc = (xmlNodePtr)ru->page->doc;
    xmlXPathObjectPtr obj;
    int rc = SCR_OK;

    if (!rec->each)
        return one_record(ru, s, rec, doc, vs, tmp);
    ru->xc->node = doc;
    obj = xmlXPathCompiledEval(rec->each, ru->xc);
    if (obj && obj->type == XPATH_NODESET && obj->nodesetval) {
        int n = obj->nodesetval->nodeNr;
        if (n > SCR_RULES_EACH_MAX)
            n = SCR_RULES_EACH_MAX;
        for (int i = 0; i < n && rc == SCR_OK; i++) {
            xmlNodePtr node = obj->nodesetval->nodeTab[i];
            if (node->type == XML_NAMESPACE_DECL)
                continue; /* not a node a field can start from */
            rc = one_record(ru, s, rec, node, vs, tmp);
        }
    }
    xmlXPathFreeObject(obj);
    return rc;
}

int scr_rules_apply(const struct scr_rules *r, const struct scr_page *page,
                    const struct scr_url_opts *url_opts, struct scr_emit *out,
                    struct scr_rules_stats *stats)
{
    struct run ru;
    struct vals vs = {0}, tmp = {0};
    size_t ulen;
    int rc = SCR_OK, matched = 0;

    memset(&ru, 0, sizeof(ru));
    if (!r || !page || !out) {
        rc = SCR_EINVAL;
        goto out;
    }
    if (!page->doc || !page->url)
        goto out;
    ru.r = r;
    ru.page = page;
    ru.url_opts = url_opts;
    ru.out = out;
    ru.xc = xmlXPathNewContext(page->doc);
    ru.md = pcre2_match_data_create(r->max_pairs ? r->max_pairs : 1, NULL);
    if (!ru.xc || !ru.md) {
        rc = SCR_ENOMEM;
        goto out;
    }
    ru.xc->error = quiet_xpath; /* a failed evaluation is a missing value, not news */
    ulen = strlen(page->url);
    for (size_t i = 0; i < r->nsites && rc == SCR_OK; i++) {
        const struct scr_rules_site *s = &r->sites[i];
        if (!site_matches(&ru, s, page->url, ulen))
            continue;
        matched = 1;
        for (size_t j = 0; j < s->nrecords && rc == SCR_OK; j++)
            rc = run_record(&ru, s, &s->records[j], &vs, &tmp);
    }
    ru.st.pages = (uint64_t)matched;
out:
    vals_release(&vs);
    vals_release(&tmp);
    free(ru.src_owned);
    pcre2_match_data_free(ru.md);
    if (ru.xc)
        xmlXPathFreeContext(ru.xc);
    if (stats) {
        stats->pages += ru.st.pages;
        stats->records += ru.st.records;
        stats->dropped += ru.st.dropped;
        stats->empty += ru.st.empty;
    }
    atomic_fetch_add_explicit(&total_pages, ru.st.pages, memory_order_relaxed);
    atomic_fetch_add_explicit(&total_records, ru.st.records, memory_order_relaxed);
    atomic_fetch_add_explicit(&total_dropped, ru.st.dropped, memory_order_relaxed);
    atomic_fetch_add_explicit(&total_empty, ru.st.empty, memory_order_relaxed);
    return rc;
}

void scr_rules_totals(struct scr_rules_stats *out)
{
    out->pages = atomic_load_explicit(&total_pages, memory_order_relaxed);
    out->records = atomic_load_explicit(&total_records, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&total_dropped, memory_order_relaxed);
    out->empty = atomic_load_explicit(&total_empty, memory_order_relaxed);
}

/* ---- the parser object ------------------------------------------------------------------- */

struct rules_state {
    struct scr_rules *rules;
    const struct scr_url_opts *url_opts; /* borrowed from the env */
};

static int rules_setup(void **state, const struct scr_parser_env *env, char *err, size_t errlen)
{
    struct rules_state *st = NULL;
    int rc;

    if (!env || !env->rules_text) {
        if (err && errlen)
            snprintf(err, errlen, "the rules parser needs --rules FILE");
        rc = SCR_EINVAL;
        goto out;
    }
    st = calloc(1, sizeof(*st));
    if (!st) {
        rc = SCR_ENOMEM;
        goto out;
    }
    rc = scr_rules_compile(&st->rules, env->rules_text, env->rules_name, err, errlen);
    if (rc)
        goto out;
    st->url_opts = env->url_opts;
    *state = st;
    st = NULL;
out:
    free(st);
    return rc;
}

static void rules_teardown(void *state)
{
    struct rules_state *st = state;

    if (!st)
        return;
    scr_rules_free(st->rules);
    free(st);
}

static int rules_parse(void *state, const struct scr_page *page, struct scr_emit *out)
{
    struct rules_state *st = state;

    return scr_rules_apply(st->rules, page, st->url_opts, out, NULL);
}

const struct scr_parser scr_parser_rules = {
    .name = "rules",
    .abi_version = SCR_PARSER_ABI,
    .summary = "records described by a rules file (--rules FILE; docs/rules.md)",
    .setup = rules_setup,
    .teardown = rules_teardown,
    .parse = rules_parse,
};
