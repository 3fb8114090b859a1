/* robots.c - robots.txt parsing and matching (RFC 9309); see robots.h and
 * docs/internals/robots.md for the rules and the decisions.
 *
 * scr_robots_parse() turns a body into flat arrays that never change afterwards:
 *   groups   - one per run of consecutive user-agent lines, with the records that follow it;
 *   agents   - the product tokens the groups name, lower case ("*" is a flag on the group);
 *   rules    - allow/disallow patterns, normalized once (canonical percent-escapes, runs of
 *              '*' collapsed, a trailing '$' turned into the `anchored` flag);
 *   sitemaps - offsets of the sitemap URLs;
 *   prefix, needle - the rule index, so a query tries only the rules that can match.
 * Every string lives in one arena, `strings`, referenced by offset (offset 0 is "").
 *
 * Invariants: a group's agents and its rules are contiguous ranges of their arrays, in file
 * order; a pattern is never empty, never contains "**" and is matched against a path that
 * went through the same normalization; nothing is written after scr_robots_parse() returns,
 * which is what makes concurrent readers safe without a lock.
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

struct robots_group {
    size_t agent0, nagents; /* range in agents[] */
    size_t rule0, nrules;   /* range in rules[] */
    double delay;           /* Crawl-delay in seconds, or -1 */
    int wildcard;           /* one of its user-agent lines is "*" */
};

struct robots_agent {
    size_t off, len; /* lower-case product token in strings */
};

/* 16 bytes, since a file may hold 64,000 of them: offsets and lengths fit 32 bits, the
 * arena being at most about 3 x SCR_ROBOTS_MAX_BYTES. */
struct robots_rule {
    uint32_t off, len;      /* normalized pattern in strings, without the anchor */
    uint32_t group;         /* index in groups[] */
    unsigned char allow;    /* 1 for allow, 0 for disallow */
    unsigned char anchored; /* the pattern ended in '$': it must match the whole path */
};

_Static_assert(4 * (uint64_t)SCR_ROBOTS_MAX_BYTES < UINT32_MAX, "arena offsets fit 32 bits");

/* An entry of a rule index: a key (a piece of the rule's pattern) and the rule.  Lengths and
 * indexes fit 32 bits: the arena is at most about 3 x SCR_ROBOTS_MAX_BYTES. */
struct robots_key {
    const char *key; /* in strings */
    uint32_t len;
    uint32_t rule; /* index in rules[] */
};

struct scr_robots {
    char *strings;
    struct robots_group *groups;
    struct robots_agent *agents;
    struct robots_rule *rules;
    size_t *sitemaps;
    size_t ngroups, nagents, nrules, nsitemaps;
    /* The rule index (see "Complexity" in robots.md), both sorted by key:
     *   prefix - rules whose pattern starts with more than "/" before its first '*', keyed
     *            by that literal prefix: candidates are the keys that are prefixes of the path;
     *   needle - the other rules, keyed by their longest literal segment (maybe empty):
     *            candidates are the keys that occur in the path. */
    struct robots_key *prefix, *needle; /* one allocation, at prefix */
    size_t nprefix, nneedle;
    /* The agents' tokens, sorted by key_cmp (rule = index in agents[]): which token is named
     * anywhere is a binary search, not a scan of the file's groups. */
    struct robots_key *agent_idx;
};

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

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static int is_token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

/* Length of the product token at the start of s: RFC 9309 allows letters, '_' and '-'. */
static size_t token_len(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && is_token_char((unsigned char)s[i]))
        i++;
    return i;
}

static int same_ci(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
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

/* Writes the canonical spelling of src[0..n) to dst, which has room for 3 * n bytes, and
 * returns the bytes written.  Canonical: an escape of an unreserved character is decoded,
 * any other escape gets upper-case hex, and control bytes, space, DEL and every non-ASCII
 * octet (UTF-8) are escaped.  Reserved characters stay as they are on both sides: '/' and
 * "%2F" differ, as RFC 3986 says.  In a pattern (`pattern` set) runs of '*' become one. */
static size_t norm_escape(char *dst, const char *src, size_t n, int pattern)
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
    len += norm_escape(d + len, v, vn, 1);
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

/* ---- the rule index ---------------------------------------------------------------- */

/* Keys in bytewise order, a key before every longer key it is a prefix of. */
static int key_cmp(const void *va, const void *vb)
{
    const struct robots_key *a = va, *b = vb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->key, b->key, n);

    if (c)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->rule < b->rule ? -1 : (a->rule > b->rule);
}

/* The longest run of p[0..m) without '*': text every match must contain. */
static struct robots_key longest_segment(const char *p, size_t m, size_t rule)
{
    struct robots_key k = {p, 0, (uint32_t)rule};
    size_t start = 0;

    for (size_t i = 0; i <= m; i++) {
        if (i < m && p[i] != '*')
            continue;
        if (i - start > k.len) {
            k.key = p + start;
            k.len = (uint32_t)(i - start);
        }
        start = i + 1;
    }
    return k;
}

/* Builds r->prefix, r->needle and r->agent_idx (see struct scr_robots). */
static void index_build(struct scr_robots *r)
{
    if (r->nagents) {
        r->agent_idx = scr_xcalloc(r->nagents, sizeof(*r->agent_idx));
        for (size_t i = 0; i < r->nagents; i++)
            r->agent_idx[i] = (struct robots_key){r->strings + r->agents[i].off,
                                                  (uint32_t)r->agents[i].len, (uint32_t)i};
        qsort(r->agent_idx, r->nagents, sizeof(*r->agent_idx), key_cmp);
    }
    if (!r->nrules)
        return;
    /* One array: prefix keys from the front, needles from the back. */
    r->prefix = scr_xcalloc(r->nrules, sizeof(*r->prefix));
    r->needle = r->prefix + r->nrules;
    for (size_t i = r->nrules; i-- > 0;) {
        const struct robots_rule *ru = &r->rules[i];
        const char *p = r->strings + ru->off, *star = memchr(p, '*', ru->len);
        size_t lit = star ? (size_t)(star - p) : ru->len;

        if (lit > 1)
            r->prefix[r->nprefix++] = (struct robots_key){p, (uint32_t)lit, (uint32_t)i};
        else
            *--r->needle = longest_segment(p, ru->len, i);
    }
    r->nneedle = r->nrules - r->nprefix;
    qsort(r->prefix, r->nprefix, sizeof(*r->prefix), key_cmp);
    qsort(r->needle, r->nneedle, sizeof(*r->needle), key_cmp);
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
    index_build(r);
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

/* ---- queries ------------------------------------------------------------------------ */

/* Does pattern p[0..m) ('*' = any run of octets; whole path if `anchored`) match path
 * s[0..n)?  Leftmost-greedy: the text before the first '*' must be a prefix of s; each
 * later segment is placed at its leftmost occurrence after the previous one (placing it
 * further right can never help a later segment); an anchored last segment must end the
 * path.  With a linear memmem (glibc, musl: two-way) this is O(n + m) and never backtracks,
 * whatever the number of '*'. */
static int pattern_match(const char *p, size_t m, int anchored, const char *s, size_t n)
{
    const char *star = memchr(p, '*', m);
    size_t seg = star ? (size_t)(star - p) : m, pos;

    if (seg > n || memcmp(p, s, seg) != 0)
        return 0;
    if (!star)
        return anchored ? seg == n : 1;
    pos = seg;
    p += seg + 1;
    m -= seg + 1;
    while ((star = memchr(p, '*', m)) != NULL) {
        seg = (size_t)(star - p);
        if (seg) {
            const char *f = memmem(s + pos, n - pos, p, seg);
            if (!f)
                return 0;
            pos = (size_t)(f - s) + seg;
        }
        p += seg + 1;
        m -= seg + 1;
    }
    if (!anchored)
        return m == 0 || memmem(s + pos, n - pos, p, m) != NULL;
    return m <= n - pos && memcmp(s + n - m, p, m) == 0;
}

/* The product token of the caller's agent string ("scrape/1.0" -> "scrape"). */
static size_t agent_token(const char *agent)
{
    return agent ? token_len(agent, strlen(agent)) : 0;
}

static int group_names(const struct scr_robots *r, const struct robots_group *g,
                       const char *tok, size_t tn)
{
    for (size_t i = 0; i < g->nagents; i++) {
        const struct robots_agent *a = &r->agents[g->agent0 + i];
        if (a->len == tn && same_ci(r->strings + a->off, tok, tn))
            return 1;
    }
    return 0;
}

/* Group selection (RFC 9309 2.2.1): every group naming the token, merged; if there is none,
 * every "*" group, merged; if there is none either, no group (everything allowed).
 * Returns whether the named groups apply (else the "*" ones do). */
static int named_apply(const struct scr_robots *r, const char *tok, size_t tn)
{
    size_t lo = 0, hi = r->nagents;

    if (tn == 0)
        return 0;
    while (lo < hi) { /* the stored tokens are lower case; key_cmp's order */
        size_t m = lo + (hi - lo) / 2, i;
        const struct robots_key *k = &r->agent_idx[m];
        int c = 0;

        for (i = 0; i < k->len && i < tn && !c; i++)
            c = (int)(unsigned char)k->key[i] - (int)lower((unsigned char)tok[i]);
        if (!c)
            c = k->len < tn ? -1 : k->len > tn;
        if (!c)
            return 1;
        if (c < 0)
            lo = m + 1;
        else
            hi = m;
    }
    return 0;
}

static int group_applies(const struct scr_robots *r, const struct robots_group *g,
                         const char *tok, size_t tn, int named)
{
    return named ? group_names(r, g, tok, tn) : g->wildcard;
}

/* One query's state: who asks, the normalized path, and the best match so far. */
struct verdict {
    const struct scr_robots *r;
    const char *tok;
    size_t tn;
    int named;
    const char *path;
    size_t n;
    size_t best; /* weight of the best match: octets of the pattern, '$' included */
    int found, allow;
    size_t memo_group; /* the last group asked about (SIZE_MAX: none), and the answer */
    int memo_applies;
};

static void consider(struct verdict *v, size_t i)
{
    const struct robots_rule *ru = &v->r->rules[i];
    size_t w = ru->len + (size_t)ru->anchored;

    /* Skip a rule that could not change the verdict even if it matched. */
    if (v->found && (w < v->best || (w == v->best && (v->allow || !ru->allow))))
        return;
    if (ru->group != v->memo_group) {
        v->memo_group = ru->group;
        v->memo_applies = group_applies(v->r, &v->r->groups[ru->group], v->tok, v->tn,
                                        v->named);
    }
    if (!v->memo_applies)
        return;
    if (!pattern_match(v->r->strings + ru->off, ru->len, ru->anchored, v->path, v->n))
        return;
    v->best = w;
    v->allow = ru->allow;
    v->found = 1;
}

/* Considers the rule of every key of idx[0..n) (sorted by key_cmp) that is a prefix of
 * t[0..tn).  The keys sharing t[0..k) form a range that narrows as k grows; the ones exactly
 * t[0..k) lead it.  O(tn log n) plus the keys found.  `seen` (NULL for none) marks the index
 * positions already considered, so a needle found twice costs one match. */
static void walk(struct verdict *v, const struct robots_key *idx, size_t n, const char *t,
                 size_t tn, uint64_t *seen)
{
    size_t lo = 0, hi = n, k = 0;

    for (;;) {
        for (; lo < hi && idx[lo].len == k; lo++) {
            if (seen && (seen[lo / 64] >> (lo % 64) & 1))
                continue;
            if (seen)
                seen[lo / 64] |= (uint64_t)1 << (lo % 64);
            consider(v, idx[lo].rule);
        }
        if (lo == hi || k == tn)
            return;
        /* every key left is longer than k: keep those whose byte k is t[k] */
        unsigned char c = (unsigned char)t[k];
        size_t a = lo, b = hi;
        while (a < b) {
            size_t m = a + (b - a) / 2;
            if ((unsigned char)idx[m].key[k] < c)
                a = m + 1;
            else
                b = m;
        }
        lo = a;
        for (b = hi; a < b;) {
            size_t m = a + (b - a) / 2;
            if ((unsigned char)idx[m].key[k] <= c)
                a = m + 1;
            else
                b = m;
        }
        hi = a;
        k++;
    }
}

/* The verdict for a normalized path: the longest matching pattern (octets of the normalized
 * pattern, '$' included) decides, Allow winning ties; no match allows.  The order in which
 * rules are considered does not change it, so only the index's candidates are tried: the
 * prefix keys that begin the path, and the needles that occur in it. */
static int decide(const struct scr_robots *r, const char *agent, const char *path, size_t n)
{
    struct verdict v = {r, agent, agent_token(agent), 0, path, n, 0, 0, 1, SIZE_MAX, 0};
    uint64_t stack[64], *seen = stack;
    size_t words = (r->nneedle + 63) / 64;

    v.named = named_apply(r, agent, v.tn);
    walk(&v, r->prefix, r->nprefix, path, n, NULL);
    if (!r->nneedle)
        return v.allow;
    if (words > sizeof(stack) / sizeof(stack[0]))
        seen = scr_xmalloc(words * sizeof(*seen));
    memset(seen, 0, words * sizeof(*seen));
    for (size_t i = 0; i < n; i++)
        walk(&v, r->needle, r->nneedle, path + i, n - i, seen);
    if (seen != stack)
        free(seen);
    return v.allow;
}

static int is_robots_txt(const char *path, size_t n)
{
    return n >= 11 && memcmp(path, "/robots.txt", 11) == 0 && (n == 11 || path[11] == '?');
}

int scr_robots_allowed(const struct scr_robots *r, const char *agent,
                       const char *path_and_query)
{
    const char *s = path_and_query ? path_and_query : "";
    char stack[1024], *path = stack, *heap = NULL;
    size_t n = strcspn(s, "#"), o = 0;
    int ok;

    if (!r)
        return 1;
    if (n > (SIZE_MAX - 1) / 3) {
        ok = 0;
        goto out;
    }
    if (3 * n + 1 > sizeof(stack)) {
        heap = scr_xmalloc(3 * n + 1);
        path = heap;
    }
    if (n == 0 || s[0] != '/')
        path[o++] = '/'; /* "" and "?q" are the root; a stray relative path is rooted */
    o += norm_escape(path + o, s, n, 0);
    ok = is_robots_txt(path, o) ? 1 : decide(r, agent, path, o);
out:
    free(heap);
    return ok;
}

int scr_robots_allowed_url(const struct scr_robots *r, const char *agent,
                           const char *absolute_url)
{
    const char *p = absolute_url ? absolute_url : "";
    size_t i = 0;

    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://" and the authority,
     * which ends at the first '/', '?' or '#'. */
    if ((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') {
        for (i = 1; p[i] && (((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z') ||
                             (p[i] >= '0' && p[i] <= '9') || p[i] == '+' || p[i] == '-' ||
                             p[i] == '.');
             i++)
            ;
        if (strncmp(p + i, "://", 3) == 0) {
            p += i + 3;
            p += strcspn(p, "/?#");
        }
    }
    return scr_robots_allowed(r, agent, p);
}

double scr_robots_crawl_delay(const struct scr_robots *r, const char *agent)
{
    size_t tn;
    int named;

    if (!r)
        return -1;
    tn = agent_token(agent);
    named = named_apply(r, agent, tn);
    for (size_t i = 0; i < r->ngroups; i++) {
        const struct robots_group *g = &r->groups[i];
        if (g->delay >= 0 && group_applies(r, g, agent, tn, named))
            return g->delay;
    }
    return -1;
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
