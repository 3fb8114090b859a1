/* fuzz_warc.c - libFuzzer driver for the WARC reader and the HTTP block parser: any bytes as
 * a WARC file (plain or gzip) give records or reported damage, never a crash, a leak or an
 * endless loop; every record's block goes through scr_warc_http_parse. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/error.h"
#include "common/warc_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scr_warc_reader *w;
    struct scr_warc_record rec;
    struct scr_warc_http h;
    char err[256];
    FILE *f;

    if (size == 0)
        return 0;
    f = fmemopen((void *)(uintptr_t)data, size, "rb");
    if (!f)
        return 0;
    if (scr_warc_reader_open_stream(&w, f, err, sizeof(err)) != SCR_OK)
        return 0;
    scr_warc_record_init(&rec);
    scr_warc_http_init(&h);
    /* each call consumes input or ends it: the bound only guards against a regression */
    for (int i = 0; i < 100000; i++) {
        int rc = scr_warc_next(w, &rec, 1 << 16, err, sizeof(err));
        if (rc == SCR_ENOTFOUND)
            break;
        if (rc == SCR_OK)
            scr_warc_http_parse(rec.block.data ? rec.block.data : "", rec.block.len, 1 << 20,
                                &h, err, sizeof(err));
    }
    scr_warc_http_release(&h);
    scr_warc_record_release(&rec);
    scr_warc_reader_close(w);
    return 0;
}
