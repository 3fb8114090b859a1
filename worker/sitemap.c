/* sitemap.c - sitemap and sitemap index reader for workers (see sitemap.h).
 *
 * The document is parsed once with libxml2's XML parser (recover mode, no network, entities
 * never substituted); elements are matched by local name so that the sitemaps.org namespace,
 * another namespace, or none all work.  A gzip body is inflated with zlib under the same
 * decoded-size cap as every other body, so a gzip bomb stops there.
 *
 * Entity bombs stop earlier still.  A sitemap has no use for a DTD, so a document that
 * declares any entity is refused at the declaration (the SAX hook stops the parser before a
 * reference is ever parsed); and a <loc> is read from its text and CDATA children only, never
 * through xmlNodeGetContent (which expanded one 60 KB entity referenced 30,000 times into
 * 1.8 GB): a <loc> holding an entity reference or an element is skipped, and so is one of
 * SCR_SITEMAP_MAX_LOC characters or more, without building it.
 */
#include "worker/sitemap.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
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

static int is_xml_space(xmlChar c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The URL text of a <loc>: its text and CDATA children joined, surrounding whitespace dropped,
 * written into out (SCR_SITEMAP_MAX_LOC bytes).  Comments and processing instructions are
 * passed over.  Returns 0, or -1 when the <loc> holds anything else (an entity reference, an
 * element) or its text is SCR_SITEMAP_MAX_LOC characters or longer; nothing is allocated. */
static int loc_text(const xmlNode *loc, char out[SCR_SITEMAP_MAX_LOC])
{
    size_t len = 0;

    for (const xmlNode *c = loc->children; c; c = c->next) {
        if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
            continue;
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
            return -1;
        for (const xmlChar *p = c->content; p && *p; p++) {
            if (len == 0 && is_xml_space(*p))
                continue;
            if (len == SCR_SITEMAP_MAX_LOC - 1) { /* full: only trailing space may follow */
                if (is_xml_space(*p))
                    continue;
                return -1;
            }
            out[len++] = (char)*p;
        }
    }
    while (len > 0 && is_xml_space((xmlChar)out[len - 1]))
        len--;
    out[len] = '\0';
    return 0;
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
            char txt[SCR_SITEMAP_MAX_LOC], *norm = NULL, why[128];
            if (dst && pages->n + sitemaps->n < SCR_SITEMAP_MAX_URLS &&
                loc_text(n, txt) == 0 &&
                scr_url_normalize(base, txt, opts, &norm, NULL, why, sizeof(why)) == SCR_OK)
                scr_strvec_push_owned(dst, norm);
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

/* SAX hooks for entity declarations: mark the document refused and stop the parser there,
 * before any reference to the entity is parsed.  ctx is the parser context; its _private
 * points to the flag. */
static void refuse_entity(void *ctx)
{
    xmlParserCtxtPtr ctxt = ctx;
    *(int *)ctxt->_private = 1;
    xmlStopParser(ctxt);
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content)
{
    (void)name, (void)type, (void)public_id, (void)system_id, (void)content;
    refuse_entity(ctx);
}

static void on_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
                                    const xmlChar *system_id, const xmlChar *notation)
{
    (void)name, (void)public_id, (void)system_id, (void)notation;
    refuse_entity(ctx);
}

/* Parses text into a tree (the caller frees it with xmlFreeDoc), or returns NULL: not XML, or
 * *entities set when the DTD declares an entity. */
static xmlDoc *read_xml(const char *text, size_t len, int *entities)
{
    xmlParserCtxtPtr ctxt;
    xmlDoc *doc = NULL;

    ctxt = xmlCreateMemoryParserCtxt(text, (int)(len > INT32_MAX ? INT32_MAX : len));
    if (!ctxt)
        goto out;
    ctxt->_private = entities;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->unparsedEntityDecl = on_unparsed_entity_decl;
    xmlCtxtUseOptions(ctxt, XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
    xmlParseDocument(ctxt);
    doc = ctxt->myDoc;
    ctxt->myDoc = NULL;
    if (*entities) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
out:
    if (ctxt)
        xmlFreeParserCtxt(ctxt);
    return doc;
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
    int cut = 0, entities = 0, rc = SCR_OK;

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
    doc = read_xml(doc_text, doc_len, &entities);
    if (entities) {
        snprintf(err, errlen, "sitemap: its DTD declares entities: refused");
        rc = SCR_EPARSE;
        goto out;
    }
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
