/* node.c - the probe line of `scrape doctor --probe-self` (see doctor.h).
 *
 * One JSON object on one line, so the doctor can find it among whatever else a remote shell
 * prints: {"scrape_doctor":1,"host":...,"arch":...,"bits":64,...}.  A newer build may add
 * keys; a reader ignores the ones it does not know, and treats a missing string as "".
 * Nothing here starts MPI: MPI_Get_library_version (through scr_host_describe) is one of the
 * few calls the standard allows before MPI_Init.
 */
#include <jansson.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/host.h"
#include "common/mpisession.h"
#include "common/wire.h"
#include "doctor/doctor.h"

#define PROBE_KEY "scrape_doctor"
#define PROBE_LAYOUT 1

int scr_doctor_node_self(struct scr_doctor_node *n)
{
    struct scr_msg_hello h;
    char buf[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;

    memset(n, 0, sizeof(*n));
    scr_host_describe(&h);
    /* take the strings over from the HELLO */
    n->host = h.host;
    n->arch = h.arch;
    n->os = h.os;
    n->version = h.version;
    n->build_id = h.build_id;
    n->mpi = h.mpi_version;
    n->curl = h.curl_version;
    n->libxml2 = h.libxml2_version;
    n->pcre2 = h.pcre2_version;
    n->protocol = h.protocol;
    n->bits = (int)(sizeof(void *) * 8);
    /* HELLO keeps the first line only; the device is further down (MPICH's "Device:") */
    if (SCR_MPI_CHECK(MPI_Get_library_version(buf, &len)) == SCR_OK) {
        free(n->mpi);
        buf[sizeof(buf) - 1] = '\0';
        n->mpi = scr_xstrdup(buf);
    }
    return SCR_OK;
}

static void set_str(json_t *o, const char *key, const char *v)
{
    /* json_string refuses invalid UTF-8: such a value (an odd os-release) goes as "?" */
    json_t *s = json_string(v ? v : "");
    if (!s)
        s = json_string("?");
    if (!s || json_object_set_new(o, key, s) != 0)
        scr_oom(0);
}

char *scr_doctor_node_json(const struct scr_doctor_node *n)
{
    json_t *o = json_object();
    char *text, *out;

    if (!o)
        scr_oom(0);
    if (json_object_set_new(o, PROBE_KEY, json_integer(PROBE_LAYOUT)) != 0)
        scr_oom(0);
    set_str(o, "host", n->host);
    set_str(o, "arch", n->arch);
    if (json_object_set_new(o, "bits", json_integer(n->bits)) != 0 ||
        json_object_set_new(o, "protocol", json_integer(n->protocol)) != 0)
        scr_oom(0);
    set_str(o, "os", n->os);
    set_str(o, "version", n->version);
    set_str(o, "build", n->build_id);
    set_str(o, "mpi", n->mpi);
    set_str(o, "libcurl", n->curl);
    set_str(o, "libxml2", n->libxml2);
    set_str(o, "pcre2", n->pcre2);
    text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        scr_oom(0);
    /* jansson's allocator is malloc by default, but hand out our own copy all the same */
    out = scr_xstrdup(text);
    free(text);
    return out;
}

static char *get_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return scr_xstrdup(s ? s : "");
}

int scr_doctor_node_parse(struct scr_doctor_node *n, const char *line)
{
    json_error_t jerr;
    json_t *o = NULL;
    int rc = SCR_OK;

    memset(n, 0, sizeof(*n));
    o = json_loads(line, 0, &jerr);
    if (!o || !json_is_object(o) || !json_is_integer(json_object_get(o, PROBE_KEY))) {
        rc = SCR_EPARSE;
        goto out;
    }
    n->host = get_str(o, "host");
    n->arch = get_str(o, "arch");
    n->os = get_str(o, "os");
    n->version = get_str(o, "version");
    n->build_id = get_str(o, "build");
    n->mpi = get_str(o, "mpi");
    n->curl = get_str(o, "libcurl");
    n->libxml2 = get_str(o, "libxml2");
    n->pcre2 = get_str(o, "pcre2");
    n->bits = (int)json_integer_value(json_object_get(o, "bits"));
    n->protocol = (uint32_t)json_integer_value(json_object_get(o, "protocol"));
out:
    json_decref(o);
    return rc;
}

void scr_doctor_node_release(struct scr_doctor_node *n)
{
    free(n->host);
    free(n->arch);
    free(n->os);
    free(n->version);
    free(n->build_id);
    free(n->mpi);
    free(n->curl);
    free(n->libxml2);
    free(n->pcre2);
    memset(n, 0, sizeof(*n));
}

/* Copies the value after "key:" on the line of s that starts with key (spaces and tabs
 * skipped), up to the end of that line, into out. */
static void field(const char *s, const char *key, char *out, size_t len)
{
    size_t klen = strlen(key);

    out[0] = '\0';
    for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
            const char *v = p + klen + 1;
            size_t n;
            v += strspn(v, " \t");
            n = strcspn(v, "\r\n");
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            snprintf(out, len, "%.*s", (int)n, v);
            return;
        }
    }
}

void scr_doctor_mpi_id(const char *libver, struct scr_mpi_id *out)
{
    const char *s = libver ? libver : "";

    memset(out, 0, sizeof(*out));
    if (strncmp(s, "MPICH", 5) == 0) {
        /* "MPICH Version:\t4.0.2\nMPICH Release date: ...\nMPICH Device:\tch4:ucx\n..." */
        snprintf(out->impl, sizeof(out->impl), "MPICH");
        field(s, "MPICH Version", out->version, sizeof(out->version));
        field(s, "MPICH Device", out->device, sizeof(out->device));
    } else if (strncmp(s, "Open MPI", 8) == 0) {
        /* "Open MPI v4.1.4, package: ..." */
        const char *v = s + 8;
        snprintf(out->impl, sizeof(out->impl), "Open MPI");
        v += strspn(v, " v");
        snprintf(out->version, sizeof(out->version), "%.*s", (int)strcspn(v, ", \n"), v);
    } else if (*s && strcmp(s, "unknown") != 0) {
        snprintf(out->impl, sizeof(out->impl), "%.*s", (int)strcspn(s, " \t\n:"), s);
        field(s, out->impl, out->version, sizeof(out->version));
    } else {
        snprintf(out->impl, sizeof(out->impl), "unknown");
    }
}
