/* fuzz_wire.c - libFuzzer driver for the wire decoders: a corrupted message from a peer is
 * refused (SCR_EPROTO), never a crash or a leak; what decodes re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct scr_buf *b, const uint8_t *data, size_t size)
{
    if (b->len != size || memcmp(b->data, data, size) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scr_buf b;

    scr_buf_init(&b);
    switch (scr_wire_type(data, size)) {
    case SCR_MSG_HELLO: {
        struct scr_msg_hello m;
        if (scr_msg_hello_decode(&m, data, size) == 0 && scr_msg_hello_encode(&b, &m) == 0)
            same(&b, data, size);
        scr_msg_hello_release(&m);
        break;
    }
    case SCR_MSG_WELCOME: {
        struct scr_msg_welcome m;
        if (scr_msg_welcome_decode(&m, data, size) == 0 && scr_msg_welcome_encode(&b, &m) == 0)
            same(&b, data, size);
        scr_msg_welcome_release(&m);
        break;
    }
    case SCR_MSG_REQUEST: {
        uint32_t now, later;
        if (scr_msg_request_decode(&now, &later, data, size) == 0 &&
            scr_msg_request_encode(&b, now, later) == 0)
            same(&b, data, size);
        break;
    }
    case SCR_MSG_BATCH: {
        struct scr_msg_batch m;
        if (scr_msg_batch_decode(&m, data, size) == 0 &&
            scr_msg_batch_encode(&b, m.tasks, m.count) == 0)
            same(&b, data, size);
        scr_msg_batch_release(&m);
        break;
    }
    case SCR_MSG_RESULT: {
        struct scr_result r;
        if (scr_result_decode(&r, data, size) == 0 && scr_result_encode(&b, &r) == 0)
            same(&b, data, size);
        scr_result_release(&r);
        break;
    }
    case SCR_MSG_BYE: {
        struct scr_msg_bye m;
        if (scr_msg_bye_decode(&m, data, size) == 0 && scr_msg_bye_encode(&b, &m) == 0)
            same(&b, data, size);
        break;
    }
    case SCR_MSG_RECALL: {
        uint32_t max;
        if (scr_msg_recall_decode(&max, data, size) == 0 && scr_msg_recall_encode(&b, max) == 0)
            same(&b, data, size);
        break;
    }
    case SCR_MSG_RETURN: {
        struct scr_msg_return m;
        if (scr_msg_return_decode(&m, data, size) == 0 &&
            scr_msg_return_encode(&b, m.ids, m.count) == 0)
            same(&b, data, size);
        scr_msg_return_release(&m);
        break;
    }
    case SCR_MSG_PAGES: {
        struct scr_msg_pages m;
        if (scr_msg_pages_decode(&m, data, size) == 0 &&
            scr_msg_pages_encode(&b, m.pages, m.count) == 0)
            same(&b, data, size);
        scr_msg_pages_release(&m);
        break;
    }
    default:
        break;
    }
    scr_buf_release(&b);
    return 0;
}
