/*
 * msgread.c — the connection's message reader, shared by the startup
 * (conn.c), streams (stream.c) and parallel streams: frames one backend
 * message at a time out of the receive buffer, checking its length against
 * the limit for its type before buffering it (an oversized message is
 * skipped unbuffered, the connection kept in step), reads more from the
 * socket when no whole message is there (blocking, or FW_AGAIN with what
 * the socket wants), and handles the asynchronous messages itself:
 * NoticeResponse (the notice callback), ParameterStatus (kept on the
 * connection) and NotificationResponse (checked and dropped).
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The limit on one DataRow: max_row_bytes (at least FW_MSG_FLOOR) and
 * the row's framing, never over FW_MSG_DEFAULT_MAX. */
uint32_t
fw_conn_msg_cap(const fw_conn *c)
{
    size_t cap = c->max_row_bytes > FW_MSG_FLOOR ? c->max_row_bytes : FW_MSG_FLOOR;

    cap += 64;   /* DataRow overhead: column count and value length */
    return cap > FW_MSG_DEFAULT_MAX + 64u ? FW_MSG_DEFAULT_MAX + 64u : (uint32_t)cap;
}

/* The limit for a message of type `type`: only DataRow grows with
 * max_row_bytes; everything else PostgreSQL sends (errors, notices,
 * parameters, authentication, descriptions) stays under FW_MSG_FLOOR, so a
 * hostile server cannot make us buffer more than that of one. */
static uint32_t
msg_cap_for(const fw_conn *c, uint8_t type)
{
    return type == FW_BE_DATA_ROW ? fw_conn_msg_cap(c) : FW_MSG_FLOOR;
}

static void
deliver_notice(fw_conn *c, const fw_msg *m)
{
    fw_pg_fields f;

    if (fw_parse_fields(m, &f) != FW_OK)
        return;   /* a malformed notice is dropped, not fatal */
    if (c->notice_fn)
        c->notice_fn(c->notice_arg, f.severity, f.sqlstate, f.message);
}

static fw_status
read_msg(fw_conn *c, fw_msg *m, int nb, unsigned *wants)
{
    for (;;) {
        size_t avail = c->rbuf.len - c->rpos;
        size_t consumed = 0;
        fw_frame_result fr;
        fw_status st;
        size_t got;
        uint32_t cap = avail > 0 ? msg_cap_for(c, c->rbuf.data[c->rpos]) : fw_conn_msg_cap(c);

        /* connect_timeout bounds the whole start-up: a server that keeps
         * talking (notices, parameters) never lets a read wait, so the
         * deadline is checked for every message, not only in poll(). */
        if (c->startup_deadline >= 0 && fw_now_ms() >= c->startup_deadline) {
            fw_error_set(&c->err, FW_ERR_TIMEOUT, "timeout expired");
            fw_conn_break(c);
            return FW_ERR_TIMEOUT;
        }

        if (c->skip > 0 && avail > 0) {
            size_t n = avail < c->skip ? avail : c->skip;

            c->rpos += n;
            c->skip -= n;
            continue;
        }
        if (c->skip == 0) {
            fr = fw_msg_frame(c->rbuf.data + c->rpos, avail, cap, m, &consumed);
            if (fr == FW_FRAME_OK) {
                c->rpos += consumed;
                switch (m->type) {
                case FW_BE_NOTICE_RESPONSE:
                    deliver_notice(c, m);
                    continue;
                case FW_BE_PARAMETER_STATUS: {
                    const char *name, *value;

                    if (fw_parse_parameter_status(m, &name, &value) != FW_OK) {
                        fw_error_set(&c->err, FW_ERR_PROTOCOL, "malformed ParameterStatus message");
                        fw_conn_break(c);
                        return FW_ERR_PROTOCOL;
                    }
                    fw_conn_set_param(c, name, value);
                    continue;
                }
                case FW_BE_NOTIFICATION_RESPONSE: {
                    int32_t pid;
                    const char *channel, *payload;

                    /* No LISTEN API: notifications are checked and dropped. */
                    if (fw_parse_notification(m, &pid, &channel, &payload) != FW_OK) {
                        fw_error_set(&c->err, FW_ERR_PROTOCOL, "malformed NotificationResponse");
                        fw_conn_break(c);
                        return FW_ERR_PROTOCOL;
                    }
                    continue;
                }
                default:
                    return FW_OK;
                }
            }
            if (fr == FW_FRAME_MALFORMED) {
                fw_error_set(&c->err, FW_ERR_PROTOCOL,
                             "invalid message length from server (message type 0x%02x)",
                             c->rbuf.data[c->rpos]);
                fw_conn_break(c);
                return FW_ERR_PROTOCOL;
            }
            if (fr == FW_FRAME_TOO_LARGE) {
                /* Skip it without buffering: the connection stays in step. */
                uint32_t len = fw_read_u32(c->rbuf.data + c->rpos + 1);
                size_t total = (size_t)len + 1;
                char type = (char)c->rbuf.data[c->rpos];
                size_t n = avail < total ? avail : total;

                c->rpos += n;
                c->skip = total - n;
                if (type == FW_BE_NOTICE_RESPONSE || type == FW_BE_NOTIFICATION_RESPONSE) {
                    /* Asynchronous: the query goes on without it; the
                     * notice callback hears that something was dropped. */
                    char text[160];

                    snprintf(text, sizeof text,
                             "fraiseql_wire: a server %s of %u bytes was dropped (over the "
                             "limit of %u)",
                             type == FW_BE_NOTICE_RESPONSE ? "notice" : "notification", len - 4,
                             cap);
                    if (c->notice_fn)
                        c->notice_fn(c->notice_arg, "WARNING", NULL, text);
                    continue;
                }
                if (type == FW_BE_DATA_ROW)
                    fw_error_set(&c->err, FW_ERR_MEMORY,
                                 "row of %u bytes exceeds max_row_bytes (%zu)", len - 4,
                                 c->max_row_bytes);
                else
                    fw_error_set(&c->err, FW_ERR_MEMORY,
                                 "server message of %u bytes (type '%c') exceeds the limit of %u",
                                 len - 4, type >= 32 && type < 127 ? type : '?', cap);
                return FW_ERR_MEMORY;
            }
        } else {
            consumed = 0;
        }
        /* Need more bytes: keep the partial message at the start of the buffer. */
        if (c->rpos > 0) {
            size_t left = c->rbuf.len - c->rpos;

            if (left > 0)
                memmove(c->rbuf.data, c->rbuf.data + c->rpos, left);
            c->rbuf.len = left;
            c->rpos = 0;
        }
        {
            /* Room for the rest of this message, and preferably a good read. */
            size_t need = consumed > c->rbuf.len ? consumed - c->rbuf.len : 1;
            size_t want = need < 8192 ? 8192 : need;

            if (c->rbuf.cap - c->rbuf.len < want && fw_buf_reserve(&c->rbuf, want) != FW_OK &&
                fw_buf_reserve(&c->rbuf, need) != FW_OK) {
                fw_error_set(&c->err, FW_ERR_MEMORY, "out of memory for the receive buffer");
                fw_conn_break(c);
                return FW_ERR_MEMORY;
            }
        }
        if (c->sock.fd < 0) {
            fw_error_set(&c->err, FW_ERR_IO, "connection is closed");
            return FW_ERR_IO;
        }
        if (nb) {
            st = fw_net_read_nb(&c->sock, c->rbuf.data + c->rbuf.len, c->rbuf.cap - c->rbuf.len,
                                &got, wants, &c->err);
            if (st == FW_AGAIN)
                return FW_AGAIN;
        } else {
            st = fw_net_read_some(&c->sock, c->rbuf.data + c->rbuf.len,
                                  c->rbuf.cap - c->rbuf.len, fw_conn_deadline(c), &got, &c->err);
        }
        if (st != FW_OK) {
            fw_conn_break(c);
            return st;
        }
        c->rbuf.len += got;
    }
}

fw_status
fw_conn_read_msg(fw_conn *c, fw_msg *m)
{
    return read_msg(c, m, 0, NULL);
}

fw_status
fw_conn_read_msg_nb(fw_conn *c, fw_msg *m, unsigned *wants)
{
    *wants = 0;
    return read_msg(c, m, 1, wants);
}

fw_status
fw_conn_wait_message(fw_conn *c, int ms)
{
    size_t avail = c->rbuf.len - c->rpos;
    fw_msg m;
    size_t consumed;
    fw_error e = {.cls = FW_OK};
    fw_status st;

    if (c->sock.fd < 0)
        return FW_OK;   /* the read reports it */
    if (avail > 0 &&
        (c->skip > 0 || fw_msg_frame(c->rbuf.data + c->rpos, avail,
                                     msg_cap_for(c, c->rbuf.data[c->rpos]), &m,
                                     &consumed) != FW_FRAME_NEED_MORE))
        return FW_OK;
    if (c->sock.tls && fw_tls_pending(c->sock.tls))
        return FW_OK;
    st = fw_net_wait(c->sock.fd, POLLIN, fw_now_ms() + ms, &e);
    fw_error_clear(&e);
    return st == FW_ERR_TIMEOUT ? FW_ERR_TIMEOUT : FW_OK;
}
