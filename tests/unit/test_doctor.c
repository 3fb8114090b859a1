/* test_doctor.c - `scrape doctor`'s engine (doctor/doctor.h), without ssh or MPI.
 *
 * The verdict is tested as data: each case is a set of hosts (state, word size, MPI library,
 * build) and the islands and exit code they must give.  The machinefile parser likewise: a
 * text and the entries it must give, or the line and reason it must refuse.  Then the MPI
 * identity from library strings, the probe line's round trip, the outcome read from canned
 * ssh results, and the remote command and the runner for real, through /bin/sh on this
 * machine (missing binary, non-executable, a script that fails, a timeout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "doctor/doctor.h"
#include "test.h"

#define S(x) ((char *)(x))

#define UCX "MPICH Version:\t4.0.2\nMPICH Release date:\tThu Apr  7 2022\nMPICH Device:\tch4:ucx\n"
#define NEM "MPICH Version:\t4.0.2\nMPICH Release date:\tThu Apr  7 2022\nMPICH Device:\tch3:nemesis\n"
#define UCX41 "MPICH Version:\t4.1.2\nMPICH Device:\tch4:ucx\n"
#define OMPI "Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4"

/* --- the verdict, as data ------------------------------------------------------------------ */

struct vhost {
    int state;          /* enum scr_doctor_state */
    int bits;
    const char *mpi;
    const char *build;  /* NULL: the reference build */
};

struct vcase {
    const char *name;
    struct vhost h[8];
    size_t n;
    const char *islands;   /* island per host, "0" = broken, e.g. "1 1 2 0" */
    int exit_code;
    const char *verdict0;  /* verdict of a host to check, or NULL */
    size_t verdict_at;
};

#define OK SCR_DOCTOR_OK
static const struct vcase vcases[] = {
    {"one host", {{OK, 64, UCX, NULL}}, 1, "1", SCR_EXIT_OK, "island 1", 0},
    {"amd64 and arm64, both ch4:ucx, share a job",
     {{OK, 64, UCX, NULL}, {OK, 64, UCX, NULL}, {OK, 64, UCX, NULL}}, 3, "1 1 1", SCR_EXIT_OK,
     NULL, 0},
    {"armhf (ch3:nemesis, 32-bit) is an island of its own",
     {{OK, 64, UCX, NULL}, {OK, 32, NEM, NULL}, {OK, 64, UCX, NULL}}, 3, "1 2 1",
     SCR_EXIT_ISLANDS, "island 2", 1},
    {"same device, another word size",
     {{OK, 64, UCX, NULL}, {OK, 32, UCX, NULL}}, 2, "1 2", SCR_EXIT_ISLANDS, NULL, 0},
    {"same word size, another device",
     {{OK, 64, UCX, NULL}, {OK, 64, NEM, NULL}}, 2, "1 2", SCR_EXIT_ISLANDS, NULL, 0},
    {"another MPICH version (a newer OS on a Pi)",
     {{OK, 64, UCX, NULL}, {OK, 64, UCX41, NULL}, {OK, 64, UCX41, NULL}}, 3, "1 2 2",
     SCR_EXIT_ISLANDS, NULL, 0},
    {"Open MPI never joins MPICH",
     {{OK, 64, UCX, NULL}, {OK, 64, OMPI, NULL}}, 2, "1 2", SCR_EXIT_ISLANDS, NULL, 0},
    {"two 32-bit Pis share their own island",
     {{OK, 32, NEM, NULL}, {OK, 64, UCX, NULL}, {OK, 32, NEM, NULL}, {OK, 64, UCX, NULL}}, 4,
     "1 2 1 2", SCR_EXIT_ISLANDS, NULL, 0},
    {"another build is broken, not an island",
     {{OK, 64, UCX, NULL}, {OK, 64, UCX, "0123456789ab"}}, 2, "1 0", SCR_EXIT_CLUSTER,
     "BUILD DIFFERS", 1},
    {"another build on another device: still broken",
     {{OK, 64, UCX, NULL}, {OK, 32, NEM, "0123456789ab-dirty"}}, 2, "1 0", SCR_EXIT_CLUSTER,
     NULL, 0},
    {"unreachable, no binary, cannot run, no answer",
     {{OK, 64, UCX, NULL}, {SCR_DOCTOR_UNREACHABLE, 0, NULL, NULL},
      {SCR_DOCTOR_NO_BINARY, 0, NULL, NULL}, {SCR_DOCTOR_CANNOT_RUN, 0, NULL, NULL},
      {SCR_DOCTOR_NO_ANSWER, 0, NULL, NULL}}, 5, "1 0 0 0 0", SCR_EXIT_CLUSTER, "NO BINARY", 2},
    {"a broken first host: island 1 starts at the first usable one",
     {{SCR_DOCTOR_UNREACHABLE, 0, NULL, NULL}, {OK, 32, NEM, NULL}, {OK, 64, UCX, NULL}}, 3,
     "0 1 2", SCR_EXIT_CLUSTER, "UNREACHABLE", 0},
    {"broken and islands together: 7 wins",
     {{OK, 64, UCX, NULL}, {OK, 32, NEM, NULL}, {SCR_DOCTOR_NO_BINARY, 0, NULL, NULL}}, 3,
     "1 2 0", SCR_EXIT_CLUSTER, NULL, 0},
    {"a host that timed out",
     {{OK, 64, UCX, NULL}, {SCR_DOCTOR_TIMEOUT, 0, NULL, NULL}}, 2, "1 0", SCR_EXIT_CLUSTER,
     "TIMED OUT", 1},
    {"nothing usable",
     {{SCR_DOCTOR_UNREACHABLE, 0, NULL, NULL}, {SCR_DOCTOR_UNREACHABLE, 0, NULL, NULL}}, 2,
     "0 0", SCR_EXIT_CLUSTER, NULL, 0},
    {"an MPI library nobody can name joins no one",
     {{OK, 64, "unknown", NULL}, {OK, 64, "unknown", NULL}}, 2, "1 2", SCR_EXIT_ISLANDS, NULL,
     0},
};

static void fill_node(struct scr_doctor_node *n, const struct vhost *v, const char *ref_build)
{
    memset(n, 0, sizeof(*n));
    n->host = scr_xstrdup("h");
    n->arch = scr_xstrdup(v->bits == 32 ? "armv7l" : "x86_64");
    n->os = scr_xstrdup("Debian GNU/Linux 12 (bookworm)");
    n->version = scr_xstrdup("0.1.0");
    n->build_id = scr_xstrdup(v->build ? v->build : ref_build);
    n->protocol = 4;
    n->mpi = scr_xstrdup(v->mpi ? v->mpi : "");
    n->curl = scr_xstrdup("7.88.1");
    n->libxml2 = scr_xstrdup("2.9.14");
    n->pcre2 = scr_xstrdup("10.42");
    n->bits = v->bits;
}

TEST(verdict_cases)
{
    struct scr_doctor_node ref;
    struct vhost refv = {OK, 64, UCX, NULL};

    fill_node(&ref, &refv, "30dc175c18ff");
    for (size_t c = 0; c < sizeof(vcases) / sizeof(vcases[0]); c++) {
        const struct vcase *vc = &vcases[c];
        struct scr_doctor_host h[8];
        char got[64] = "";
        size_t broken = 99;
        int islands;

        memset(h, 0, sizeof(h));
        for (size_t i = 0; i < vc->n; i++) {
            h[i].name = scr_xstrdup("h");
            h[i].state = vc->h[i].state;
            if (h[i].state == OK)
                fill_node(&h[i].node, &vc->h[i], ref.build_id);
        }
        islands = scr_doctor_judge(h, vc->n, &ref, &broken);
        for (size_t i = 0; i < vc->n; i++) {
            size_t used = strlen(got);
            snprintf(got + used, sizeof(got) - used, "%s%d", i ? " " : "", h[i].island);
        }
        fprintf(stderr, "   %s: %s\n", vc->name, got);
        ASSERT_STR_EQ(got, vc->islands);
        ASSERT_EQ(scr_doctor_exit_code(islands, broken), vc->exit_code);
        if (vc->verdict0)
            ASSERT_STR_EQ(h[vc->verdict_at].verdict, vc->verdict0);
        for (size_t i = 0; i < vc->n; i++) {
            free(h[i].name);
            scr_doctor_node_release(&h[i].node);
        }
    }
    scr_doctor_node_release(&ref);
}

TEST(same_name)
{
    struct scr_doctor_host h[4];
    struct vhost v = {OK, 64, UCX, NULL};
    const char *names[4] = {"raspberrypi", "pi2", "raspberrypi", "raspberrypi"};

    memset(h, 0, sizeof(h));
    for (int i = 0; i < 4; i++) {
        h[i].state = i == 3 ? SCR_DOCTOR_UNREACHABLE : OK;
        if (h[i].state == OK) {
            fill_node(&h[i].node, &v, "b");
            free(h[i].node.host);
            h[i].node.host = scr_xstrdup(names[i]);
        }
    }
    ASSERT_EQ(scr_doctor_same_name(h, 4, 0), 4);
    ASSERT_EQ(scr_doctor_same_name(h, 4, 1), 4);
    ASSERT_EQ(scr_doctor_same_name(h, 4, 2), 0);
    ASSERT_EQ(scr_doctor_same_name(h, 4, 3), 4); /* no answer, no name */
    for (int i = 0; i < 4; i++)
        scr_doctor_node_release(&h[i].node);
}

TEST(exit_codes)
{
    ASSERT_EQ(scr_doctor_exit_code(1, 0), 0);
    ASSERT_EQ(scr_doctor_exit_code(2, 0), 8);
    ASSERT_EQ(scr_doctor_exit_code(1, 1), 7);
    ASSERT_EQ(scr_doctor_exit_code(0, 0), 7);
}

/* --- machinefiles, as data ----------------------------------------------------------------- */

struct mfcase {
    const char *text;
    const char *want;   /* "host:slots[@user]/line ..." or "ERR line N: <start of reason>" */
};

static const struct mfcase mfcases[] = {
    {"h1\n", "h1:1/1"},
    {"h1:4\nh2:2\n", "h1:4/1 h2:2/2"},
    {"# a comment\n\n   \nhead:1   # rank 0\n\tpi1:4\n", "head:1/4 pi1:4/5"},
    {"pi1:4 user=pi\n", "pi1:4@pi/1"},
    {"h1:2", "h1:2/1"},                       /* no final newline */
    {"h1\r\n", "h1:1/1"},                     /* CR is white space */
    {"192.168.1.21:3\nwsl-laptop.lan:4\n", "192.168.1.21:3/1 wsl-laptop.lan:4/2"},
    {"h1\nh1:2\n", "h1:1/1 h1:2/2"},          /* repeated hosts stay separate lines */
    {"h1:2:eth0\n", "h1:2/1"},                /* Hydra ignores a third field */
    {"h1:2:\n", "h1:2/1"},
    {"", ""},
    {"h1:x\n", "ERR line 1: 'h1:x': the slots after ':' must be a number"},
    {"h1::2\n", "ERR line 1: 'h1::2': the slots after ':' must be a number"},
    {"h1\nh2:0\n", "ERR line 2: 'h2:0': the slots must be from 1"},
    {"h1:\n", "ERR line 1: 'h1:': the slots after ':' must be a number from 1"},
    {":4\n", "ERR line 1: ':4' is not a host name"},
    {"-vvv:2\n", "ERR line 1: '-vvv:2' is not a host name"},   /* never an ssh option */
    {".h1\n", "ERR line 1: '.h1' is not a host name"},
    {"h1:4 ifhn=eth0\n", "ERR line 1: 'ifhn=eth0': Hydra accepts only"},
    {"h1 h2\n", "ERR line 1: 'h2': Hydra accepts only"},
    {"h1 user=\x1b[2J\n", "ERR line 1: 'user=\x1b[2J' is not a user name"},
    {"h1 user=-oProxyCommand=x\n", "ERR line 1: 'user=-oProxyCommand=x' is not a user name"},
    {"h1 user=pi user=root\n", "ERR line 1: 'user=root': Hydra accepts only"},
    {"fe80::1\n", "ERR line 1: 'fe80::1': the slots after ':' must be a number"},
    {"h1:99999999\n", "ERR line 1: 'h1:99999999': the slots after ':' must be a number from 1"},
    {"h\xc3\xa9t\n", "ERR line 1: 'h\xc3\xa9t' is not a host name"},
    {"h1\n\n\nh;rm -rf\n", "ERR line 4: 'h;rm' is not a host name"},
};

TEST(machinefile_cases)
{
    for (size_t c = 0; c < sizeof(mfcases) / sizeof(mfcases[0]); c++) {
        struct scr_machinefile mf = {0};
        char err[256] = "", got[512] = "";
        int rc = scr_machinefile_parse(&mf, mfcases[c].text, strlen(mfcases[c].text), err,
                                       sizeof(err));
        if (rc == SCR_OK) {
            for (size_t i = 0; i < mf.n; i++) {
                size_t used = strlen(got);
                snprintf(got + used, sizeof(got) - used, "%s%s:%d%s%s/%d", i ? " " : "",
                         mf.v[i].host, mf.v[i].slots, mf.v[i].user ? "@" : "",
                         mf.v[i].user ? mf.v[i].user : "", mf.v[i].line);
            }
            ASSERT_STR_EQ(got, mfcases[c].want);
            for (size_t i = 0; i < mf.n; i++)
                ASSERT(strchr(mf.v[i].text, '#') == NULL && !strchr(mf.v[i].text, '\n'));
        } else {
            ASSERT_EQ(rc, SCR_EUSAGE);
            snprintf(got, sizeof(got), "ERR %s", err);
            if (strncmp(got, mfcases[c].want, strlen(mfcases[c].want)) != 0)
                ASSERT_STR_EQ(got, mfcases[c].want);
        }
        scr_machinefile_release(&mf);
    }
}

TEST(machinefile_nul_and_files)
{
    struct scr_machinefile mf = {0};
    char err[512];
    char path[] = "/tmp/test_doctor_mf_XXXXXX";
    int fd;

    ASSERT_EQ(scr_machinefile_parse(&mf, "h1\nh\0x\n", 7, err, sizeof(err)), SCR_EUSAGE);
    ASSERT(strstr(err, "line 2: binary data") != NULL);
    scr_machinefile_release(&mf);

    fd = mkstemp(path);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, "# nothing\n", 10), 10);
    close(fd);
    ASSERT_EQ(scr_machinefile_load(&mf, path, err, sizeof(err)), SCR_EUSAGE);
    ASSERT(strstr(err, "no hosts") != NULL);
    scr_machinefile_release(&mf);
    unlink(path);
    ASSERT_EQ(scr_machinefile_load(&mf, path, err, sizeof(err)), SCR_EUSAGE);
    ASSERT(strstr(err, path) != NULL);
    scr_machinefile_release(&mf);
}

/* The examples in machinefiles/ parse, with the slots their comments promise. */
TEST(machinefile_examples)
{
    static const struct {
        const char *file;
        size_t hosts;
        int slots;
    } ex[] = {{"localhost", 1, 3}, {"pi-cluster", 5, 17}, {"mixed", 4, 20}};

    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        struct scr_machinefile mf = {0};
        char path[512], err[512];
        int slots = 0;
        snprintf(path, sizeof(path), "%s/../../machinefiles/%s", SCR_FIXTURES, ex[i].file);
        ASSERT_EQ(scr_machinefile_load(&mf, path, err, sizeof(err)), SCR_OK);
        ASSERT_EQ(mf.n, ex[i].hosts);
        for (size_t k = 0; k < mf.n; k++)
            slots += mf.v[k].slots;
        ASSERT_EQ(slots, ex[i].slots);
        scr_machinefile_release(&mf);
    }
}

TEST(hosts_from_machinefile)
{
    struct scr_machinefile mf = {0};
    struct scr_doctor_host *h;
    char err[128];
    size_t n = 0;
    const char *text = "h1:1\nh2:2\nh1:3\nh3 user=pi\n";

    ASSERT_EQ(scr_machinefile_parse(&mf, text, strlen(text), err, sizeof(err)), SCR_OK);
    h = scr_doctor_hosts_from(&mf, &n);
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(h[0].name, "h1");
    ASSERT_EQ(h[0].slots, 4);
    ASSERT_STR_EQ(h[1].name, "h2");
    ASSERT_EQ(h[1].slots, 2);
    ASSERT_STR_EQ(h[2].user, "pi");
    ASSERT_STR_EQ(mf.v[3].text, "h3 user=pi");
    scr_doctor_hosts_free(h, n);
    scr_machinefile_release(&mf);
}

/* --- MPI identity and the probe line ------------------------------------------------------- */

TEST(mpi_id)
{
    struct scr_mpi_id id;

    scr_doctor_mpi_id(UCX, &id);
    ASSERT_STR_EQ(id.impl, "MPICH");
    ASSERT_STR_EQ(id.version, "4.0.2");
    ASSERT_STR_EQ(id.device, "ch4:ucx");
    scr_doctor_mpi_id(NEM, &id);
    ASSERT_STR_EQ(id.device, "ch3:nemesis");
    /* as MPICH 4.0.2 prints it: spaces and a tab after the colon */
    scr_doctor_mpi_id("MPICH Version:    \t4.0.2\nMPICH Device:    \tch4:ucx  \n", &id);
    ASSERT_STR_EQ(id.version, "4.0.2");
    ASSERT_STR_EQ(id.device, "ch4:ucx");
    scr_doctor_mpi_id(OMPI, &id);
    ASSERT_STR_EQ(id.impl, "Open MPI");
    ASSERT_STR_EQ(id.version, "4.1.4");
    ASSERT_STR_EQ(id.device, "");
    scr_doctor_mpi_id("unknown", &id);
    ASSERT_STR_EQ(id.impl, "unknown");
    scr_doctor_mpi_id(NULL, &id);
    ASSERT_STR_EQ(id.impl, "unknown");
    scr_doctor_mpi_id("Intel(R) MPI Library 2021.9 for Linux", &id);
    ASSERT_STR_EQ(id.impl, "Intel(R)");
}

TEST(probe_line_round_trip)
{
    struct scr_doctor_node self, back;
    char *line;

    ASSERT_EQ(scr_doctor_node_self(&self), SCR_OK);
    ASSERT_EQ(self.bits, (int)(sizeof(void *) * 8));
    ASSERT(strstr(self.mpi, "MPICH Device") != NULL); /* the whole string, not line 1 */
    line = scr_doctor_node_json(&self);
    ASSERT(strchr(line, '\n') == NULL);
    ASSERT_EQ(scr_doctor_node_parse(&back, line), SCR_OK);
    ASSERT_STR_EQ(back.build_id, self.build_id);
    ASSERT_STR_EQ(back.mpi, self.mpi);
    ASSERT_STR_EQ(back.arch, self.arch);
    ASSERT_EQ(back.bits, self.bits);
    ASSERT_EQ(back.protocol, self.protocol);
    scr_doctor_node_release(&back);
    free(line);
    scr_doctor_node_release(&self);

    /* not a probe line; a newer one with more keys and fewer strings */
    ASSERT_EQ(scr_doctor_node_parse(&back, "{\"hello\":1}"), SCR_EPARSE);
    scr_doctor_node_release(&back);
    ASSERT_EQ(scr_doctor_node_parse(&back, "{\"scrape_doctor\":1"), SCR_EPARSE);
    scr_doctor_node_release(&back);
    ASSERT_EQ(scr_doctor_node_parse(&back, "{\"scrape_doctor\":2,\"bits\":32,\"x\":[1]}"),
              SCR_OK);
    ASSERT_EQ(back.bits, 32);
    ASSERT_STR_EQ(back.build_id, "");
    scr_doctor_node_release(&back);
}

/* --- reading an outcome -------------------------------------------------------------------- */

struct ocase {
    int exit_code;
    const char *out, *err;
    int state;
    const char *detail_has;
};

static const struct ocase ocases[] = {
    {255, "", "ssh: connect to host pi3 port 22: Connection timed out\n",
     SCR_DOCTOR_UNREACHABLE, "exit 255: ssh: connect to host pi3 port 22"},
    {-1, "", "", SCR_DOCTOR_TIMEOUT, "no end within the timeout"},
    {-1, "@doctor uname aarch64\n", "Warning: Permanently added 'pi3'\n", SCR_DOCTOR_TIMEOUT,
     "no end within the timeout (the script ran on aarch64): Warning: Permanently added"},
    {0, "@doctor uname aarch64\n@doctor missing\n", "", SCR_DOCTOR_NO_BINARY,
     "/opt/scrape/build/scrape: no such file on h (aarch64)"},
    {0, "@doctor uname x86_64\n@doctor noexec\n", "", SCR_DOCTOR_CANNOT_RUN, "not an executable"},
    {0,
     "@doctor uname x86_64\n@doctor rc 126\n"
     "@doctor elf 7f 45 4c 46 01 01 01 00 00 00 00 00 00 00 00 00 02 00 28 00 \n",
     "sh: 1: /opt/scrape/build/scrape: Exec format error\n", SCR_DOCTOR_CANNOT_RUN,
     "exit 126 on x86_64, the binary is ELF 32-bit ARM: sh: 1: /opt/scrape/build/scrape: Exec"},
    {0,
     "@doctor uname armv7l\n@doctor rc 127\n"
     "@doctor elf 7f 45 4c 46 01 01 01 00 00 00 00 00 00 00 00 00 03 00 28 00\n"
     "@doctor ldd libmpich.so.12 => not found\n@doctor ldd libpq.so.5 => not found\n",
     "/opt/scrape/build/scrape: error while loading shared libraries: libmpich.so.12\n",
     SCR_DOCTOR_CANNOT_RUN, "missing libmpich.so.12, libpq.so.5"},
    {0, "@doctor uname x86_64\n@doctor rc 2\n@doctor elf 7f 45 4c 46 02 01 01 00 00 00 00 00 "
        "00 00 00 00 03 00 3e 00\n",
     "scrape: unknown command 'doctor' (see scrape help)\n", SCR_DOCTOR_NO_ANSWER,
     "without a probe answer"},
    {0, "@doctor uname x86_64\n@doctor rc 139\n@doctor elf 7f 45 4c 46 02 01 01 00 00 00 00 00 "
        "00 00 00 00 03 00 3e 00\n",
     "", SCR_DOCTOR_CANNOT_RUN, "exit 139 on x86_64, the binary is ELF 64-bit x86-64"},
    {0, "Welcome to pi1!\n@doctor uname armv7l\n{\"scrape_doctor\":1,\"bits\":32,\"mpi\":\"x\"}\n"
        "@doctor rc 0\n", "", SCR_DOCTOR_OK, ""},
    {0, "@doctor uname armv7l\n{\"scrape_doctor\":1,\"bits\":32}\n@doctor rc 5\n", "",
     SCR_DOCTOR_NO_ANSWER, "exit 5"},
};

TEST(outcome_cases)
{
    for (size_t c = 0; c < sizeof(ocases) / sizeof(ocases[0]); c++) {
        struct scr_doctor_host h;
        struct scr_doctor_run run;

        memset(&h, 0, sizeof(h));
        memset(&run, 0, sizeof(run));
        h.name = (char *)"h";
        run.exit_code = ocases[c].exit_code;
        scr_buf_puts(&run.out, ocases[c].out);
        scr_buf_puts(&run.err, ocases[c].err);
        scr_doctor_read_outcome(&h, &run, "/opt/scrape/build/scrape");
        fprintf(stderr, "   case %zu: state %d: %s\n", c, h.state, h.detail);
        ASSERT_EQ(h.state, ocases[c].state);
        if (!strstr(h.detail, ocases[c].detail_has))
            ASSERT_STR_EQ(h.detail, ocases[c].detail_has);
        if (strstr(ocases[c].out, "@doctor uname "))
            ASSERT(h.seen_arch[0] != '\0');
        else
            ASSERT_STR_EQ(h.seen_arch, "");
        if (h.state == SCR_DOCTOR_OK)
            ASSERT_EQ(h.node.bits, 32);
        else
            ASSERT(h.node.build_id == NULL);
        scr_doctor_node_release(&h.node);
        scr_buf_release(&run.out);
        scr_buf_release(&run.err);
    }
}

/* --- the runner and the remote command, through /bin/sh here ------------------------------- */

TEST(run_all)
{
    char *a[] = {S("sh"), S("-c"), S("echo out; echo err >&2; exit 3"), NULL};
    char *b[] = {S("sh"), S("-c"), S("sleep 20"), NULL};
    char *c[] = {S("/nonexistent/ssh"), S("host"), S("x"), NULL};
    char *d[] = {S("sh"), S("-c"), S("head -c 200000 /dev/zero | tr '\\0' x"), NULL};
    char *e[] = {S("sh"), S("-c"), S("exec >&- 2>&-; sleep 20"), NULL};
    struct scr_doctor_run run[5];
    int64_t t0 = scr_now_ms();

    memset(run, 0, sizeof(run));
    run[0].argv = a;
    run[1].argv = b;
    run[2].argv = c;
    run[3].argv = d;
    run[4].argv = e;  /* closes its pipes, runs on: still bound by the deadline */
    scr_doctor_run_all(run, 5, 500, 2);
    ASSERT_LT(scr_now_ms() - t0, 5000);
    ASSERT_EQ(run[0].exit_code, 3);
    ASSERT_STR_EQ(run[0].out.data, "out\n");
    ASSERT_STR_EQ(run[0].err.data, "err\n");
    ASSERT_EQ(run[1].exit_code, -1);      /* killed at the deadline */
    ASSERT_EQ(run[2].exit_code, 127);
    ASSERT(strstr(run[2].err.data, "/nonexistent/ssh") != NULL);
    ASSERT_EQ(run[3].exit_code, 0);
    ASSERT_EQ(run[3].out.len, 64 * 1024); /* cut */
    ASSERT_EQ(run[4].exit_code, -1);
    for (int i = 0; i < 5; i++) {
        scr_buf_release(&run[i].out);
        scr_buf_release(&run[i].err);
    }
}

/* Runs the remote command for binary with sh (what ssh's remote login shell does). */
static void run_remote(const char *binary, struct scr_doctor_host *h)
{
    char *cmd = scr_doctor_remote_command(binary);
    char *argv[] = {S("sh"), S("-c"), cmd, NULL};
    struct scr_doctor_run run;

    memset(&run, 0, sizeof(run));
    run.argv = argv;
    scr_doctor_run_all(&run, 1, 10000, 1);
    memset(h, 0, sizeof(*h));
    h->name = (char *)"here";
    scr_doctor_read_outcome(h, &run, binary);
    fprintf(stderr, "   %s: state %d: %s\n", binary, h->state, h->detail);
    scr_buf_release(&run.out);
    scr_buf_release(&run.err);
    free(cmd);
}

TEST(remote_command_here)
{
    char dir[] = "/tmp/test_doctor_XXXXXX", path[256];
    struct scr_doctor_host h;
    FILE *f;

    ASSERT(mkdtemp(dir) != NULL);
    run_remote("/nonexistent/it's here/scrape", &h);
    ASSERT_EQ(h.state, SCR_DOCTOR_NO_BINARY);
    ASSERT(strstr(h.detail, "it's here") != NULL);

    /* a "binary" that answers like a probe: quoting of a path with a quote and a space */
    snprintf(path, sizeof(path), "%s/a 'b", dir);
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fprintf(f, "#!/bin/sh\n[ \"$1 $2\" = \"doctor --probe-self\" ] || exit 9\n"
               "echo '{\"scrape_doctor\":1,\"bits\":32,\"mpi\":\"x\"}'\n");
    fclose(f);
    ASSERT_EQ(chmod(path, 0644), 0);
    run_remote(path, &h);
    ASSERT_EQ(h.state, SCR_DOCTOR_CANNOT_RUN);
    ASSERT_EQ(chmod(path, 0755), 0);
    run_remote(path, &h);
    ASSERT_EQ(h.state, SCR_DOCTOR_OK);
    ASSERT_EQ(h.node.bits, 32);
    scr_doctor_node_release(&h.node);
    unlink(path);
    ASSERT_EQ(rmdir(dir), 0);
}

int main(void)
{
    RUN(verdict_cases);
    RUN(same_name);
    RUN(exit_codes);
    RUN(machinefile_cases);
    RUN(machinefile_nul_and_files);
    RUN(machinefile_examples);
    RUN(hosts_from_machinefile);
    RUN(mpi_id);
    RUN(probe_line_round_trip);
    RUN(outcome_cases);
    RUN(run_all);
    RUN(remote_command_here);
    fprintf(stderr, "ok\n");
    return 0;
}
