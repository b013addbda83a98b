/*
 * Connection start-up without a cluster.  Against a scripted server on
 * 127.0.0.1, the replies a real PostgreSQL rarely sends
 * (NegotiateProtocolVersion, a message that has no place in start-up, a
 * partial message and a close, ParameterStatus without end, silence) give
 * clear errors, never a hang, with the blocking and the non-blocking API;
 * the startup packet carries only what PgBouncer accepts.  And a host name
 * that does not resolve.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_fake_server.h"
#include "fw_test.h"

/* A server playing `steps`, a client connecting with "sslmode=disable
 * <extra>"; on success the backend pid and the parameter "ab" are kept and
 * the connection is closed (*c NULL), else *c carries the error. */
typedef struct startup_run {
    fwt_fake server;   /* what the client sent */
    int pid;
    char param_ab[16];
} startup_run;

static fw_status
run(const fwt_fake_step *steps, const char *extra, fw_conn **c, startup_run *r)
{
    char opts[256];
    fw_status st;

    memset(r, 0, sizeof *r);
    snprintf(opts, sizeof opts, "sslmode=disable %s", extra ? extra : "");
    fwt_fake_start(&r->server, steps, 0);
    *c = NULL;
    st = fw_connect(fwt_fake_conninfo(&r->server, opts), c);
    if (*c && fw_conn_ok(*c)) {
        r->pid = fw_conn_backend_pid(*c);
        snprintf(r->param_ab, sizeof r->param_ab, "%s",
                 fw_conn_parameter(*c, "ab") ? fw_conn_parameter(*c, "ab") : "");
        fw_conn_free(*c);   /* Terminate, close: the server thread ends */
        *c = NULL;
    }
    fwt_fake_stop(&r->server);
    return st;
}

Test(startup, trust_with_negotiate_protocol_version, .timeout = 30)
{
    static const uint8_t reply[] = {
        'v', 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0,   /* minor 0, nothing refused */
        FWT_MSG_AUTH_OK, 'S', 0, 0, 0, 10, 'a', 'b', 0, 'c', 'd', 0, FWT_MSG_BACKEND_KEY,
        FWT_MSG_READY};
    const fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(reply), FWT_END};
    startup_run r;
    fw_conn *c;
    fw_status st = run(steps, NULL, &c, &r);
    const uint8_t *p = r.server.startup;

    cr_assert_eq(st, FW_OK, "%s", fw_strerror(st));
    cr_assert_eq(r.pid, FWT_BACKEND_PID);
    cr_assert_str_eq(r.param_ab, "cd");
    cr_assert_eq(p[0], 0);
    cr_assert_eq(p[1], 3, "protocol 3.0");
    cr_assert_eq(p[3], 0);
    cr_assert(fwt_fake_startup_has(&r.server, "user", "alice"));
    cr_assert(fwt_fake_startup_has(&r.server, "database", "db"));
    cr_assert(fwt_fake_startup_has(&r.server, "client_encoding", "UTF8"));
    cr_assert(fwt_fake_startup_has(&r.server, "DateStyle", "ISO"));
    cr_assert(fwt_fake_startup_has(&r.server, "TimeZone", "UTC"));
    /* Only what a stock PgBouncer accepts (it refuses the login with 08P01
     * "unsupported startup parameter" for anything else, e.g.
     * extra_float_digits, which is set per stream instead). */
    {
        static const char *const accepted[] = {"user", "database", "application_name",
                                               "client_encoding", "DateStyle", "TimeZone",
                                               "standard_conforming_strings", NULL};
        size_t i = 4;
        int nnames = 0;

        while (i < r.server.startup_len && p[i]) {
            const char *n = (const char *)p + i;
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

Test(startup, negotiate_refusing_an_option_is_an_error, .timeout = 30)
{
    static const uint8_t reply[] = {'v', 0, 0, 0, 19, 0, 0, 0, 0, 0, 0, 0, 1,
                                    '_', 'p', 'q', '_', '.', 'x', 0};
    const fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(reply), FWT_END};
    startup_run r;
    fw_conn *c = NULL;
    fw_status st = run(steps, NULL, &c, &r);

    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "protocol version") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
}

Test(startup, unexpected_message_during_startup, .timeout = 30)
{
    static const uint8_t reply[] = {FWT_MSG_AUTH_OK, 'D', 0, 0, 0, 6, 0, 0};
    const fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(reply), FWT_END};
    startup_run r;
    fw_conn *c = NULL;
    fw_status st = run(steps, NULL, &c, &r);

    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s", fw_strerror(st));
    fw_conn_free(c);
}

Test(startup, server_closing_during_startup_is_io, .timeout = 30)
{
    static const uint8_t partial[] = {'R', 0, 0};   /* a partial message, then close */
    const fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(partial), FWT_DROP, FWT_END};
    startup_run r;
    fw_conn *c = NULL;
    fw_status st = run(steps, NULL, &c, &r);

    cr_assert_eq(st, FW_ERR_IO, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "closed the connection") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
}

/*
 * connect_timeout covers the whole start-up, also against a server that
 * never stops talking (ParameterStatus after ParameterStatus, so a read
 * never has to wait and poll's deadline is never consulted).
 */
Test(startup, connect_timeout_bounds_a_server_that_keeps_talking, .timeout = 40)
{
    static const uint8_t ok[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY};
    /* ParameterStatus "pNNNNN" = "v", all names distinct: the client
     * compares each with the (at most 256) names it keeps, so it reads
     * slower than the server writes and a read never has to wait. */
    static uint8_t params[8192 * 14];
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(ok), FWT_FLOOD(params), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;
    int64_t t0, took;

    for (int i = 0; i < 8192; i++) {
        uint8_t *p = params + i * 14;

        memcpy(p, "S\0\0\0\x0d", 5);
        p[5] = 'p';
        for (int k = 0, v = i; k < 5; k++, v /= 10)
            p[10 - k] = (uint8_t)('0' + v % 10);
        p[11] = 0;
        memcpy(p + 12, "v", 2);
    }
    fwt_fake_start(&f, steps, 0);
    t0 = fwt_now_ms();
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable connect_timeout=2"), &c);
    took = fwt_now_ms() - t0;
    cr_assert_eq(st, FW_ERR_TIMEOUT, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "timeout expired") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert_lt(took, 4000, "connect took %lld ms with connect_timeout=2", (long long)took);
    cr_assert_geq(took, 1900);
    fw_conn_free(c);
    fwt_fake_stop(&f);
}


/* The same through fw_connect_poll: a server that reads the startup packet
 * and never answers; the timeout hint says when to poll again. */
Test(startup, connect_timeout_is_enforced_by_poll, .timeout = 60)
{
    const fwt_fake_step steps[] = {FWT_STARTUP, FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;
    int t, polls = 0;

    fwt_fake_start(&f, steps, 0);
    cr_assert_eq(fw_connect_start(fwt_fake_conninfo(&f, "sslmode=disable connect_timeout=2"), &c),
                 FW_OK);
    st = fw_connect_poll(c);
    cr_assert_eq(st, FW_AGAIN);
    t = fw_conn_timeout_ms(c);
    cr_assert(t > 0 && t <= 2000, "timeout hint %d", t);
    while ((st = fw_connect_poll(c)) == FW_AGAIN) {
        unsigned w = fw_conn_wants(c);
        struct pollfd pfd = {.fd = fw_conn_socket(c)};

        cr_assert_neq(w, 0u, "FW_AGAIN with fw_conn_wants() == 0");
        cr_assert_eq(w & ~(FW_WANT_READ | FW_WANT_WRITE), 0u, "unknown wants bits %#x", w);
        cr_assert_geq(pfd.fd, 0, "FW_AGAIN without a socket");
        pfd.events = (short)(((w & FW_WANT_READ) ? POLLIN : 0) |
                             ((w & FW_WANT_WRITE) ? POLLOUT : 0));
        t = fw_conn_timeout_ms(c);
        cr_assert_geq(poll(&pfd, 1, t < 0 || t > 20000 ? 20000 : t), 0, "poll failed");
        polls++;
    }
    cr_assert_eq(st, FW_ERR_TIMEOUT, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "timeout expired") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert_gt(polls, 0);
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the client sent no startup packet");
}

Test(startup, unresolvable_host_name, .timeout = 60)
{
    fw_conn *c = NULL;
    fw_status st;

    st = fw_connect("host=no-such-host.invalid port=5432 user=u dbname=d connect_timeout=5", &c);
    cr_assert_eq(st, FW_ERR_IO, "%s", fw_strerror(st));
    cr_assert_not_null(c);
    cr_assert(strstr(fw_conn_error_message(c),
                     "could not translate host name \"no-such-host.invalid\" to address") != NULL,
              "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_conn_error_retriable(c), 1);
    fw_conn_free(c);
    /* a hostaddr that is not an address is a configuration error */
    c = NULL;
    st = fw_connect("hostaddr=not-an-ip port=5432 user=u dbname=d", &c);
    cr_assert_eq(st, FW_ERR_CONFIG, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_free(c);
}
