/*
 * net.c — sockets: non-blocking connect with a deadline, keepalives, and
 * poll-based reads and writes (through tls.c when TLS is on).
 *
 * Every socket is non-blocking: an operation is tried first and poll()ed
 * only when it would block, which also covers bytes OpenSSL already holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int64_t
fw_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
fw_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

fw_status
fw_net_wait(int fd, short events, int64_t deadline, fw_error *err)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = events, .revents = 0};
        int timeout = -1;
        int rc;

        if (deadline >= 0) {
            int64_t left = deadline - fw_now_ms();

            if (left <= 0) {
                fw_error_set(err, FW_ERR_TIMEOUT, "timeout expired");
                return FW_ERR_TIMEOUT;
            }
            timeout = left > 0x7fffffff ? 0x7fffffff : (int)left;
        }
        rc = poll(&pfd, 1, timeout);
        if (rc > 0)
            return FW_OK;   /* readable, writable, or an error the next call reports */
        if (rc == 0)
            continue;       /* re-check the deadline */
        if (errno != EINTR) {
            fw_error_set(err, FW_ERR_IO, "poll() failed: %s", strerror(errno));
            return FW_ERR_IO;
        }
    }
}

static void
set_keepalives(int fd, const fw_conninfo *ci)
{
    int on = 1;

    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
#ifdef TCP_USER_TIMEOUT
    /* libpq sets it only with keepalives on; it bounds unacknowledged
     * writes whether or not keepalives probe an idle connection. */
    if (ci && ci->tcp_user_timeout > 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ci->tcp_user_timeout, sizeof(int));
#endif
    if (ci && !ci->keepalives)
        return;
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    if (!ci)
        return;
#ifdef TCP_KEEPIDLE
    if (ci->keepalives_idle > 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &ci->keepalives_idle, sizeof(int));
#endif
#ifdef TCP_KEEPINTVL
    if (ci->keepalives_interval > 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &ci->keepalives_interval, sizeof(int));
#endif
#ifdef TCP_KEEPCNT
    if (ci->keepalives_count > 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &ci->keepalives_count, sizeof(int));
#endif
}

fw_status
fw_net_wait_wants(int fd, unsigned wants, int64_t deadline, fw_error *err)
{
    short events = 0;

    if (wants & FW_WANT_READ)
        events |= POLLIN;
    if (wants & FW_WANT_WRITE)
        events |= POLLOUT;
    if (events == 0)
        events = POLLIN;
    return fw_net_wait(fd, events, deadline, err);
}

/* libpq's words after a failed connect(): where to look. */
static void
set_connect_hint(fw_error *err, int family)
{
    free(err->hint);
    err->hint = strdup(family == AF_UNIX
                           ? "Is the server running locally and accepting connections on that "
                             "socket?"
                           : "Is the server running on that host and accepting TCP/IP "
                             "connections?");
}

fw_status
fw_net_connect_start(fw_sock *s, const struct sockaddr *addr, socklen_t len,
                     const fw_conninfo *ci, fw_error *err)
{
    int fd;

    s->fd = -1;
    s->tls = NULL;
    s->tls_wlen = 0;
    if (len > sizeof s->addr) {
        fw_error_set(err, FW_ERR_CONFIG, "socket address too long");
        return FW_ERR_CONFIG;
    }
    fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fw_error_set(err, FW_ERR_IO, "could not create socket: %s", strerror(errno));
        return FW_ERR_IO;
    }
    if (addr->sa_family != AF_UNIX)
        set_keepalives(fd, ci);
    memcpy(&s->addr, addr, len);
    s->addrlen = len;
    if (connect(fd, addr, len) != 0) {
        if (errno != EINPROGRESS && errno != EINTR && errno != EAGAIN) {
            fw_error_set(err, FW_ERR_IO, "%s", strerror(errno));
            set_connect_hint(err, addr->sa_family);
            close(fd);
            return FW_ERR_IO;
        }
        s->fd = fd;
        return FW_AGAIN;
    }
    s->fd = fd;
    return FW_OK;
}

fw_status
fw_net_connect_check(fw_sock *s, fw_error *err)
{
    struct pollfd pfd = {.fd = s->fd, .events = POLLOUT, .revents = 0};
    int soerr = 0;
    socklen_t slen = sizeof soerr;
    int rc;

    do
        rc = poll(&pfd, 1, 0);
    while (rc < 0 && errno == EINTR);
    if (rc == 0)
        return FW_AGAIN;
    if (rc < 0) {
        fw_error_set(err, FW_ERR_IO, "poll() failed: %s", strerror(errno));
        return FW_ERR_IO;
    }
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) != 0)
        soerr = errno;
    if (soerr != 0) {
        fw_error_set(err, FW_ERR_IO, "%s", strerror(soerr));
        set_connect_hint(err, ((const struct sockaddr *)&s->addr)->sa_family);
        return FW_ERR_IO;
    }
    return FW_OK;
}

fw_status
fw_net_connect(fw_sock *s, const struct sockaddr *addr, socklen_t len, const fw_conninfo *ci,
               int64_t deadline, fw_error *err)
{
    fw_status st = fw_net_connect_start(s, addr, len, ci, err);

    while (st == FW_AGAIN) {
        st = fw_net_wait(s->fd, POLLOUT, deadline, err);
        if (st == FW_OK)
            st = fw_net_connect_check(s, err);
    }
    if (st != FW_OK && s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    return st;
}

fw_status
fw_net_write_nb(fw_sock *s, const uint8_t *p, size_t n, size_t *put, unsigned *wants,
                fw_error *err)
{
    *put = 0;
    *wants = 0;
    if (n == 0)
        return FW_OK;
    for (;;) {
        long w;

        if (s->tls) {
            /* OpenSSL wants a retried write with the same length. */
            if (s->tls_wlen > 0 && s->tls_wlen <= n)
                n = s->tls_wlen;
            w = fw_tls_write(s->tls, p, n, err);
            if (w == FW_TLS_WANT_READ || w == FW_TLS_WANT_WRITE) {
                s->tls_wlen = n;
                *wants = w == FW_TLS_WANT_READ ? FW_WANT_READ : FW_WANT_WRITE;
                return FW_AGAIN;
            }
            s->tls_wlen = 0;
            if (w < 0)
                return err->cls != FW_OK ? err->cls : FW_ERR_IO;
        } else {
            w = send(s->fd, p, n, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    *wants = FW_WANT_WRITE;
                    return FW_AGAIN;
                }
                fw_error_set(err, FW_ERR_IO, "could not send data to server: %s",
                             strerror(errno));
                return FW_ERR_IO;
            }
        }
        *put = (size_t)w;
        return FW_OK;
    }
}

fw_status
fw_net_read_nb(fw_sock *s, uint8_t *p, size_t n, size_t *got, unsigned *wants, fw_error *err)
{
    *got = 0;
    *wants = 0;
    for (;;) {
        long r;

        if (s->tls) {
            r = fw_tls_read(s->tls, p, n, err);
            if (r == FW_TLS_WANT_READ || r == FW_TLS_WANT_WRITE) {
                *wants = r == FW_TLS_WANT_READ ? FW_WANT_READ : FW_WANT_WRITE;
                return FW_AGAIN;
            }
            if (r < 0)
                return err->cls != FW_OK ? err->cls : FW_ERR_IO;
        } else {
            r = recv(s->fd, p, n, 0);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    *wants = FW_WANT_READ;
                    return FW_AGAIN;
                }
                fw_error_set(err, FW_ERR_IO, "could not receive data from server: %s",
                             strerror(errno));
                return FW_ERR_IO;
            }
        }
        if (r == 0) {
            fw_error_set(err, FW_ERR_IO, "server closed the connection unexpectedly");
            return FW_ERR_IO;
        }
        *got = (size_t)r;
        return FW_OK;
    }
}

fw_status
fw_net_write_all(fw_sock *s, const uint8_t *p, size_t n, int64_t deadline, fw_error *err)
{
    while (n > 0) {
        size_t put;
        unsigned wants;
        fw_status st = fw_net_write_nb(s, p, n, &put, &wants, err);

        if (st == FW_AGAIN) {
            if ((st = fw_net_wait_wants(s->fd, wants, deadline, err)) != FW_OK)
                return st;
            continue;
        }
        if (st != FW_OK)
            return st;
        p += put;
        n -= put;
    }
    return FW_OK;
}

fw_status
fw_net_read_some(fw_sock *s, uint8_t *p, size_t n, int64_t deadline, size_t *got,
                 fw_error *err)
{
    for (;;) {
        unsigned wants;
        fw_status st = fw_net_read_nb(s, p, n, got, &wants, err);

        if (st != FW_AGAIN)
            return st;
        if ((st = fw_net_wait_wants(s->fd, wants, deadline, err)) != FW_OK)
            return st;
    }
}

void
fw_net_close(fw_sock *s)
{
    s->tls_wlen = 0;
    if (s->tls) {
        fw_tls_free(s->tls);
        s->tls = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}
