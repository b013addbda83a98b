/*
 * pgmsg_encode.c — frontend messages appended to an fw_buf.
 *
 * Each encoder writes the whole message or nothing: on any failure the
 * buffer is rolled back to its length on entry.  The length word is filled
 * in at the end, after checking the message fits in an int32.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "pgmsg.h"

/* A message under construction: where it starts, where its length goes. */
typedef struct msg_start {
    size_t start;       /* b->len on entry, for the rollback */
    size_t len_at;      /* offset of the int32 length */
} msg_start;

/* Starts a message: the type byte (none when type is 0, for the startup
 * packets) and a placeholder length. */
static fw_status
msg_begin(fw_buf *b, char type, msg_start *ms)
{
    fw_status st = FW_OK;

    ms->start = b->len;
    if (type != 0)
        st = fw_buf_put_u8(b, (uint8_t)type);
    ms->len_at = b->len;
    if (st == FW_OK)
        st = fw_buf_put_i32(b, 0);
    if (st != FW_OK)
        b->len = ms->start;
    return st;
}

/* Ends a message: a failure st rolls back; else fills in the length. */
static fw_status
msg_end(fw_buf *b, const msg_start *ms, fw_status st)
{
    size_t len;
    uint32_t u;

    if (st == FW_OK) {
        len = b->len - ms->len_at;
        if (len - 4 > FW_MSG_SEND_MAX)
            st = FW_ERR_LIMIT;
    }
    if (st != FW_OK) {
        b->len = ms->start;
        return st;
    }
    u = (uint32_t)len;
    b->data[ms->len_at] = (uint8_t)(u >> 24);
    b->data[ms->len_at + 1] = (uint8_t)(u >> 16);
    b->data[ms->len_at + 2] = (uint8_t)(u >> 8);
    b->data[ms->len_at + 3] = (uint8_t)u;
    return FW_OK;
}

/* Appends a string and its NUL, refusing lengths no message can hold. */
static fw_status
put_str(fw_buf *b, const char *s)
{
    size_t n;

    if (s == NULL)
        return FW_ERR_USAGE;
    n = strlen(s);
    if (n >= INT32_MAX)
        return FW_ERR_LIMIT;
    return fw_buf_put(b, s, n + 1);
}

fw_status
fw_enc_startup(fw_buf *b, const char *const *params)
{
    msg_start ms;
    fw_status st;
    size_t i;

    st = msg_begin(b, 0, &ms);
    if (st != FW_OK)
        return st;
    st = fw_buf_put_i32(b, FW_PROTOCOL_3_0);
    for (i = 0; st == FW_OK && params != NULL && params[i] != NULL; i += 2) {
        if (params[i + 1] == NULL || params[i][0] == '\0') {
            st = FW_ERR_USAGE;      /* a name without a value, or an empty name */
            break;
        }
        st = put_str(b, params[i]);
        if (st == FW_OK)
            st = put_str(b, params[i + 1]);
    }
    if (st == FW_OK)
        st = fw_buf_put_u8(b, 0);
    return msg_end(b, &ms, st);
}

fw_status
fw_enc_ssl_request(fw_buf *b)
{
    msg_start ms;
    fw_status st;

    st = msg_begin(b, 0, &ms);
    if (st != FW_OK)
        return st;
    return msg_end(b, &ms, fw_buf_put_i32(b, FW_SSL_REQUEST_CODE));
}

fw_status
fw_enc_cancel_request(fw_buf *b, int32_t pid, int32_t key)
{
    msg_start ms;
    fw_status st;

    st = msg_begin(b, 0, &ms);
    if (st != FW_OK)
        return st;
    st = fw_buf_put_i32(b, FW_CANCEL_REQUEST_CODE);
    if (st == FW_OK)
        st = fw_buf_put_i32(b, pid);
    if (st == FW_OK)
        st = fw_buf_put_i32(b, key);
    return msg_end(b, &ms, st);
}

fw_status
fw_enc_password(fw_buf *b, const char *password)
{
    msg_start ms;
    fw_status st;

    if (password == NULL)
        return FW_ERR_USAGE;
    st = msg_begin(b, FW_FE_PASSWORD, &ms);
    if (st != FW_OK)
        return st;
    return msg_end(b, &ms, put_str(b, password));
}

fw_status
fw_enc_sasl_initial(fw_buf *b, const char *mechanism, const uint8_t *data, size_t len)
{
    msg_start ms;
    fw_status st;

    if (mechanism == NULL || (data == NULL && len != 0))
        return FW_ERR_USAGE;
    if (len > INT32_MAX)
        return FW_ERR_LIMIT;
    st = msg_begin(b, FW_FE_PASSWORD, &ms);
    if (st != FW_OK)
        return st;
    st = put_str(b, mechanism);
    /* -1: no initial response (SCRAM always has one). */
    if (st == FW_OK)
        st = fw_buf_put_i32(b, data == NULL ? -1 : (int32_t)len);
    if (st == FW_OK && data != NULL)
        st = fw_buf_put(b, data, len);
    return msg_end(b, &ms, st);
}

fw_status
fw_enc_sasl_response(fw_buf *b, const uint8_t *data, size_t len)
{
    msg_start ms;
    fw_status st;

    if (data == NULL && len != 0)
        return FW_ERR_USAGE;
    if (len > INT32_MAX - 4)
        return FW_ERR_LIMIT;
    st = msg_begin(b, FW_FE_PASSWORD, &ms);
    if (st != FW_OK)
        return st;
    return msg_end(b, &ms, fw_buf_put(b, data, len));
}

fw_status
fw_enc_query(fw_buf *b, const char *sql)
{
    msg_start ms;
    fw_status st;

    if (sql == NULL)
        return FW_ERR_USAGE;
    st = msg_begin(b, FW_FE_QUERY, &ms);
    if (st != FW_OK)
        return st;
    return msg_end(b, &ms, put_str(b, sql));
}

fw_status
fw_enc_parse(fw_buf *b, const char *stmt, const char *sql, int16_t ntypes, const uint32_t *types)
{
    msg_start ms;
    fw_status st;
    int16_t i;

    if (stmt == NULL || sql == NULL || ntypes < 0 || (ntypes > 0 && types == NULL))
        return FW_ERR_USAGE;
    if (types == NULL)
        ntypes = 0;
    st = msg_begin(b, FW_FE_PARSE, &ms);
    if (st != FW_OK)
        return st;
    st = put_str(b, stmt);
    if (st == FW_OK)
        st = put_str(b, sql);
    if (st == FW_OK)
        st = fw_buf_put_i16(b, ntypes);
    for (i = 0; st == FW_OK && i < ntypes; i++)
        st = fw_buf_put_i32(b, (int32_t)types[i]);
    return msg_end(b, &ms, st);
}

fw_status
fw_enc_bind(fw_buf *b, const char *portal, const char *stmt, int16_t nparams,
            const char *const *values)
{
    msg_start ms;
    fw_status st;
    int16_t i;

    if (portal == NULL || stmt == NULL || nparams < 0 || (nparams > 0 && values == NULL))
        return FW_ERR_USAGE;
    st = msg_begin(b, FW_FE_BIND, &ms);
    if (st != FW_OK)
        return st;
    st = put_str(b, portal);
    if (st == FW_OK)
        st = put_str(b, stmt);
    if (st == FW_OK)
        st = fw_buf_put_i16(b, 0);          /* no format codes: all text */
    if (st == FW_OK)
        st = fw_buf_put_i16(b, nparams);
    for (i = 0; st == FW_OK && i < nparams; i++) {
        size_t n;

        if (values[i] == NULL) {
            st = fw_buf_put_i32(b, -1);
            continue;
        }
        n = strlen(values[i]);
        /* Refused before copying a value the message cannot hold. */
        if (n > FW_MSG_SEND_MAX || b->len - ms.len_at + 4 + n > FW_MSG_SEND_MAX) {
            st = FW_ERR_LIMIT;
            break;
        }
        st = fw_buf_put_i32(b, (int32_t)n);
        if (st == FW_OK)
            st = fw_buf_put(b, values[i], n);
    }
    if (st == FW_OK)
        st = fw_buf_put_i16(b, 0);          /* no result format codes: all text */
    return msg_end(b, &ms, st);
}

/* Describe and Close share a shape: kind byte ('S' or 'P') and a name. */
static fw_status
enc_kind_name(fw_buf *b, char type, char kind, const char *name)
{
    msg_start ms;
    fw_status st;

    if ((kind != FW_KIND_STATEMENT && kind != FW_KIND_PORTAL) || name == NULL)
        return FW_ERR_USAGE;
    st = msg_begin(b, type, &ms);
    if (st != FW_OK)
        return st;
    st = fw_buf_put_u8(b, (uint8_t)kind);
    if (st == FW_OK)
        st = put_str(b, name);
    return msg_end(b, &ms, st);
}

fw_status
fw_enc_describe(fw_buf *b, char kind, const char *name)
{
    return enc_kind_name(b, FW_FE_DESCRIBE, kind, name);
}

fw_status
fw_enc_close(fw_buf *b, char kind, const char *name)
{
    return enc_kind_name(b, FW_FE_CLOSE, kind, name);
}

fw_status
fw_enc_execute(fw_buf *b, const char *portal, int32_t max_rows)
{
    msg_start ms;
    fw_status st;

    if (portal == NULL || max_rows < 0)
        return FW_ERR_USAGE;
    st = msg_begin(b, FW_FE_EXECUTE, &ms);
    if (st != FW_OK)
        return st;
    st = put_str(b, portal);
    if (st == FW_OK)
        st = fw_buf_put_i32(b, max_rows);
    return msg_end(b, &ms, st);
}

static fw_status
enc_bodiless(fw_buf *b, char type)
{
    msg_start ms;
    fw_status st;

    st = msg_begin(b, type, &ms);
    if (st != FW_OK)
        return st;
    return msg_end(b, &ms, FW_OK);
}

/* CopyFail: the client refuses a COPY the server started (a stream never
 * asks for one; a statement that does gets this answer). */
fw_status
fw_enc_copy_fail(fw_buf *b, const char *reason)
{
    size_t n = strlen(reason) + 1;
    fw_status st;

    if ((st = fw_buf_put_u8(b, FW_FE_COPY_FAIL)) != FW_OK)
        return st;
    if ((st = fw_buf_put_i32(b, (int32_t)(4 + n))) != FW_OK)
        return st;
    return fw_buf_put_str(b, reason);
}

fw_status
fw_enc_sync(fw_buf *b)
{
    return enc_bodiless(b, FW_FE_SYNC);
}

fw_status
fw_enc_flush(fw_buf *b)
{
    return enc_bodiless(b, FW_FE_FLUSH);
}

fw_status
fw_enc_terminate(fw_buf *b)
{
    return enc_bodiless(b, FW_FE_TERMINATE);
}
