/* emit.c - what parsing a page produced: records and outlinks (see parser.h, scr_emit_*).
 *
 * A record is stored already serialized: one compact JSON object per string, keys in insertion
 * order ({"parser":NAME,"data":{...}}), so what the worker sends to the database is exactly
 * what `scrape extract` prints.  Outlinks are kept in first-occurrence order without
 * duplicates.
 *
 * Invariants: every string in e->records is a compact JSON object holding "parser" (a string)
 * and "data" (an object); e->links holds no two equal strings.  Called by the parsers, through
 * the extractor, one page at a time; a struct scr_emit is not shared between threads.
 */
#include "parsers/parser.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/json.h"
#include "parsers/builtin.h"

/* Serializing flags.  JSON_COMPACT is the record format; jansson keeps object keys in
 * insertion order.  Reals are printed with 15 significant digits instead of jansson's default
 * 17 so a page's "ratingValue": 4.7 stays 4.7 rather than becoming 4.7000000000000002 (15
 * digits round-trip every decimal of up to 15 digits, which is what pages contain). */
#define EMIT_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

void scr_emit_init(struct scr_emit *e)
{
    scr_strvec_init(&e->records);
    scr_strvec_init(&e->links);
    e->error = NULL;
    e->encoding = NULL;
    e->rules_stats = NULL;
}

void scr_emit_release(struct scr_emit *e)
{
    scr_strvec_release(&e->records);
    scr_strvec_release(&e->links);
    free(e->error);
    e->error = NULL;
    e->encoding = NULL;
    free(e->rules_stats);
    e->rules_stats = NULL;
}

void scr_emit_reset(struct scr_emit *e)
{
    scr_strvec_reset(&e->records);
    scr_strvec_reset(&e->links);
    free(e->error);
    e->error = NULL;
    e->encoding = NULL;
    free(e->rules_stats);
    e->rules_stats = NULL;
}

void scr_emit_error(struct scr_emit *e, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (e->error)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    e->error = scr_xstrdup(buf);
}

static int dump_cb(const char *p, size_t n, void *data)
{
    return scr_buf_append(data, p, n) ? -1 : 0;
}

/* Serializes record (borrowed) and appends it to e->records. */
static int push_record(struct scr_emit *e, const json_t *record)
{
    struct scr_buf b;
    int rc;

    scr_buf_init(&b);
    /* json_dump_callback() writes the same bytes as json_dumps() but into our buffer, so the
     * string is ours to free() whatever allocator jansson was given. */
    if (json_dump_callback(record, dump_cb, &b, EMIT_JSON_FLAGS) != 0) {
        rc = SCR_ENOMEM;
        goto out;
    }
    rc = scr_strvec_push_owned(&e->records, scr_buf_detach(&b, NULL));
out:
    scr_buf_release(&b);
    return rc;
}

int scr_emit_record_json(struct scr_emit *e, char *json)
{
    if (!e || !json) {
        free(json);
        return e ? SCR_ENOMEM : SCR_EINVAL;
    }
    return scr_strvec_push_owned(&e->records, json);
}

int scr_emit_record(struct scr_emit *e, const char *parser, json_t *data)
{
    json_t *record = NULL, *name = NULL;
    int rc;

    if (!e || !parser || !json_is_object(data)) {
        rc = SCR_EINVAL;
        goto out;
    }
    record = json_object();
    name = scr_json_cstr(parser);
    if (!record || !name) {
        rc = SCR_ENOMEM;
        goto out;
    }
    /* The _new setters take their value even when they fail. */
    rc = json_object_set_new_nocheck(record, "parser", name);
    name = NULL;
    if (rc == 0)
        rc = json_object_set_nocheck(record, "data", data);
    if (rc != 0) {
        rc = SCR_ENOMEM;
        goto out;
    }
    rc = push_record(e, record);
out:
    json_decref(name);
    json_decref(record);
    json_decref(data);
    return rc;
}

int scr_emit_record_obj(struct scr_emit *e, json_t *record)
{
    int rc;

    if (!e || !json_is_object(record) || !json_is_string(json_object_get(record, "parser")) ||
        !json_is_object(json_object_get(record, "data"))) {
        rc = SCR_EINVAL;
        goto out;
    }
    rc = push_record(e, record);
out:
    json_decref(record);
    return rc;
}

int scr_emit_links(struct scr_emit *e, const char *const *urls, size_t n)
{
    json_t *seen = NULL; /* a jansson object used as a hash set of URLs */
    size_t i;
    int rc = SCR_OK;

    if (n == 0)
        goto out;
    seen = json_object();
    if (!seen) {
        rc = SCR_ENOMEM;
        goto out;
    }
    /* Keys are C strings and need not be UTF-8 with the _nocheck setter; normalized URLs are
     * ASCII anyway.  json_null() is a singleton, so a member costs only the table entry. */
    for (i = 0; i < e->links.n; i++) {
        if (json_object_set_new_nocheck(seen, e->links.v[i], json_null()) != 0) {
            rc = SCR_ENOMEM;
            goto out;
        }
    }
    for (i = 0; i < n; i++) {
        if (!urls[i] || json_object_get(seen, urls[i]))
            continue;
        if (json_object_set_new_nocheck(seen, urls[i], json_null()) != 0) {
            rc = SCR_ENOMEM;
            goto out;
        }
        rc = scr_strvec_push(&e->links, urls[i]);
        if (rc)
            goto out;
    }
out:
    json_decref(seen);
    return rc;
}
