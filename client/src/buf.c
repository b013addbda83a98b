/*
 * buf.c — the growable byte buffer behind outgoing messages and the
 * receive buffer.  Every size computation is checked for overflow, and a
 * buffer with a limit never allocates past it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
fw_buf_init(fw_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void
fw_buf_free(fw_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

fw_status
fw_buf_reserve(fw_buf *b, size_t extra)
{
    size_t need, newcap;
    uint8_t *p;

    if (extra > SIZE_MAX - b->len)
        return FW_ERR_MEMORY;
    need = b->len + extra;
    if (need <= b->cap)
        return FW_OK;
    /* No object may exceed PTRDIFF_MAX; refuse before asking malloc. */
    if (need > PTRDIFF_MAX)
        return FW_ERR_MEMORY;
    if (b->limit != 0 && need > b->limit)
        return FW_ERR_LIMIT;

    /* Grow geometrically, but never past the limit. */
    newcap = b->cap < 256 ? 256 : b->cap;
    while (newcap < need) {
        if (newcap > PTRDIFF_MAX / 2) {
            newcap = need;
            break;
        }
        newcap *= 2;
    }
    if (b->limit != 0 && newcap > b->limit)
        newcap = b->limit;

    p = realloc(b->data, newcap);
    if (p == NULL)
        return FW_ERR_MEMORY;
    b->data = p;
    b->cap = newcap;
    return FW_OK;
}

fw_status
fw_buf_put(fw_buf *b, const void *p, size_t n)
{
    fw_status st;

    if (n == 0)
        return FW_OK;
    st = fw_buf_reserve(b, n);
    if (st != FW_OK)
        return st;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return FW_OK;
}

fw_status
fw_buf_put_u8(fw_buf *b, uint8_t v)
{
    return fw_buf_put(b, &v, 1);
}

fw_status
fw_buf_put_i16(fw_buf *b, int16_t v)
{
    uint16_t u = (uint16_t)v;
    uint8_t p[2] = {(uint8_t)(u >> 8), (uint8_t)u};

    return fw_buf_put(b, p, 2);
}

fw_status
fw_buf_put_i32(fw_buf *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t p[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};

    return fw_buf_put(b, p, 4);
}

fw_status
fw_buf_put_str(fw_buf *b, const char *s)
{
    return fw_buf_put(b, s, strlen(s) + 1);
}

void
fw_buf_consume(fw_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}
