/*
 * Cancel and close against a scripted server on 127.0.0.1 that takes the
 * CancelRequest and ignores it, stays silent, or keeps sending: the
 * CancelRequest is repeated, fw_stream_close is bounded by the timeout, the
 * cancel handle sends the backend key from any thread and fw_cancel_abort
 * ends a blocked read.  Needs no cluster.
 */
#include <pthread.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_fake_server.h"
#include "fw_test.h"

/*
 * Two Executes are in flight.  The caller cancels after the first chunk's
 * PortalSuspended was sent, and the CancelRequest reaches a backend that
 * ignores it (it was reading the next message, as PostgreSQL does).  The
 * second Execute then runs: the drain must repeat the CancelRequest while
 * the server stays silent, not wait for the whole chunk.
 */
static void *
cancel_soon(void *arg)
{
    usleep(200 * 1000);
    (void)fw_stream_cancel(arg);
    return NULL;
}

Test(cancel_close, cancel_repeated_while_the_next_chunk_runs, .timeout = 30)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, FWT_MSG_ROW_DESC_JSONB};
    static const uint8_t row[] = {FWT_MSG_DATA_ROW};
    static const uint8_t suspended[] = {'s', 0, 0, 0, 4};
    static const uint8_t cancelled[] = {
        'E', 0, 0, 0, 25, 'S', 'E', 'R', 'R', 'O', 'R', 0, 'C', '5', '7', '0', '1', '4', 0,
        'M', 'c', 'a', 'n', 'c', 0, 0, FWT_MSG_READY};
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(hello), FWT_EXPECT('H'), FWT_SEND(described),
                             FWT_EXPECT('H'), FWT_SEND(row), FWT_CANCEL, FWT_SEND(suspended),
                             FWT_EXPECT('S'), FWT_CANCEL, FWT_SEND(cancelled), FWT_END};
    pthread_t canceller;
    fwt_fake f;
    fw_conn *c = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_conn_connect(fwt_fake_conninfo(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    fw_conn_set_timeout(c, 8000);
    cr_assert_eq(fw_stream_open_sql(c, "SELECT data FROM v", 0, NULL, 1, &s), FW_OK, "%s",
                 fw_conn_error_message(c));
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK, "%s", fw_conn_error_message(c));
    /* next waits; the cancel comes from another thread; the server then
     * ends the chunk (PortalSuspended) and starts the next one. */
    cr_assert_eq(pthread_create(&canceller, NULL, cancel_soon, s), 0);
    st = fw_stream_next(s, &json, &len);
    pthread_join(canceller, NULL);
    cr_assert_eq(st, FW_ERR_CANCELLED, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 1);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d", f.failed_step);
    cr_assert_eq(f.ncancels, 2);
}

/* The steps of a stream whose first row arrived; then what the server does. */
#define HELLO_STREAM_ROW                                                                    \
    FWT_STARTUP, FWT_SEND(hello), FWT_EXPECT('H'), FWT_SEND(described), FWT_EXPECT('H'),         \
        FWT_SEND(row)

static fw_conn *
connect_and_read_one(fwt_fake *f, fw_stream **s, int timeout_ms)
{
    fw_conn *c = NULL;
    const char *json;
    size_t len;
    fw_status st = fw_conn_connect(fwt_fake_conninfo(f, "sslmode=disable"), &c);

    cr_assert_eq(st, FW_OK, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    fw_conn_set_timeout(c, timeout_ms);
    cr_assert_eq(fw_stream_open_sql(c, "SELECT data FROM v", 0, NULL, 1, s), FW_OK, "%s",
                 fw_conn_error_message(c));
    cr_assert_eq(fw_stream_next(*s, &json, &len), FW_OK, "%s", fw_conn_error_message(c));
    return c;
}

/*
 * The close of a stream whose query has ended, although the caller did
 * not read that far: nothing runs on the server, so no CancelRequest (a
 * connection to the postmaster and a wait for it to close), only the Sync.
 * The caller read the one row of a one-row query, whose completion came
 * behind it (chunk 1: PortalSuspended, then the second Execute's
 * CommandComplete); or both Executes in flight came back suspended.
 */
static void
close_without_cancel(const uint8_t *rest, size_t rest_len)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, FWT_MSG_ROW_DESC_JSONB};
    static const uint8_t ready[] = {FWT_MSG_READY};
    static const uint8_t one_row[] = {FWT_MSG_DATA_ROW};
    uint8_t row[64];
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(hello), FWT_EXPECT('H'), FWT_SEND(described),
                             FWT_EXPECT('H'), FWT_SEND_N(row, sizeof one_row + rest_len),
                             FWT_EXPECT('S'), FWT_SEND(ready), FWT_END};
    fwt_fake f;
    fw_stream *s = NULL;
    fw_conn *c;
    fw_status st;
    int64_t t0, took;

    cr_assert_leq(sizeof one_row + rest_len, sizeof row);
    memcpy(row, one_row, sizeof one_row);   /* the row and what follows it, in one send */
    memcpy(row + sizeof one_row, rest, rest_len);
    fwt_fake_start(&f, steps, 0);
    c = connect_and_read_one(&f, &s, 3000);
    t0 = fwt_now_ms();
    st = fw_stream_close(s);
    took = fwt_now_ms() - t0;
    cr_assert_eq(st, FW_OK, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert(fw_conn_ok(c));
    cr_assert_lt(took, 1500, "close took %lld ms", (long long)took);
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d (types %s)", f.failed_step,
                 f.types);
    cr_assert_eq(f.unexpected, 0, "the close sent a CancelRequest");
}

Test(cancel_close, close_after_the_last_row_sends_no_cancel, .timeout = 30)
{
    static const uint8_t rest[] = {'s', 0, 0, 0, 4, 'C', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T',
                                   ' ', '0', 0};

    close_without_cancel(rest, sizeof rest);
}

Test(cancel_close, close_with_every_execute_suspended_sends_no_cancel, .timeout = 30)
{
    static const uint8_t rest[] = {'s', 0, 0, 0, 4, FWT_MSG_DATA_ROW, 's', 0, 0, 0, 4};

    close_without_cancel(rest, sizeof rest);
}

/*
 * fw_stream_close against a server that takes the CancelRequest and then
 * ignores it, silent: the drain ends at the connection's timeout, Sync and
 * then Terminate were sent, and the connection is closed (FW_ERR_TIMEOUT).
 */
Test(cancel_close, close_is_bounded_when_the_server_ignores_the_cancel, .timeout = 30)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, FWT_MSG_ROW_DESC_JSONB};
    static const uint8_t row[] = {FWT_MSG_DATA_ROW};
    fwt_fake_step steps[] = {HELLO_STREAM_ROW, FWT_CANCEL, FWT_EXPECT('S'), FWT_EXPECT('X'),
                             FWT_END};
    fwt_fake f;
    fw_stream *s = NULL;
    fw_conn *c;
    fw_status st;
    int64_t t0, took;

    fwt_fake_start(&f, steps, 0);
    c = connect_and_read_one(&f, &s, 1500);
    t0 = fwt_now_ms();
    st = fw_stream_close(s);
    took = fwt_now_ms() - t0;
    cr_assert_eq(st, FW_ERR_TIMEOUT, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "did not end the cancelled query") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 0);
    cr_assert_lt(took, 3500, "close took %lld ms with a 1500 ms timeout", (long long)took);
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d (types %s)", f.failed_step,
                 f.types);
    cr_assert_geq(f.ncancels, 1);
}

/* The same with no timeout set (the 5 s default) and a server that keeps
 * sending rows instead of ending the query. */
Test(cancel_close, close_is_bounded_when_the_server_keeps_sending, .timeout = 40)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, FWT_MSG_ROW_DESC_JSONB};
    static const uint8_t row[] = {FWT_MSG_DATA_ROW};
    static const uint8_t rows[] = {FWT_MSG_DATA_ROW, FWT_MSG_DATA_ROW, FWT_MSG_DATA_ROW,
                                   FWT_MSG_DATA_ROW, FWT_MSG_DATA_ROW, FWT_MSG_DATA_ROW,
                                   FWT_MSG_DATA_ROW, FWT_MSG_DATA_ROW};
    fwt_fake_step steps[] = {HELLO_STREAM_ROW, FWT_FLOOD(rows), FWT_END};
    fwt_fake f;
    fw_stream *s = NULL;
    fw_conn *c;
    fw_status st;
    int64_t t0, took;

    fwt_fake_start(&f, steps, 0);
    c = connect_and_read_one(&f, &s, 0);
    t0 = fwt_now_ms();
    st = fw_stream_close(s);
    took = fwt_now_ms() - t0;
    cr_assert_eq(st, FW_ERR_TIMEOUT, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 0);
    cr_assert_geq(took, 4500);
    cr_assert_lt(took, 8000, "close took %lld ms (default bound 5 s)", (long long)took);
    fw_conn_free(c);
    fwt_fake_stop(&f);
}

/* The cancel handle: the request it sends, from any thread; NULL-safety. */
Test(cancel_close, cancel_handle_sends_the_backend_key, .timeout = 30)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(hello), FWT_CANCEL, FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_cancel *k;
    char ebuf[128] = "unchanged";
    fw_status st;

    cr_assert_null(fw_cancel_new(NULL));
    cr_assert_eq(fw_cancel_request(NULL, 0, ebuf, sizeof ebuf), FW_ERR_USAGE);
    cr_assert_str_eq(ebuf, "no cancel handle");
    cr_assert_eq(fw_cancel_abort(NULL), FW_ERR_USAGE);
    fw_cancel_free(NULL);
    fwt_fake_start(&f, steps, 0);
    st = fw_conn_connect(fwt_fake_conninfo(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    k = fw_cancel_new(c);
    cr_assert_not_null(k);
    st = fw_cancel_request(k, 3000, ebuf, sizeof ebuf);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_status_name(st), ebuf);
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d", f.failed_step);
    cr_assert_eq(f.ncancels, 1);
    cr_assert_eq(fwt_be32(f.cancel_req), 16);
    cr_assert_eq(fwt_be32(f.cancel_req + 8), 12345, "the backend pid");
    cr_assert_eq(fwt_be32(f.cancel_req + 12), 7, "the secret key");
    /* The handle outlives the connection; the server is gone now. */
    st = fw_cancel_request(k, 2000, ebuf, sizeof ebuf);
    cr_assert_eq(st, FW_ERR_IO, "%s", fw_status_name(st));
    cr_assert(strstr(ebuf, "could not connect to send cancel request: errno ") == ebuf, "%s", ebuf);
    fw_cancel_free(k);
}

static void *
abort_soon(void *arg)
{
    usleep(300 * 1000);
    (void)fw_cancel_abort(arg);
    return NULL;
}

/* fw_cancel_abort from another thread (or a signal handler) ends a read
 * blocked on a silent server at once: the way out when a cancel is ignored. */
Test(cancel_close, cancel_abort_ends_a_blocked_read, .timeout = 30)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, FWT_MSG_ROW_DESC_JSONB};
    static const uint8_t row[] = {FWT_MSG_DATA_ROW};
    fwt_fake_step steps[] = {HELLO_STREAM_ROW, FWT_END};
    fwt_fake f;
    pthread_t aborter;
    fw_stream *s = NULL;
    fw_conn *c;
    fw_cancel *k;
    const char *json;
    size_t len;
    fw_status st;
    int64_t t0, took;

    fwt_fake_start(&f, steps, 0);
    c = connect_and_read_one(&f, &s, 0);
    k = fw_cancel_new(c);
    cr_assert_not_null(k);
    cr_assert_eq(pthread_create(&aborter, NULL, abort_soon, k), 0);
    t0 = fwt_now_ms();
    st = fw_stream_next(s, &json, &len);
    took = fwt_now_ms() - t0;
    pthread_join(aborter, NULL);
    cr_assert_eq(st, FW_ERR_IO, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_lt(took, 2000, "next returned after %lld ms", (long long)took);
    t0 = fwt_now_ms();
    cr_assert_neq(fw_stream_close(s), FW_OK);
    cr_assert_lt(fwt_now_ms() - t0, 500, "close of an aborted stream does not drain");
    fw_cancel_free(k);
    fw_conn_free(c);
    fwt_fake_stop(&f);
}

