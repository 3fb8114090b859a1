/* rules_eval.c - runs compiled rules on one page: scr_rules_apply() (see rules.h).
 *
 * scr_rules_apply() takes the compiled form from rules_compile.c and one parsed page: for
 * each site whose match regex matches the page's URL, for each record (or each node of the
 * record's `each` selector), it evaluates every field and emits one record.  A field's values
 * go through a small pipeline: select (XPath node-set, XPath string/number/boolean, or regex
 * captures) -> take (text, html or attribute of each node) -> the transforms in the order
 * written (rules_value.c) -> drop empty values -> `number` -> JSON.  A single field keeps its
 * first value, a list field (`all`) all of them.  docs/rules.md is the user's view of the
 * same rules.
 *
 * Per-page memory: one xmlXPathContext, one PCRE2 match data and match context per call,
 * freed before the call returns, so nothing of a page outlives it.
 *
 * Limits (rules.h): every pcre2_match() runs with the match context's match, depth and heap
 * limits; a regex that hits one is put on the page's list of dead regexes and not run again on
 * that page.  Every XPath evaluation starts with opCount 0 under opLimit SCR_RULES_XPATH_OPS
 * (libxml2 2.9.11+; `:nth-child` is count(preceding-sibling::*), quadratic in a sibling
 * list).  The first field to hit a limit is named in out->error.  The page budget
 * (budget.h) is checked before every field: once spent, SCR_ELIMIT.  The compiled rules are only read (but see
 * rules.h: libxml2 writes a cache into compiled XPath, so one thread at a time).
 *
 * Called by the "rules" parser (rules.c) and the tests; calls rules_value.c, never the
 * compiler.
 */
#include "parsers/rules.h"

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
#include "parsers/budget.h"
#include "parsers/rules_value.h"

/* Fields evaluated between two reads of the CPU clock. */
#define CLOCK_EVERY 16
/* Regexes remembered as dead on one page; more than this many different ones and the newest
 * is simply tried again (each try is bounded by the match limit). */
#define DEAD_MAX 32

/* What one scr_rules_apply() call works with. */
struct run {
    const struct scr_rules *r;
    const struct scr_page *page;
    const struct scr_url_opts *url_opts;
    xmlXPathContextPtr xc;
    pcre2_match_data *md;
    pcre2_match_context *mc;       /* the limits */
    const pcre2_code *dead[DEAD_MAX]; /* regexes that hit a limit on this page */
    size_t ndead;
    unsigned fields;               /* fields evaluated, for CLOCK_EVERY */
    const struct scr_rules_site *site; /* what is being evaluated, for messages */
    const struct scr_rules_record *rec;
    struct scr_emit *out;
    struct scr_rules_stats st; /* this page's counts */
    const char *src;           /* the body as valid UTF-8, once a regex needs it, or NULL */
    size_t srclen;
    char *src_owned;           /* src when the body had to be sanitized */
    json_t *fb;                /* the feedback of each matched site (scr_emit.rules_stats) */
};

static _Atomic uint64_t total_pages, total_records, total_dropped, total_empty;

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

/* Appends what node n gives for field f (nothing when it has no such value).  SCR_ENOMEM
 * only when libxml2 could not serialize an element for `html`. */
static int take_node(struct run *ru, const struct scr_rules_field *f, xmlNodePtr n,
                     struct scr_rules_values *vs)
{
    if (n->type == XML_NAMESPACE_DECL) { /* an xmlNs, not an xmlNode: only its URI */
        const xmlNs *ns = (const xmlNs *)n;
        if (f->take != SCR_RULES_TAKE_ATTR && ns->href)
            scr_rules_values_push(vs, (const char *)ns->href, strlen((const char *)ns->href));
        return SCR_OK;
    }
    switch (f->take) {
    case SCR_RULES_TAKE_ATTR:
        if (n->type == XML_ELEMENT_NODE)
            scr_rules_values_push_xml(vs, xmlGetProp(n, (const xmlChar *)f->attr));
        return SCR_OK;
    case SCR_RULES_TAKE_HTML:
        if (n->type == XML_ELEMENT_NODE) {
            xmlChar *h = node_html(ru->page->doc, n);
            if (!h)
                return SCR_ENOMEM;
            scr_rules_values_push_xml(vs, h);
            return SCR_OK;
        }
        break; /* text and attribute nodes: their text */
    case SCR_RULES_TAKE_TEXT:
        break;
    }
    scr_rules_values_push_xml(vs, xmlNodeGetContent(n));
    return SCR_OK;
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

static int is_dead(const struct run *ru, const pcre2_code *re)
{
    for (size_t i = 0; i < ru->ndead; i++)
        if (ru->dead[i] == re)
            return 1;
    return 0;
}

/* Notes that field f (its selector or a transform's regex) hit a limit on this page: the
 * first such field is named in the page's error; a regex is not run again on this page. */
static void over_limit(struct run *ru, const struct scr_rules_field *f, const pcre2_code *re,
                       const char *what)
{
    if (re && ru->ndead < DEAD_MAX && !is_dead(ru, re))
        ru->dead[ru->ndead++] = re;
    scr_emit_error(ru->out, "rules: field '%s' of record '%s' in '%s' (line %d): %s; the field "
                   "is missing on this page", f->name, ru->rec ? ru->rec->name : "?",
                   ru->site ? ru->site->name : "?", f->line, what);
}

static const char *re_limit_what(int rc)
{
    switch (rc) {
    case PCRE2_ERROR_MATCHLIMIT: return "regex over its match limit";
    case PCRE2_ERROR_DEPTHLIMIT: return "regex over its depth limit";
    case PCRE2_ERROR_HEAPLIMIT: return "regex over its heap limit";
    case PCRE2_ERROR_JIT_STACKLIMIT: return "regex over the JIT stack";
    default: return "regex failed";
    }
}

/* Evaluates compiled XPath xp at node ctx under the operation limit; NULL when it failed
 * (*limited is then 1 when the limit was the reason). */
static xmlXPathObjectPtr eval_xpath(struct run *ru, xmlXPathCompExprPtr xp, xmlNodePtr ctx,
                                    int *limited)
{
    xmlXPathObjectPtr obj;

    ru->xc->node = ctx;
    ru->xc->opCount = 0;
    ru->xc->opLimit = SCR_RULES_XPATH_OPS;
    obj = xmlXPathCompiledEval(xp, ru->xc);
    *limited = !obj && ru->xc->opCount >= ru->xc->opLimit;
    return obj;
}

/* Selects field f's raw values with node ctx as the context (the document for a plain
 * record, the node for an `each` record). */
static int select_values(struct run *ru, const struct scr_rules_field *f, xmlNodePtr ctx,
                         struct scr_rules_values *vs)
{
    xmlXPathObjectPtr obj;
    int rc = SCR_OK, limited;

    if (f->source == SCR_RULES_SRC_REGEX) {
        xmlChar *text;
        int mrc;
        if (is_dead(ru, f->re))
            return SCR_OK;
        if (ctx == (xmlNodePtr)ru->page->doc) {
            if (!ru->src && (rc = page_source(ru)) != SCR_OK)
                return rc;
            mrc = scr_rules_values_regex(ru->md, ru->mc, f->re, ru->src, ru->srclen, f->all, vs);
        } else {
            text = xmlNodeGetContent(ctx);
            mrc = text ? scr_rules_values_regex(ru->md, ru->mc, f->re, (const char *)text,
                                                strlen((const char *)text), f->all, vs)
                       : 0;
            xmlFree(text);
        }
        if (mrc < 0) {
            over_limit(ru, f, f->re, re_limit_what(mrc));
            scr_rules_values_clear(vs);
        }
        return SCR_OK;
    }
    obj = eval_xpath(ru, f->xp, ctx, &limited);
    if (!obj) {
        if (limited)
            over_limit(ru, f, NULL, "XPath over its operation limit");
        return SCR_OK; /* an evaluation error: nothing selected */
    }
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
            scr_rules_values_push(vs, (const char *)obj->stringval,
                                  strlen((const char *)obj->stringval));
        break;
    case XPATH_NUMBER:
        if (!isnan(obj->floatval))
            scr_rules_values_push_xml(vs, xmlXPathCastNumberToString(obj->floatval));
        break;
    case XPATH_BOOLEAN:
        scr_rules_values_push(vs, obj->boolval ? "true" : "false", obj->boolval ? 4 : 5);
        break;
    default:
        break;
    }
    xmlXPathFreeObject(obj);
    return rc;
}

/* The JSON value of field f at node ctx, or NULL in *out when it is missing. */
static int field_value(struct run *ru, const struct scr_rules_field *f, xmlNodePtr ctx,
                       struct scr_rules_values *vs, struct scr_rules_values *tmp, json_t **out)
{
    json_t *arr = NULL, *v;
    size_t i, o;
    int rc;

    *out = NULL;
    scr_rules_values_clear(vs);
    if ((rc = select_values(ru, f, ctx, vs)) != SCR_OK)
        return rc;
    for (i = 0; i < f->nsteps && vs->n; i++) {
        const struct scr_rules_step *st = &f->steps[i];
        int trc;
        if (st->re && is_dead(ru, st->re)) {
            scr_rules_values_clear(vs);
            break;
        }
        trc = scr_rules_values_transform(st, f->all, ru->page->base, ru->url_opts, ru->md,
                                         ru->mc, vs, tmp);
        if (trc < 0) {
            over_limit(ru, f, st->re, re_limit_what(trc));
            scr_rules_values_clear(vs);
        }
    }
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
            v = scr_rules_value_number(vs->v[i].s, vs->v[i].len, ru->r->c_locale);
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
                      const struct scr_rules_record *rec, xmlNodePtr ctx, struct scr_rules_values *vs,
                      struct scr_rules_values *tmp)
{
    json_t *data = json_object(), *record = NULL, *v;
    size_t found = 0, missing = 0;
    int lacking = 0, rc = SCR_OK;

    if (!data) {
        rc = SCR_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < rec->nfields; i++) {
        const struct scr_rules_field *f = &rec->fields[i];
        if ((++ru->fields % CLOCK_EVERY == 0 ? scr_budget_check("rules")
                                             : scr_budget_state()) != SCR_BUDGET_OK) {
            rc = SCR_ELIMIT;
            goto out;
        }
        if ((rc = field_value(ru, f, ctx, vs, tmp, &v)) != SCR_OK)
            goto out;
        if (v) {
            found++;
        } else if (f->def_json) {
            v = json_incref(f->def_json);
            missing++;
        } else {
            lacking |= f->required;
            missing++;
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
    if (rc == SCR_OK) {
        ru->st.records++;
        ru->st.empty_fields += missing;
    }
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
        if (pcre2_match(s->match[i], (PCRE2_SPTR)url, len, 0, 0, ru->md, ru->mc) >= 0)
            return 1;
    return 0;
}

/* Appends to ru->fb what site s did on this page: the counts since before. */
static void site_feedback(struct run *ru, const struct scr_rules_site *s,
                          const struct scr_rules_stats *before)
{
    json_t *o;

    if (!ru->fb && !(ru->fb = json_array()))
        return;
    o = json_pack("{s:s?,s:I,s:I,s:I,s:I}", "rule_set", s->name, "records",
                  (json_int_t)(ru->st.records - before->records), "dropped",
                  (json_int_t)(ru->st.dropped - before->dropped), "empty",
                  (json_int_t)(ru->st.empty - before->empty), "empty_fields",
                  (json_int_t)(ru->st.empty_fields - before->empty_fields));
    if (o)
        json_array_append_new(ru->fb, o);
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
                      const struct scr_rules_record *rec, struct scr_rules_values *vs, struct scr_rules_values *tmp)
{
    xmlNodePtr doc = (xmlNodePtr)ru->page->doc;
    xmlXPathObjectPtr obj;
    int rc = SCR_OK, limited;

    ru->site = s;
    ru->rec = rec;
    if (scr_budget_check("rules") != SCR_BUDGET_OK)
        return SCR_ELIMIT;
    if (!rec->each)
        return one_record(ru, s, rec, doc, vs, tmp);
    obj = eval_xpath(ru, rec->each, doc, &limited);
    if (!obj && limited)
        scr_emit_error(ru->out, "rules: the `each` of record '%s' in '%s' (line %d): XPath over "
                       "its operation limit; no records from it on this page", rec->name,
                       s->name, rec->line);
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
    struct scr_rules_values vs = {0}, tmp = {0};
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
    ru.mc = pcre2_match_context_create(NULL);
    if (!ru.xc || !ru.md || !ru.mc) {
        rc = SCR_ENOMEM;
        goto out;
    }
    ru.xc->error = quiet_xpath; /* a failed evaluation is a missing value, not news */
    pcre2_set_match_limit(ru.mc, SCR_RULES_RE_MATCH_LIMIT);
    pcre2_set_depth_limit(ru.mc, SCR_RULES_RE_DEPTH_LIMIT);
    pcre2_set_heap_limit(ru.mc, SCR_RULES_RE_HEAP_KIB);
    ulen = strlen(page->url);
    for (size_t i = 0; i < r->nsites && rc == SCR_OK; i++) {
        const struct scr_rules_site *s = &r->sites[i];
        struct scr_rules_stats before;
        if (!site_matches(&ru, s, page->url, ulen))
            continue;
        matched = 1;
        before = ru.st;
        for (size_t j = 0; j < s->nrecords && rc == SCR_OK; j++)
            rc = run_record(&ru, s, &s->records[j], &vs, &tmp);
        site_feedback(&ru, s, &before);
    }
    ru.st.pages = (uint64_t)matched;
out:
    if (ru.fb && out) {
        free(out->rules_stats);
        out->rules_stats = json_dumps(ru.fb, JSON_COMPACT);
    }
    json_decref(ru.fb);
    scr_rules_values_release(&vs);
    scr_rules_values_release(&tmp);
    free(ru.src_owned);
    pcre2_match_data_free(ru.md);
    pcre2_match_context_free(ru.mc);
    if (ru.xc)
        xmlXPathFreeContext(ru.xc);
    if (stats) {
        stats->pages += ru.st.pages;
        stats->records += ru.st.records;
        stats->dropped += ru.st.dropped;
        stats->empty += ru.st.empty;
        stats->empty_fields += ru.st.empty_fields;
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

