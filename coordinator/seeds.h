/* seeds.h - reading a seed file: one URL per line, blank lines and '#' comments ignored (a
 * comment starts at a line's '#' that begins it or follows a space or tab: "URL  # note"; a
 * '#' inside a URL is its fragment).  A UTF-8 BOM before the first line is skipped.  A line
 * that is a host without a scheme is reported with "(did you mean http://LINE?)".
 *
 * The file is streamed: memory stays flat whatever its size.  Every seed goes through
 * scr_url_normalize(), so a seed has the same spelling as the outlink that finds it again.
 */
#ifndef SCR_SEEDS_H
#define SCR_SEEDS_H

#include <stdint.h>

#include "common/url.h"

/* Called for each valid seed with its normalized URL and host (both borrowed for the call).
 * A non-zero return stops the reading and is returned. */
typedef int (*scr_seed_fn)(const char *url, const char *host, void *ctx);

/* Reads path ("-" = standard input is not supported: seeds are read twice).  For the first
 * 100 invalid lines, when report is set, prints "path:LINE: reason" on stderr, then one line
 * counting the rest.  *valid and *invalid count
 * the lines.  Returns SCR_EIO when the file cannot be read (reason in err), else 0 or what fn
 * returned. */
int scr_seeds_read(const char *path, const struct scr_url_opts *opts, int report,
                   scr_seed_fn fn, void *ctx, int64_t *valid, int64_t *invalid, char *err,
                   size_t errlen);

#endif
