/* bench_extract.c - extraction throughput: pages in memory, through the crawl's extractor.
 *
 *   bench_extract [--parsers LIST] [--rules FILE] [--repeat N] [--origin URL]
 *                 [--content-type CT] [--parse-only] [--tsv] DIR
 *
 * Every .html file under DIR is read into memory first, with the literal @ORIGIN@ replaced by
 * --origin (as tests/server/siteserver.py does when it serves the site), and given the URL the
 * crawl would fetch it by: origin + path, "dir/index.html" served as "dir/".  Only then does
 * the clock start.  Each page then goes through scr_extractor_run(), the code a worker runs on
 * every response, with the worker's defaults (settings, URL options, Content-Type as the
 * site server sends it), and its records and links are counted and dropped.
 *
 * --parse-only decodes each page and runs just libxml2's HTML parser with the options the
 * extractor uses, and frees the document: the ceiling no parser list can beat.
 *
 * The run is single-threaded, so pages per CPU second is pages per second per core.  CPU time
 * is CLOCK_PROCESS_CPUTIME_ID, wall time CLOCK_MONOTONIC; a short untimed warm-up pass comes
 * first.  The timed loop includes scr_emit_reset() (freeing what a page emitted), which the
 * worker pays too.  Not a test: bench/extract.sh drives it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/settings.h"
#include "common/strvec.h"
#include "common/url.h"
#include "common/urlopts.h"
#include "parsers/decode.h"
#include "parsers/extract.h"
#include "parsers/parser.h"

/* The options parsers/extract.c gives htmlCtxtReadMemory() (HTML_OPTIONS there). */
#define BENCH_HTML_OPTIONS                                                              \
    (HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | \
     HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC)

#define WARMUP_PAGES 50

struct page {
    char *url;  /* normalized; owned */
    char *body; /* @ORIGIN@ replaced; owned */
    size_t len;
};

struct corpus {
    struct page *v;
    size_t n, cap;
    uint64_t bytes;
};

struct opts {
    const char *parsers;
    const char *rules;
    char origin[1024]; /* --origin without trailing slashes */
    const char *ctype;
    const char *dir;
    long repeat;
    int parse_only;
    int tsv;
};

struct result {
    uint64_t runs, bytes, records, links, errors, nodoc;
    double cpu_s, wall_s;
};

static double now_s(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_extract [--parsers LIST] [--rules FILE] [--repeat N] [--origin URL]\n"
            "                     [--content-type CT] [--parse-only] [--tsv] DIR\n");
}

/* Reads path whole.  Returns a malloc'd, NUL-terminated buffer (caller frees) and its length
 * in *len, or NULL with errno set. */
static char *slurp(const char *path, size_t *len)
{
    struct scr_buf b;
    char chunk[65536];
    size_t n;
    FILE *f = fopen(path, "rb");

    if (!f)
        return NULL;
    scr_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (scr_buf_append(&b, chunk, n)) {
            scr_buf_release(&b);
            fclose(f);
            errno = ENOMEM;
            return NULL;
        }
    fclose(f);
    return scr_buf_detach(&b, len); /* NULL (ENOMEM) only for an empty file */
}

/* Returns a malloc'd copy of s[0..len) with every "@ORIGIN@" replaced by origin; its length
 * in *outlen.  NULL on ENOMEM. */
static char *substitute(const char *s, size_t len, const char *origin, size_t *outlen)
{
    static const char tag[] = "@ORIGIN@";
    const size_t tlen = sizeof(tag) - 1;
    struct scr_buf b;
    const char *p = s, *end = s + len, *hit;

    scr_buf_init(&b);
    while ((hit = memmem(p, (size_t)(end - p), tag, tlen)) != NULL) {
        if (scr_buf_append(&b, p, (size_t)(hit - p)) || scr_buf_puts(&b, origin))
            goto fail;
        p = hit + tlen;
    }
    if (scr_buf_append(&b, p, (size_t)(end - p)))
        goto fail;
    return scr_buf_detach(&b, outlen);
fail:
    scr_buf_release(&b);
    return NULL;
}

/* Collects the .html files under root/rel (rel "" for root itself) into files, as paths
 * relative to root. */
static int walk(const char *root, const char *rel, struct scr_strvec *files)
{
    char path[4096], sub[4096];
    struct dirent *de;
    DIR *d;
    int rc = SCR_OK;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    if (!(d = opendir(path))) {
        fprintf(stderr, "bench_extract: %s: %s\n", path, strerror(errno));
        return SCR_EIO;
    }
    while (rc == SCR_OK && (de = readdir(d)) != NULL) {
        struct stat st;
        size_t n = strlen(de->d_name);

        if (de->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
                sizeof(sub) ||
            (size_t)snprintf(path, sizeof(path), "%s/%s", root, sub) >= sizeof(path)) {
            fprintf(stderr, "bench_extract: path too long under %s, skipped\n", root);
            continue;
        }
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = walk(root, sub, files);
        else if (S_ISREG(st.st_mode) && n > 5 && strcmp(de->d_name + n - 5, ".html") == 0)
            rc = scr_strvec_push(files, sub);
    }
    closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The URL the crawl fetches rel by: origin + "/" + rel, ".../index.html" as ".../". */
static int page_url(const char *origin, const char *rel, char **out)
{
    char raw[4096];
    size_t n = strlen(rel);
    char err[256];

    if (n >= 10 && strcmp(rel + n - 10, "index.html") == 0 && (n == 10 || rel[n - 11] == '/'))
        n -= 10;
    snprintf(raw, sizeof(raw), "%s/%.*s", origin, (int)n, rel);
    if (scr_url_normalize(NULL, raw, NULL, out, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_extract: bad URL %s: %s\n", raw, err);
        return SCR_EINVAL;
    }
    return SCR_OK;
}

static void corpus_free(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].url);
        free(c->v[i].body);
    }
    free(c->v);
}

/* Loads every .html file under dir, in path order, into c. */
static int corpus_load(struct corpus *c, const char *dir, const char *origin)
{
    struct scr_strvec files;
    char path[4096];
    int rc;

    scr_strvec_init(&files);
    memset(c, 0, sizeof(*c));
    if ((rc = walk(dir, "", &files)) != SCR_OK)
        goto out;
    qsort(files.v, files.n, sizeof(*files.v), cmp_str);
    if (files.n && !(c->v = calloc(files.n, sizeof(*c->v)))) {
        rc = SCR_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < files.n; i++) {
        struct page *pg = &c->v[c->n];
        size_t rawlen;
        char *raw;

        snprintf(path, sizeof(path), "%s/%s", dir, files.v[i]);
        if (!(raw = slurp(path, &rawlen))) {
            fprintf(stderr, "bench_extract: %s: %s\n", path, strerror(errno));
            rc = SCR_EIO;
            goto out;
        }
        pg->body = substitute(raw, rawlen, origin, &pg->len);
        free(raw);
        if (!pg->body) {
            rc = SCR_ENOMEM;
            goto out;
        }
        c->n++; /* owns body from here, so corpus_free() frees it */
        if ((rc = page_url(origin, files.v[i], &pg->url)) != SCR_OK)
            goto out;
        c->bytes += pg->len;
    }
    rc = SCR_OK;
out:
    scr_strvec_release(&files);
    return rc;
}

/* One pass of libxml2 alone over pages[from..to), each decoded to UTF-8 first as the
 * extractor does (parsers/decode.h). */
static void pass_parse(const struct corpus *c, size_t from, size_t to, const char *ctype,
                       struct result *r)
{
    for (size_t i = from; i < to; i++) {
        const struct page *pg = &c->v[i];
        struct scr_decoded dec;
        htmlDocPtr doc;

        scr_decode_html(ctype, pg->body, pg->len, &dec);
        doc = htmlReadMemory(dec.text, (int)dec.len, pg->url, "UTF-8", BENCH_HTML_OPTIONS);
        scr_decoded_release(&dec);
        if (doc)
            xmlFreeDoc(doc);
        else
            r->nodoc++;
        r->runs++;
        r->bytes += pg->len;
    }
}

/* One pass of the extractor over pages[from..to). */
static void pass_extract(struct scr_extractor *x, const struct corpus *c, size_t from,
                         size_t to, const char *ctype, struct scr_emit *emit, struct result *r)
{
    for (size_t i = from; i < to; i++) {
        const struct page *pg = &c->v[i];

        if (scr_extractor_run(x, pg->url, ctype, pg->body, pg->len, emit) != SCR_OK)
            r->errors++;
        r->records += emit->records.n;
        r->links += emit->links.n;
        r->runs++;
        r->bytes += pg->len;
        scr_emit_reset(emit);
    }
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    const char *origin = "http://127.0.0.1:8080";
    size_t n;

    o->ctype = "text/html; charset=utf-8"; /* what tests/server/siteserver.py sends */
    o->repeat = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;

        if (strcmp(a, "--parsers") == 0 && more)
            o->parsers = argv[++i];
        else if (strcmp(a, "--rules") == 0 && more)
            o->rules = argv[++i];
        else if (strcmp(a, "--origin") == 0 && more)
            origin = argv[++i];
        else if (strcmp(a, "--content-type") == 0 && more)
            o->ctype = argv[++i];
        else if (strcmp(a, "--repeat") == 0 && more) {
            char *end;
            o->repeat = strtol(argv[++i], &end, 10);
            if (*end || o->repeat < 1)
                return SCR_EUSAGE;
        } else if (strcmp(a, "--parse-only") == 0)
            o->parse_only = 1;
        else if (strcmp(a, "--tsv") == 0)
            o->tsv = 1;
        else if (a[0] == '-' || o->dir)
            return SCR_EUSAGE;
        else
            o->dir = a;
    }
    if (!o->dir || (o->parse_only && (o->parsers || o->rules)))
        return SCR_EUSAGE;
    n = strlen(origin);
    while (n > 0 && origin[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof(o->origin))
        return SCR_EUSAGE;
    memcpy(o->origin, origin, n);
    o->origin[n] = '\0';
    return SCR_OK;
}

static void report(const struct opts *o, const struct corpus *c, const struct result *r)
{
    const char *mode = o->parse_only ? "parse-only" : o->parsers ? o->parsers : SCR_PARSERS_DEFAULT;
    double mb = (double)r->bytes / 1e6;
    double per_core = r->cpu_s > 0 ? (double)r->runs / r->cpu_s : 0;
    double mbps = r->cpu_s > 0 ? mb / r->cpu_s : 0;
    double us = r->runs ? r->cpu_s * 1e6 / (double)r->runs : 0;

    if (o->tsv) {
        /* mode rules pages runs MB cpu_s wall_s pages/s/core MB/s cpu_us/page records/page
         * links/page errors */
        printf("%s\t%s\t%zu\t%llu\t%.3f\t%.4f\t%.4f\t%.1f\t%.2f\t%.1f\t%.3f\t%.2f\t%llu\n", mode,
               o->rules ? o->rules : "-", c->n, (unsigned long long)r->runs, mb, r->cpu_s,
               r->wall_s, per_core, mbps, us,
               r->runs ? (double)r->records / (double)r->runs : 0,
               r->runs ? (double)r->links / (double)r->runs : 0,
               (unsigned long long)(r->errors + r->nodoc));
        return;
    }
    printf("mode            %s%s%s\n", mode, o->rules ? " + rules " : "", o->rules ? o->rules : "");
    printf("pages           %zu x %ld = %llu runs (avg %.1f KB/page)\n", c->n, o->repeat,
           (unsigned long long)r->runs, c->n ? (double)c->bytes / 1e3 / (double)c->n : 0);
    printf("data            %.1f MB\n", mb);
    printf("cpu             %.3f s\n", r->cpu_s);
    printf("wall            %.3f s\n", r->wall_s);
    printf("pages/s/core    %.1f (CPU time; wall: %.1f)\n", per_core,
           r->wall_s > 0 ? (double)r->runs / r->wall_s : 0);
    printf("MB/s            %.2f\n", mbps);
    printf("cpu us/page     %.1f\n", us);
    if (!o->parse_only) {
        printf("records         %llu (%.3f/page)\n", (unsigned long long)r->records,
               r->runs ? (double)r->records / (double)r->runs : 0);
        printf("links           %llu (%.2f/page)\n", (unsigned long long)r->links,
               r->runs ? (double)r->links / (double)r->runs : 0);
        printf("errors          %llu\n", (unsigned long long)r->errors);
    } else {
        printf("no document     %llu\n", (unsigned long long)r->nodoc);
    }
}

/* Builds the extractor as a worker does (scr_worker_run): default settings, URL options from
 * them, the rules text when given. */
static int make_extractor(const struct opts *o, struct scr_settings *s, struct scr_urlopts *uo,
                          char *rules_text, struct scr_extractor **x)
{
    struct scr_parser_env env;
    char err[1024];
    int rc;

    if ((rc = scr_settings_init(s)) != SCR_OK)
        return rc;
    if ((rc = scr_urlopts_init(uo, s, err, sizeof(err))) != SCR_OK) {
        fprintf(stderr, "bench_extract: URL options: %s\n", err);
        return rc;
    }
    /* the crawl's env, budget included, so its cost is measured */
    scr_extract_env_from_settings(&env, s, &uo->opts, rules_text, o->rules);
    if ((rc = scr_extractor_new(x, o->parsers, &env, err, sizeof(err))) != SCR_OK)
        fprintf(stderr, "bench_extract: %s\n", err);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct corpus c;
    struct result r;
    struct scr_settings s;
    struct scr_urlopts uo;
    struct scr_extractor *x = NULL;
    struct scr_emit emit;
    char *rules_text = NULL;
    size_t rules_len;
    double cpu0, wall0;
    int code = 1;

    memset(&c, 0, sizeof(c));
    memset(&r, 0, sizeof(r));
    memset(&s, 0, sizeof(s));
    memset(&uo, 0, sizeof(uo));
    scr_emit_init(&emit);
    if (parse_args(argc, argv, &o) != SCR_OK) {
        usage();
        code = 2;
        goto out;
    }
    xmlInitParser();
    if (o.rules && !(rules_text = slurp(o.rules, &rules_len))) {
        fprintf(stderr, "bench_extract: %s: %s\n", o.rules, strerror(errno));
        goto out;
    }
    if (!o.parse_only && make_extractor(&o, &s, &uo, rules_text, &x) != SCR_OK)
        goto out;
    if (corpus_load(&c, o.dir, o.origin) != SCR_OK)
        goto out;
    if (c.n == 0) {
        fprintf(stderr, "bench_extract: no .html file under %s\n", o.dir);
        goto out;
    }

    { /* warm-up: caches, allocator, PCRE2 JIT stacks; not counted */
        struct result warm;
        size_t n = c.n < WARMUP_PAGES ? c.n : WARMUP_PAGES;
        memset(&warm, 0, sizeof(warm));
        if (o.parse_only)
            pass_parse(&c, 0, n, o.ctype, &warm);
        else
            pass_extract(x, &c, 0, n, o.ctype, &emit, &warm);
    }

    cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    wall0 = now_s(CLOCK_MONOTONIC);
    for (long k = 0; k < o.repeat; k++) {
        if (o.parse_only)
            pass_parse(&c, 0, c.n, o.ctype, &r);
        else
            pass_extract(x, &c, 0, c.n, o.ctype, &emit, &r);
    }
    r.cpu_s = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    r.wall_s = now_s(CLOCK_MONOTONIC) - wall0;
    report(&o, &c, &r);
    code = 0;
out:
    scr_emit_release(&emit);
    scr_extractor_free(x);
    scr_urlopts_release(&uo);
    scr_settings_release(&s);
    corpus_free(&c);
    free(rules_text);
    return code;
}
