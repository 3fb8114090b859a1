/* wire.c - encoding and decoding of the rank-to-rank messages (see wire.h, docs/protocol.md).
 *
 * Invariant: a decoder never reads past the message and never trusts a length: every count
 * and string length is checked against the bytes that remain before anything is allocated,
 * so a message can never ask for more memory than its own size.  Those allocations, and the
 * encoder's buffer growth, abort on out-of-memory (common/alloc.h).
 */
#include "common/wire.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

/* --- primitives ------------------------------------------------------------------------ */

void scr_wire_writer_init(struct scr_wire_writer *w, struct scr_buf *buf)
{
    w->buf = buf;
    w->err = SCR_OK;
}

static void put_raw(struct scr_wire_writer *w, const void *p, size_t n)
{
    if (w->err == SCR_OK)
        w->err = scr_buf_append(w->buf, p, n);
}

void scr_wire_put_u8(struct scr_wire_writer *w, uint8_t v)
{
    put_raw(w, &v, 1);
}

void scr_wire_put_u32(struct scr_wire_writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_raw(w, b, 4);
}

void scr_wire_put_u64(struct scr_wire_writer *w, uint64_t v)
{
    scr_wire_put_u32(w, (uint32_t)(v >> 32));
    scr_wire_put_u32(w, (uint32_t)v);
}

void scr_wire_put_str(struct scr_wire_writer *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    size_t before = w->buf->len;

    if (n > UINT32_MAX) {
        w->err = SCR_ETOOBIG;
        return;
    }
    scr_wire_put_u32(w, (uint32_t)n);
    if (n)
        put_raw(w, s, n);
    assert(w->err || w->buf->len == before + 4 + n); /* the length prefix matches the bytes */
    (void)before;
}

void scr_wire_reader_init(struct scr_wire_reader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->err = SCR_OK;
}

static const uint8_t *take(struct scr_wire_reader *r, size_t n)
{
    const uint8_t *q;

    assert(r->pos <= r->len);
    if (r->err || n > r->len - r->pos) {
        r->err = SCR_EPROTO;
        return NULL;
    }
    q = r->p + r->pos;
    r->pos += n;
    return q;
}

uint8_t scr_wire_get_u8(struct scr_wire_reader *r)
{
    const uint8_t *q = take(r, 1);
    return q ? q[0] : 0;
}

uint32_t scr_wire_get_u32(struct scr_wire_reader *r)
{
    const uint8_t *q = take(r, 4);
    if (!q)
        return 0;
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

uint64_t scr_wire_get_u64(struct scr_wire_reader *r)
{
    uint64_t hi = scr_wire_get_u32(r);
    return hi << 32 | scr_wire_get_u32(r);
}

char *scr_wire_get_str(struct scr_wire_reader *r)
{
    uint32_t n = scr_wire_get_u32(r);
    const uint8_t *q = take(r, n);
    char *s;

    if (!q)
        return NULL;
    if (memchr(q, '\0', n)) {
        r->err = SCR_EPROTO;
        return NULL;
    }
    s = scr_xmemdup0(q, n); /* n is at most the message's own size (take) */
    return s;
}

static uint32_t get_count(struct scr_wire_reader *r, size_t min_item);

void scr_wire_put_bytes(struct scr_wire_writer *w, const void *p, size_t n)
{
    if (n > UINT32_MAX) {
        w->err = SCR_ETOOBIG;
        return;
    }
    scr_wire_put_u32(w, (uint32_t)n);
    if (n)
        put_raw(w, p, n);
}

char *scr_wire_get_bytes(struct scr_wire_reader *r, size_t *n)
{
    uint32_t len = scr_wire_get_u32(r);
    const uint8_t *q = take(r, len);

    *n = 0;
    if (!q || !len)
        return NULL;
    *n = len;
    return scr_xmemdup0(q, len); /* len is at most the message's own size (take) */
}

int scr_wire_get_bytes_into(struct scr_wire_reader *r, struct scr_buf *out)
{
    uint32_t n = scr_wire_get_u32(r);
    const uint8_t *q = take(r, n);

    if (!q)
        return r->err;
    if (n && scr_buf_append(out, q, n) != SCR_OK)
        r->err = SCR_ENOMEM;
    return r->err;
}

uint32_t scr_wire_get_count(struct scr_wire_reader *r, size_t min_item)
{
    return get_count(r, min_item);
}

/* Reads a count of items each at least min_item bytes long; refuses counts the remaining
 * bytes cannot hold, so a hostile count never drives a huge allocation. */
static uint32_t get_count(struct scr_wire_reader *r, size_t min_item)
{
    uint32_t n = scr_wire_get_u32(r);
    if (r->err == SCR_OK && (size_t)n > (r->len - r->pos) / min_item)
        r->err = SCR_EPROTO;
    return r->err ? 0 : n;
}

static void get_strvec(struct scr_wire_reader *r, struct scr_strvec *sv)
{
    uint32_t n = get_count(r, 4);
    for (uint32_t i = 0; i < n && r->err == SCR_OK; i++) {
        char *s = scr_wire_get_str(r);
        if (s)
            scr_strvec_push_owned(sv, s);
    }
}

static void put_strvec(struct scr_wire_writer *w, const struct scr_strvec *sv)
{
    scr_wire_put_u32(w, (uint32_t)sv->n);
    for (size_t i = 0; i < sv->n; i++)
        scr_wire_put_str(w, sv->v[i]);
}

void scr_wire_begin(struct scr_wire_reader *r, const void *p, size_t len, int type)
{
    scr_wire_reader_init(r, p, len);
    if (scr_wire_get_u8(r) != type)
        r->err = SCR_EPROTO;
}

int scr_wire_end(struct scr_wire_reader *r)
{
    if (r->err == SCR_OK && r->pos != r->len)
        r->err = SCR_EPROTO;
    return r->err;
}

int scr_wire_type(const void *p, size_t len)
{
    return len ? ((const uint8_t *)p)[0] : 0;
}

/* --- HELLO ----------------------------------------------------------------------------- */

int scr_msg_hello_encode(struct scr_buf *b, const struct scr_msg_hello *m)
{
    struct scr_wire_writer w;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_HELLO);
    scr_wire_put_u32(&w, m->protocol);
    scr_wire_put_str(&w, m->version);
    scr_wire_put_str(&w, m->build_id);
    scr_wire_put_str(&w, m->host);
    scr_wire_put_str(&w, m->arch);
    scr_wire_put_str(&w, m->os);
    scr_wire_put_str(&w, m->curl_version);
    scr_wire_put_str(&w, m->libxml2_version);
    scr_wire_put_str(&w, m->pcre2_version);
    scr_wire_put_str(&w, m->mpi_version);
    scr_wire_put_u32(&w, m->cores);
    scr_wire_put_u64(&w, m->mem_bytes);
    scr_wire_put_u32(&w, m->pid);
    return w.err;
}

int scr_msg_hello_decode(struct scr_msg_hello *m, const void *p, size_t len)
{
    struct scr_wire_reader r;

    memset(m, 0, sizeof(*m));
    scr_wire_begin(&r, p, len, SCR_MSG_HELLO);
    m->protocol = scr_wire_get_u32(&r);
    m->version = scr_wire_get_str(&r);
    m->build_id = scr_wire_get_str(&r);
    m->host = scr_wire_get_str(&r);
    m->arch = scr_wire_get_str(&r);
    m->os = scr_wire_get_str(&r);
    m->curl_version = scr_wire_get_str(&r);
    m->libxml2_version = scr_wire_get_str(&r);
    m->pcre2_version = scr_wire_get_str(&r);
    m->mpi_version = scr_wire_get_str(&r);
    m->cores = scr_wire_get_u32(&r);
    m->mem_bytes = scr_wire_get_u64(&r);
    m->pid = scr_wire_get_u32(&r);
    return scr_wire_end(&r);
}

void scr_msg_hello_release(struct scr_msg_hello *m)
{
    free(m->version);
    free(m->build_id);
    free(m->host);
    free(m->arch);
    free(m->os);
    free(m->curl_version);
    free(m->libxml2_version);
    free(m->pcre2_version);
    free(m->mpi_version);
    memset(m, 0, sizeof(*m));
}

/* --- WELCOME --------------------------------------------------------------------------- */

int scr_msg_welcome_encode(struct scr_buf *b, const struct scr_msg_welcome *m)
{
    struct scr_wire_writer w;

    if (m->names.n != m->values.n)
        return SCR_EINVAL;
    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_WELCOME);
    scr_wire_put_u32(&w, m->accepted);
    scr_wire_put_str(&w, m->reason);
    put_strvec(&w, &m->names);
    put_strvec(&w, &m->values);
    scr_wire_put_str(&w, m->rules_name);
    scr_wire_put_str(&w, m->rules_text);
    scr_wire_put_u32(&w, m->not_started);
    return w.err;
}

int scr_msg_welcome_decode(struct scr_msg_welcome *m, const void *p, size_t len)
{
    struct scr_wire_reader r;

    memset(m, 0, sizeof(*m));
    scr_wire_begin(&r, p, len, SCR_MSG_WELCOME);
    m->accepted = scr_wire_get_u32(&r);
    m->reason = scr_wire_get_str(&r);
    get_strvec(&r, &m->names);
    get_strvec(&r, &m->values);
    if (r.err == SCR_OK && m->names.n != m->values.n)
        r.err = SCR_EPROTO;
    m->rules_name = scr_wire_get_str(&r);
    m->rules_text = scr_wire_get_str(&r);
    m->not_started = scr_wire_get_u32(&r);
    return scr_wire_end(&r);
}

void scr_msg_welcome_release(struct scr_msg_welcome *m)
{
    free(m->reason);
    scr_strvec_release(&m->names);
    scr_strvec_release(&m->values);
    free(m->rules_name);
    free(m->rules_text);
    memset(m, 0, sizeof(*m));
}

/* --- REQUEST --------------------------------------------------------------------------- */

int scr_msg_request_encode(struct scr_buf *b, uint32_t now, uint32_t later)
{
    struct scr_wire_writer w;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_REQUEST);
    scr_wire_put_u32(&w, now);
    scr_wire_put_u32(&w, later);
    return w.err;
}

int scr_msg_request_decode(uint32_t *now, uint32_t *later, const void *p, size_t len)
{
    struct scr_wire_reader r;

    scr_wire_begin(&r, p, len, SCR_MSG_REQUEST);
    *now = scr_wire_get_u32(&r);
    *later = scr_wire_get_u32(&r);
    return scr_wire_end(&r);
}

/* --- BATCH ----------------------------------------------------------------------------- */

int scr_msg_batch_encode(struct scr_buf *b, const struct scr_task *tasks, uint32_t count)
{
    struct scr_wire_writer w;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_BATCH);
    scr_wire_put_u32(&w, count);
    for (uint32_t i = 0; i < count; i++) {
        scr_wire_put_u64(&w, tasks[i].url_id);
        scr_wire_put_str(&w, tasks[i].url);
        scr_wire_put_u32(&w, tasks[i].kind);
        scr_wire_put_u32(&w, tasks[i].flags);
        scr_wire_put_u32(&w, tasks[i].depth);
        scr_wire_put_str(&w, tasks[i].etag);
        scr_wire_put_str(&w, tasks[i].last_modified);
    }
    return w.err;
}

int scr_msg_batch_decode(struct scr_msg_batch *m, const void *p, size_t len)
{
    struct scr_wire_reader r;
    uint32_t n;

    memset(m, 0, sizeof(*m));
    scr_wire_begin(&r, p, len, SCR_MSG_BATCH);
    n = get_count(&r, 8 + 4 + 4 + 4 + 4 + 4 + 4);
    if (n)
        m->tasks = scr_xcalloc(n, sizeof(*m->tasks));
    for (uint32_t i = 0; i < n && r.err == SCR_OK; i++) {
        struct scr_task *t = &m->tasks[i];
        m->count = i + 1;
        t->url_id = scr_wire_get_u64(&r);
        t->url = scr_wire_get_str(&r);
        t->kind = scr_wire_get_u32(&r);
        t->flags = scr_wire_get_u32(&r);
        t->depth = scr_wire_get_u32(&r);
        t->etag = scr_wire_get_str(&r);
        t->last_modified = scr_wire_get_str(&r);
    }
    return scr_wire_end(&r);
}

void scr_task_release(struct scr_task *t)
{
    free(t->url);
    free(t->etag);
    free(t->last_modified);
    memset(t, 0, sizeof(*t));
}

void scr_msg_batch_release(struct scr_msg_batch *m)
{
    for (uint32_t i = 0; i < m->count; i++)
        scr_task_release(&m->tasks[i]);
    free(m->tasks);
    memset(m, 0, sizeof(*m));
}

/* --- RESULT ---------------------------------------------------------------------------- */

void scr_result_init(struct scr_result *r)
{
    memset(r, 0, sizeof(*r));
    scr_strvec_init(&r->records);
    scr_strvec_init(&r->links);
    scr_strvec_init(&r->sitemaps);
}

void scr_result_release(struct scr_result *r)
{
    free(r->final_url);
    free(r->content_type);
    free(r->error);
    free(r->etag);
    free(r->last_modified);
    free(r->content_hash);
    free(r->location);
    free(r->body);
    free(r->encoding);
    free(r->rules_stats);
    free(r->http_request);
    free(r->http_head);
    free(r->payload);
    scr_strvec_release(&r->records);
    scr_strvec_release(&r->links);
    scr_strvec_release(&r->sitemaps);
    scr_result_init(r);
}

int scr_result_encode(struct scr_buf *b, const struct scr_result *m)
{
    struct scr_wire_writer w;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_RESULT);
    scr_wire_put_u64(&w, m->url_id);
    scr_wire_put_u32(&w, m->kind);
    scr_wire_put_u32(&w, (uint32_t)m->http_status);
    scr_wire_put_u32(&w, (uint32_t)m->curl_code);
    scr_wire_put_str(&w, m->final_url);
    scr_wire_put_str(&w, m->content_type);
    scr_wire_put_str(&w, m->error);
    scr_wire_put_str(&w, m->etag);
    scr_wire_put_str(&w, m->last_modified);
    scr_wire_put_str(&w, m->content_hash);
    scr_wire_put_u64(&w, m->bytes);
    scr_wire_put_u32(&w, m->elapsed_ms);
    scr_wire_put_u32(&w, m->wait_ms);
    scr_wire_put_u32(&w, m->redirects);
    scr_wire_put_u32(&w, m->truncated);
    scr_wire_put_u32(&w, m->retry_after_s);
    scr_wire_put_str(&w, m->location);
    scr_wire_put_str(&w, m->body);
    put_strvec(&w, &m->records);
    put_strvec(&w, &m->links);
    put_strvec(&w, &m->sitemaps);
    scr_wire_put_str(&w, m->encoding);
    scr_wire_put_str(&w, m->rules_stats ? m->rules_stats : "");
    scr_wire_put_bytes(&w, m->http_request, m->http_request_len);
    scr_wire_put_bytes(&w, m->http_head, m->http_head_len);
    scr_wire_put_bytes(&w, m->payload, m->payload_len);
    return w.err;
}

int scr_result_decode(struct scr_result *m, const void *p, size_t len)
{
    struct scr_wire_reader r;

    scr_result_init(m);
    scr_wire_begin(&r, p, len, SCR_MSG_RESULT);
    m->url_id = scr_wire_get_u64(&r);
    m->kind = scr_wire_get_u32(&r);
    m->http_status = (int32_t)scr_wire_get_u32(&r);
    m->curl_code = (int32_t)scr_wire_get_u32(&r);
    m->final_url = scr_wire_get_str(&r);
    m->content_type = scr_wire_get_str(&r);
    m->error = scr_wire_get_str(&r);
    m->etag = scr_wire_get_str(&r);
    m->last_modified = scr_wire_get_str(&r);
    m->content_hash = scr_wire_get_str(&r);
    m->bytes = scr_wire_get_u64(&r);
    m->elapsed_ms = scr_wire_get_u32(&r);
    m->wait_ms = scr_wire_get_u32(&r);
    m->redirects = scr_wire_get_u32(&r);
    m->truncated = scr_wire_get_u32(&r);
    m->retry_after_s = scr_wire_get_u32(&r);
    m->location = scr_wire_get_str(&r);
    m->body = scr_wire_get_str(&r);
    get_strvec(&r, &m->records);
    get_strvec(&r, &m->links);
    get_strvec(&r, &m->sitemaps);
    m->encoding = scr_wire_get_str(&r);
    m->rules_stats = scr_wire_get_str(&r);
    m->http_request = scr_wire_get_bytes(&r, &m->http_request_len);
    m->http_head = scr_wire_get_bytes(&r, &m->http_head_len);
    m->payload = scr_wire_get_bytes(&r, &m->payload_len);
    return scr_wire_end(&r);
}

/* --- HEARTBEAT, STOP, BYE -------------------------------------------------------------- */

int scr_msg_simple_encode(struct scr_buf *b, enum scr_msg_type type)
{
    struct scr_wire_writer w;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, (uint8_t)type);
    return w.err;
}

int scr_msg_bye_encode(struct scr_buf *b, const struct scr_msg_bye *m)
{
    struct scr_wire_writer w;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_BYE);
    scr_wire_put_u64(&w, m->pages);
    scr_wire_put_u64(&w, m->bytes);
    scr_wire_put_u64(&w, m->errors);
    scr_wire_put_u64(&w, m->records);
    scr_wire_put_u64(&w, m->busy_ms);
    scr_wire_put_u64(&w, m->idle_ms);
    scr_wire_put_u64(&w, m->cpu_us);
    scr_wire_put_u64(&w, m->max_rss_kb);
    return w.err;
}

int scr_msg_bye_decode(struct scr_msg_bye *m, const void *p, size_t len)
{
    struct scr_wire_reader r;

    memset(m, 0, sizeof(*m));
    scr_wire_begin(&r, p, len, SCR_MSG_BYE);
    m->pages = scr_wire_get_u64(&r);
    m->bytes = scr_wire_get_u64(&r);
    m->errors = scr_wire_get_u64(&r);
    m->records = scr_wire_get_u64(&r);
    m->busy_ms = scr_wire_get_u64(&r);
    m->idle_ms = scr_wire_get_u64(&r);
    m->cpu_us = scr_wire_get_u64(&r);
    m->max_rss_kb = scr_wire_get_u64(&r);
    return scr_wire_end(&r);
}

/* --- RECALL, RETURN -------------------------------------------------------------------- */

int scr_msg_recall_encode(struct scr_buf *b, uint32_t max)
{
    struct scr_wire_writer w;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_RECALL);
    scr_wire_put_u32(&w, max);
    return w.err;
}

int scr_msg_recall_decode(uint32_t *max, const void *p, size_t len)
{
    struct scr_wire_reader r;

    scr_wire_begin(&r, p, len, SCR_MSG_RECALL);
    *max = scr_wire_get_u32(&r);
    return scr_wire_end(&r);
}

int scr_msg_return_encode(struct scr_buf *b, const uint64_t *ids, uint32_t count)
{
    struct scr_wire_writer w;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_RETURN);
    scr_wire_put_u32(&w, count);
    for (uint32_t i = 0; i < count; i++)
        scr_wire_put_u64(&w, ids[i]);
    return w.err;
}

int scr_msg_return_decode(struct scr_msg_return *m, const void *p, size_t len)
{
    struct scr_wire_reader r;
    uint32_t n;

    memset(m, 0, sizeof(*m));
    scr_wire_begin(&r, p, len, SCR_MSG_RETURN);
    n = get_count(&r, 8);
    if (n)
        m->ids = scr_xcalloc(n, sizeof(*m->ids));
    for (uint32_t i = 0; i < n && r.err == SCR_OK; i++) {
        m->ids[i] = scr_wire_get_u64(&r);
        m->count = i + 1;
    }
    return scr_wire_end(&r);
}

void scr_msg_return_release(struct scr_msg_return *m)
{
    free(m->ids);
    memset(m, 0, sizeof(*m));
}
