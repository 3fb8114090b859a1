/* robots.c - robots.txt parsing (RFC 9309): a body in, a struct scr_robots out; see
 * robots.h, and docs/internals/robots.md for the rules and the decisions.
 *
 * scr_robots_parse() reads the body line by line into growing arrays (struct parser), then
 * hands them to a struct scr_robots that never changes afterwards, and has the rule index
 * built (robots_match.c).  The layout and its invariants are in robots_internal.h; the queries
 * are in robots_match.c.  What cannot be understood is ignored, line by line: a parse fails
 * only for want of memory.
 *
 * Callers: the coordinator, once per host after fetching /robots.txt; `scrape robots`.
 */
#include "coordinator/robots.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "coordinator/robots_internal.h"

/* ---- parser state ------------------------------------------------------------------- */

struct vec {
    void *v;
    size_t n, cap;
};

struct parser {
    struct scr_buf strings;
    struct vec groups, agents, rules, sitemaps;
    size_t records; /* user-agent + allow + disallow lines kept, against SCR_ROBOTS_MAX_RULES */
    int in_agents;  /* no allow/disallow line since the last user-agent line: the next one joins */
    int full;       /* SCR_ROBOTS_MAX_RULES reached: ignore the rest of the file */
};

enum key { KEY_OTHER, KEY_AGENT, KEY_ALLOW, KEY_DISALLOW, KEY_DELAY, KEY_SITEMAP };

/* Field names, compared case-insensitively and exactly (after trimming).  The misspellings
 * are the ones Google's parser accepts, plus the obvious crawl-delay variants. */
static const struct {
    const char *name;
    enum key key;
} keys[] = {
    {"user-agent", KEY_AGENT},    {"useragent", KEY_AGENT},     {"user agent", KEY_AGENT},
    {"allow", KEY_ALLOW},         {"disallow", KEY_DISALLOW},   {"dissallow", KEY_DISALLOW},
    {"dissalow", KEY_DISALLOW},   {"disalow", KEY_DISALLOW},    {"diasllow", KEY_DISALLOW},
    {"disallaw", KEY_DISALLOW},   {"crawl-delay", KEY_DELAY},   {"crawldelay", KEY_DELAY},
    {"crawl delay", KEY_DELAY},   {"sitemap", KEY_SITEMAP},     {"site-map", KEY_SITEMAP},
};

static int vec_push(struct vec *vec, const void *item, size_t size)
{
    if (vec->n == vec->cap) {
        /* SCR_GROW needs a typed array; this vector is untyped */
        size_t cap = scr_grow_cap(vec->cap, vec->n + 1, 8, size);
        vec->v = scr_xreallocarray(vec->v, cap, size);
        vec->cap = cap;
    }
    memcpy((char *)vec->v + vec->n * size, item, size);
    vec->n++;
    return SCR_OK;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int is_unreserved(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

size_t scr_robots_norm_escape(char *dst, const char *src, size_t n, int pattern)
{
    static const char hexd[] = "0123456789ABCDEF";
    size_t o = 0;
    int star = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        int hi, lo;

        if (c == '%' && i + 2 < n && (hi = hex_val((unsigned char)src[i + 1])) >= 0 &&
            (lo = hex_val((unsigned char)src[i + 2])) >= 0) {
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            star = 0;
            if (is_unreserved(c)) {
                dst[o++] = (char)c;
                continue;
            }
        } else if (c > 0x20 && c < 0x7F) {
            if (pattern && c == '*' && star)
                continue;
            star = c == '*';
            dst[o++] = (char)c;
            continue;
        }
        star = 0;
        dst[o++] = '%';
        dst[o++] = hexd[c >> 4];
        dst[o++] = hexd[c & 15];
    }
    return o;
}

/* Crawl-delay: digits with an optional fraction ("10", "0.5", ".5", "5.").  Anything else,
 * signs and exponents included, is garbage: returns -1. */
static double parse_delay(const char *s, size_t n)
{
    double whole = 0, frac = 0, scale = 1;
    size_t i = 0, digits = 0;

    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
        whole = whole * 10 + (s[i] - '0');
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            if (scale < 1e9) { /* finer than a nanosecond is noise */
                frac = frac * 10 + (s[i] - '0');
                scale *= 10;
            }
        }
    }
    if (i != n || digits == 0 || !(whole <= DBL_MAX))
        return -1;
    return whole + frac / scale;
}

/* ---- one line at a time ------------------------------------------------------------- */

static struct robots_group *last_group(struct parser *p)
{
    return p->groups.n ? (struct robots_group *)p->groups.v + p->groups.n - 1 : NULL;
}

/* A user-agent line joins the current run of user-agent lines, or starts a new group. */
static int on_agent(struct parser *p, const char *v, size_t vn)
{
    struct robots_group *g;
    struct robots_agent a;
    size_t tn;
    int rc;

    if (p->records >= SCR_ROBOTS_MAX_RULES) {
        p->full = 1;
        return SCR_OK;
    }
    p->records++;
    if (!p->in_agents || !p->groups.n) {
        struct robots_group ng = {p->agents.n, 0, p->rules.n, 0, -1, 0};
        if ((rc = vec_push(&p->groups, &ng, sizeof(ng))) != SCR_OK)
            return rc;
    }
    p->in_agents = 1;
    g = last_group(p);
    if (vn && v[0] == '*') {
        g->wildcard = 1;
        return SCR_OK;
    }
    /* "Googlebot/2.1 (+url)" names "googlebot"; a value without a token ("123", "/x")
     * still opens the group, which then matches no crawler. */
    tn = token_len(v, vn);
    if (tn == 0 || tn > SCR_ROBOTS_MAX_PATTERN)
        return SCR_OK;
    a.off = p->strings.len;
    a.len = tn;
    if ((rc = scr_buf_append(&p->strings, v, tn)) != SCR_OK ||
        (rc = scr_buf_putc(&p->strings, '\0')) != SCR_OK)
        return rc;
    for (size_t i = 0; i < tn; i++)
        p->strings.data[a.off + i] = (char)lower((unsigned char)p->strings.data[a.off + i]);
    if ((rc = vec_push(&p->agents, &a, sizeof(a))) != SCR_OK)
        return rc;
    g->nagents++;
    return SCR_OK;
}

static int on_rule(struct parser *p, int allow, const char *v, size_t vn)
{
    struct robots_group *g = last_group(p);
    struct robots_rule ru;
    size_t len;
    char *d;
    int rc;

    if (!g) /* before any user-agent line: belongs to no group */
        return SCR_OK;
    p->in_agents = 0;
    /* An empty value means "nothing" (RFC 9309 2.2.2); an oversized one is ignored. */
    if (vn == 0 || vn > SCR_ROBOTS_MAX_PATTERN)
        return SCR_OK;
    if (p->records >= SCR_ROBOTS_MAX_RULES) {
        p->full = 1;
        return SCR_OK;
    }
    p->records++;
    ru.allow = (unsigned char)allow;
    ru.group = (uint32_t)(p->groups.n - 1);
    ru.anchored = v[vn - 1] == '$';
    if (ru.anchored)
        vn--;
    if ((rc = scr_buf_reserve(&p->strings, 3 * vn + 2)) != SCR_OK)
        return rc;
    ru.off = (uint32_t)p->strings.len;
    d = p->strings.data + ru.off;
    len = 0;
    /* Paths start with '/': "Disallow: private" is read as "/private", the polite
     * reading of a common mistake.  "*.gif" needs no help: '*' matches the '/'. */
    if (vn == 0 || (v[0] != '/' && v[0] != '*'))
        d[len++] = '/';
    len += scr_robots_norm_escape(d + len, v, vn, 1);
    d[len] = '\0';
    ru.len = (uint32_t)len;
    p->strings.len += len + 1;
    if ((rc = vec_push(&p->rules, &ru, sizeof(ru))) != SCR_OK)
        return rc;
    g->nrules++;
    return SCR_OK;
}

static void on_delay(struct parser *p, const char *v, size_t vn)
{
    struct robots_group *g = last_group(p);
    double d;

    /* Not a rule: like Google's parser, which ignores it, we let it leave the run of
     * user-agent lines open (RFC 9309 2.2.4: other records must not interfere with the
     * defined ones).  It belongs to the group being built, so between two user-agent lines
     * it sets the delay of both. */
    if (!g)
        return;
    if (g->delay >= 0)
        return; /* the first valid value wins */
    d = parse_delay(v, vn);
    if (d >= 0)
        g->delay = d;
}

static int on_sitemap(struct parser *p, const char *v, size_t vn)
{
    size_t off = p->strings.len;
    int rc;

    if (vn == 0 || vn > SCR_ROBOTS_MAX_PATTERN || p->sitemaps.n >= SCR_ROBOTS_MAX_SITEMAPS)
        return SCR_OK;
    if ((rc = scr_buf_append(&p->strings, v, vn)) != SCR_OK ||
        (rc = scr_buf_putc(&p->strings, '\0')) != SCR_OK)
        return rc;
    return vec_push(&p->sitemaps, &off, sizeof(off));
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_space((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_space((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static enum key key_of(const char *k, size_t kn)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strlen(keys[i].name) == kn && same_ci(k, keys[i].name, kn))
            return keys[i].key;
    return KEY_OTHER;
}

/* One line, without its terminator.  "key: value # comment"; a line without ':' and an
 * unknown key are ignored.  Only allow and disallow lines end a run of user-agent lines. */
static int parse_line(struct parser *p, const char *s, size_t n)
{
    const char *colon, *k, *v;
    size_t kn, vn, end = 0;

    /* A comment ends the line's content, and so does a NUL, which no text contains: what
     * follows it cannot be trusted to mean what a C-string reader would think. */
    while (end < n && s[end] != '#' && s[end] != '\0')
        end++;
    colon = memchr(s, ':', end);
    if (!colon)
        return SCR_OK;
    k = s;
    kn = (size_t)(colon - s);
    v = colon + 1;
    vn = end - kn - 1;
    trim(&k, &kn);
    trim(&v, &vn);
    switch (key_of(k, kn)) {
    case KEY_AGENT:
        return on_agent(p, v, vn);
    case KEY_ALLOW:
        return on_rule(p, 1, v, vn);
    case KEY_DISALLOW:
        return on_rule(p, 0, v, vn);
    case KEY_DELAY:
        on_delay(p, v, vn);
        return SCR_OK;
    case KEY_SITEMAP:
        return on_sitemap(p, v, vn);
    case KEY_OTHER:
        break;
    }
    return SCR_OK;
}

/* Bytes of the body to parse: at most SCR_ROBOTS_MAX_BYTES, and when the cap cuts the body,
 * only up to the last line end before it (half a line could mean anything). */
static size_t usable_len(const char *body, size_t len)
{
    if (len <= SCR_ROBOTS_MAX_BYTES)
        return len;
    len = SCR_ROBOTS_MAX_BYTES;
    while (len > 0 && body[len - 1] != '\n' && body[len - 1] != '\r')
        len--;
    return len;
}

static void parser_release(struct parser *p)
{
    scr_buf_release(&p->strings);
    free(p->groups.v);
    free(p->agents.v);
    free(p->rules.v);
    free(p->sitemaps.v);
}

int scr_robots_parse(const char *body, size_t len, struct scr_robots **out)
{
    struct parser p;
    struct scr_robots *r = NULL;
    size_t i = 0;
    int rc;

    if (!out)
        return SCR_EINVAL;
    memset(&p, 0, sizeof(p));
    scr_buf_init(&p.strings);
    /* Offset 0 is "": the arena is never empty, so detaching it always yields memory. */
    if ((rc = scr_buf_putc(&p.strings, '\0')) != SCR_OK)
        goto out;
    len = body ? usable_len(body, len) : 0;
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && !p.full) {
        size_t start = i;
        /* CR, LF and CRLF all end a line; CRLF yields an empty line, which is harmless. */
        while (i < len && body[i] != '\n' && body[i] != '\r')
            i++;
        if ((rc = parse_line(&p, body + start, i - start)) != SCR_OK)
            goto out;
        i++;
    }
    r = scr_xcalloc(1, sizeof(*r));
    r->strings = scr_buf_detach(&p.strings, NULL);
    r->groups = p.groups.v;
    r->ngroups = p.groups.n;
    r->agents = p.agents.v;
    r->nagents = p.agents.n;
    r->rules = p.rules.v;
    r->nrules = p.rules.n;
    r->sitemaps = p.sitemaps.v;
    r->nsitemaps = p.sitemaps.n;
    memset(&p, 0, sizeof(p)); /* r owns it all now */
    scr_robots_index_build(r);
    *out = r;
    rc = SCR_OK;
out:
    parser_release(&p);
    return rc;
}

void scr_robots_free(struct scr_robots *r)
{
    if (!r)
        return;
    free(r->strings);
    free(r->groups);
    free(r->agents);
    free(r->rules);
    free(r->sitemaps);
    free(r->prefix); /* and the needles */
    free(r->agent_idx);
    free(r);
}

size_t scr_robots_sitemap_count(const struct scr_robots *r)
{
    return r ? r->nsitemaps : 0;
}

const char *scr_robots_sitemap(const struct scr_robots *r, size_t i)
{
    if (!r || i >= r->nsitemaps)
        return NULL;
    return r->strings + r->sitemaps[i];
}
