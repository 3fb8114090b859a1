/* html5_compare.c - libxml2 2.9's HTML parser against Gumbo's HTML5 tokenizer and tree
 * builder, on the same pages: what an HTML5 parser would cost the extractor.
 *
 *   cc -O2 -o html5_compare bench/html5_compare.c $(pkg-config --cflags --libs libxml-2.0) -lgumbo
 *   valgrind --tool=callgrind ./html5_compare libxml2 DIR    # instructions, libxml2
 *   valgrind --tool=callgrind ./html5_compare gumbo DIR      # instructions, Gumbo
 *   ./html5_compare cases                                     # the tokenizer cases
 *
 * Not built by CMake: libgumbo (Debian's libgumbo-dev) is not a dependency of scrape.  The
 * Gumbo figure is a lower bound for an HTML5 mode: Gumbo builds its own tree, which would then
 * have to be copied into an xmlDoc for XPath, CSS and the parsers (as Nokogiri's HTML5 mode
 * does), costing about what libxml2's own tree building costs.  docs/performance.md has the
 * numbers.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gumbo.h>
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/tree.h>

static char **bodies;
static size_t *lens, n, cap;

static int add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    FILE *f;
    (void)st;
    (void)ftw;
    if (flag != FTW_F || !strstr(path, ".html"))
        return 0;
    if (n == cap) {
        cap = cap ? cap * 2 : 512;
        bodies = realloc(bodies, cap * sizeof(*bodies));
        lens = realloc(lens, cap * sizeof(*lens));
    }
    f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    lens[n] = (size_t)ftell(f);
    rewind(f);
    bodies[n] = malloc(lens[n] + 1);
    lens[n] = fread(bodies[n], 1, lens[n], f);
    fclose(f);
    n++;
    return 0;
}

/* The first <title>'s text and the first <a>'s href, from Gumbo's tree. */
static void gumbo_show(const GumboNode *node, int *title, int *link)
{
    if (node->type != GUMBO_NODE_ELEMENT)
        return;
    if (node->v.element.tag == GUMBO_TAG_TITLE && !*title && node->v.element.children.length) {
        const GumboNode *t = node->v.element.children.data[0];
        printf("    gumbo title: %s\n", t->v.text.text);
        *title = 1;
    }
    if (node->v.element.tag == GUMBO_TAG_A && !*link) {
        GumboAttribute *h = gumbo_get_attribute(&node->v.element.attributes, "href");
        printf("    gumbo <a>: href=%s\n", h ? h->value : "(none)");
        *link = 1;
    }
    for (unsigned i = 0; i < node->v.element.children.length; i++)
        gumbo_show(node->v.element.children.data[i], title, link);
}

static void cases(void)
{
    static const char *const pages[] = {
        "<a href=\"/w?a=1&AMP;b=2\">x</a>",
        "<a href=\"/w?a=1&amp;b=2&copy=3\">x</a>",
        "<title>Tags <b>inside</b> title</title>",
        "<p><a0:a href=\"/not-a-link\">x</a0:a></p>",
    };
    for (size_t i = 0; i < sizeof(pages) / sizeof(*pages); i++) {
        htmlDocPtr d = htmlReadMemory(pages[i], (int)strlen(pages[i]), "http://h/", "UTF-8",
                                      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                          HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
        xmlChar *out = NULL;
        int len = 0, title = 0, link = 0;
        GumboOutput *g = gumbo_parse(pages[i]);

        printf("%s\n", pages[i]);
        htmlDocDumpMemory(d, &out, &len);
        printf("    libxml2: %.*s", len, out ? (char *)out : "");
        xmlFree(out);
        xmlFreeDoc(d);
        gumbo_show(g->root, &title, &link);
        gumbo_destroy_output(&kGumboDefaultOptions, g);
    }
}

int main(int argc, char **argv)
{
    struct timespec t0, t1;
    if (argc == 2 && strcmp(argv[1], "cases") == 0) {
        cases();
        return 0;
    }
    if (argc != 3)
        return 2;
    nftw(argv[2], add, 16, FTW_PHYS);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(argv[1], "gumbo") == 0) {
            GumboOutput *g = gumbo_parse_with_options(&kGumboDefaultOptions, bodies[i], lens[i]);
            gumbo_destroy_output(&kGumboDefaultOptions, g);
        } else {
            htmlDocPtr d = htmlReadMemory(bodies[i], (int)lens[i], "http://h/", "UTF-8",
                                          HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                              HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                                              HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC);
            xmlFreeDoc(d);
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    printf("%s: %zu pages, %.1f µs CPU/page\n", argv[1], n,
           ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / (double)n);
    return 0;
}
