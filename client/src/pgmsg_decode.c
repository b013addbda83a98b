/*
 * pgmsg_decode.c — framing and parsing of backend messages.
 *
 * No I/O: bytes in, views out.  Every read goes through a cursor that
 * checks the bytes are inside the body first; every parser requires the
 * body to be consumed exactly (trailing bytes are malformed), so a message
 * is either fully understood or refused with FW_ERR_PROTOCOL.
 */
#include <stdint.h>
#include <string.h>

#include "pgmsg.h"

/* ------------------------------------------------------------ framing */

fw_frame_result
fw_msg_frame(const uint8_t *buf, size_t avail, uint32_t max_len, fw_msg *msg, size_t *consumed)
{
    int32_t len;

    *consumed = 0;
    if (max_len == 0)
        max_len = FW_MSG_DEFAULT_MAX;
    if (avail < 5)
        return FW_FRAME_NEED_MORE;
    len = (int32_t)fw_read_u32(buf + 1);
    if (len < 4)
        return FW_FRAME_MALFORMED;
    if ((uint32_t)len > max_len)
        return FW_FRAME_TOO_LARGE;
    *consumed = 1 + (size_t)len;
    if (avail < *consumed)
        return FW_FRAME_NEED_MORE;
    msg->type = (char)buf[0];
    msg->body = buf + 5;
    msg->len = (uint32_t)len - 4;
    return FW_FRAME_OK;
}

fw_status
fw_msg_expect_empty(const fw_msg *m)
{
    return m->len == 0 ? FW_OK : FW_ERR_PROTOCOL;
}

/* ------------------------------------------------------------- cursor */

typedef struct cursor {
    const uint8_t *p;
    size_t len;
    size_t off;
} cursor;

static void
cur_init(cursor *c, const fw_msg *m)
{
    c->p = m->body;
    c->len = m->len;
    c->off = 0;
}

static size_t
cur_left(const cursor *c)
{
    return c->len - c->off;
}

static int
cur_i32(cursor *c, int32_t *v)
{
    if (cur_left(c) < 4)
        return 0;
    *v = (int32_t)fw_read_u32(c->p + c->off);
    c->off += 4;
    return 1;
}

static int
cur_i16(cursor *c, int16_t *v)
{
    if (cur_left(c) < 2)
        return 0;
    *v = (int16_t)fw_read_u16(c->p + c->off);
    c->off += 2;
    return 1;
}

static int
cur_u8(cursor *c, uint8_t *v)
{
    if (cur_left(c) < 1)
        return 0;
    *v = c->p[c->off++];
    return 1;
}

/* A NUL-terminated string that ends inside the body. */
static int
cur_str(cursor *c, const char **s)
{
    const uint8_t *nul;

    if (cur_left(c) == 0)
        return 0;
    nul = memchr(c->p + c->off, 0, cur_left(c));
    if (nul == NULL)
        return 0;
    *s = (const char *)(c->p + c->off);
    c->off = (size_t)(nul - c->p) + 1;
    return 1;
}

static int
cur_bytes(cursor *c, size_t n, const uint8_t **p)
{
    if (cur_left(c) < n)
        return 0;
    *p = c->p + c->off;
    c->off += n;
    return 1;
}

static fw_status
cur_end(const cursor *c)
{
    return cur_left(c) == 0 ? FW_OK : FW_ERR_PROTOCOL;
}

/* ------------------------------------------------------------ parsers */

fw_status
fw_parse_fields(const fw_msg *m, fw_pg_fields *out)
{
    cursor c;
    const char *sev_s = NULL, *sev_v = NULL;

    memset(out, 0, sizeof(*out));
    cur_init(&c, m);
    for (;;) {
        uint8_t code;
        const char *val;

        if (!cur_u8(&c, &code))
            return FW_ERR_PROTOCOL;
        if (code == 0)
            break;
        if (!cur_str(&c, &val))
            return FW_ERR_PROTOCOL;
        switch (code) {
        case 'S': sev_s = val; break;
        case 'V': sev_v = val; break;
        case 'C': out->sqlstate = val; break;
        case 'M': out->message = val; break;
        case 'D': out->detail = val; break;
        case 'H': out->hint = val; break;
        case 'P': out->position = val; break;
        default: break;     /* other fields are allowed and ignored */
        }
    }
    out->severity = sev_v != NULL ? sev_v : sev_s;
    return cur_end(&c);
}

fw_status
fw_parse_auth(const fw_msg *m, fw_auth_msg *out)
{
    cursor c;

    memset(out, 0, sizeof(*out));
    cur_init(&c, m);
    if (!cur_i32(&c, &out->code))
        return FW_ERR_PROTOCOL;
    switch (out->code) {
    case FW_AUTH_OK:
    case FW_AUTH_KERBEROS_V5:
    case FW_AUTH_CLEARTEXT_PASSWORD:
    case FW_AUTH_GSS:
    case FW_AUTH_SSPI:
        return cur_end(&c);
    case FW_AUTH_MD5_PASSWORD:   /* a 4-byte salt */
        if (!cur_bytes(&c, 4, &out->data))
            return FW_ERR_PROTOCOL;
        out->data_len = 4;
        return cur_end(&c);
    case FW_AUTH_SASL:           /* mechanism names, ended by an empty one */
        for (;;) {
            const char *mech;

            if (!cur_str(&c, &mech))
                return FW_ERR_PROTOCOL;
            if (mech[0] == '\0')
                break;
            if (out->nmechs >= FW_MSG_MAX_SASL_MECHS)
                return FW_ERR_PROTOCOL;
            out->mechs[out->nmechs++] = mech;
        }
        if (out->nmechs == 0)
            return FW_ERR_PROTOCOL;
        return cur_end(&c);
    default:    /* GSSContinue, SASLContinue, SASLFinal, SCMCredential, unknown */
        out->data_len = (uint32_t)cur_left(&c);
        out->data = out->data_len > 0 ? c.p + c.off : NULL;
        return FW_OK;
    }
}

fw_status
fw_parse_parameter_status(const fw_msg *m, const char **name, const char **value)
{
    cursor c;

    cur_init(&c, m);
    if (!cur_str(&c, name) || !cur_str(&c, value))
        return FW_ERR_PROTOCOL;
    return cur_end(&c);
}

fw_status
fw_parse_backend_key(const fw_msg *m, int32_t *pid, int32_t *key)
{
    cursor c;

    cur_init(&c, m);
    if (!cur_i32(&c, pid) || !cur_i32(&c, key))
        return FW_ERR_PROTOCOL;
    return cur_end(&c);
}

fw_status
fw_parse_ready(const fw_msg *m, char *tx_status)
{
    cursor c;
    uint8_t st;

    cur_init(&c, m);
    if (!cur_u8(&c, &st))
        return FW_ERR_PROTOCOL;
    if (st != FW_TX_IDLE && st != FW_TX_IN_BLOCK && st != FW_TX_FAILED)
        return FW_ERR_PROTOCOL;
    *tx_status = (char)st;
    return cur_end(&c);
}

fw_status
fw_parse_command_complete(const fw_msg *m, const char **tag)
{
    cursor c;

    cur_init(&c, m);
    if (!cur_str(&c, tag))
        return FW_ERR_PROTOCOL;
    return cur_end(&c);
}

fw_status
fw_parse_notification(const fw_msg *m, int32_t *pid, const char **channel, const char **payload)
{
    cursor c;

    cur_init(&c, m);
    if (!cur_i32(&c, pid) || !cur_str(&c, channel) || !cur_str(&c, payload))
        return FW_ERR_PROTOCOL;
    return cur_end(&c);
}

fw_status
fw_parse_negotiate(const fw_msg *m, int32_t *minor, int32_t *n_unrecognized)
{
    cursor c;
    int32_t i;

    cur_init(&c, m);
    if (!cur_i32(&c, minor) || !cur_i32(&c, n_unrecognized))
        return FW_ERR_PROTOCOL;
    if (*minor < 0 || *n_unrecognized < 0)
        return FW_ERR_PROTOCOL;
    /* Each option name takes at least one byte: a cheap bound first. */
    if ((size_t)*n_unrecognized > cur_left(&c))
        return FW_ERR_PROTOCOL;
    for (i = 0; i < *n_unrecognized; i++) {
        const char *opt;

        if (!cur_str(&c, &opt))
            return FW_ERR_PROTOCOL;
    }
    return cur_end(&c);
}

/* One RowDescription field: a name and 18 fixed bytes. */
static int
read_field_desc(cursor *c, fw_field_desc *out)
{
    int32_t table_oid, type_oid, typmod;

    if (!cur_str(c, &out->name) || !cur_i32(c, &table_oid) || !cur_i16(c, &out->attnum) ||
        !cur_i32(c, &type_oid) || !cur_i16(c, &out->typlen) || !cur_i32(c, &typmod) ||
        !cur_i16(c, &out->format))
        return 0;
    out->table_oid = (uint32_t)table_oid;
    out->type_oid = (uint32_t)type_oid;
    out->typmod = typmod;
    return 1;
}

fw_status
fw_parse_row_description(const fw_msg *m, int16_t *nfields)
{
    cursor c;
    int16_t n, i;
    fw_field_desc fd;

    cur_init(&c, m);
    if (!cur_i16(&c, &n))
        return FW_ERR_PROTOCOL;
    if (n < 0 || n > FW_MSG_MAX_FIELDS)
        return FW_ERR_PROTOCOL;
    /* Each field takes at least 19 bytes (empty name + 18). */
    if ((size_t)n * 19 > cur_left(&c))
        return FW_ERR_PROTOCOL;
    /* Validate the whole message now, so that the walker below cannot
     * meet a malformed field after the caller has started using some. */
    for (i = 0; i < n; i++) {
        if (!read_field_desc(&c, &fd))
            return FW_ERR_PROTOCOL;
    }
    if (cur_end(&c) != FW_OK)
        return FW_ERR_PROTOCOL;
    *nfields = n;
    return FW_OK;
}

fw_status
fw_parse_row_description_field(const fw_msg *m, size_t *offset, fw_field_desc *out)
{
    cursor c;

    cur_init(&c, m);
    if (*offset < 2 || *offset > c.len)
        return FW_ERR_PROTOCOL;
    c.off = *offset;
    if (!read_field_desc(&c, out))
        return FW_ERR_PROTOCOL;
    *offset = c.off;
    return FW_OK;
}

/* Walks a DataRow: checks the column count and every column length; with
 * fn, calls it for each column (only after the whole row checked out). */
static fw_status
walk_data_row(const fw_msg *m, int16_t *ncols, fw_column_fn fn, void *arg)
{
    cursor c;
    int16_t n, i;

    cur_init(&c, m);
    if (!cur_i16(&c, &n))
        return FW_ERR_PROTOCOL;
    if (n < 0 || n > FW_MSG_MAX_FIELDS)
        return FW_ERR_PROTOCOL;
    /* Each column takes at least its 4-byte length. */
    if ((size_t)n * 4 > cur_left(&c))
        return FW_ERR_PROTOCOL;
    for (i = 0; i < n; i++) {
        int32_t len;
        const uint8_t *v;

        if (!cur_i32(&c, &len))
            return FW_ERR_PROTOCOL;
        if (len == -1)
            continue;
        if (len < 0 || !cur_bytes(&c, (size_t)len, &v))
            return FW_ERR_PROTOCOL;
    }
    if (cur_end(&c) != FW_OK)
        return FW_ERR_PROTOCOL;
    *ncols = n;
    if (fn == NULL)
        return FW_OK;

    /* Second pass: every length is known to be good. */
    cur_init(&c, m);
    c.off = 2;
    for (i = 0; i < n; i++) {
        int32_t len = -1;
        const uint8_t *v = NULL;
        fw_status st;

        (void)cur_i32(&c, &len);
        if (len >= 0)
            (void)cur_bytes(&c, (size_t)len, &v);
        st = fn(arg, i, v, len);
        if (st != FW_OK)
            return st;
    }
    return FW_OK;
}

fw_status
fw_parse_data_row1(const fw_msg *m, const uint8_t **value, uint32_t *value_len)
{
    int16_t n;
    int32_t len;

    if (walk_data_row(m, &n, NULL, NULL) != FW_OK || n != 1)
        return FW_ERR_PROTOCOL;
    len = (int32_t)fw_read_u32(m->body + 2);
    if (len == -1) {
        *value = NULL;
        *value_len = 0;
    } else {
        *value = m->body + 6;
        *value_len = (uint32_t)len;
    }
    return FW_OK;
}

fw_status
fw_parse_data_row(const fw_msg *m, fw_column_fn fn, void *arg)
{
    int16_t n;

    return walk_data_row(m, &n, fn, arg);
}
