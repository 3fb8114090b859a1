/* registry.c - the table of parsers, found by name (see parser.h, scr_parser_*).
 *
 * The built-in parsers (links, meta, jsonld, text, rules) live in a static const table and
 * are always present, in that order.  scr_parser_register() appends to a small fixed array
 * after them, so an index from scr_parser_at() stays valid and a registered parser is never
 * moved.
 *
 * Invariants: no two parsers share a name; every parser has abi_version == SCR_PARSER_ABI, a
 * name and a parse hook.
 *
 * Thread-safety: registration happens at start-up only, before any extractor is built or any
 * thread started (the CLI registers its parsers in main()).  After that the registry is read
 * only and may be read from any thread; there is no lock.
 */
#include "parsers/parser.h"

#include <string.h>

#include "common/error.h"
#include "parsers/builtin.h"

/* Room for parsers registered at start-up, beyond the built-ins. */
#define REGISTRY_EXTRA_MAX 32

static const struct scr_parser *const builtin[] = {
    &scr_parser_links,
    &scr_parser_meta,
    &scr_parser_jsonld,
    &scr_parser_text,
    &scr_parser_rules,
};
#define BUILTIN_COUNT (sizeof(builtin) / sizeof(builtin[0]))

static const struct scr_parser *extra[REGISTRY_EXTRA_MAX];
static size_t extra_count;

size_t scr_parser_count(void)
{
    return BUILTIN_COUNT + extra_count;
}

const struct scr_parser *scr_parser_at(size_t i)
{
    if (i < BUILTIN_COUNT)
        return builtin[i];
    i -= BUILTIN_COUNT;
    return i < extra_count ? extra[i] : NULL;
}

const struct scr_parser *scr_parser_find(const char *name)
{
    size_t i, n = scr_parser_count();

    if (!name)
        return NULL;
    for (i = 0; i < n; i++) {
        const struct scr_parser *p = scr_parser_at(i);
        if (strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

/* Registers p, which is borrowed for the life of the process (a static const struct).
 * Returns SCR_EVERSION when p was built for another SCR_PARSER_ABI, SCR_EINVAL when it lacks
 * a name (or the name holds a comma or whitespace) or a parse hook, SCR_EEXIST when its name
 * is taken, SCR_ETOOBIG when the fixed table is full.  On failure the registry is unchanged.
 * Start-up only (see the top of this file). */
int scr_parser_register(const struct scr_parser *p)
{
    if (!p)
        return SCR_EINVAL;
    /* First: name and abi_version are the only fields whose place every ABI agrees on. */
    if (p->abi_version != SCR_PARSER_ABI)
        return SCR_EVERSION;
    if (!p->name || !p->name[0] || strpbrk(p->name, ", \t\n") || !p->parse)
        return SCR_EINVAL; /* a name must survive the comma-separated --parsers list */
    if (scr_parser_find(p->name))
        return SCR_EEXIST;
    if (extra_count == REGISTRY_EXTRA_MAX)
        return SCR_ETOOBIG;
    extra[extra_count++] = p;
    return SCR_OK;
}
