/*
 * fuzz_decode.c — libFuzzer target for the backend-message decoder.
 *
 * The input is a stream of backend bytes.  Every message the framer cuts
 * out is copied into an allocation of exactly its body's size (so ASan sees
 * a read past the body, not just past the input) and given to every
 * parser, whatever its type byte.  The decoder's promises are checked:
 * a RowDescription that parses can be walked field by field to its exact
 * end; a DataRow's values lie inside the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct walk {
    const uint8_t *body;
    uint32_t len;
    int columns;
} walk;

static fw_status
check_column(void *arg, int index, const uint8_t *value, int32_t len)
{
    walk *w = arg;

    if (index != w->columns)
        abort();
    if (value == NULL) {
        if (len != -1)
            abort();
    } else if (len < 0 || value < w->body || (size_t)len > w->len ||
               (size_t)(value - w->body) > w->len - (size_t)len) {
        abort();
    }
    w->columns++;
    return (index == 3) ? FW_ERR_SCHEMA : FW_OK;     /* also take the stop path */
}

static void
parse_all(const fw_msg *m)
{
    fw_pg_fields f;
    fw_auth_msg a;
    const char *s1, *s2, *s3;
    int32_t i1, i2;
    char ch;
    int16_t n;
    const uint8_t *v;
    uint32_t vl;
    fw_status st;

    (void)fw_msg_expect_empty(m);
    if (fw_parse_fields(m, &f) == FW_OK && f.message != NULL)
        (void)strlen(f.message);
    if (fw_parse_auth(m, &a) == FW_OK) {
        int i;

        if (a.nmechs < 0 || a.nmechs > FW_MSG_MAX_SASL_MECHS)
            abort();
        for (i = 0; i < a.nmechs; i++)
            (void)strlen(a.mechs[i]);
        if (a.data_len > m->len)
            abort();
    }
    if (fw_parse_parameter_status(m, &s1, &s2) == FW_OK)
        (void)(strlen(s1) + strlen(s2));
    (void)fw_parse_backend_key(m, &i1, &i2);
    if (fw_parse_ready(m, &ch) == FW_OK && ch != 'I' && ch != 'T' && ch != 'E')
        abort();
    if (fw_parse_command_complete(m, &s1) == FW_OK)
        (void)strlen(s1);
    if (fw_parse_notification(m, &i1, &s2, &s3) == FW_OK)
        (void)(strlen(s2) + strlen(s3));
    (void)fw_parse_negotiate(m, &i1, &i2);

    if (fw_parse_row_description(m, &n) == FW_OK) {
        size_t off = 2;
        int16_t i;
        fw_field_desc fd;

        if (n < 0 || n > FW_MSG_MAX_FIELDS)
            abort();
        for (i = 0; i < n; i++) {
            if (fw_parse_row_description_field(m, &off, &fd) != FW_OK)
                abort();
            (void)strlen(fd.name);
        }
        if (off != m->len)
            abort();
    }

    st = fw_parse_data_row1(m, &v, &vl);
    if (st == FW_OK && v != NULL && (v < m->body || vl > m->len || (size_t)(v - m->body) > m->len - vl))
        abort();
    {
        walk w = {m->body, m->len, 0};

        (void)fw_parse_data_row(m, check_column, &w);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    /* A small cap so that TOO_LARGE is reachable. */
    while (off < size) {
        fw_msg m;
        size_t used;
        fw_frame_result r = fw_msg_frame(data + off, size - off, 1u << 20, &m, &used);

        if (r != FW_FRAME_OK) {
            if (r == FW_FRAME_NEED_MORE && used != 0 && used <= size - off)
                abort();
            break;
        }
        if (used != 5 + (size_t)m.len || used > size - off)
            abort();
        {
            uint8_t *copy = malloc(m.len ? m.len : 1);

            if (copy == NULL)
                return 0;
            memcpy(copy, m.body, m.len);
            m.body = copy;
            parse_all(&m);
            free(copy);
        }
        off += used;
    }
    return 0;
}
