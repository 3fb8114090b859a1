/* archive.h - the store thread's side of --warc-dir: results become WARC records (warc.h)
 * before the transaction that stores them commits, and their fetch rows say where.
 *
 * Per store group, inside its transaction: scr_archive_write() before the store statements
 * (it reads each URL's previous content hash, decides response or revisit, appends the
 * records and fdatasyncs the file), scr_archive_link() after them (one UPDATE sets
 * fetches.warc_file, warc_offset, warc_length and warc_type of the rows just inserted).  So a
 * committed fetch's record is always on disk; a record whose transaction rolled back is an
 * orphan in the file, harmless.  Store thread only.
 */
#ifndef SCR_ARCHIVE_H
#define SCR_ARCHIVE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/frontier.h"
#include "coordinator/warc.h"

/* Writes the records of every result item in the list that carries a response head and has
 * none written yet (it->warc_file NULL), then syncs.  Fills it->warc_file, warc_offset,
 * warc_length and warc_type, and frees each written item's payload (res.payload_len is
 * kept).  SCR_OK; SCR_EDB (a query failed: err, the connection may be broken); SCR_EIO (the
 * file could not be written or synced: err; the writer refuses everything after it). */
int scr_archive_write(PGconn *db, struct scr_warc *w, struct scr_store_item *head, char *err,
                      size_t errlen);

/* Points the fetch rows of the list's stored items with a record at it: the newest fetch of
 * their URL in run_id (the row the store statement just inserted).  SCR_OK or SCR_EDB. */
int scr_archive_link(PGconn *db, int64_t run_id, struct scr_store_item *head, char *err,
                     size_t errlen);

#endif
