/* fuzz_extract.c - libFuzzer driver for HTML extraction: every parser, with the worked
 * example rules file of docs/rules.md, on arbitrary bytes labelled text/html.  Every record
 * must be valid JSON (jsonb accepts it: UTF-8, no NUL) and every link a normalized URL. */
#include <jansson.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "parsers/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct scr_extractor *x;
static char *rules;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct scr_parser_env env;
    char err[512];

    (void)argc;
    (void)argv;
    xmlInitParser();
    rules = scr_file_read(SCR_FUZZ_RULES, 0, 0, NULL, err, sizeof(err));
    if (!rules)
        abort();
    memset(&env, 0, sizeof(env));
    env.rules_text = rules;
    env.rules_name = "books.rules";
    env.text_max = 65536;
    env.max_links = 1000;
    if (scr_extractor_new(&x, "links,meta,jsonld,text", &env, err, sizeof(err)) != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scr_emit e;

    scr_emit_init(&e);
    scr_extractor_run(x, "http://books.example.com/catalogue/a-book_1/index.html",
                      "text/html", (const char *)data, size, &e);
    for (size_t i = 0; i < e.records.n; i++) {
        json_error_t jerr;
        /* without JSON_ALLOW_NUL jansson refuses a \u0000 escape, as jsonb does */
        json_t *j = json_loads(e.records.v[i], JSON_REJECT_DUPLICATES, &jerr);
        if (!j || !json_object_get(j, "parser") || !json_object_get(j, "data"))
            abort();
        json_decref(j);
    }
    for (size_t i = 0; i < e.links.n; i++)
        if (strncmp(e.links.v[i], "http://", 7) != 0 && strncmp(e.links.v[i], "https://", 8) != 0)
            abort();
    scr_emit_release(&e);
    return 0;
}
