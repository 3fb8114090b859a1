/* robots_match.c - robots.txt matching (RFC 9309): the rule index of a parsed file, and
 * the answers to "may this crawler fetch this path?" and "what is its Crawl-delay?"; see
 * robots.h, and docs/internals/robots.md for the rules, the decisions and "Complexity".
 *
 * The verdict for a path is the longest matching pattern of the groups that apply to the
 * agent, Allow winning ties.  The order in which rules are tried does not change it, so a
 * query tries only the candidates the index gives (prefix keys that begin the path, needles
 * that occur in it), and a match costs O(path + pattern) whatever the number of '*'.
 * Everything here only reads a struct scr_robots (robots_internal.h) once scr_robots_parse()
 * (robots.c) has returned, except scr_robots_index_build, which it calls before returning:
 * any number of threads may query at once.
 *
 * Callers: the dispatcher (hosts.c, a URL against its host's rules; results.c, the
 * Crawl-delay); `scrape robots`.
 */
#include "coordinator/robots.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "coordinator/robots_internal.h"

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

void scr_robots_index_build(struct scr_robots *r)
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
    o += scr_robots_norm_escape(path + o, s, n, 0);
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
