/* rulestats.c - sums of the rules feedback of a run's pages (see rulestats.h).
 *
 * The sums live in one jansson object keyed by rule set name, in the file's order (jansson
 * keeps insertion order), each row an object of five integers.  Only the dispatcher thread
 * touches it.
 */
#include "coordinator/rulestats.h"

#include <string.h>

#include "parsers/rules.h"

static const char *const keys[] = {"pages", "records", "dropped", "empty", "empty_fields"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static json_t *row(struct scr_rulestats *rs, const char *name)
{
    json_t *r = json_object_get(rs->sets, name);

    if (r)
        return r;
    r = json_object();
    for (size_t k = 0; r && k < NKEYS; k++)
        json_object_set_new(r, keys[k], json_integer(0));
    if (r && json_object_set_new(rs->sets, name, r) != 0)
        return NULL;
    return r;
}

void scr_rulestats_init(struct scr_rulestats *rs, const char *rules_text)
{
    struct scr_rules *r = NULL;
    char err[256];

    rs->sets = NULL;
    if (!rules_text)
        return;
    rs->sets = json_object();
    if (rs->sets && scr_rules_compile(&r, rules_text, NULL, err, sizeof(err)) == 0) {
        for (size_t i = 0; i < r->nsites; i++)
            row(rs, r->sites[i].name);
        scr_rules_free(r);
    }
}

void scr_rulestats_release(struct scr_rulestats *rs)
{
    json_decref(rs->sets);
    rs->sets = NULL;
}

void scr_rulestats_add(struct scr_rulestats *rs, const char *page_json)
{
    json_t *a, *e;
    size_t i;

    if (!rs->sets || !page_json || !*page_json)
        return;
    a = json_loads(page_json, 0, NULL);
    json_array_foreach(a, i, e) {
        const char *name = json_string_value(json_object_get(e, "rule_set"));
        json_t *r = name ? row(rs, name) : NULL;
        if (!r)
            continue;
        json_object_set_new(r, "pages",
                            json_integer(json_integer_value(json_object_get(r, "pages")) + 1));
        for (size_t k = 1; k < NKEYS; k++)
            json_object_set_new(r, keys[k],
                                json_integer(json_integer_value(json_object_get(r, keys[k])) +
                                             json_integer_value(json_object_get(e, keys[k]))));
    }
    json_decref(a);
}

void scr_rulestats_put(const struct scr_rulestats *rs, json_t *summary)
{
    if (rs->sets && summary)
        json_object_set(summary, "rule_sets", rs->sets);
}

void scr_rulestats_print(const struct scr_rulestats *rs, FILE *f)
{
    const char *name;
    json_t *r;

    if (!rs->sets)
        return;
    fprintf(f, "  %-24s %8s %8s %18s %13s %12s\n", "rule set", "pages", "records",
            "dropped (required)", "empty records", "empty fields");
    json_object_foreach(rs->sets, name, r) {
        long long v[NKEYS];
        for (size_t k = 0; k < NKEYS; k++)
            v[k] = (long long)json_integer_value(json_object_get(r, keys[k]));
        fprintf(f, "  %-24s %8lld %8lld %18lld %13lld %12lld%s\n", name, v[0], v[1], v[2], v[3],
                v[4], v[0] == 0 ? "  (matched no page)" : "");
    }
}
