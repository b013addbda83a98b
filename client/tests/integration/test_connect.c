/*
 * Connecting: every authentication method over TCP (IPv4, IPv6 when the
 * machine has it) and over the Unix socket, wrong and missing passwords,
 * the session settings, the password file, target_session_attrs, and host
 * lists as libpq has them: connect_timeout applies to each host (a silent
 * first host does not eat the whole budget), failover past a host that
 * refuses or stays silent under target_session_attrs.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fw_test.h"

typedef struct method {
    const char *user;
    const char *password;   /* NULL: none needed */
} method;

static const method methods[] = {
    {"fw_trust", NULL},
    {"fw_scram", "fw_scram_pw"},
    {"fw_md5", "fw_md5_pw"},
    {"fw_password", "fw_password_pw"},
};

static void
connect_each(const char *(*where)(const char *, const char *), const char *sslmode)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        char extra[256];
        fw_conn *c;
        char *who;

        snprintf(extra, sizeof extra, "sslmode=%s%s%s", sslmode,
                 methods[i].password ? " password=" : "",
                 methods[i].password ? methods[i].password : "");
        c = fwt_connect(where(methods[i].user, extra));
        cr_assert_gt(fw_conn_backend_pid(c), 0);
        who = fwt_one_row(c, "SELECT to_jsonb(current_user) AS data", 0, NULL);
        cr_assert_not_null(who);
        cr_assert_eq(strncmp(who + 1, methods[i].user, strlen(methods[i].user)), 0,
                     "connected as %s, expected %s", who, methods[i].user);
        free(who);
        fw_conn_free(c);
    }
}

Test(connect, every_method_over_the_socket)
{
    FWT_REQUIRE_SERVER();
    connect_each(fwt_sock, "prefer");
}

Test(connect, every_method_over_tcp_plain)
{
    FWT_REQUIRE_SERVER();
    connect_each(fwt_tcp, "disable");
}

Test(connect, every_method_over_tcp_tls)
{
    FWT_REQUIRE_SERVER();
    connect_each(fwt_tcp, "require");
}

Test(connect, every_method_over_ipv6)
{
    FWT_REQUIRE_SERVER();
    if (!fwt_have_ipv6())
        cr_skip_test("SKIPPED: the machine has no ::1 (FW_TEST_IPV6=0)");
    connect_each(fwt_tcp6, "prefer");
}

Test(connect, socket_never_uses_tls)
{
    fw_conn *c;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("fw_trust", "sslmode=require"));
    cr_assert_eq(fw_conn_tls(c), 0);
    fw_conn_free(c);
    c = fwt_connect(fwt_tcp("fw_trust", "sslmode=prefer"));
    cr_assert_eq(fw_conn_tls(c), 1);
    fw_conn_free(c);
    c = fwt_connect(fwt_tcp("fw_trust", "sslmode=allow"));
    cr_assert_eq(fw_conn_tls(c), 0, "allow tries without TLS first");
    fw_conn_free(c);
}

static void
expect_wrong_password(const char *conninfo)
{
    fw_conn *c = NULL;
    fw_status st = fw_connect(conninfo, &c);

    cr_assert_not_null(c);
    cr_assert_eq(st, FW_ERR_AUTH, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_error_class(c), FW_ERR_AUTH);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "28P01");
    cr_assert(strstr(fw_conn_error_message(c), "password authentication failed") != NULL,
              "%s", fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "wrong_pw") == NULL, "the password leaked");
    cr_assert_eq(fw_conn_ok(c), 0);
    cr_assert_eq(fw_conn_error_retriable(c), 0);
    fw_conn_free(c);
}

Test(connect, wrong_password_is_auth_error_28P01)
{
    FWT_REQUIRE_SERVER();
    expect_wrong_password(fwt_tcp("fw_scram", "sslmode=disable password=wrong_pw"));
    expect_wrong_password(fwt_tcp("fw_scram", "sslmode=require password=wrong_pw"));
    expect_wrong_password(fwt_sock("fw_md5", "password=wrong_pw"));
    expect_wrong_password(fwt_sock("fw_password", "password=wrong_pw"));
}

Test(connect, missing_password)
{
    fw_conn *c = NULL;
    fw_status st;

    FWT_REQUIRE_SERVER();
    st = fw_connect(fwt_sock("fw_scram", "passfile=/nonexistent/pgpass"), &c);
    cr_assert_eq(st, FW_ERR_AUTH);
    cr_assert(strstr(fw_conn_error_message(c), "password is required") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
}

Test(connect, password_from_passfile)
{
    char path[] = "/tmp/fw_pgpass_XXXXXX";
    int fd;
    FILE *f;
    fw_conn *c;
    char extra[256];

    FWT_REQUIRE_SERVER();
    fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    f = fdopen(fd, "w");
    fprintf(f, "*:%s:*:fw_scram:fw_scram_pw\n", fwt_port());
    fclose(f);
    chmod(path, 0600);
    snprintf(extra, sizeof extra, "sslmode=disable passfile=%s", path);
    c = fwt_connect(fwt_tcp("fw_scram", extra));
    fw_conn_free(c);
    unlink(path);
}

Test(connect, session_settings)
{
    fw_conn *c;
    char *v;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("fw_trust", "application_name=fw_itest"));
    cr_assert_str_eq(fw_conn_parameter(c, "client_encoding"), "UTF8");
    cr_assert_str_eq(fw_conn_parameter(c, "TimeZone"), "UTC");
    cr_assert_str_eq(fw_conn_parameter(c, "DateStyle"), "ISO, MDY");
    cr_assert_str_eq(fw_conn_parameter(c, "application_name"), "fw_itest");
    cr_assert_not_null(fw_conn_parameter(c, "server_version"));
    cr_assert_null(fw_conn_parameter(c, "no_such_parameter"));
    v = fwt_one_row(c, "SELECT to_jsonb(current_setting('extra_float_digits')) AS data", 0, NULL);
    cr_assert_str_eq(v, "\"3\"");
    free(v);
    v = fwt_one_row(c, "SELECT to_jsonb(pg_backend_pid()) AS data", 0, NULL);
    cr_assert_eq(atoi(v), fw_conn_backend_pid(c));
    free(v);
    fw_conn_free(c);
}

Test(connect, refused_port_is_io_error_and_retriable)
{
    fw_conn *c = NULL;
    fw_status st;

    FWT_REQUIRE_SERVER();
    st = fw_connect("host=127.0.0.1 port=1 user=fw_trust sslmode=disable", &c);
    cr_assert_eq(st, FW_ERR_IO);
    cr_assert(strstr(fw_conn_error_message(c), "127.0.0.1") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert_eq(fw_conn_error_retriable(c), 1);
    fw_conn_free(c);
}

Test(connect, unknown_database_is_sql_error)
{
    fw_conn *c = NULL;
    fw_status st;

    char ci[512];

    FWT_REQUIRE_SERVER();
    snprintf(ci, sizeof ci, "host=%s port=%s user=fw_trust dbname=no_such_db", fwt_socket_dir(),
             fwt_port());
    st = fw_connect(ci, &c);
    cr_assert_eq(st, FW_ERR_SQL, "%s", fw_conn_error_message(c));
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "3D000");
    fw_conn_free(c);
}

Test(connect, host_list_skips_a_dead_host)
{
    char ci[512];
    fw_conn *c;

    FWT_REQUIRE_SERVER();
    snprintf(ci, sizeof ci, "host=127.0.0.1,%s port=1,%s user=fw_trust dbname=postgres",
             fwt_socket_dir(), fwt_port());
    c = fwt_connect(ci);
    fw_conn_free(c);
}

Test(connect, target_session_attrs)
{
    fw_conn *c = NULL;
    fw_status st;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("fw_trust", "target_session_attrs=read-write"));
    fw_conn_free(c);
    c = fwt_connect(fwt_sock("fw_trust", "target_session_attrs=prefer-standby"));
    fw_conn_free(c);
    c = NULL;
    st = fw_connect(fwt_sock("fw_trust", "target_session_attrs=standby"), &c);
    cr_assert_neq(st, FW_OK);
    cr_assert(strstr(fw_conn_error_message(c), "not in hot standby") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
    c = NULL;
    st = fw_connect(fwt_sock("fw_trust", "target_session_attrs=read-only"), &c);
    cr_assert_neq(st, FW_OK);
    fw_conn_free(c);
}

Test(connect, free_sends_terminate, .timeout = 60)
{
    fw_conn *c, *admin;
    char num[16];
    const char *p[1] = {num};
    int gone = 0;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_tcp("fw_trust", "sslmode=require"));
    snprintf(num, sizeof num, "%d", fw_conn_backend_pid(c));
    admin = fwt_connect(fwt_sock("postgres", NULL));
    fw_conn_free(c);
    for (int i = 0; i < 100 && !gone; i++) {
        char *v = fwt_one_row(admin, "SELECT to_jsonb(count(*)) AS data FROM pg_stat_activity "
                                     "WHERE pid = $1::int", 1, p);

        gone = strcmp(v, "0") == 0;
        free(v);
        if (!gone)
            usleep(100 * 1000);
    }
    cr_assert(gone, "backend %s still there 10 s after fw_conn_free", num);
    fw_conn_free(admin);
}

/* tcp_user_timeout reaches the socket (milliseconds, as in libpq), with
 * keepalives on and off; the Unix socket has no such option and ignores it. */
Test(connect, tcp_user_timeout_is_set_on_the_socket)
{
    static const char *const keepalives[] = {"1", "0"};

    FWT_REQUIRE_SERVER();
    for (size_t i = 0; i < 2; i++) {
        char extra[128];
        fw_conn *c;
        int value = 0;
        socklen_t len = sizeof value;

        snprintf(extra, sizeof extra, "sslmode=disable tcp_user_timeout=4321 keepalives=%s",
                 keepalives[i]);
        c = fwt_connect(fwt_tcp("fw_trust", extra));
        cr_assert_geq(fw_conn_socket(c), 0);
        cr_assert_eq(getsockopt(fw_conn_socket(c), IPPROTO_TCP, TCP_USER_TIMEOUT, &value, &len), 0);
        cr_assert_eq(value, 4321, "keepalives=%s: TCP_USER_TIMEOUT is %d", keepalives[i], value);
        fw_conn_free(c);
    }
}

/* ------------------------------------------------------------ host lists */

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
    st = fw_connect(ci, &c);
    dt = now_s() - t0;
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_geq(dt, min_s, "took %.1f s", dt);
    cr_assert_lt(dt, max_s, "took %.1f s: connect_timeout is per host", dt);
    cr_assert_eq(fw_conn_ok(c), 1);
    fw_conn_free(c);
    close(lfd);
}

Test(connect, connect_timeout_applies_to_each_host, .timeout = 60)
{
    FWT_REQUIRE_SERVER();
    connect_past_silent_host("", 1.9, 5.0);
}

Test(connect, failover_with_target_session_attrs, .timeout = 60)
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
    st = fw_connect(ci, &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_free(c);
    /* read-only: the only server is a primary; the message says why, the
     * class is retriable-looking IO as libpq's "session is not read-only" */
    c = NULL;
    snprintf(ci, sizeof ci,
             "host=127.0.0.1,%s port=1,%s user=fw_trust dbname=postgres sslmode=disable "
             "target_session_attrs=read-only",
             fwt_tcp_host(), fwt_port());
    st = fw_connect(ci, &c);
    cr_assert_neq(st, FW_OK);
    cr_assert(strstr(fw_conn_error_message(c), "not read-only") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 0);
    fw_conn_free(c);
    /* prefer-standby: a silent host and a primary; two passes, each with
     * its own timeout on the silent host, then the primary is taken */
    connect_past_silent_host("target_session_attrs=prefer-standby", 3.9, 9.0);
}
