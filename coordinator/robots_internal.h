/* robots_internal.h - what the two halves of the robots.txt module share: the parsed file's
 * layout (struct scr_robots), the text helpers both sides apply, and the two calls between
 * robots.c (parsing) and robots_match.c (the rule index and the queries).
 *
 * Internal to coordinator/robots*.c: everyone else uses robots.h, which keeps struct
 * scr_robots opaque.  The layout:
 *   groups   - one per run of consecutive user-agent lines, with the records that follow it;
 *   agents   - the product tokens the groups name, lower case ("*" is a flag on the group);
 *   rules    - allow/disallow patterns, normalized once (canonical percent-escapes, runs of
 *              '*' collapsed, a trailing '$' turned into the `anchored` flag);
 *   sitemaps - offsets of the sitemap URLs;
 *   prefix, needle, agent_idx - the rule index (robots_match.c), so a query tries only the
 *              rules that can match.
 * Every string lives in one arena, `strings`, referenced by offset (offset 0 is "").
 *
 * Invariants: a group's agents and its rules are contiguous ranges of their arrays, in file
 * order; a pattern is never empty, never contains "**" and is matched against a path that
 * went through the same normalization (scr_robots_norm_escape); nothing is written after
 * scr_robots_parse() returns, which is what makes concurrent readers safe without a lock.
 */
#ifndef SCR_ROBOTS_INTERNAL_H
#define SCR_ROBOTS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "coordinator/robots.h"

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
    /* The agents' tokens, sorted by key_cmp (robots_match.c; rule = index in agents[]): which
     * token is named anywhere is a binary search, not a scan of the file's groups. */
    struct robots_key *agent_idx;
};

/* Text helpers of both halves: static inline, so each file keeps its own copy, and
 * unprefixed, since only robots.c and robots_match.c include this header. */

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static inline int is_token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

/* Length of the product token at the start of s: RFC 9309 allows letters, '_' and '-'. */
static inline size_t token_len(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && is_token_char((unsigned char)s[i]))
        i++;
    return i;
}

static inline int same_ci(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* Writes the canonical spelling of src[0..n) to dst, which has room for 3 * n bytes, and
 * returns the bytes written.  Canonical: an escape of an unreserved character is decoded,
 * any other escape gets upper-case hex, and control bytes, space, DEL and every non-ASCII
 * octet (UTF-8) are escaped.  Reserved characters stay as they are on both sides: '/' and
 * "%2F" differ, as RFC 3986 says.  In a pattern (`pattern` set) runs of '*' become one. */
size_t scr_robots_norm_escape(char *dst, const char *src, size_t n, int pattern);

/* Builds r->prefix, r->needle and r->agent_idx (see struct scr_robots) from its rules and
 * agents; called once, by scr_robots_parse, before the struct is handed out.  Exits through
 * scr_xcalloc's out-of-memory path like every allocation of the module. */
void scr_robots_index_build(struct scr_robots *r);

#endif
