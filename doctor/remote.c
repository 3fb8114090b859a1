/* remote.c - reaching the hosts for `scrape doctor` (see doctor.h): the remote command, the
 * ssh processes run side by side under one deadline, and what their output means.
 *
 * The remote command is one string, as ssh sends it to the remote login shell:
 *     /bin/sh -c '<script>' scrape-doctor '<binary>'
 * The script prints lines starting with "@doctor " around the binary's own probe line, so the
 * outcome can be told apart even when the binary does not run: "@doctor missing",
 * "@doctor noexec", "@doctor rc N", and after a failure the binary's first 20 bytes
 * ("@doctor elf 7f 45 4c 46 ...", to name the architecture it was built for) and ldd's
 * "not found" lines.  Only POSIX sh, uname, od and ldd are needed on the host.
 *
 * Each ssh runs in its own process group with stdin from /dev/null; at the deadline the
 * whole group is killed, so a host that hangs (a frozen Pi, a stuck ssh) costs the timeout
 * and nothing more.  Hosts are probed in parallel.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "doctor/doctor.h"

#define OUT_CAP (64 * 1024)

/* No single quote may appear in it: it travels inside one. */
static const char REMOTE_SCRIPT[] =
    "b=\"$1\"; "
    "echo \"@doctor uname $(uname -m)\"; "
    "if [ ! -e \"$b\" ]; then echo \"@doctor missing\"; exit 0; fi; "
    "if [ ! -x \"$b\" ] || [ -d \"$b\" ]; then echo \"@doctor noexec\"; exit 0; fi; "
    "\"$b\" doctor --probe-self; rc=$?; "
    "echo \"@doctor rc $rc\"; "
    "if [ \"$rc\" -ne 0 ]; then "
    "echo \"@doctor elf $(od -An -tx1 -N20 \"$b\" 2>/dev/null | tr -s \" \\n\" \"  \")\"; "
    "ldd \"$b\" 2>&1 | grep \"not found\" | sed \"s/^[[:space:]]*/@doctor ldd /\"; "
    "fi; exit 0";

/* Appends s to b in single quotes, for a POSIX shell. */
static void shell_quote(struct scr_buf *b, const char *s)
{
    scr_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            scr_buf_puts(b, "'\\''");
        else
            scr_buf_putc(b, *s);
    }
    scr_buf_putc(b, '\'');
}

char *scr_doctor_remote_command(const char *binary)
{
    struct scr_buf b;

    scr_buf_init(&b);
    scr_buf_puts(&b, "/bin/sh -c ");
    shell_quote(&b, REMOTE_SCRIPT);
    scr_buf_puts(&b, " scrape-doctor ");
    shell_quote(&b, binary);
    return scr_buf_detach(&b, NULL);
}

/* --- running ------------------------------------------------------------------------------- */

struct child {
    pid_t pid;
    int fd[2];          /* stdout, stderr; -1 when closed */
    int64_t deadline;
    int timed_out;
    int done;
};

static void spawn(struct scr_doctor_run *r, struct child *c, int64_t timeout_ms)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1};

    c->fd[0] = c->fd[1] = -1;
    c->pid = -1;
    if (pipe(po) != 0 || pipe(pe) != 0)
        goto fail;
    c->pid = fork();
    if (c->pid < 0)
        goto fail;
    if (c->pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        setpgid(0, 0);
        if (null >= 0)
            dup2(null, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(pe[0]);
        close(po[1]);
        close(pe[1]);
        execvp(r->argv[0], r->argv);
        fprintf(stderr, "cannot run %s: %s\n", r->argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(c->pid, c->pid); /* also here: no race with the kill at the deadline */
    close(po[1]);
    close(pe[1]);
    c->fd[0] = po[0];
    c->fd[1] = pe[0];
    fcntl(po[0], F_SETFL, O_NONBLOCK);
    fcntl(pe[0], F_SETFL, O_NONBLOCK);
    c->deadline = scr_now_ms() + timeout_ms;
    return;
fail:
    scr_buf_printf(&r->err, "cannot start %s: %s\n", r->argv[0], strerror(errno));
    r->exit_code = 127;
    for (int i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
    }
    c->pid = -1;
    c->done = 1;
}

static void drain(struct scr_buf *b, int *fd)
{
    char chunk[4096];

    for (;;) {
        ssize_t got = read(*fd, chunk, sizeof(chunk));
        if (got > 0) {
            if (b->len < OUT_CAP)
                scr_buf_append(b, chunk, (size_t)got > OUT_CAP - b->len ? OUT_CAP - b->len
                                                                         : (size_t)got);
            continue;
        }
        if (got < 0 && (errno == EINTR))
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close(*fd); /* end of file, or an error: nothing more will come */
        *fd = -1;
        return;
    }
}

/* Collects c's exit status into r->exit_code, closing its pipes: waiting for it when block
 * (after the SIGKILL at the deadline), else only when it has already ended.  1 when reaped. */
static int reap(struct scr_doctor_run *r, struct child *c, int block)
{
    int status = 0;
    pid_t got;

    while ((got = waitpid(c->pid, &status, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
        ;
    if (got == 0)
        return 0; /* it closed its pipes but runs on: the deadline will come */
    for (int k = 0; k < 2; k++)
        if (c->fd[k] >= 0) {
            close(c->fd[k]);
            c->fd[k] = -1;
        }
    if (c->timed_out || got < 0)
        r->exit_code = -1;
    else if (WIFEXITED(status))
        r->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r->exit_code = 128 + WTERMSIG(status);
    c->done = 1;
    return 1;
}

/* One pass over the started children at time now: kills and reaps those past their
 * deadline, reaps those that ended, and lists the open pipes of the rest in pfd (owner[j] =
 * child * 2 + 0 for stdout, 1 for stderr).  Returns how many children ended; *np receives the
 * pipes listed and *wait_ms how long poll() may wait. */
static size_t sweep(struct scr_doctor_run *run, struct child *ch, size_t started, int64_t now,
                    struct pollfd *pfd, size_t *owner, size_t *np, int64_t *wait_ms)
{
    size_t ended = 0;

    *np = 0;
    *wait_ms = -1;
    for (size_t i = 0; i < started; i++) {
        int64_t left;
        if (ch[i].done)
            continue;
        if (now >= ch[i].deadline) {
            ch[i].timed_out = 1;
            kill(-ch[i].pid, SIGKILL); /* its process group: ssh and whatever it started */
            reap(&run[i], &ch[i], 1);
            ended++;
            continue;
        }
        left = ch[i].deadline - now;
        if (ch[i].fd[0] < 0 && ch[i].fd[1] < 0) {
            if (reap(&run[i], &ch[i], 0)) {
                ended++;
                continue;
            }
            left = left < 20 ? left : 20; /* look again soon */
        }
        for (int k = 0; k < 2; k++) {
            if (ch[i].fd[k] >= 0) {
                pfd[*np].fd = ch[i].fd[k];
                pfd[*np].events = POLLIN;
                pfd[*np].revents = 0;
                owner[(*np)++] = i * 2 + (size_t)k;
            }
        }
        if (*wait_ms < 0 || left < *wait_ms)
            *wait_ms = left;
    }
    return ended;
}

int scr_doctor_run_all(struct scr_doctor_run *run, size_t n, int64_t timeout_ms, int parallel)
{
    struct child *ch = scr_xcalloc(n ? n : 1, sizeof(*ch));
    struct pollfd *pfd = scr_xcalloc(2 * (n ? n : 1), sizeof(*pfd));
    size_t *owner = scr_xcalloc(2 * (n ? n : 1), sizeof(*owner));
    size_t next = 0, running = 0, finished = 0;
    int rc = SCR_OK;

    for (size_t i = 0; i < n; i++) {
        scr_buf_init(&run[i].out);
        scr_buf_init(&run[i].err);
        run[i].exit_code = -1;
        ch[i].fd[0] = ch[i].fd[1] = -1;
        ch[i].pid = -1;
    }
    if (parallel < 1)
        parallel = 1;
    while (finished < n) {
        int64_t wait_ms;
        size_t np, ended;

        while (next < n && running < (size_t)parallel) {
            spawn(&run[next], &ch[next], timeout_ms);
            if (ch[next].done) {
                rc = SCR_EIO;
                finished++;
            } else {
                running++;
            }
            next++;
        }
        ended = sweep(run, ch, next, scr_now_ms(), pfd, owner, &np, &wait_ms);
        running -= ended;
        finished += ended;
        if (running == 0)
            continue;
        /* poll() with no descriptors just sleeps: a child that closed its pipes */
        if (poll(pfd, (nfds_t)np, (int)(wait_ms < 0 ? 0 : wait_ms) + 1) > 0) {
            for (size_t j = 0; j < np; j++) {
                size_t i = owner[j] / 2;
                int k = (int)(owner[j] % 2);
                if (pfd[j].revents)
                    drain(k == 0 ? &run[i].out : &run[i].err, &ch[i].fd[k]);
            }
        }
    }
    free(owner);
    free(pfd);
    free(ch);
    return rc;
}

/* --- reading the outcome ------------------------------------------------------------------- */

/* The last non-empty line of s (at most len - 1 bytes of it) into out; "" when none. */
static void last_line(const char *s, char *out, size_t len)
{
    const char *end = s + strlen(s), *start;

    while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    start = end;
    while (start > s && start[-1] != '\n')
        start--;
    snprintf(out, len, "%.*s", (int)(end - start), start);
}

/* "ELF 32-bit ARM" from the "@doctor elf" line's bytes; "" when they are not an ELF header. */
static void elf_name(const char *hex, char *out, size_t len)
{
    unsigned int b[20];
    int n = 0;
    const char *mach;
    unsigned int m;

    out[0] = '\0';
    while (n < 20) {
        int used = 0;
        if (sscanf(hex, " %2x%n", &b[n], &used) != 1)
            break;
        hex += used;
        n++;
    }
    if (n < 20 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F') {
        if (n >= 2 && b[0] == '#' && b[1] == '!')
            snprintf(out, len, "a script");
        return;
    }
    m = b[5] == 2 ? (b[18] << 8 | b[19]) : (b[19] << 8 | b[18]);
    switch (m) {
    case 0x03: mach = "i386"; break;
    case 0x28: mach = "ARM"; break;
    case 0x3e: mach = "x86-64"; break;
    case 0xb7: mach = "aarch64"; break;
    case 0xf3: mach = "RISC-V"; break;
    default: mach = NULL; break;
    }
    if (mach)
        snprintf(out, len, "ELF %s-bit %s", b[4] == 1 ? "32" : "64", mach);
    else
        snprintf(out, len, "ELF %s-bit machine 0x%x", b[4] == 1 ? "32" : "64", m);
}

/* Sets h->detail (cut to its size: the reason is for humans). */
static void set_detail(struct scr_doctor_host *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_detail(struct scr_doctor_host *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(h->detail, sizeof(h->detail), fmt, ap);
    va_end(ap);
}

void scr_doctor_read_outcome(struct scr_doctor_host *h, const struct scr_doctor_run *run,
                             const char *binary)
{
    const char *out = run->out.data ? run->out.data : "";
    const char *err = run->err.data ? run->err.data : "";
    char uname_m[64] = "", elf[64] = "", errline[256], libs[256] = "";
    int rc = -2, missing = 0, noexec = 0, got_probe = 0;

    last_line(err, errline, sizeof(errline));
    for (const char *p = out; *p;) {
        size_t n = strcspn(p, "\n");
        char *line = scr_xstrndup(p, n); /* the probe line is a few KiB (MPI's string) */

        if (strncmp(line, "@doctor uname ", 14) == 0)
            snprintf(uname_m, sizeof(uname_m), "%.63s", line + 14);
        else if (strcmp(line, "@doctor missing") == 0)
            missing = 1;
        else if (strcmp(line, "@doctor noexec") == 0)
            noexec = 1;
        else if (strncmp(line, "@doctor rc ", 11) == 0)
            rc = atoi(line + 11);
        else if (strncmp(line, "@doctor elf ", 12) == 0)
            elf_name(line + 12, elf, sizeof(elf));
        else if (strncmp(line, "@doctor ldd ", 12) == 0) {
            size_t used = strlen(libs);
            snprintf(libs + used, sizeof(libs) - used, "%s%.*s", used ? ", " : "",
                     (int)strcspn(line + 12, " ="), line + 12);
        } else if (!got_probe && line[0] == '{' &&
                   scr_doctor_node_parse(&h->node, line) == SCR_OK) {
            got_probe = 1;
        }
        free(line);
        p += n;
        if (*p == '\n')
            p++;
    }
    h->detail[0] = '\0';
    snprintf(h->seen_arch, sizeof(h->seen_arch), "%s", uname_m);
    if (run->exit_code == -1) {
        h->state = SCR_DOCTOR_TIMEOUT;
        set_detail(h, "no end within the timeout%s%s%s%s", uname_m[0] ? " (the script ran "
                   "on " : "", uname_m, uname_m[0] ? ")" : "", errline[0] ? ": " : "");
        if (errline[0])
            snprintf(h->detail + strlen(h->detail), sizeof(h->detail) - strlen(h->detail),
                     "%s", errline);
    } else if (!uname_m[0]) {
        /* the script never ran: ssh (255) or the remote shell failed */
        h->state = SCR_DOCTOR_UNREACHABLE;
        set_detail(h, "exit %d%s%s", run->exit_code,
                 errline[0] ? ": " : "", errline);
    } else if (missing) {
        h->state = SCR_DOCTOR_NO_BINARY;
        set_detail(h, "%s: no such file on %s (%s)", binary, h->name,
                 uname_m);
    } else if (noexec) {
        h->state = SCR_DOCTOR_CANNOT_RUN;
        set_detail(h, "%s: not an executable file", binary);
    } else if (got_probe && rc == 0) {
        h->state = SCR_DOCTOR_OK;
    } else if (rc < 126 && !libs[0] && !strcasestr(errline, "exec format") &&
               !strstr(errline, "cannot execute") && !strstr(errline, "while loading")) {
        /* it ran, but has no `doctor --probe-self` or printed something else */
        h->state = SCR_DOCTOR_NO_ANSWER;
        set_detail(h, "exit %d without a probe answer (a build without "
                 "`scrape doctor`?)%s%s", rc, errline[0] ? ": " : "", errline);
    } else {
        h->state = SCR_DOCTOR_CANNOT_RUN;
        set_detail(h, "exit %d on %s%s%s%s%s%s%s", rc, uname_m,
                 elf[0] ? ", the binary is " : "", elf, libs[0] ? ", missing " : "", libs,
                 errline[0] ? ": " : "", errline);
    }
    if (h->state != SCR_DOCTOR_OK)
        scr_doctor_node_release(&h->node);
}

/* --- the host list ------------------------------------------------------------------------- */

struct scr_doctor_host *scr_doctor_hosts_from(const struct scr_machinefile *mf, size_t *n)
{
    struct scr_doctor_host *h = scr_xcalloc(mf->n ? mf->n : 1, sizeof(*h));
    size_t k = 0;

    for (size_t i = 0; i < mf->n; i++) {
        size_t j;
        for (j = 0; j < k; j++)
            if (strcmp(h[j].name, mf->v[i].host) == 0)
                break;
        if (j == k) {
            h[k].name = scr_xstrdup(mf->v[i].host);
            h[k].user = mf->v[i].user ? scr_xstrdup(mf->v[i].user) : NULL;
            k++;
        }
        h[j].slots += mf->v[i].slots;
    }
    *n = k;
    return h;
}

void scr_doctor_hosts_free(struct scr_doctor_host *h, size_t n)
{
    if (!h)
        return;
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].user);
        scr_doctor_node_release(&h[i].node);
    }
    free(h);
}
