/* file.h - reading a whole (small) file: rules, pages for `scrape extract`, robots files;
 * writing an output file that appears whole or not at all (`scrape export`, `scrape report`). */
#ifndef SCR_FILE_H
#define SCR_FILE_H

#include <stddef.h>
#include <stdio.h>

#define SCR_FILE_CUT 1  /* stop quietly at max bytes instead of failing */
#define SCR_FILE_TEXT 2 /* a NUL byte is an error: "PATH:LINE: binary data (NUL byte)" */

/* Reads path ("-" = standard input) into a NUL-terminated malloc'd buffer (caller frees) and
 * sets *len (may be NULL).  With max > 0, a longer file fails ("PATH: larger than N bytes"),
 * or with SCR_FILE_CUT is read up to max bytes.  On failure returns NULL with the reason,
 * naming the path, in err. */
char *scr_file_read(const char *path, size_t max, int flags, size_t *len, char *err,
                    size_t errlen);

/* Opens a new temporary file beside path for writing: "PATH.part-XXXXXX", created by mkstemp
 * (O_CREAT | O_EXCL, mode 0600), so a name planted in advance, a symlink included, is never
 * opened or followed.  Returns the stream and sets *tmp to the temporary name (caller frees);
 * finish with scr_file_commit or scr_file_discard.  On failure returns NULL with the reason,
 * naming the folder, in err. */
FILE *scr_file_create(const char *path, char **tmp, char *err, size_t errlen);

/* Closes f and renames tmp over path (a symlink at path is replaced, not followed).  0, or
 * SCR_EIO with the reason in err; on failure tmp is removed.  Either way f is closed. */
int scr_file_commit(FILE *f, const char *tmp, const char *path, char *err, size_t errlen);

/* Closes f (may be NULL) and removes tmp (may be NULL): the output is abandoned. */
void scr_file_discard(FILE *f, const char *tmp);

#endif
