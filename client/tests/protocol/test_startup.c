/*
 * Startup against a scripted server on 127.0.0.1: the replies a real
 * PostgreSQL rarely sends (NegotiateProtocolVersion, unsupported methods,
 * malformed or oversized messages) must give clear errors, never a hang or
 * an allocation of what the server claims.  Needs no cluster.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fw_test.h"

typedef struct script {
    int lfd;
    int port;
    const uint8_t *reply;
    size_t reply_len;
    uint8_t startup[512];   /* what the client sent */
    size_t startup_len;
    int pid;                /* what the client made of the reply */
    char param_ab[16];
} script;

static size_t
read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = recv(fd, p + got, n - got, 0);

        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void *
serve(void *arg)
{
    script *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    uint8_t len4[4];
    uint32_t len;
    struct pollfd pfd;

    if (fd < 0)
        return NULL;
    if (read_full(fd, len4, 4) == 4) {
        len = (uint32_t)len4[0] << 24 | (uint32_t)len4[1] << 16 | (uint32_t)len4[2] << 8 | len4[3];
        if (len >= 4 && len - 4 <= sizeof s->startup)
            s->startup_len = read_full(fd, s->startup, len - 4);
    }
    (void)!send(fd, s->reply, s->reply_len, MSG_NOSIGNAL);
    /* Wait for the client to close (or give up after 5 s). */
    pfd.fd = fd;
    pfd.events = POLLIN;
    while (poll(&pfd, 1, 5000) > 0) {
        uint8_t sink[256];

        if (recv(fd, sink, sizeof sink, 0) <= 0)
            break;
    }
    close(fd);
    return NULL;
}

static fw_status
run(const uint8_t *reply, size_t reply_len, const char *extra, fw_conn **c, script *s)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    pthread_t th;
    char ci[512];
    fw_status st;

    memset(s, 0, sizeof *s);
    s->reply = reply;
    s->reply_len = reply_len;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s->lfd, 0);
    cr_assert_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s->lfd, 1), 0);
    cr_assert_eq(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&th, NULL, serve, s), 0);
    snprintf(ci, sizeof ci,
             "host=127.0.0.1 port=%d user=alice dbname=db sslmode=disable connect_timeout=10 %s",
             s->port, extra ? extra : "");
    *c = NULL;
    st = fw_connect(ci, c);
    if (*c && fw_conn_ok(*c)) {
        s->pid = fw_conn_backend_pid(*c);
        snprintf(s->param_ab, sizeof s->param_ab, "%s",
                 fw_conn_parameter(*c, "ab") ? fw_conn_parameter(*c, "ab") : "");
        fw_conn_free(*c);   /* Terminate, close: the server thread ends */
        *c = NULL;
    } else if (*c) {
        /* failed: the socket is already closed */
    }
    pthread_join(th, NULL);
    close(s->lfd);
    return st;
}

#define R_OK_MSG 'R', 0, 0, 0, 8, 0, 0, 0, 0
#define K_MSG 'K', 0, 0, 0, 12, 0, 0, 0x30, 0x39, 0, 0, 0, 7
#define Z_MSG 'Z', 0, 0, 0, 5, 'I'

/* The startup packet: protocol 3.0 and the session settings. */
static int
startup_has(const script *s, const char *name, const char *value)
{
    size_t i = 4;   /* after the protocol version */

    while (i < s->startup_len && s->startup[i]) {
        const char *n = (const char *)s->startup + i;
        const char *v = n + strlen(n) + 1;

        if (strcmp(n, name) == 0 && strcmp(v, value) == 0)
            return 1;
        i += strlen(n) + 1 + strlen(v) + 1;
    }
    return 0;
}

Test(fake_server, trust_with_negotiate_protocol_version)
{
    static const uint8_t reply[] = {
        'v', 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0,   /* minor 0, nothing refused */
        R_OK_MSG, 'S', 0, 0, 0, 10, 'a', 'b', 0, 'c', 'd', 0, K_MSG, Z_MSG};
    script s;
    fw_conn *c;
    fw_status st = run(reply, sizeof reply, NULL, &c, &s);

    cr_assert_eq(st, FW_OK, "%s", fw_strerror(st));
    cr_assert_eq(s.pid, 12345);
    cr_assert_str_eq(s.param_ab, "cd");
    cr_assert_eq(s.startup[0], 0);
    cr_assert_eq(s.startup[1], 3, "protocol 3.0");
    cr_assert_eq(s.startup[3], 0);
    cr_assert(startup_has(&s, "user", "alice"));
    cr_assert(startup_has(&s, "database", "db"));
    cr_assert(startup_has(&s, "client_encoding", "UTF8"));
    cr_assert(startup_has(&s, "DateStyle", "ISO"));
    cr_assert(startup_has(&s, "TimeZone", "UTC"));
    /* Only what a stock PgBouncer accepts (it refuses the login with 08P01
     * "unsupported startup parameter" for anything else, e.g.
     * extra_float_digits, which is set per stream instead). */
    {
        static const char *const accepted[] = {"user", "database", "application_name",
                                               "client_encoding", "DateStyle", "TimeZone",
                                               "standard_conforming_strings", NULL};
        size_t i = 4;
        int nnames = 0;

        while (i < s.startup_len && s.startup[i]) {
            const char *n = (const char *)s.startup + i;
            const char *v = n + strlen(n) + 1;
            int ok = 0;

            for (int k = 0; accepted[k]; k++)
                ok |= strcmp(accepted[k], n) == 0;
            cr_assert(ok, "startup parameter \"%s\" would be refused by PgBouncer", n);
            nnames++;
            i += strlen(n) + 1 + strlen(v) + 1;
        }
        cr_assert_geq(nnames, 5);
    }
}

Test(fake_server, negotiate_refusing_an_option_is_an_error)
{
    static const uint8_t reply[] = {'v', 0, 0, 0, 19, 0, 0, 0, 0, 0, 0, 0, 1,
                                    '_', 'p', 'q', '_', '.', 'x', 0};
    script s;
    fw_conn *c = NULL;
    fw_status st;

    st = run(reply, sizeof reply, NULL, &c, &s);
    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "protocol version") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
}

Test(fake_server, unsupported_auth_method)
{
    static const uint8_t reply[] = {'R', 0, 0, 0, 8, 0, 0, 0, 7};   /* GSS */
    script s;
    fw_conn *c = NULL;
    fw_status st = run(reply, sizeof reply, NULL, &c, &s);

    cr_assert_eq(st, FW_ERR_AUTH, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "authentication method 7 is not supported") != NULL,
              "%s", fw_conn_error_message(c));
    fw_conn_free(c);
}

Test(fake_server, cleartext_without_password)
{
    static const uint8_t reply[] = {'R', 0, 0, 0, 8, 0, 0, 0, 3};
    script s;
    fw_conn *c = NULL;
    fw_status st = run(reply, sizeof reply, "passfile=/nonexistent", &c, &s);

    cr_assert_eq(st, FW_ERR_AUTH, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "password is required") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
}

Test(fake_server, malformed_length)
{
    static const uint8_t reply[] = {'R', 0, 0, 0, 2, 0, 0, 0, 0};
    script s;
    fw_conn *c = NULL;
    fw_status st = run(reply, sizeof reply, NULL, &c, &s);

    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "invalid message length") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
}

Test(fake_server, huge_claimed_length_is_not_allocated)
{
    /* An ErrorResponse claiming 1 GiB: refused by its header alone. */
    static const uint8_t reply[] = {'E', 0x40, 0, 0, 0, 'S', 'F', 'A', 'T', 'A', 'L', 0};
    script s;
    fw_conn *c = NULL;
    fw_status st = run(reply, sizeof reply, NULL, &c, &s);

    cr_assert_eq(st, FW_ERR_MEMORY, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "exceeds the limit") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
}

Test(fake_server, unexpected_message_during_startup)
{
    static const uint8_t reply[] = {R_OK_MSG, 'D', 0, 0, 0, 6, 0, 0};
    script s;
    fw_conn *c = NULL;
    fw_status st = run(reply, sizeof reply, NULL, &c, &s);

    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s", fw_strerror(st));
    fw_conn_free(c);
}

Test(fake_server, server_closing_during_startup_is_io)
{
    static const uint8_t reply[] = {'R', 0, 0};   /* a partial message, then close */
    script s;
    fw_conn *c = NULL;
    fw_status st = run(reply, sizeof reply, NULL, &c, &s);

    cr_assert_eq(st, FW_ERR_IO, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "closed the connection") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
}

Test(fake_server, prefer_goes_on_without_tls_when_the_server_has_none)
{
    /* 'N' to the SSLRequest; the rest answers the startup that follows. */
    static const uint8_t reply[] = {'N', R_OK_MSG, K_MSG, Z_MSG};
    script s;
    fw_conn *c = NULL;
    fw_status st = run(reply, sizeof reply, "sslmode=prefer", &c, &s);

    cr_assert_eq(st, FW_OK, "%s", fw_strerror(st));
    cr_assert_eq(s.startup_len, 4, "the first message was the 8-byte SSLRequest");
    cr_assert_eq(s.startup[0], 0x04);
    cr_assert_eq(s.startup[1], 0xd2);
    cr_assert_eq(s.startup[2], 0x16);
    cr_assert_eq(s.startup[3], 0x2f);
    cr_assert_eq(s.pid, 12345);
}
