/* linkdelay.c - a user-space "netem" for kernels without sch_netem: adds a fixed one-way
 * delay (and optionally a rate limit) to one simulated host's link in the namespace cluster.
 *
 * tests/cluster/netns.py (Cluster.shape_link) compiles this file with cc into the cluster's
 * temporary folder and runs it in the switch namespace.  It splices one Ethernet port (IFACE:
 * the switch-side end p-h3 of host h3's veth, taken off the bridge) to a TAP device (TAP,
 * attached to the bridge in its place) and forwards frames both ways, each held for the delay
 * behind a FIFO rate limiter (tail drop):
 *
 *     h3:eth0 ==veth== p-h3 <-[AF_PACKET]-> linkdelay <-[TAP fd]-> d-h3 ~~ br0 ~~ other hosts
 *
 * Frames travel with a virtio_net_hdr (PACKET_VNET_HDR / IFF_VNET_HDR), so GSO super-packets
 * and partial checksums from the veth pass through intact; no ethtool needed.
 *
 *   linkdelay -i IFACE -t TAP [-d MS] [-r MBIT] [-q KBYTES] [-e] [-T SECONDS]
 *     -d MS      one-way delay added in each direction (default 0)
 *     -r MBIT    rate limit in each direction, Mbit/s (default: none; netns.py uses tbf)
 *     -q KBYTES  queue limit for the rate limiter before tail drop (default 256)
 *     -e         shape only IFACE->TAP (frames the host sends, like netem on its eth0)
 *     -T SECONDS exit after this long (default 1800); SIGTERM/SIGINT/SIGHUP exit at once
 * Prints counters on exit.  Invariant: frames leave each direction in arrival order.
 * Adapted from the netns-kit reference (measurements in docs/cluster.md).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define BUFSZ (256 * 1024)

typedef struct pkt {
    struct pkt *next;
    double due;
    size_t len;
    unsigned char data[];
} pkt_t;

typedef struct {
    const char *name;
    pkt_t *head, *tail;
    double last_dep, delay, rate_Bps, qlimit;
    long n, bytes, drops, queued;
} dir_t;

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void) s; stop = 1; }

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void enqueue(dir_t *d, const unsigned char *buf, size_t len, double now)
{
    size_t wire = len > sizeof(struct virtio_net_hdr) ? len - sizeof(struct virtio_net_hdr) : 0;
    double start = d->last_dep > now ? d->last_dep : now, dep = start;
    pkt_t *p;
    if (d->rate_Bps > 0) {
        if ((start - now) * d->rate_Bps > d->qlimit) {
            d->drops++;
            return;
        }
        dep = start + wire / d->rate_Bps;
    }
    d->last_dep = dep;
    p = malloc(sizeof(pkt_t) + len);
    if (!p) {
        d->drops++;
        return;
    }
    p->next = NULL;
    p->due = dep + d->delay;
    p->len = len;
    memcpy(p->data, buf, len);
    if (d->tail)
        d->tail->next = p;
    else
        d->head = p;
    d->tail = p;
    d->queued++;
}

static void release(dir_t *d, int outfd, double now)
{
    while (d->head && d->head->due <= now) {
        pkt_t *p = d->head;
        ssize_t w = write(outfd, p->data, p->len);
        if (w < 0 && (errno == EAGAIN || errno == ENOBUFS))
            return;             /* try again on the next round */
        if (w < 0)
            d->drops++;
        else {
            d->n++;
            d->bytes += p->len - sizeof(struct virtio_net_hdr);
        }
        d->head = p->next;
        if (!d->head)
            d->tail = NULL;
        d->queued--;
        free(p);
    }
}

int main(int argc, char **argv)
{
    const char *ifname = NULL, *tapname = NULL;
    double delay_ms = 0, rate_mbit = 0, qlimit_kb = 256, tmax = 1800;
    int egress_only = 0, opt, one = 1, pfd, tfd, ifindex;
    struct sockaddr_ll sll;
    struct ifreq ifr;
    unsigned char *buf = malloc(BUFSZ);
    dir_t up = {.name = "host->switch"}, down = {.name = "switch->host"};
    double t_end;

    while ((opt = getopt(argc, argv, "i:t:d:r:q:eT:")) != -1) {
        switch (opt) {
        case 'i': ifname = optarg; break;
        case 't': tapname = optarg; break;
        case 'd': delay_ms = atof(optarg); break;
        case 'r': rate_mbit = atof(optarg); break;
        case 'q': qlimit_kb = atof(optarg); break;
        case 'e': egress_only = 1; break;
        case 'T': tmax = atof(optarg); break;
        default:
            fprintf(stderr, "usage: %s -i IFACE -t TAP [-d ms] [-r mbit] [-q kbytes] [-e] "
                    "[-T seconds]\n", argv[0]);
            return 2;
        }
    }
    if (!ifname || !tapname || !buf) {
        fprintf(stderr, "linkdelay: -i and -t are required\n");
        return 2;
    }
    up.delay = delay_ms / 1000.0;
    up.rate_Bps = rate_mbit * 1e6 / 8;
    up.qlimit = qlimit_kb * 1024;
    if (!egress_only) {
        down.delay = up.delay;
        down.rate_Bps = up.rate_Bps;
        down.qlimit = up.qlimit;
    }

    /* the port: raw packet socket with virtio-net headers, ignoring our own transmissions */
    ifindex = if_nametoindex(ifname);
    if (!ifindex) {
        perror(ifname);
        return 1;
    }
    pfd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
    if (pfd < 0 || setsockopt(pfd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0) {
        perror("AF_PACKET");
        return 1;
    }
    if (setsockopt(pfd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
        perror("PACKET_IGNORE_OUTGOING");
        return 1;
    }
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    if (bind(pfd, (struct sockaddr *) &sll, sizeof(sll)) < 0) {
        perror("bind");
        return 1;
    }
    {   /* promiscuous: we must see frames for every MAC behind the bridge */
        struct packet_mreq mr = { .mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC };
        setsockopt(pfd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
    }

    /* the TAP (created here if it does not exist yet) */
    tfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    if (tfd < 0) {
        perror("/dev/net/tun");
        return 1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    strncpy(ifr.ifr_name, tapname, IFNAMSIZ - 1);
    if (ioctl(tfd, TUNSETIFF, &ifr) < 0) {
        perror("TUNSETIFF");
        return 1;
    }
    {
        int hl = sizeof(struct virtio_net_hdr);
        ioctl(tfd, TUNSETVNETHDRSZ, &hl);
    }

    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    signal(SIGHUP, on_sig);
    t_end = mono() + tmax;
    fprintf(stderr, "linkdelay: %s <-> %s delay %.1f ms rate %s%.1f Mbit/s qlimit %.0f KB%s, "
            "max %.0f s\n", ifname, tapname, delay_ms, rate_mbit > 0 ? "" : "(none) ",
            rate_mbit, qlimit_kb, egress_only ? ", host->switch only" : "", tmax);

    while (!stop) {
        struct pollfd fds[2] = { { pfd, POLLIN, 0 }, { tfd, POLLIN, 0 } };
        double now = mono(), next = now + 0.2;
        struct timespec ts;
        int i;
        if (now >= t_end)
            break;
        if (up.head && up.head->due < next)
            next = up.head->due;
        if (down.head && down.head->due < next)
            next = down.head->due;
        if (next < now)
            next = now;
        ts.tv_sec = (time_t) (next - now);
        ts.tv_nsec = (long) (((next - now) - ts.tv_sec) * 1e9);
        if (ppoll(fds, 2, &ts, NULL) < 0 && errno != EINTR)
            break;
        now = mono();
        for (i = 0; i < 512 && (fds[0].revents & POLLIN); i++) {   /* host -> switch */
            ssize_t r = recv(pfd, buf, BUFSZ, MSG_DONTWAIT);
            if (r <= 0)
                break;
            enqueue(&up, buf, r, now);
        }
        for (i = 0; i < 512 && (fds[1].revents & POLLIN); i++) {   /* switch -> host */
            ssize_t r = read(tfd, buf, BUFSZ);
            if (r <= 0)
                break;
            enqueue(&down, buf, r, now);
        }
        now = mono();
        release(&up, tfd, now);
        release(&down, pfd, now);
    }
    fprintf(stderr, "linkdelay: %s: %ld frames %ld bytes, %ld dropped; %s: %ld frames %ld "
            "bytes, %ld dropped\n", up.name, up.n, up.bytes, up.drops, down.name, down.n,
            down.bytes, down.drops);
    return 0;
}
