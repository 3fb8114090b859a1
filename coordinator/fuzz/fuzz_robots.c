/* fuzz_robots.c - libFuzzer driver for the robots.txt parser and matcher.  The first line of
 * the input is a URL path to ask about; the rest is the robots.txt body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/robots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : 0;
    char *path = malloc(plen + 2);
    struct scr_robots *r = NULL;

    if (!path)
        return 0;
    path[0] = '/';
    memcpy(path + 1, data, plen);
    path[plen + 1] = '\0';
    if (memchr(path, '\0', plen + 1) == path + plen + 1 &&
        scr_robots_parse((const char *)data + (nl ? plen + 1 : 0), size - (nl ? plen + 1 : 0),
                         &r) == 0) {
        int a = scr_robots_allowed(r, "scrape", path);
        int b = scr_robots_allowed(r, "scrape/1.0 (+x)", path);
        if (a != b || (a != 0 && a != 1))
            abort(); /* the agent's version part never changes the answer */
        (void)scr_robots_crawl_delay(r, "scrape");
        for (size_t i = 0; i < scr_robots_sitemap_count(r); i++)
            if (!scr_robots_sitemap(r, i))
                abort();
        if (!scr_robots_allowed(r, "scrape", "/robots.txt"))
            abort();
        scr_robots_free(r);
    }
    free(path);
    return 0;
}
