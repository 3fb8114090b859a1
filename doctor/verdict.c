/* verdict.c - which hosts can share one MPI job (see doctor.h).
 *
 * The rule comes from what was measured (Debian 12, MPICH 4.0.2 for each architecture under
 * qemu): ranks whose MPI libraries have the same implementation, version and device and the
 * same word size start together (an x86-64 and an arm64 rank, both ch4:ucx, did); any
 * difference fails in MPI_Init (x86-64 ch4:ucx with armhf ch3:nemesis did), and MPICH never
 * mixes 32- and 64-bit processes.  The CPU architecture itself is not part of the key.  A
 * host whose scrape build differs from the reference is broken rather than an island: the
 * crawl would refuse it anyway (docs/cluster.md, section 3).
 */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "doctor/doctor.h"

static int same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* 1 when a and b can be ranks of one MPI job. */
static int compatible(const struct scr_doctor_node *a, const struct scr_doctor_node *b)
{
    struct scr_mpi_id x, y;

    if (a->bits != b->bits)
        return 0;
    scr_doctor_mpi_id(a->mpi, &x);
    scr_doctor_mpi_id(b->mpi, &y);
    /* an MPI library nobody could name joins no one */
    if (strcmp(x.impl, "unknown") == 0 || strcmp(y.impl, "unknown") == 0)
        return 0;
    return strcmp(x.impl, y.impl) == 0 && strcmp(x.version, y.version) == 0 &&
           strcmp(x.device, y.device) == 0;
}

static const char *broken_word(int state)
{
    switch (state) {
    case SCR_DOCTOR_UNREACHABLE: return "UNREACHABLE";
    case SCR_DOCTOR_NO_BINARY: return "NO BINARY";
    case SCR_DOCTOR_CANNOT_RUN: return "CANNOT RUN";
    case SCR_DOCTOR_NO_ANSWER: return "NO ANSWER";
    case SCR_DOCTOR_TIMEOUT: return "TIMED OUT";
    default: return "BROKEN";
    }
}

int scr_doctor_judge(struct scr_doctor_host *h, size_t n, const struct scr_doctor_node *ref,
                     size_t *broken)
{
    int islands = 0;
    size_t nbroken = 0;

    for (size_t i = 0; i < n; i++) {
        h[i].island = 0;
        if (h[i].state != SCR_DOCTOR_OK) {
            snprintf(h[i].verdict, sizeof(h[i].verdict), "%s", broken_word(h[i].state));
            nbroken++;
            continue;
        }
        if (ref && (!same(h[i].node.build_id, ref->build_id) ||
                    !same(h[i].node.version, ref->version) ||
                    h[i].node.protocol != ref->protocol)) {
            snprintf(h[i].verdict, sizeof(h[i].verdict), "%s",
                     h[i].node.protocol != ref->protocol ? "PROTOCOL DIFFERS"
                                                         : "BUILD DIFFERS");
            nbroken++;
            continue;
        }
        /* the island of the first earlier usable host it can share a job with */
        for (size_t j = 0; j < i; j++) {
            if (h[j].island > 0 && compatible(&h[i].node, &h[j].node)) {
                h[i].island = h[j].island;
                break;
            }
        }
        if (h[i].island == 0)
            h[i].island = ++islands;
        snprintf(h[i].verdict, sizeof(h[i].verdict), "island %d", h[i].island);
    }
    if (broken)
        *broken = nbroken;
    return islands;
}

size_t scr_doctor_same_name(const struct scr_doctor_host *h, size_t n, size_t i)
{
    if (i >= n || h[i].state != SCR_DOCTOR_OK || !h[i].node.host || !h[i].node.host[0])
        return n;
    for (size_t j = 0; j < i; j++)
        if (h[j].state == SCR_DOCTOR_OK && same(h[j].node.host, h[i].node.host))
            return j;
    return n;
}

int scr_doctor_exit_code(int islands, size_t broken)
{
    if (broken > 0 || islands == 0)
        return SCR_EXIT_CLUSTER;
    if (islands > 1)
        return SCR_EXIT_ISLANDS;
    return SCR_EXIT_OK;
}
