/*
 * What a hostile server claims is not what the client allocates: message
 * lengths that are malformed or huge, oversized messages other than rows
 * (refused before authentication, skipped mid-session), and parameter names
 * without end.  Against a scripted server on 127.0.0.1; needs no cluster.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_fake_server.h"
#include "fw_test.h"

Test(message_bounds, malformed_length, .timeout = 30)
{
    static const uint8_t reply[] = {'R', 0, 0, 0, 2, 0, 0, 0, 0};
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(reply), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "invalid message length") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_fake_stop(&f);
}

Test(message_bounds, huge_claimed_length_is_not_allocated, .timeout = 30)
{
    /* An ErrorResponse claiming 1 GiB: refused by its header alone. */
    static const uint8_t reply[] = {'E', 0x40, 0, 0, 0, 'S', 'F', 'A', 'T', 'A', 'L', 0};
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(reply), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_ERR_MEMORY, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "exceeds the limit") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_fake_stop(&f);
}

/* A message of `len` body bytes: type, length, body filled with 'x' and a
 * NUL-terminated prefix (so that it parses as the type's fields). */
static uint8_t *
big_msg(char type, const char *prefix, size_t prefix_len, size_t len)
{
    uint8_t *m = malloc(5 + len);

    cr_assert_not_null(m);
    m[0] = (uint8_t)type;
    m[1] = (uint8_t)((len + 4) >> 24);
    m[2] = (uint8_t)((len + 4) >> 16);
    m[3] = (uint8_t)((len + 4) >> 8);
    m[4] = (uint8_t)(len + 4);
    memset(m + 5, 'x', len);
    memcpy(m + 5, prefix, prefix_len);
    m[5 + len - 1] = 0;
    if (type == 'N' || type == 'E')
        m[5 + len - 2] = 0;   /* field value ends, then the terminator */
    return m;
}

/*
 * The receive buffer bound: messages other than DataRow are small in
 * PostgreSQL (ParameterStatus, authentication, errors); a hostile server
 * must not make the client buffer max_row_bytes (256 MiB by default) of
 * one before authentication.
 */
Test(message_bounds, huge_parameter_status_is_refused_unbuffered, .timeout = 30)
{
    static const uint8_t ok[] = {FWT_MSG_AUTH_OK};
    static const uint8_t ready[] = {FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    size_t len = 3u << 20;
    uint8_t *big = big_msg('S', "big", 4, len);
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(ok), FWT_SEND_N(big, 5 + len), FWT_SEND(ready),
                             FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_ERR_MEMORY, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "type 'S'") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_fake_stop(&f);
    free(big);
}

static void
count_notice(void *arg, const char *severity, const char *sqlstate, const char *message)
{
    if (message && strcmp(message, "small") == 0)
        ((int *)arg)[0]++;
    else if (message && strcmp(severity, "WARNING") == 0 && !sqlstate &&
             strstr(message, "notice of 3145728 bytes was dropped") != NULL)
        ((int *)arg)[2]++;
    else
        ((int *)arg)[1]++;
}

/* Mid-session, a huge NoticeResponse is skipped and the connection stays in step. */
Test(message_bounds, huge_notice_is_skipped_and_the_connection_stays_in_step, .timeout = 30)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    static const uint8_t rest[] = {'N', 0, 0, 0, 18, 'S', 'W', 'A', 'R', 'N', 0, 'M', 's', 'm',
                                   'a', 'l', 'l', 0, 0, 'C', 0, 0, 0, 13, 'S', 'E', 'L', 'E',
                                   'C', 'T', ' ', '1', 0, FWT_MSG_READY};
    size_t len = 3u << 20;
    uint8_t *big = big_msg('N', "SWARN\0Mx", 8, len);
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(hello), FWT_EXPECT('Q'),
                             FWT_SEND_N(big, 5 + len), FWT_SEND(rest), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;
    int seen[3] = {0, 0, 0};

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_set_notice_callback(c, count_notice, seen);
    st = fw_exec_simple(c, "SELECT 1");
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(seen[0], 1, "the small notice after the big one arrives");
    cr_assert_eq(seen[1], 0, "the 3 MiB notice is not delivered");
    cr_assert_eq(seen[2], 1, "the callback hears that a notice was dropped");
    cr_assert_eq(fw_conn_ok(c), 1);
    fw_conn_free(c);
    fwt_fake_stop(&f);
    free(big);
}

/* A server inventing ParameterStatus names without end: the list the
 * client keeps is bounded (known names still update). */
Test(message_bounds, parameter_names_are_bounded, .timeout = 30)
{
    enum { N = 5000 };
    static const uint8_t ok[] = {FWT_MSG_AUTH_OK};
    static const uint8_t tail[] = {'S', 0, 0, 0, 12, 'p', '1', 0, 'l', 'a', 's', 't', 0,
                                   FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    uint8_t *many = malloc((size_t)N * 20);
    size_t n = 0;
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(ok), FWT_SEND_N(NULL, 0), FWT_SEND(tail),
                             FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    cr_assert_not_null(many);
    for (int i = 0; i < N; i++) {
        char name[12];
        size_t nl = (size_t)snprintf(name, sizeof name, "p%d", i) + 1;
        size_t len = 4 + nl + 2;

        many[n++] = 'S';
        many[n++] = 0;
        many[n++] = 0;
        many[n++] = (uint8_t)(len >> 8);
        many[n++] = (uint8_t)len;
        memcpy(many + n, name, nl);
        n += nl;
        many[n++] = 'v';
        many[n++] = 0;
    }
    steps[2].data = many;
    steps[2].len = n;
    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_str_eq(fw_conn_parameter(c, "p0"), "v");
    cr_assert_str_eq(fw_conn_parameter(c, "p1"), "last", "a known name still updates");
    cr_assert_null(fw_conn_parameter(c, "p4999"), "the list grew to every invented name");
    fw_conn_free(c);
    fwt_fake_stop(&f);
    free(many);
}

