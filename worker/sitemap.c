/* sitemap.c - sitemap and sitemap index reader for workers (see sitemap.h).
 *
 * The document is parsed once with libxml2's XML parser (recover mode, no network, no
 * entity expansion beyond the defaults); elements are matched by local name so that the
 * sitemaps.org namespace, another namespace, or none all work.  A gzip body is inflated with
 * zlib under the same decoded-size cap as every other body, so a gzip bomb stops there.
 */
#include "worker/sitemap.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/error.h"

static int gunzip(const char *in, size_t len, size_t max_bytes, struct scr_buf *out, int *cut)
{
    z_stream z;
    char chunk[65536];
    int zr, rc = SCR_OK;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return SCR_ENOMEM;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    do {
        z.next_out = (Bytef *)chunk;
        z.avail_out = sizeof(chunk);
        zr = inflate(&z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END) {
            rc = out->len ? SCR_OK : SCR_EPARSE; /* keep what decoded before the damage */
            break;
        }
        if (out->len + (sizeof(chunk) - z.avail_out) > max_bytes) {
            *cut = 1;
            scr_buf_append(out, chunk, max_bytes - out->len);
            break;
        }
        if (scr_buf_append(out, chunk, sizeof(chunk) - z.avail_out)) {
            rc = SCR_ENOMEM;
            break;
        }
    } while (zr != Z_STREAM_END);
    inflateEnd(&z);
    return rc;
}

static void collect(xmlNode *n, int depth, const char *base, const struct scr_url_opts *opts,
                    struct scr_strvec *pages, struct scr_strvec *sitemaps)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || depth > 4)
            continue;
        if (xmlStrcmp(n->name, BAD_CAST "loc") == 0 && n->parent) {
            int is_map = xmlStrcmp(n->parent->name, BAD_CAST "sitemap") == 0;
            int is_url = xmlStrcmp(n->parent->name, BAD_CAST "url") == 0;
            struct scr_strvec *dst = is_map ? sitemaps : is_url ? pages : NULL;
            xmlChar *txt = dst ? xmlNodeGetContent(n) : NULL;
            char *norm = NULL, why[128];
            if (txt && pages->n + sitemaps->n < SCR_SITEMAP_MAX_URLS &&
                scr_url_normalize(base, (const char *)txt, opts, &norm, NULL, why,
                                  sizeof(why)) == SCR_OK)
                scr_strvec_push_owned(dst, norm);
            xmlFree(txt);
            continue;
        }
        collect(n->children, depth + 1, base, opts, pages, sitemaps);
    }
}

static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

int scr_sitemap_parse(const char *body, size_t len, const char *base,
                      const struct scr_url_opts *opts, size_t max_bytes,
                      struct scr_strvec *pages, struct scr_strvec *sitemaps, char *err,
                      size_t errlen)
{
    struct scr_buf plain;
    const char *doc_text = body;
    size_t doc_len = len;
    xmlDoc *doc = NULL;
    int cut = 0, rc = SCR_OK;

    scr_buf_init(&plain);
    if (len >= 2 && (unsigned char)body[0] == 0x1f && (unsigned char)body[1] == 0x8b) {
        rc = gunzip(body, len, max_bytes, &plain, &cut);
        if (rc) {
            snprintf(err, errlen, "sitemap: broken gzip data");
            goto out;
        }
        doc_text = plain.data ? plain.data : "";
        doc_len = plain.len;
    }
    xmlSetGenericErrorFunc(NULL, quiet);
    doc = xmlReadMemory(doc_text, (int)(doc_len > INT32_MAX ? INT32_MAX : doc_len), base, NULL,
                        XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
    if (!doc || !xmlDocGetRootElement(doc)) {
        snprintf(err, errlen, "sitemap: not an XML document");
        rc = SCR_EPARSE;
        goto out;
    }
    collect(xmlDocGetRootElement(doc), 0, base, opts, pages, sitemaps);
    if (cut) {
        snprintf(err, errlen, "sitemap larger than %zu bytes once decoded: cut", max_bytes);
        rc = SCR_ETOOBIG;
    }
out:
    xmlFreeDoc(doc);
    scr_buf_release(&plain);
    return rc;
}
