/*
 * cancel.c — CancelRequest on a separate connection, and the cancel handle.
 *
 * As libpq: a plain (never TLS) connection to the address the session was
 * made on, the 16-byte request, then wait for the server to close the
 * socket, so that the postmaster has signalled the backend before we go on.
 * libpq 15's PQcancel does the same whatever sslmode says: the request
 * carries only the backend's pid and secret key, and the server answers it
 * before any SSL negotiation.
 *
 * request_core() is async-signal-safe: socket, fcntl-free non-blocking
 * connect, poll, send, recv, close and clock_gettime only; no malloc, no
 * stdio, no locks, errors written into a caller's buffer by hand.  The
 * fw_cancel handle (libpq's PGcancel) precomputes everything it needs, so
 * a signal handler can call fw_cancel_request and fw_cancel_abort.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct fw_cancel {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    uint8_t packet[16];   /* the CancelRequest: length, code, pid, key */
    int32_t pid;
    int fd;               /* the session's socket, for fw_cancel_abort */
};

/* --------------------------------------------- async-signal-safe helpers */

static int64_t
safe_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends s to buf (NUL-terminated, truncated). */
static void
safe_cat(char *buf, size_t cap, const char *s)
{
    size_t n;

    if (!buf || cap == 0)
        return;
    n = strlen(buf);
    while (*s && n + 1 < cap)
        buf[n++] = *s++;
    buf[n] = '\0';
}

static void
safe_cat_int(char *buf, size_t cap, int v)
{
    char digits[16];
    int i = (int)sizeof digits - 1;
    unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;

    digits[i] = '\0';
    do {
        digits[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u && i > 1);
    if (v < 0)
        digits[--i] = '-';
    safe_cat(buf, cap, digits + i);
}

/* "WHAT: errno N" (strerror is not async-signal-safe). */
static fw_status
safe_fail(char *buf, size_t cap, fw_status st, const char *what, int err)
{
    if (buf && cap) {
        buf[0] = '\0';
        safe_cat(buf, cap, what);
        if (err) {
            safe_cat(buf, cap, ": errno ");
            safe_cat_int(buf, cap, err);
        }
    }
    return st;
}

/* Waits for events on fd until deadline; 1 ready, 0 timeout, -1 error. */
static int
safe_wait(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = events, .revents = 0};
        int64_t left = deadline - safe_now_ms();
        int rc;

        if (left <= 0)
            return 0;
        rc = poll(&pfd, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

static fw_status
request_core(const struct sockaddr_storage *addr, socklen_t addrlen, const uint8_t packet[16],
             int timeout_ms, char *errbuf, size_t errlen)
{
    int saved_errno = errno;
    int64_t deadline = safe_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
    size_t sent = 0;
    fw_status st = FW_OK;
    int fd;

    if (errbuf && errlen)
        errbuf[0] = '\0';
    fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        st = safe_fail(errbuf, errlen, FW_ERR_IO, "could not create socket for cancel request",
                       errno);
        errno = saved_errno;
        return st;
    }
    if (connect(fd, (const struct sockaddr *)addr, addrlen) != 0) {
        int soerr = errno;
        socklen_t slen = sizeof soerr;
        int w;

        if (soerr != EINPROGRESS && soerr != EINTR && soerr != EAGAIN) {
            st = safe_fail(errbuf, errlen, FW_ERR_IO, "could not connect to send cancel request",
                           soerr);
            goto out;
        }
        w = safe_wait(fd, POLLOUT, deadline);
        if (w <= 0) {
            st = w == 0 ? safe_fail(errbuf, errlen, FW_ERR_TIMEOUT,
                                    "timeout expired connecting to send cancel request", 0)
                        : safe_fail(errbuf, errlen, FW_ERR_IO, "poll() failed", errno);
            goto out;
        }
        soerr = 0;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) != 0)
            soerr = errno;
        if (soerr != 0) {
            st = safe_fail(errbuf, errlen, FW_ERR_IO, "could not connect to send cancel request",
                           soerr);
            goto out;
        }
    }
    while (sent < 16) {
        ssize_t w = send(fd, packet + sent, 16 - sent, MSG_NOSIGNAL);

        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = safe_wait(fd, POLLOUT, deadline);

            if (r > 0)
                continue;
            st = r == 0 ? safe_fail(errbuf, errlen, FW_ERR_TIMEOUT,
                                    "timeout expired sending cancel request", 0)
                        : safe_fail(errbuf, errlen, FW_ERR_IO, "poll() failed", errno);
            goto out;
        }
        st = safe_fail(errbuf, errlen, FW_ERR_IO, "could not send cancel request", errno);
        goto out;
    }
    /* The server sends nothing and closes: EOF is the answer; unexpected
     * bytes or a reset would not undo a delivered request either.  Only a
     * timeout is reported. */
    for (;;) {
        uint8_t sink[64];
        ssize_t r = recv(fd, sink, sizeof sink, 0);
        int w;

        if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            break;
        if (r > 0 || errno == EINTR)
            continue;
        w = safe_wait(fd, POLLIN, deadline);
        if (w == 0) {
            st = safe_fail(errbuf, errlen, FW_ERR_TIMEOUT,
                           "timeout expired waiting for the server to take the cancel request", 0);
            break;
        }
        if (w < 0)
            break;
    }
out:
    close(fd);
    errno = saved_errno;
    return st;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The 16-byte CancelRequest (protocol code 1234.5678). */
static void
build_packet(uint8_t packet[16], int32_t pid, int32_t key)
{
    put_be32(packet, 16);
    put_be32(packet + 4, FW_CANCEL_REQUEST_CODE);
    put_be32(packet + 8, (uint32_t)pid);
    put_be32(packet + 12, (uint32_t)key);
}

/* ------------------------------------------------------------- internal */

fw_status
fw_cancel_send(const struct sockaddr_storage *addr, socklen_t addrlen, int32_t pid, int32_t key,
               int timeout_ms, fw_error *err)
{
    uint8_t packet[16];
    char ebuf[160];
    fw_status st;

    build_packet(packet, pid, key);
    st = request_core(addr, addrlen, packet, timeout_ms, ebuf, sizeof ebuf);
    if (st != FW_OK)
        fw_error_set(err, st, "%s", ebuf);
    return st;
}

/* --------------------------------------------------------------- public */

FW_API fw_cancel *
fw_conn_get_cancel(const fw_conn *conn)
{
    fw_cancel *k;

    if (!conn || conn->be_pid == 0 || conn->sock.fd < 0 || conn->sock.addrlen == 0 ||
        conn->sock.addrlen > sizeof k->addr)
        return NULL;
    k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    memcpy(&k->addr, &conn->sock.addr, conn->sock.addrlen);
    k->addrlen = conn->sock.addrlen;
    k->pid = conn->be_pid;
    k->fd = conn->sock.fd;
    build_packet(k->packet, conn->be_pid, conn->be_key);
    return k;
}

FW_API void
fw_cancel_free(fw_cancel *cancel)
{
    if (cancel) {
        memset(cancel->packet, 0, sizeof cancel->packet);   /* the secret key */
        free(cancel);
    }
}

FW_API fw_status
fw_cancel_request(const fw_cancel *cancel, int timeout_ms, char *errbuf, size_t errlen)
{
    if (!cancel)
        return safe_fail(errbuf, errlen, FW_ERR_USAGE, "no cancel handle", 0);
    return request_core(&cancel->addr, cancel->addrlen, cancel->packet, timeout_ms, errbuf, errlen);
}

FW_API fw_status
fw_cancel_abort(const fw_cancel *cancel)
{
    int saved_errno = errno;
    int rc;

    if (!cancel || cancel->fd < 0)
        return FW_ERR_USAGE;
    /* shutdown, not close: the descriptor stays the connection's (no
     * reuse by another open), and a poll or read blocked on it returns. */
    rc = shutdown(cancel->fd, SHUT_RDWR);
    errno = saved_errno;
    return rc == 0 ? FW_OK : FW_ERR_IO;
}
