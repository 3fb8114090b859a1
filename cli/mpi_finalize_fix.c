/* mpi_finalize_fix.c - lets MPI_Finalize end over TCP with Debian's MPICH 4.0.2 (ch4:ucx).
 *
 * MPICH 4.0.x finalizes by calling ucp_disconnect_nb() on every endpoint and spinning until
 * each completes, and only then joins the PMI barrier.  Over UCX's TCP transport a flush-mode
 * disconnect can need an answer from a peer that is already sitting in the barrier, so the
 * late rank spins forever (measured: most multi-host runs hang).  MPICH 4.2.0 fixed the order.
 *
 * This definition interposes libucp's: the scrape binary exports it (CMake links it with
 * --export-dynamic-symbol), so libmpi's call resolves here and reports "done" at once.  MPICH
 * then does its PMI barrier and ucp_worker_destroy(), which closes the endpoints without a
 * handshake.  It is safe because scrape calls MPI_Finalize only after every message has
 * completed and a non-blocking barrier has passed.  With an MPICH that is not built on UCX
 * the function is simply never called.  See docs/internals/shutdown.md.
 */
#include <stddef.h>

void *ucp_disconnect_nb(void *ep);

void *ucp_disconnect_nb(void *ep)
{
    (void)ep;
    return NULL; /* UCS_OK: completed immediately */
}
