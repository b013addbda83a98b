/*
 * Host lists as libpq has them: connect_timeout applies to each host (a
 * silent first host does not eat the whole budget), failover past a host
 * that refuses or stays silent under target_session_attrs, and the
 * messages for a name that does not resolve.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fw_test.h"

/* A listener that never accepts: the kernel completes the TCP handshake,
 * nobody ever answers the startup packet. */
static int
silent_listener(int *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    cr_assert_geq(fd, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fd, 8), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
connect_past_silent_host(const char *attrs, double min_s, double max_s)
{
    int port;
    int lfd = silent_listener(&port);
    char ci[512];
    fw_conn *c = NULL;
    fw_status st;
    double t0, dt;

    snprintf(ci, sizeof ci,
             "host=127.0.0.1,%s port=%d,%s user=fw_trust dbname=postgres sslmode=disable "
             "connect_timeout=2 %s",
             fwt_tcp_host(), port, fwt_port(), attrs);
    t0 = now_s();
    st = fw_conn_connect(ci, &c);
    dt = now_s() - t0;
    cr_assert_eq(st, FW_OK, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_geq(dt, min_s, "took %.1f s", dt);
    cr_assert_lt(dt, max_s, "took %.1f s: connect_timeout is per host", dt);
    cr_assert_eq(fw_conn_ok(c), 1);
    fw_conn_free(c);
    close(lfd);
}

Test(review_conn, connect_timeout_applies_to_each_host, .timeout = 60)
{
    FWT_REQUIRE_SERVER();
    connect_past_silent_host("", 1.9, 5.0);
}

Test(review_conn, failover_with_target_session_attrs, .timeout = 60)
{
    char ci[512];
    fw_conn *c = NULL;
    fw_status st;

    FWT_REQUIRE_SERVER();
    /* read-write: a refused first host, then the primary */
    snprintf(ci, sizeof ci,
             "host=127.0.0.1,%s port=1,%s user=fw_trust dbname=postgres sslmode=disable "
             "target_session_attrs=read-write",
             fwt_tcp_host(), fwt_port());
    st = fw_conn_connect(ci, &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    fw_conn_free(c);
    /* read-only: the only server is a primary; the message says why, the
     * class is retriable-looking IO as libpq's "session is not read-only" */
    c = NULL;
    snprintf(ci, sizeof ci,
             "host=127.0.0.1,%s port=1,%s user=fw_trust dbname=postgres sslmode=disable "
             "target_session_attrs=read-only",
             fwt_tcp_host(), fwt_port());
    st = fw_conn_connect(ci, &c);
    cr_assert_neq(st, FW_OK);
    cr_assert(strstr(fw_conn_error_message(c), "not read-only") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 0);
    fw_conn_free(c);
    /* prefer-standby: a silent host and a primary; two passes, each with
     * its own timeout on the silent host, then the primary is taken */
    connect_past_silent_host("target_session_attrs=prefer-standby", 3.9, 9.0);
}

Test(review_conn, unresolvable_host_name, .timeout = 60)
{
    fw_conn *c = NULL;
    fw_status st;

    st = fw_conn_connect("host=no-such-host.invalid port=5432 user=u dbname=d connect_timeout=5", &c);
    cr_assert_eq(st, FW_ERR_IO, "%s", fw_status_name(st));
    cr_assert_not_null(c);
    cr_assert(strstr(fw_conn_error_message(c),
                     "could not translate host name \"no-such-host.invalid\" to address") != NULL,
              "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_conn_error_retriable(c), 1);
    fw_conn_free(c);
    /* a hostaddr that is not an address is a configuration error */
    c = NULL;
    st = fw_conn_connect("hostaddr=not-an-ip port=5432 user=u dbname=d", &c);
    cr_assert_eq(st, FW_ERR_CONFIG, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    fw_conn_free(c);
}
