/* wire_pages.c - the PAGES message of `scrape reextract` (layout: docs/protocol.md).
 *
 *   u8 type (11), u32 count, then per page: u64 id, str url, str content_type,
 *   u32 http_status, bytes body (u32 length, then the bytes; NUL allowed)
 *
 * Decoding checks every length against the bytes left (common/wire.c), so a damaged message
 * gives SCR_EPROTO and allocates no more than its own size.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/wire.h"

int scr_msg_pages_encode(struct scr_buf *b, const struct scr_stored_page *pages, uint32_t count)
{
    struct scr_wire_writer w;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_PAGES);
    scr_wire_put_u32(&w, count);
    for (uint32_t i = 0; i < count; i++) {
        scr_wire_put_u64(&w, pages[i].id);
        scr_wire_put_str(&w, pages[i].url);
        scr_wire_put_str(&w, pages[i].content_type);
        scr_wire_put_u32(&w, pages[i].http_status);
        scr_wire_put_bytes(&w, pages[i].body.data, pages[i].body.len);
    }
    return w.err;
}

void scr_stored_page_release(struct scr_stored_page *pg)
{
    free(pg->url);
    free(pg->content_type);
    scr_buf_release(&pg->body);
    memset(pg, 0, sizeof(*pg));
    scr_buf_init(&pg->body);
}

int scr_msg_pages_decode(struct scr_msg_pages *m, const void *p, size_t len)
{
    struct scr_wire_reader r;
    uint32_t n;

    memset(m, 0, sizeof(*m));
    scr_wire_begin(&r, p, len, SCR_MSG_PAGES);
    /* a page is at least 8 + 4 + 4 + 4 + 4 bytes */
    n = scr_wire_get_count(&r, 24);
    if (n) {
        m->pages = scr_xcalloc(n, sizeof(*m->pages));
        m->count = n;
    }
    for (uint32_t i = 0; i < n && r.err == SCR_OK; i++) {
        struct scr_stored_page *pg = &m->pages[i];
        scr_buf_init(&pg->body);
        pg->id = scr_wire_get_u64(&r);
        pg->url = scr_wire_get_str(&r);
        pg->content_type = scr_wire_get_str(&r);
        pg->http_status = scr_wire_get_u32(&r);
        scr_wire_get_bytes_into(&r, &pg->body);
    }
    return scr_wire_end(&r);
}

void scr_msg_pages_release(struct scr_msg_pages *m)
{
    for (uint32_t i = 0; i < m->count; i++)
        scr_stored_page_release(&m->pages[i]);
    free(m->pages);
    memset(m, 0, sizeof(*m));
}
