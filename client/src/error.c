/*
 * error.c — the error record kept on a connection, the status names, and
 * the rule for which errors a retry can cure.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

FW_API const char *
fw_strerror(fw_status status)
{
    switch (status) {
    case FW_OK: return "ok";
    case FW_DONE: return "done";
    case FW_AGAIN: return "again";
    case FW_ERR_IO: return "io";
    case FW_ERR_TLS: return "tls";
    case FW_ERR_AUTH: return "auth";
    case FW_ERR_PROTOCOL: return "protocol";
    case FW_ERR_SQL: return "sql";
    case FW_ERR_SCHEMA: return "schema";
    case FW_ERR_CANCELLED: return "cancelled";
    case FW_ERR_TIMEOUT: return "timeout";
    case FW_ERR_CONFIG: return "config";
    case FW_ERR_MEMORY: return "memory";
    case FW_ERR_USAGE: return "usage";
    }
    return "unknown";
}

void
fw_error_clear(fw_error *e)
{
    free(e->message);
    free(e->sqlstate);
    free(e->detail);
    free(e->hint);
    memset(e, 0, sizeof *e);
    e->cls = FW_OK;
}

static char *
dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void
fw_error_set(fw_error *e, fw_status cls, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fw_error_clear(e);
    e->cls = cls;
    /* Out of memory leaves the class without a message: accessors cope. */
    e->message = strdup(text);
}

/* The server's P field: a decimal character index from 1; anything else
 * (a hostile "99999999999", "-1", "12abc") is 0, "no position". */
static int
parse_position(const char *s)
{
    char *end;
    long v;

    if (!s || *s < '0' || *s > '9')
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > INT_MAX)
        return 0;
    return (int)v;
}

void
fw_error_set_fields(fw_error *e, fw_status cls, const fw_pg_fields *f)
{
    fw_error_clear(e);
    e->cls = cls;
    e->message = strdup(f->message ? f->message : "the server reported an error without a message");
    e->sqlstate = dup_or_null(f->sqlstate);
    e->detail = dup_or_null(f->detail);
    e->hint = dup_or_null(f->hint);
    e->position = parse_position(f->position);
}

void
fw_error_move(fw_error *dst, fw_error *src)
{
    if (dst == src)
        return;
    fw_error_clear(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
    src->cls = FW_OK;
}

int
fw_error_is_retriable(const fw_error *e)
{
    const char *s = e->sqlstate;

    if (e->cls == FW_ERR_IO || e->cls == FW_ERR_TIMEOUT)
        return 1;
    if (!s || strlen(s) != 5)
        return 0;
    if (strncmp(s, "40", 2) == 0 || strncmp(s, "53", 2) == 0)
        return 1;
    return strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0;
}

/* ------------------------------------------------- public accessors */

FW_API fw_status
fw_conn_error_class(const fw_conn *conn)
{
    return conn ? conn->err.cls : FW_ERR_USAGE;
}

FW_API const char *
fw_conn_error_message(const fw_conn *conn)
{
    if (!conn || conn->err.cls == FW_OK)
        return NULL;
    return conn->err.message ? conn->err.message : fw_strerror(conn->err.cls);
}

FW_API const char *
fw_conn_error_sqlstate(const fw_conn *conn)
{
    return conn ? conn->err.sqlstate : NULL;
}

FW_API const char *
fw_conn_error_detail(const fw_conn *conn)
{
    return conn ? conn->err.detail : NULL;
}

FW_API const char *
fw_conn_error_hint(const fw_conn *conn)
{
    return conn ? conn->err.hint : NULL;
}

FW_API int
fw_conn_error_position(const fw_conn *conn)
{
    return conn ? conn->err.position : 0;
}

FW_API int
fw_conn_error_retriable(const fw_conn *conn)
{
    return conn && conn->err.cls != FW_OK ? fw_error_is_retriable(&conn->err) : 0;
}

FW_API int
fw_conn_needs_password(const fw_conn *conn)
{
    return conn ? conn->password_needed : 0;
}
