/*
 * cancel.c — CancelRequest on a separate connection.
 *
 * As libpq: a plain (never TLS) connection to the same address, the 16-byte
 * request, then wait for the server to close the socket, so that the
 * postmaster has signalled the backend before we go on.  Only immutable
 * fields of the connection are read, so a stream may be cancelled from
 * another thread while fw_stream_next waits.
 */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

fw_status
fw_cancel_send(const struct sockaddr_storage *addr, socklen_t addrlen, int32_t pid, int32_t key,
               int timeout_ms, fw_error *err)
{
    int64_t deadline = fw_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
    uint8_t msg[16];
    fw_buf b;
    fw_sock s;
    fw_status st;
    uint8_t sink[64];
    size_t got;

    fw_buf_init(&b, 64);
    st = fw_enc_cancel_request(&b, pid, key);
    if (st != FW_OK || b.len != sizeof msg) {
        fw_buf_free(&b);
        fw_error_set(err, FW_ERR_MEMORY, "could not build cancel request");
        return FW_ERR_MEMORY;
    }
    memcpy(msg, b.data, sizeof msg);
    fw_buf_free(&b);

    st = fw_net_connect(&s, (const struct sockaddr *)addr, addrlen, NULL, deadline, err);
    if (st != FW_OK)
        return st;
    st = fw_net_write_all(&s, msg, sizeof msg, deadline, err);
    if (st == FW_OK) {
        /* The server sends nothing and closes: EOF (FW_ERR_IO here) is success. */
        fw_error e2 = {.cls = FW_OK};

        /* EOF (FW_ERR_IO here) is the answer; unexpected bytes would not
         * undo a delivered request either.  Only a timeout is reported. */
        st = fw_net_read_some(&s, sink, sizeof sink, deadline, &got, &e2);
        if (st == FW_ERR_IO || st == FW_OK)
            st = FW_OK;
        else
            fw_error_move(err, &e2);
        fw_error_clear(&e2);
    }
    fw_net_close(&s);
    return st;
}
