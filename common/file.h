/* file.h - reading a whole (small) file: rules, pages for `scrape extract`, robots files. */
#ifndef SCR_FILE_H
#define SCR_FILE_H

#include <stddef.h>

#define SCR_FILE_CUT 1  /* stop quietly at max bytes instead of failing */
#define SCR_FILE_TEXT 2 /* a NUL byte is an error: "PATH:LINE: binary data (NUL byte)" */

/* Reads path ("-" = standard input) into a NUL-terminated malloc'd buffer (caller frees) and
 * sets *len (may be NULL).  With max > 0, a longer file fails ("PATH: larger than N bytes"),
 * or with SCR_FILE_CUT is read up to max bytes.  On failure returns NULL with the reason,
 * naming the path, in err. */
char *scr_file_read(const char *path, size_t max, int flags, size_t *len, char *err,
                    size_t errlen);

#endif
