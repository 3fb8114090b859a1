/* doctor.h - `scrape doctor`: the pre-flight that needs no MPI.
 *
 * `scrape check` runs under mpiexec, so it says nothing when MPI_Init itself fails: an armhf
 * node (MPICH built with ch3:nemesis) and an x86-64 node (ch4:ucx) never get that far, and
 * MPICH does not mix 32- and 64-bit processes in one job.  The doctor reaches every host of a
 * machinefile over ssh instead, runs the same scrape binary there as
 * `scrape doctor --probe-self` (one JSON line: arch, word size, OS, build, MPI library,
 * libraries; MPI_Get_library_version is allowed before MPI_Init), and sorts the hosts:
 *
 *   island    hosts that can share one MPI job: the same MPI library, version and device,
 *             the same word size.  One island is the ideal; several need one mpiexec each,
 *             sharing the crawl through PostgreSQL (docs/cluster.md, "Before MPI").
 *   broken    unreachable, no binary, a binary that does not run, no probe answer, or a
 *             build other than the reference (the running binary's).
 *
 * The files of doctor/: machinefile.c (Hydra's machinefile format), node.c (the probe line:
 * this node's, and parsing another's), remote.c (running the ssh commands side by side, with
 * a deadline, and reading what came back), verdict.c (the grouping).  The command is
 * cli/cmd_doctor.c.
 *
 * Ownership: every struct here is caller-owned, filled by the functions that take it and
 * emptied by its *_release(), which is safe on a zeroed struct and after a failed call.
 */
#ifndef SCR_DOCTOR_H
#define SCR_DOCTOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* --- machinefiles (MPICH Hydra) ----------------------------------------------------------- */

/* One line of a machinefile: "host", "host:N" (or "host:N:anything", the rest ignored as
 * Hydra does), optionally followed by "user=NAME". */
struct scr_mf_entry {
    char *host;
    int slots;        /* N; 1 when absent */
    char *user;       /* NULL when absent */
    int line;         /* 1-based line number in the file */
    char *text;       /* the line without its comment and outer blanks */
};

struct scr_machinefile {
    struct scr_mf_entry *v;
    size_t n, cap;
};

/* Parses a machinefile's text (len bytes, need not be NUL-terminated) into mf, which the
 * caller has zeroed.  Comments (#...) and blank lines are skipped.  Returns SCR_OK, or
 * SCR_EUSAGE with "line N: why" in err at the first bad line (mf then holds the lines before
 * it).  Hydra reads a line as host[:N] then user=NAME tokens; anything else is refused here
 * rather than left for mpiexec to refuse. */
int scr_machinefile_parse(struct scr_machinefile *mf, const char *text, size_t len,
                          char *err, size_t errlen);
/* Reads path and parses it; err then starts with "PATH:" or "PATH: line N:". */
int scr_machinefile_load(struct scr_machinefile *mf, const char *path, char *err,
                         size_t errlen);
void scr_machinefile_release(struct scr_machinefile *mf);

/* --- the probe line ------------------------------------------------------------------------ */

/* What `scrape doctor --probe-self` reports. */
struct scr_doctor_node {
    char *host, *arch, *os;           /* gethostname, uname -m, PRETTY_NAME of os-release */
    int bits;                         /* sizeof(void *) * 8: the userland's word size */
    char *version, *build_id;
    uint32_t protocol;
    char *mpi;                        /* MPI_Get_library_version, whole */
    char *curl, *libxml2, *pcre2;
};

/* This node, as the running binary sees it.  Always SCR_OK (out of memory aborts). */
int scr_doctor_node_self(struct scr_doctor_node *n);
/* The one-line JSON form (no newline); the caller frees it. */
char *scr_doctor_node_json(const struct scr_doctor_node *n);
/* Parses a line made by scr_doctor_node_json (from any build: unknown keys are ignored,
 * missing strings become "").  SCR_EPARSE when it is not such a line. */
int scr_doctor_node_parse(struct scr_doctor_node *n, const char *line);
void scr_doctor_node_release(struct scr_doctor_node *n);

/* The identity of an MPI library, from its version string. */
struct scr_mpi_id {
    char impl[32];       /* "MPICH", "Open MPI", or the first word; "unknown" */
    char version[64];    /* "4.0.2"; "" when not found */
    char device[64];     /* MPICH's "ch4:ucx", "ch3:nemesis"; "" when not MPICH or absent */
};
void scr_doctor_mpi_id(const char *libver, struct scr_mpi_id *out);

/* --- a host's outcome ---------------------------------------------------------------------- */

enum scr_doctor_state {
    SCR_DOCTOR_OK = 0,          /* the probe answered: node is filled */
    SCR_DOCTOR_UNREACHABLE = 1, /* ssh failed (exit 255) or the host timed out */
    SCR_DOCTOR_NO_BINARY = 2,   /* nothing at the binary's path */
    SCR_DOCTOR_CANNOT_RUN = 3,  /* there, but it does not run (not executable, exec format
                                 * error, missing libraries, a crash) */
    SCR_DOCTOR_NO_ANSWER = 4,   /* it ran but printed no probe line (an older build?) */
    SCR_DOCTOR_TIMEOUT = 5      /* no end within the timeout (ssh or the binary hung) */
};

struct scr_doctor_host {
    char *name;                 /* as in the machinefile */
    char *user;                 /* user=NAME from the machinefile, or NULL */
    int slots;                  /* summed over the machinefile's lines for this host */
    int state;                  /* enum scr_doctor_state */
    struct scr_doctor_node node;
    char detail[512];           /* why, for a host that is not OK: "exit 255: ssh: ..." */
    char seen_arch[64];         /* uname -m on the host when the script ran there (also when
                                 * the binary did not), else "" */
    /* filled by scr_doctor_judge: */
    int island;                 /* 1, 2, ...; 0 when broken */
    char verdict[64];           /* "island 1", "UNREACHABLE", "BUILD DIFFERS", ... */
};

/* The hosts of mf, one per distinct name in order of first appearance, slots summed. */
struct scr_doctor_host *scr_doctor_hosts_from(const struct scr_machinefile *mf, size_t *n);
void scr_doctor_hosts_free(struct scr_doctor_host *h, size_t n);

/* What one command (ssh HOST REMOTE) left behind. */
struct scr_doctor_run {
    char *const *argv;          /* borrowed */
    int exit_code;              /* 0..255; 128 + N after signal N; -1 when timed out */
    struct scr_buf out, err;    /* stdout and stderr, each cut at 64 KiB */
};

/* Runs every run[i].argv side by side (at most `parallel` at once, stdin /dev/null, each in
 * its own process group), each given at most timeout_ms before its group is killed.  Fills
 * exit_code, out and err (the caller releases the buffers).  SCR_OK, or SCR_EIO when a
 * process could not even be started (its err then says why, exit_code 127). */
int scr_doctor_run_all(struct scr_doctor_run *run, size_t n, int64_t timeout_ms, int parallel);

/* The remote command for `ssh HOST <it>`: a POSIX sh script that looks for binary, runs it as
 * `doctor --probe-self`, and when that fails says why (ELF header, ldd's missing libraries).
 * The caller frees it. */
char *scr_doctor_remote_command(const char *binary);

/* Reads what the remote command (run through ssh) left in run and fills h->state, h->node and
 * h->detail. */
void scr_doctor_read_outcome(struct scr_doctor_host *h, const struct scr_doctor_run *run,
                             const char *binary);

/* --- the verdict --------------------------------------------------------------------------- */

/* Sorts the hosts: a host that is not OK, or whose scrape version, build id or protocol
 * differs from ref's (the running binary), is broken (island 0, verdict upper case); the rest
 * are grouped by MPI implementation, version and device and by word size, the islands
 * numbered in machinefile order (island 1 holds the first usable host, which would be rank
 * 0).  Returns the number of islands; *broken (may be NULL) receives the broken count. */
int scr_doctor_judge(struct scr_doctor_host *h, size_t n, const struct scr_doctor_node *ref,
                     size_t *broken);

/* The first host before h[i] whose probe reported the same host name as h[i]'s (two Pis
 * both called "raspberrypi", or one machine listed under two names), as an index; n when
 * there is none or h[i] did not answer. */
size_t scr_doctor_same_name(const struct scr_doctor_host *h, size_t n, size_t i);

/* The process exit code for a judged set: SCR_EXIT_OK when there is one island and nothing
 * is broken, SCR_EXIT_CLUSTER (7) when a host is broken (or none is usable),
 * SCR_EXIT_ISLANDS (8) when every host is usable but they form several islands. */
int scr_doctor_exit_code(int islands, size_t broken);

#endif
