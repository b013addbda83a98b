/*
 * fw_proxy.c — the one-byte TCP proxy of the integration tests (fw_proxy.h).
 */
#include "fw_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FWT_PROXY_MAX_PAIRS 16
#define FWT_PROXY_BURST 8

typedef struct pair {
    int client, server;   /* -1 when free */
} pair;

struct fwt_proxy {
    int listen_fd;
    int port;
    int wake[2];          /* a pipe: stop or cut */
    int delay_us;
    struct addrinfo *upstream;
    pthread_t thread;
    atomic_int stop, cut;
    atomic_long down, up;
    atomic_int accepted;
    pair pairs[FWT_PROXY_MAX_PAIRS];
};

/* The pause after a byte: a sleep, or (0) a yield to the other threads
 * (the client's), which costs far less on a loaded machine. */
static void
pause_us(int us)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000};

    if (us > 0)
        nanosleep(&ts, NULL);
    else
        sched_yield();
}

static void
close_pair(pair *pp)
{
    if (pp->client >= 0)
        close(pp->client);
    if (pp->server >= 0)
        close(pp->server);
    pp->client = pp->server = -1;
}

static int
connect_upstream(fwt_proxy *p)
{
    int one = 1;
    int fd = socket(p->upstream->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (connect(fd, p->upstream->ai_addr, p->upstream->ai_addrlen) != 0) {
        close(fd);
        return -1;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Moves one byte from `from` to `to`: 0, 1 when nothing is there (with
 * dontwait), or -1 when either side ended. */
static int
forward_byte(int from, int to, atomic_long *counter, int dontwait)
{
    unsigned char b;
    ssize_t n;

    do
        n = recv(from, &b, 1, dontwait ? MSG_DONTWAIT : 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && dontwait && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 1;
    if (n <= 0)
        return -1;
    do
        n = send(to, &b, 1, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        return -1;
    atomic_fetch_add(counter, 1);
    return 0;
}

static void *
proxy_main(void *arg)
{
    fwt_proxy *p = arg;

    while (!atomic_load(&p->stop)) {
        struct pollfd pfd[2 + 2 * FWT_PROXY_MAX_PAIRS];
        int who[2 + 2 * FWT_PROXY_MAX_PAIRS];
        int n = 0;

        if (atomic_exchange(&p->cut, 0))
            for (int i = 0; i < FWT_PROXY_MAX_PAIRS; i++)
                close_pair(&p->pairs[i]);
        pfd[n] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
        who[n++] = -1;
        pfd[n] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN};
        who[n++] = -2;
        for (int i = 0; i < FWT_PROXY_MAX_PAIRS; i++) {
            if (p->pairs[i].client < 0)
                continue;
            pfd[n] = (struct pollfd){.fd = p->pairs[i].client, .events = POLLIN};
            who[n++] = 2 * i;
            pfd[n] = (struct pollfd){.fd = p->pairs[i].server, .events = POLLIN};
            who[n++] = 2 * i + 1;
        }
        if (poll(pfd, (nfds_t)n, 1000) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            if (!pfd[k].revents)
                continue;
            if (who[k] == -1) {
                char sink[16];

                (void)read(p->wake[0], sink, sizeof sink);
            } else if (who[k] == -2) {
                int c = accept(p->listen_fd, NULL, NULL);
                int one = 1;
                int slot = -1;

                if (c < 0)
                    continue;
                atomic_fetch_add(&p->accepted, 1);
                for (int i = 0; i < FWT_PROXY_MAX_PAIRS && slot < 0; i++)
                    if (p->pairs[i].client < 0)
                        slot = i;
                (void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                if (slot < 0) {
                    close(c);
                    continue;
                }
                p->pairs[slot].server = connect_upstream(p);
                if (p->pairs[slot].server < 0) {
                    close(c);
                    continue;
                }
                p->pairs[slot].client = c;
            } else {
                pair *pp = &p->pairs[who[k] / 2];
                int up = who[k] % 2 == 0;
                int rc = 0;

                if (pp->client < 0)
                    continue;   /* closed earlier in this round */
                /* A few bytes per wake-up (fewer polls on a busy machine),
                 * still one per read and per write, each followed by the
                 * pause. */
                for (int burst = 0; burst < FWT_PROXY_BURST; burst++) {
                    rc = up ? forward_byte(pp->client, pp->server, &p->up, burst > 0)
                            : forward_byte(pp->server, pp->client, &p->down, burst > 0);
                    if (rc < 0) {
                        close_pair(pp);
                        break;
                    }
                    if (rc > 0)
                        break;
                    pause_us(p->delay_us);
                }
            }
        }
    }
    return NULL;
}

fwt_proxy *
fwt_proxy_start(const char *host, const char *port, int delay_us)
{
    fwt_proxy *p = calloc(1, sizeof *p);
    struct addrinfo hints;
    struct sockaddr_in sin;
    socklen_t slen = sizeof sin;
    int small = 4096, one = 1;

    if (!p)
        return NULL;
    p->listen_fd = -1;
    p->wake[0] = p->wake[1] = -1;
    p->delay_us = delay_us;
    for (int i = 0; i < FWT_PROXY_MAX_PAIRS; i++)
        p->pairs[i].client = p->pairs[i].server = -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &p->upstream) != 0) {
        free(p);
        return NULL;
    }
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (p->listen_fd < 0 ||
        setsockopt(p->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(p->listen_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) != 0 ||
        bind(p->listen_fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        listen(p->listen_fd, 16) != 0 ||
        getsockname(p->listen_fd, (struct sockaddr *)&sin, &slen) != 0 || pipe(p->wake) != 0)
        goto fail;
    p->port = ntohs(sin.sin_port);
    atomic_init(&p->stop, 0);
    atomic_init(&p->cut, 0);
    atomic_init(&p->down, 0);
    atomic_init(&p->accepted, 0);
    atomic_init(&p->up, 0);
    if (pthread_create(&p->thread, NULL, proxy_main, p) != 0)
        goto fail;
    return p;
fail:
    if (p->listen_fd >= 0)
        close(p->listen_fd);
    if (p->wake[0] >= 0) {
        close(p->wake[0]);
        close(p->wake[1]);
    }
    freeaddrinfo(p->upstream);
    free(p);
    return NULL;
}

int
fwt_proxy_port(const fwt_proxy *p)
{
    return p ? p->port : -1;
}

static void
wake(fwt_proxy *p)
{
    ssize_t n = write(p->wake[1], "x", 1);

    (void)n;
}

void
fwt_proxy_cut(fwt_proxy *p)
{
    atomic_store(&p->cut, 1);
    wake(p);
    /* Wait until the thread has done it. */
    while (atomic_load(&p->cut))
        pause_us(1000);
}

long
fwt_proxy_bytes_down(fwt_proxy *p)
{
    return atomic_load(&p->down);
}

long
fwt_proxy_bytes_up(fwt_proxy *p)
{
    return atomic_load(&p->up);
}

int
fwt_proxy_connections(fwt_proxy *p)
{
    return atomic_load(&p->accepted);
}

void
fwt_proxy_stop(fwt_proxy *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    wake(p);
    pthread_join(p->thread, NULL);
    for (int i = 0; i < FWT_PROXY_MAX_PAIRS; i++)
        close_pair(&p->pairs[i]);
    close(p->listen_fd);
    close(p->wake[0]);
    close(p->wake[1]);
    freeaddrinfo(p->upstream);
    free(p);
}
