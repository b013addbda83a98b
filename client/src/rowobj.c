/*
 * rowobj.c — rows as json-c objects: fw_stream_next_object().
 *
 * A thin layer over fw_stream_next(): the row's text (a view into the
 * receive buffer) is parsed with json-c's tokener in strict mode, with a
 * nesting cap, and must be exactly one JSON value (surrounding JSON
 * whitespace allowed: a json column keeps the text as it was written).
 *
 * A row that does not parse is an error of that row only: it is recorded on
 * the connection and the stream goes on, so the caller may skip it (call
 * again) or stop (fw_stream_close).  See fraiseql_wire.h for the classes.
 */
#include <json.h>
#include <stdint.h>

#include "internal.h"

/* PostgreSQL itself nests jsonb as deep as its stack allows; a document
 * deeper than this is refused rather than parsed recursively. */
#define FW_ROW_MAX_DEPTH 512

FW_API fw_status
fw_stream_next_object(fw_stream *s, struct json_object **out)
{
    const char *json;
    size_t len;
    fw_status st;

    if (out)
        *out = NULL;
    if (!s || !out) {
        if (s && s->conn)
            fw_error_set(&s->conn->err, FW_ERR_USAGE, "invalid arguments to fw_stream_next_object");
        return FW_ERR_USAGE;
    }
    st = fw_stream_next(s, &json, &len);
    if (st != FW_OK || json == NULL)   /* FW_DONE, an error, or SQL NULL */
        return st;
    if (len > INT32_MAX) {   /* cannot happen: a DataRow field is at most 2^31-1 bytes */
        fw_error_set(&s->conn->err, FW_ERR_LIMIT, "row of %zu bytes is too large to parse", len);
        return FW_ERR_LIMIT;
    }

    struct json_tokener *tok = json_tokener_new_ex(FW_ROW_MAX_DEPTH);
    if (!tok) {
        fw_error_set(&s->conn->err, FW_ERR_MEMORY, "out of memory parsing a row");
        return FW_ERR_MEMORY;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *obj = json_tokener_parse_ex(tok, json, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue && used == len) {
        /* A scalar at the very end ("12", "true") is only complete once the
         * tokener sees what follows it: a NUL marks the end of the input. */
        struct json_object *end = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        if (jerr == json_tokener_success)
            obj = end;
        else
            json_object_put(end);
    }
    json_tokener_free(tok);

    if (jerr == json_tokener_success && used == len) {
        *out = obj;   /* NULL for the JSON value null */
        return FW_OK;
    }
    json_object_put(obj);
    if (jerr == json_tokener_error_depth) {
        fw_error_set(&s->conn->err, FW_ERR_LIMIT,
                     "row %llu is nested deeper than %d levels, the limit of "
                     "fw_stream_next_object",
                     (unsigned long long)fw_stream_rows(s), FW_ROW_MAX_DEPTH);
        return FW_ERR_LIMIT;
    }
    fw_error_set(&s->conn->err, FW_ERR_PROTOCOL, "row %llu is not valid JSON: %s at byte %zu",
                 (unsigned long long)fw_stream_rows(s),
                 jerr == json_tokener_success ? "unexpected text after the value"
                                              : json_tokener_error_desc(jerr),
                 used);
    return FW_ERR_PROTOCOL;
}
