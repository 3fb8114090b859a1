/* host.h - what a rank knows about its own node: name, CPU, OS, libraries. */
#ifndef SCR_HOST_H
#define SCR_HOST_H

#include "common/wire.h"

/* Fills a HELLO with this node's identity; its strings are owned by m (the caller frees them
 * with scr_msg_hello_release).  Always SCR_OK (kept as int for its callers). */
int scr_host_describe(struct scr_msg_hello *m);

#endif
