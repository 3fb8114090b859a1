/* cmd_doctor.c - `scrape doctor -f MACHINEFILE [--ssh CMD] [--binary PATH] [--timeout S]`,
 * the pre-flight that needs no MPI, and `scrape doctor --probe-self`, what it runs on each
 * host.
 *
 * For each host of the machinefile: ssh HOST '<remote command>' (doctor/remote.c), which
 * runs the scrape binary at the same path there as `scrape doctor --probe-self`.  Then the
 * table (one row per host), the problems, the library sets and the island plan with one
 * machinefile per island.  Exit 0: one MPI job can hold every host; 8: every host works but
 * they need several jobs (islands); 7: a host is unusable; 2: usage or a bad machinefile.
 * With --write PREFIX the island machinefiles are also written, as PREFIX.island1, ...
 * (exit 1 when one cannot be written).  The engine is doctor/ (doctor.h); this file parses
 * options and prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/suggest.h"
#include "doctor/doctor.h"

#define DEFAULT_SSH "ssh -o BatchMode=yes -o ConnectTimeout=5"
#define DEFAULT_TIMEOUT_S 30
#define PARALLEL 16

struct doctor_opts {
    const char *machinefile;
    const char *ssh;
    const char *binary;
    const char *write;          /* --write PREFIX: island machinefiles to PREFIX.islandN */
    long timeout_s;
    int probe_self;
};

void scr_cmd_doctor_usage(FILE *f)
{
    fprintf(f, "usage: scrape doctor -f MACHINEFILE [--ssh CMD] [--binary PATH] "
               "[--timeout SECONDS]\n"
               "                     [--write PREFIX]\n"
               "       scrape doctor --probe-self\n"
               "  Reaches every host of MACHINEFILE over ssh (no MPI), runs the scrape binary\n"
               "  there (--binary, default: this binary's path) with --probe-self, and says\n"
               "  which hosts can share one MPI job.  --ssh replaces '" DEFAULT_SSH "';\n"
               "  --timeout (default %d) bounds each host; --write saves each island's\n"
               "  machinefile as PREFIX.island1, ...  Exit 0: one job; 8: several\n"
               "  islands (one mpiexec each); 7: a host is unusable; 2: usage or machinefile.\n",
            DEFAULT_TIMEOUT_S);
}

/* Parses argv[start..]; returns SCR_OK, or SCR_EUSAGE after printing why. */
static int parse_opts(int argc, char **argv, int start, struct doctor_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->ssh = DEFAULT_SSH;
    o->timeout_s = DEFAULT_TIMEOUT_S;
    for (int i = start; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        const char *val = NULL;
        if (strcmp(a, "--probe-self") == 0) {
            o->probe_self = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            scr_cmd_doctor_usage(stdout);
            exit(SCR_EXIT_OK);
        }
        if (strcmp(a, "-f") == 0 || strcmp(a, "--machinefile") == 0)
            slot = &o->machinefile;
        else if (strcmp(a, "--ssh") == 0)
            slot = &o->ssh;
        else if (strcmp(a, "--binary") == 0)
            slot = &o->binary;
        else if (strcmp(a, "--write") == 0)
            slot = &o->write;
        else if (strcmp(a, "--timeout") == 0)
            slot = &val;
        else {
            static const char *const names[] = {"machinefile", "ssh", "binary", "write",
                                                "timeout", "probe-self", "help"};
            const char *near = strncmp(a, "--", 2) == 0 ? scr_suggest(a + 2, names, 7) : NULL;
            if (near)
                fprintf(stderr, "scrape doctor: unknown argument '%s' (did you mean --%s?); "
                                "see scrape doctor --help\n", a, near);
            else
                fprintf(stderr, "scrape doctor: unknown argument '%s' (see scrape doctor "
                                "--help)\n", a);
            return SCR_EUSAGE;
        }
        if (i + 1 >= argc || argv[i + 1][0] == '\0') {
            fprintf(stderr, "scrape doctor: %s needs a value\n", a);
            goto bad;
        }
        *slot = argv[++i];
        if (val) {
            char *end = NULL;
            o->timeout_s = strtol(val, &end, 10);
            if (!end || *end || o->timeout_s < 1 || o->timeout_s > 3600) {
                fprintf(stderr, "scrape doctor: --timeout takes seconds from 1 to 3600\n");
                goto bad;
            }
        }
    }
    if (!o->probe_self && !o->machinefile) {
        fprintf(stderr, "scrape doctor: -f MACHINEFILE is required\n");
        goto bad;
    }
    return SCR_OK;
bad:
    scr_cmd_doctor_usage(stderr);
    return SCR_EUSAGE;
}

static int probe_self(void)
{
    struct scr_doctor_node n;
    char *line;

    scr_doctor_node_self(&n);
    line = scr_doctor_node_json(&n);
    printf("%s\n", line);
    free(line);
    scr_doctor_node_release(&n);
    return fflush(stdout) == 0 ? SCR_EXIT_OK : SCR_EXIT_FAILURE;
}

/* --- printing ------------------------------------------------------------------------------ */

/* Copies s for a table cell: control characters become one space, so what another host sent
 * cannot break the terminal or the layout. */
static void cell(char *out, size_t len, const char *s)
{
    size_t j = 0;

    for (s = s ? s : ""; *s && j + 1 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f) {
            if (j && out[j - 1] != ' ')
                out[j++] = ' ';
        } else {
            out[j++] = (char)ch;
        }
    }
    out[j] = '\0';
}

enum { C_HOST, C_ARCH, C_BITS, C_OS, C_MPI, C_DEVICE, C_BUILD, C_VERDICT, NCOLS };
static const char *const col_names[NCOLS] = {"host", "arch",  "bits",  "os",
                                             "mpi",  "device", "build", "verdict"};
typedef char row_cells[NCOLS][128];

static void fill_cells(row_cells c, const struct scr_doctor_host *h)
{
    for (int k = 0; k < NCOLS; k++)
        snprintf(c[k], sizeof(c[k]), "-");
    cell(c[C_HOST], sizeof(c[0]), h->name);
    cell(c[C_VERDICT], sizeof(c[0]), h->verdict);
    if (h->seen_arch[0])
        cell(c[C_ARCH], sizeof(c[0]), h->seen_arch); /* also where the binary did not run */
    if (h->state == SCR_DOCTOR_OK) {
        struct scr_mpi_id id;
        scr_doctor_mpi_id(h->node.mpi, &id);
        cell(c[C_ARCH], sizeof(c[0]), h->node.arch);
        snprintf(c[C_BITS], sizeof(c[0]), "%d", h->node.bits);
        cell(c[C_OS], sizeof(c[0]), h->node.os);
        snprintf(c[C_MPI], sizeof(c[0]), "%s%s%s", id.impl, id.version[0] ? " " : "",
                 id.version);
        cell(c[C_MPI], sizeof(c[0]), c[C_MPI]);
        cell(c[C_DEVICE], sizeof(c[0]), id.device[0] ? id.device : "-");
        cell(c[C_BUILD], sizeof(c[0]), h->node.build_id);
    }
}

static void print_table(const struct scr_doctor_host *h, size_t n)
{
    row_cells *cells = scr_xcalloc(n ? n : 1, sizeof(*cells));
    size_t w[NCOLS];

    for (int k = 0; k < NCOLS; k++)
        w[k] = strlen(col_names[k]);
    for (size_t i = 0; i < n; i++) {
        fill_cells(cells[i], &h[i]);
        for (int k = 0; k < NCOLS; k++)
            if (strlen(cells[i][k]) > w[k])
                w[k] = strlen(cells[i][k]);
    }
    for (size_t r = 0; r <= n; r++) {
        struct scr_buf line;
        scr_buf_init(&line);
        for (int k = 0; k < NCOLS; k++)
            scr_buf_printf(&line, "%-*s  ", (int)w[k], r == 0 ? col_names[k] : cells[r - 1][k]);
        while (line.len && line.data[line.len - 1] == ' ')
            line.data[--line.len] = '\0';
        printf("%s\n", line.data ? line.data : "");
        scr_buf_release(&line);
    }
    free(cells);
}

static void print_problems(const struct scr_doctor_host *h, size_t n,
                           const struct scr_doctor_node *ref)
{
    int any = 0;

    for (size_t i = 0; i < n; i++) {
        char d[512];
        if (h[i].island > 0)
            continue;
        if (!any)
            printf("\nunusable hosts (fix them, or leave them out of the machinefile):\n");
        any = 1;
        if (h[i].state == SCR_DOCTOR_OK)
            snprintf(d, sizeof(d), "scrape %s build %s protocol %u, this binary: %s build %s "
                     "protocol %u", h[i].node.version, h[i].node.build_id, h[i].node.protocol,
                     ref->version, ref->build_id, ref->protocol);
        else
            snprintf(d, sizeof(d), "%s", h[i].detail);
        cell(d, sizeof(d), d);
        printf("  %s: %s: %s\n", h[i].name, h[i].verdict, d);
    }
}

/* Hosts whose probes report one host name: Hydra and the logs cannot tell them apart
 * (section 5 of docs/cluster.md).  A warning: the verdict stands. */
static void print_warnings(const struct scr_doctor_host *h, size_t n)
{
    int any = 0;

    for (size_t i = 0; i < n; i++) {
        size_t j = scr_doctor_same_name(h, n, i);
        char name[128];
        if (j == n)
            continue;
        if (!any)
            printf("\nwarnings:\n");
        any = 1;
        cell(name, sizeof(name), h[i].node.host);
        printf("  %s and %s both call themselves '%s': give every node its own host name\n",
               h[j].name, h[i].name, name);
    }
}

/* Groups the usable hosts by library set; a mix is normal and gets no mark. */
static void print_libraries(const struct scr_doctor_host *h, size_t n)
{
    char *done = scr_xcalloc(n ? n : 1, 1);
    int sets = 0;

    for (size_t i = 0; i < n; i++) {
        if (h[i].state != SCR_DOCTOR_OK || done[i])
            continue;
        if (sets++ == 0)
            printf("\nlibraries (a mix is normal):\n");
        printf("  libcurl %s, libxml2 %s, PCRE2 %s:", h[i].node.curl, h[i].node.libxml2,
               h[i].node.pcre2);
        for (size_t j = i; j < n; j++) {
            if (h[j].state != SCR_DOCTOR_OK || done[j] ||
                strcmp(h[j].node.curl, h[i].node.curl) != 0 ||
                strcmp(h[j].node.libxml2, h[i].node.libxml2) != 0 ||
                strcmp(h[j].node.pcre2, h[i].node.pcre2) != 0)
                continue;
            done[j] = 1;
            printf(" %s", h[j].name);
        }
        printf("\n");
    }
    free(done);
}

static const struct scr_doctor_host *find_host(const struct scr_doctor_host *h, size_t n,
                                               const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].name, name) == 0)
            return &h[i];
    return NULL;
}

/* Writes island k's lines of mf to path, whole or not at all.  SCR_OK, or SCR_EIO with the
 * reason in err. */
static int write_island(const char *path, const struct scr_doctor_host *h, size_t n,
                        const struct scr_machinefile *mf, int k, char *err, size_t errlen)
{
    char *part = NULL;
    FILE *f = scr_file_create(path, &part, err, errlen);
    int rc = SCR_OK;

    if (!f) {
        rc = SCR_EIO;
        goto out;
    }
    fprintf(f, "# island %d of scrape doctor's plan: these hosts can share one MPI job\n", k);
    for (size_t e = 0; e < mf->n; e++) {
        const struct scr_doctor_host *o = find_host(h, n, mf->v[e].host);
        if (o && o->island == k)
            fprintf(f, "%s\n", mf->v[e].text);
    }
    if (scr_file_commit(f, part, path, err, errlen) != SCR_OK)
        rc = SCR_EIO;
out:
    free(part);
    return rc;
}

/* Prints the plan: each island's MPI, slots, rank 0 and machinefile (also written to
 * PREFIX.islandN when prefix is not NULL).  SCR_OK, or SCR_EIO when a file could not be
 * written (the reason is printed on stderr; the plan is printed all the same). */
static int print_islands(const struct scr_doctor_host *h, size_t n,
                         const struct scr_machinefile *mf, int islands, const char *binary,
                         const char *prefix)
{
    int rc = SCR_OK;

    for (int k = 1; k <= islands; k++) {
        const struct scr_doctor_host *first = NULL;
        struct scr_mpi_id id;
        struct scr_buf path;
        int slots = 0;

        for (size_t i = 0; i < n; i++) {
            if (h[i].island != k)
                continue;
            if (!first)
                first = &h[i];
            slots += h[i].slots;
        }
        scr_doctor_mpi_id(first->node.mpi, &id);
        printf("\nisland %d: %s%s%s%s%s, %d-bit; %d slot%s, rank 0 on %s\n", k, id.impl,
               id.version[0] ? " " : "", id.version, id.device[0] ? " " : "", id.device,
               first->node.bits, slots, slots == 1 ? "" : "s", first->name);
        printf("  machinefile:\n");
        for (size_t e = 0; e < mf->n; e++) {
            const struct scr_doctor_host *o = find_host(h, n, mf->v[e].host);
            if (!o || o->island != k)
                continue;
            printf("    %s\n", mf->v[e].text);
        }
        scr_buf_init(&path);
        if (prefix) {
            char err[512];
            scr_buf_printf(&path, "%s.island%d", prefix, k);
            if (write_island(path.data, h, n, mf, k, err, sizeof(err)) != SCR_OK) {
                fprintf(stderr, "scrape doctor: %s\n", err);
                rc = SCR_EIO;
            } else {
                printf("  written to %s\n", path.data);
            }
        } else {
            scr_buf_printf(&path, "MACHINEFILE-%d", k);
        }
        printf("  run: mpiexec -f %s -n %d %s ...\n", path.data, slots, binary);
        scr_buf_release(&path);
    }
    return rc;
}

/* The last line: what the hosts allow, and the exit code the command returns (rc, which
 * may differ from verdict's when --write failed). */
static void print_verdict(int verdict, int rc, size_t n, size_t broken, int islands)
{
    printf("\n");
    if (verdict == SCR_EXIT_OK)
        printf("verdict: every host (%zu) can be a rank of one MPI job (exit %d)\n", n, rc);
    else if (verdict == SCR_EXIT_ISLANDS)
        printf("verdict: every host works, but they need %d MPI jobs: run one mpiexec per "
               "island, each with its machinefile above and the same --db and --job; each "
               "island's rank 0 needs PostgreSQL (exit %d)\n",
               islands, rc);
    else
        printf("verdict: %zu of %zu hosts unusable; %d island%s among the rest (exit %d)\n",
               broken, n, islands, islands == 1 ? "" : "s", rc);
}

/* --- the command --------------------------------------------------------------------------- */

struct words {
    char **v;
    size_t n;
};

static struct words split_words(const char *s)
{
    struct words w = {NULL, 0};
    size_t cap = 0;

    for (;;) {
        size_t len;
        s += strspn(s, " \t");
        if (!*s)
            break;
        len = strcspn(s, " \t");
        SCR_GROW(w.v, cap, w.n + 1, 8);
        w.v[w.n++] = scr_xstrndup(s, len);
        s += len;
    }
    return w;
}

/* argv for one host: the --ssh words, [-l USER], HOST, the remote command (all borrowed;
 * free the array only). */
static char **host_argv(const struct words *w, const struct scr_doctor_host *h,
                        char *remote)
{
    char **argv = scr_xcalloc(w->n + 5, sizeof(*argv));
    size_t k = 0;

    for (size_t i = 0; i < w->n; i++)
        argv[k++] = w->v[i];
    if (h->user) {
        argv[k++] = (char *)"-l";
        argv[k++] = h->user;
    }
    argv[k++] = h->name;
    argv[k++] = remote;
    argv[k] = NULL;
    return argv;
}

static char *self_path(void)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return scr_xstrdup(buf);
}

int scr_cmd_doctor(int argc, char **argv, int start)
{
    struct doctor_opts o;
    struct scr_machinefile mf = {0};
    struct scr_doctor_node ref = {0};
    struct scr_doctor_host *hosts = NULL;
    struct scr_doctor_run *runs = NULL;
    struct words words = {NULL, 0};
    struct scr_mpi_id id;
    char err[1024], *binary = NULL, *remote = NULL;
    size_t n = 0, broken = 0;
    int islands, write_rc, verdict, rc = SCR_EXIT_USAGE;

    if (parse_opts(argc, argv, start, &o) != SCR_OK)
        goto out;
    if (o.probe_self) {
        rc = probe_self();
        goto out;
    }
    if (scr_machinefile_load(&mf, o.machinefile, err, sizeof(err)) != SCR_OK) {
        fprintf(stderr, "scrape doctor: %s\n", err);
        goto out;
    }
    words = split_words(o.ssh);
    if (words.n == 0) {
        fprintf(stderr, "scrape doctor: --ssh is empty\n");
        goto out;
    }
    binary = o.binary ? scr_xstrdup(o.binary) : self_path();
    if (!binary) {
        fprintf(stderr, "scrape doctor: cannot tell this binary's path; give --binary\n");
        goto out;
    }
    scr_doctor_node_self(&ref);
    hosts = scr_doctor_hosts_from(&mf, &n);
    runs = scr_xcalloc(n, sizeof(*runs));
    remote = scr_doctor_remote_command(binary);
    for (size_t i = 0; i < n; i++)
        runs[i].argv = host_argv(&words, &hosts[i], remote);
    scr_doctor_mpi_id(ref.mpi, &id);
    printf("scrape doctor: %zu host%s in %s, binary %s\n"
           "this binary: scrape %s build %s, %s %d-bit, %s%s%s%s%s\n\n",
           n, n == 1 ? "" : "s", o.machinefile, binary, ref.version, ref.build_id, ref.arch,
           ref.bits, id.impl, id.version[0] ? " " : "", id.version, id.device[0] ? " " : "",
           id.device);
    fflush(stdout);
    scr_doctor_run_all(runs, n, o.timeout_s * 1000, PARALLEL);
    for (size_t i = 0; i < n; i++)
        scr_doctor_read_outcome(&hosts[i], &runs[i], binary);
    islands = scr_doctor_judge(hosts, n, &ref, &broken);
    print_table(hosts, n);
    print_problems(hosts, n, &ref);
    print_warnings(hosts, n);
    print_libraries(hosts, n);
    write_rc = print_islands(hosts, n, &mf, islands, binary, o.write);
    rc = scr_doctor_exit_code(islands, broken);
    verdict = rc;
    if (write_rc != SCR_OK)
        rc = SCR_EXIT_FAILURE; /* the plan was asked for in files and is not all there */
    print_verdict(verdict, rc, n, broken, islands);
out:
    for (size_t i = 0; runs && i < n; i++) {
        free((void *)runs[i].argv);
        scr_buf_release(&runs[i].out);
        scr_buf_release(&runs[i].err);
    }
    free(runs);
    for (size_t i = 0; i < words.n; i++)
        free(words.v[i]);
    free(words.v);
    free(remote);
    free(binary);
    scr_doctor_hosts_free(hosts, n);
    scr_doctor_node_release(&ref);
    scr_machinefile_release(&mf);
    return rc;
}
