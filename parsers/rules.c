/* rules.c - the "rules" parser: records described by a rules file (docs/rules.md).
 *
 * A page-parser plugin like links.c or meta.c (parser.h).  Its setup compiles
 * env->rules_text with scr_rules_compile() (rules_compile.c), its parse runs the result on
 * the page with scr_rules_apply() (rules_eval.c), its teardown frees it.  The extractor
 * enables it whenever a rules file is given (extract.c).  The state is one compiled copy per
 * extractor, so per thread: compiled XPath must not be evaluated from two threads at once
 * (rules.h).
 */
#include "parsers/rules.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "parsers/builtin.h"

struct rules_state {
    struct scr_rules *rules;
    const struct scr_url_opts *url_opts; /* borrowed from the env */
};

static int rules_setup(void **state, const struct scr_parser_env *env, char *err, size_t errlen)
{
    struct rules_state *st = NULL;
    int rc;

    if (!env || !env->rules_text) {
        if (err && errlen)
            snprintf(err, errlen, "the rules parser needs --rules FILE");
        rc = SCR_EINVAL;
        goto out;
    }
    st = scr_xcalloc(1, sizeof(*st));
    rc = scr_rules_compile(&st->rules, env->rules_text, env->rules_name, err, errlen);
    if (rc)
        goto out;
    st->url_opts = env->url_opts;
    *state = st;
    st = NULL;
out:
    free(st);
    return rc;
}

static void rules_teardown(void *state)
{
    struct rules_state *st = state;

    if (!st)
        return;
    scr_rules_free(st->rules);
    free(st);
}

static int rules_parse(void *state, const struct scr_page *page, struct scr_emit *out)
{
    struct rules_state *st = state;

    return scr_rules_apply(st->rules, page, st->url_opts, out, NULL);
}

const struct scr_parser scr_parser_rules = {
    .name = "rules",
    .abi_version = SCR_PARSER_ABI,
    .summary = "records described by a rules file (--rules FILE; docs/rules.md)",
    .setup = rules_setup,
    .teardown = rules_teardown,
    .parse = rules_parse,
};
