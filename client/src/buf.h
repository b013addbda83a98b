/*
 * buf.h — a growable byte buffer, used for outgoing messages and the
 * receive buffer.  All sizes are checked; growth beyond `limit` (when
 * non-zero) fails instead of allocating.
 */
#ifndef FW_BUF_H
#define FW_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "fraiseql_wire.h"

typedef struct fw_buf {
    uint8_t *data;
    size_t len;     /* bytes in use */
    size_t cap;     /* bytes allocated */
    size_t limit;   /* 0 = no limit; else cap never exceeds it */
} fw_buf;

void fw_buf_init(fw_buf *b, size_t limit);
void fw_buf_free(fw_buf *b);
/* Ensures room for `extra` more bytes: FW_OK, FW_ERR_LIMIT (past the
 * buffer's limit) or FW_ERR_MEMORY (allocation failed, or a size no object
 * can have). */
fw_status fw_buf_reserve(fw_buf *b, size_t extra);
fw_status fw_buf_put(fw_buf *b, const void *p, size_t n);
fw_status fw_buf_put_u8(fw_buf *b, uint8_t v);
fw_status fw_buf_put_i16(fw_buf *b, int16_t v);   /* network order */
fw_status fw_buf_put_i32(fw_buf *b, int32_t v);   /* network order */
fw_status fw_buf_put_str(fw_buf *b, const char *s); /* with its NUL */
/* Drops the first n bytes (memmove of the rest). */
void fw_buf_consume(fw_buf *b, size_t n);

/* Network-order readers for already bounds-checked memory. */
static inline uint32_t fw_read_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint16_t fw_read_u16(const uint8_t *p)
{
    return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
}

#endif /* FW_BUF_H */
