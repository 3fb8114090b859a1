/* host.c - this node's identity for HELLO and `scrape check` (see host.h).  Its strings are
 * bookkeeping allocations: out of memory aborts (common/alloc.h). */
#include "common/host.h"

#include <curl/curl.h>
#include <libxml/xmlversion.h>
#include <mpi.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/mpisession.h"
#include "common/version.h"

static char *os_name(void)
{
    char line[256], *name = NULL;
    FILE *f = fopen("/etc/os-release", "r");
    struct utsname u;

    if (f) {
        while (fgets(line, sizeof(line), f)) {
            if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
                char *v = line + 12;
                v[strcspn(v, "\n")] = '\0';
                if (*v == '"') {
                    v++;
                    v[strcspn(v, "\"")] = '\0';
                }
                name = scr_xstrdup(v);
                break;
            }
        }
        fclose(f);
    }
    if (!name && uname(&u) == 0)
        name = scr_xstrdup(u.sysname);
    return name ? name : scr_xstrdup("unknown");
}

int scr_host_describe(struct scr_msg_hello *m)
{
    char host[256] = "unknown", buf[MPI_MAX_LIBRARY_VERSION_STRING];
    struct utsname u;
    int len = 0;
    long pages, psize;

    memset(m, 0, sizeof(*m));
    m->protocol = SCR_PROTOCOL_VERSION;
    m->version = scr_xstrdup(SCR_VERSION);
    m->build_id = scr_xstrdup(SCR_BUILD_ID);
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    m->host = scr_xstrdup(host);
    m->arch = scr_xstrdup(uname(&u) == 0 ? u.machine : "unknown");
    m->os = os_name();
    m->curl_version = scr_xstrdup(curl_version_info(CURLVERSION_NOW)->version);
    m->libxml2_version = scr_xstrdup(LIBXML_DOTTED_VERSION);
    if (pcre2_config(PCRE2_CONFIG_VERSION, buf) > 0)
        m->pcre2_version = scr_xstrdup(buf);
    else
        m->pcre2_version = scr_xstrdup("unknown");
    if (SCR_MPI_CHECK(MPI_Get_library_version(buf, &len)) == SCR_OK) {
        buf[strcspn(buf, "\n")] = '\0';
        m->mpi_version = scr_xstrdup(buf);
    } else {
        m->mpi_version = scr_xstrdup("unknown");
    }
    m->cores = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
    pages = sysconf(_SC_PHYS_PAGES);
    psize = sysconf(_SC_PAGESIZE);
    m->mem_bytes = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
    m->pid = (uint32_t)getpid();
    return SCR_OK;
}
