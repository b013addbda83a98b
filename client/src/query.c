/*
 * query.c — the query builder: SELECT data FROM v_<entity> … with every
 * value as a parameter and every name validated and quoted.
 *
 * Nothing the caller gives is spliced into SQL except through
 * fw_query_*_sql_trusted(), which are named so.  Relation names are
 * validated identifiers, always double-quoted; the filter, the ORDER BY
 * keys, LIMIT and OFFSET are parameters ($n).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "query.h"

#define FW_NAMEDATALEN 63           /* PostgreSQL's NAMEDATALEN - 1 */
#define FW_MAX_ORDER_KEYS 32
#define FW_MAX_PATH_KEYS 32

typedef struct fw_order_key {
    char **path;         /* keys, owned */
    int npath;
    fw_order_type type;
    unsigned flags;
} fw_order_key;

struct fw_query {
    char *schema;            /* NULL = search_path; owned */
    char *name;              /* relation name, unquoted; owned */
    char *entity;            /* for v_/tv_ switching; NULL after set_relation */
    char *filter;            /* owned JSON text, or NULL */
    fw_order_key order[FW_MAX_ORDER_KEYS];
    int norder;
    int64_t limit, offset;   /* -1 = none */
    size_t chunk;
    char *where_trusted, *order_trusted;
    fw_predicate_entry predicates[FW_MAX_PREDICATES];
    int npredicates;
    int parallel;            /* parts asked for (fw_query_set_parallel); 1 = serial */

    /* rendered */
    char *sql;
    char **params;
    int nparams;
    char *error;             /* message of the last failed call, owned */
    fw_status error_class;   /* its class; FW_OK after a successful call */
};

static fw_status query_fail_v(fw_query *q, fw_status cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static fw_status query_fail(fw_query *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static fw_status query_limit(fw_query *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static fw_status
query_fail_v(fw_query *q, fw_status cls, const char *fmt, va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof msg, fmt, ap);
    free(q->error);
    q->error = strdup(msg);
    q->error_class = q->error ? cls : FW_ERR_MEMORY;
    return q->error_class;
}

/* An invalid argument: FW_ERR_CONFIG. */
static fw_status
query_fail(fw_query *q, const char *fmt, ...)
{
    va_list ap;
    fw_status st;

    va_start(ap, fmt);
    st = query_fail_v(q, FW_ERR_CONFIG, fmt, ap);
    va_end(ap);
    return st;
}

/* A count, depth or size over the builder's limits: FW_ERR_LIMIT. */
static fw_status
query_limit(fw_query *q, const char *fmt, ...)
{
    va_list ap;
    fw_status st;

    va_start(ap, fmt);
    st = query_fail_v(q, FW_ERR_LIMIT, fmt, ap);
    va_end(ap);
    return st;
}

/* An allocation failed: FW_ERR_MEMORY, with no message to allocate. */
static fw_status
query_oom(fw_query *q)
{
    free(q->error);
    q->error = NULL;
    q->error_class = FW_ERR_MEMORY;
    return FW_ERR_MEMORY;
}

static void
query_clear_error(fw_query *q)
{
    free(q->error);
    q->error = NULL;
    q->error_class = FW_OK;
}

/* An identifier we accept without quoting rules: letters, digits, _ and $,
 * not starting with a digit or $. */
static int
plain_identifier(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        int digit = (c >= '0' && c <= '9') || c == '$';
        if (!(alpha || (i > 0 && digit)))
            return 0;
    }
    return 1;
}

/* Parses one part of a relation name: plain, or "double quoted" with ""
 * escapes.  Returns the unquoted name (malloc'd) and advances *p, or NULL
 * (with *why set). */
static char *
parse_name_part(const char **p, const char **why)
{
    const char *s = *p;
    if (*s == '"') {
        fw_buf b;
        fw_buf_init(&b, 0);
        s++;
        for (;;) {
            if (*s == '\0') {
                fw_buf_free(&b);
                *why = "unterminated quoted identifier";
                return NULL;
            }
            if (*s == '"') {
                if (s[1] == '"') {
                    s += 2;
                    if (fw_buf_put_u8(&b, '"') != FW_OK)
                        goto oom;
                    continue;
                }
                s++;
                break;
            }
            if (fw_buf_put_u8(&b, (uint8_t)*s++) != FW_OK)
                goto oom;
        }
        if (b.len == 0 || b.len > FW_NAMEDATALEN) {
            fw_buf_free(&b);
            *why = b.len == 0 ? "empty identifier" : "identifier longer than 63 bytes";
            return NULL;
        }
        if (fw_buf_put_u8(&b, 0) != FW_OK)
            goto oom;
        *p = s;
        return (char *)b.data;
oom:
        fw_buf_free(&b);
        *why = "out of memory";
        return NULL;
    }
    size_t len = strcspn(s, ".");
    if (!plain_identifier(s, len)) {
        *why = "not a valid identifier (letters, digits, _ and $, not starting with a digit; "
               "double-quote other names)";
        return NULL;
    }
    if (len > FW_NAMEDATALEN) {
        *why = "identifier longer than 63 bytes";
        return NULL;
    }
    char *out = strndup(s, len);
    if (!out)
        *why = "out of memory";
    *p = s + len;
    return out;
}

/* "name" or "schema.name" into its parts. */
static fw_status
parse_relation(fw_query *q, const char *text, char **schema, char **name)
{
    const char *p = text, *why = NULL;
    char *first, *second = NULL;

    *schema = *name = NULL;
    if (text == NULL || *text == '\0')
        return query_fail(q, "relation name is empty");
    first = parse_name_part(&p, &why);
    if (!first)
        return query_fail(q, "invalid relation name \"%s\": %s", text, why);
    if (*p == '.') {
        p++;
        second = parse_name_part(&p, &why);
        if (!second) {
            free(first);
            return query_fail(q, "invalid relation name \"%s\": %s", text, why);
        }
    }
    if (*p != '\0') {
        free(first);
        free(second);
        return query_fail(q, "invalid relation name \"%s\": unexpected text after the name", text);
    }
    if (second) {
        *schema = first;
        *name = second;
    } else {
        *name = first;
    }
    return FW_OK;
}

static void
query_invalidate(fw_query *q)
{
    free(q->sql);
    q->sql = NULL;
    for (int i = 0; i < q->nparams; i++)
        free(q->params[i]);
    free(q->params);
    q->params = NULL;
    q->nparams = 0;
}

/* Sets the relation to prefix + entity (entity already validated). */
static fw_status
query_set_entity_relation(fw_query *q, const char *prefix)
{
    size_t n = strlen(prefix) + strlen(q->entity) + 1;
    char *name = malloc(n);
    if (!name)
        return query_oom(q);
    snprintf(name, n, "%s%s", prefix, q->entity);
    free(q->name);
    q->name = name;
    query_invalidate(q);
    return FW_OK;
}

FW_API fw_status
fw_query_new(const char *entity, fw_query **out)
{
    fw_query *q;
    fw_status st;

    if (!out)
        return FW_ERR_USAGE;
    *out = NULL;
    q = calloc(1, sizeof *q);
    if (!q)
        return FW_ERR_MEMORY;
    q->limit = q->offset = -1;
    q->chunk = FW_DEFAULT_CHUNK;
    q->parallel = 1;
    *out = q;

    if (entity == NULL || *entity == '\0')
        return query_fail(q, "entity name is empty");
    const char *dot = strchr(entity, '.');
    const char *base = dot ? dot + 1 : entity;
    size_t schema_len = dot ? (size_t)(dot - entity) : 0;
    if (dot && !plain_identifier(entity, schema_len))
        return query_fail(q, "invalid entity \"%s\": the schema is not a valid identifier "
                          "(letters, digits, _ and $, not starting with a digit)", entity);
    if (dot && schema_len > FW_NAMEDATALEN)
        return query_fail(q, "invalid entity \"%s\": schema name longer than 63 bytes", entity);
    if (!plain_identifier(base, strlen(base)))
        return query_fail(q, "invalid entity \"%s\": not a valid identifier "
                          "(letters, digits, _ and $, not starting with a digit)", entity);
    if (strlen(base) > FW_ENTITY_NAME_MAX)
        return query_fail(q, "invalid entity \"%s\": longer than %d bytes", entity,
                          FW_ENTITY_NAME_MAX);
    q->entity = strdup(base);
    if (dot)
        q->schema = strndup(entity, schema_len);
    if (!q->entity || (dot && !q->schema))
        return query_oom(q);
    st = query_set_entity_relation(q, "v_");
    return st;
}

FW_API void
fw_query_free(fw_query *q)
{
    if (!q)
        return;
    query_invalidate(q);
    for (int i = 0; i < q->norder; i++) {
        for (int k = 0; k < q->order[i].npath; k++)
            free(q->order[i].path[k]);
        free(q->order[i].path);
    }
    free(q->schema);
    free(q->name);
    free(q->entity);
    free(q->filter);
    free(q->where_trusted);
    free(q->order_trusted);
    free(q->error);
    free(q);
}

FW_API fw_status
fw_query_error_class(const fw_query *q)
{
    return q ? q->error_class : FW_ERR_USAGE;
}

FW_API const char *
fw_query_error_message(const fw_query *q)
{
    if (!q || q->error_class == FW_OK)
        return NULL;
    return q->error ? q->error : "out of memory";
}


FW_API fw_status
fw_query_use_table(fw_query *q)
{
    if (!q)
        return FW_ERR_USAGE;
    query_clear_error(q);
    if (!q->entity)
        return query_fail(q, "fw_query_use_table: the relation was set explicitly");
    return query_set_entity_relation(q, "tv_");
}

FW_API fw_status
fw_query_set_relation(fw_query *q, const char *relation)
{
    char *schema, *name;
    fw_status st;

    if (!q)
        return FW_ERR_USAGE;
    query_clear_error(q);
    st = parse_relation(q, relation, &schema, &name);
    if (st != FW_OK)
        return st;
    free(q->schema);
    free(q->name);
    free(q->entity);
    q->entity = NULL;
    q->schema = schema;
    q->name = name;
    query_invalidate(q);
    return FW_OK;
}

FW_API fw_status
fw_query_set_filter(fw_query *q, const char *filter_json)
{
    if (!q)
        return FW_ERR_USAGE;
    query_clear_error(q);
    if (filter_json == NULL) {
        free(q->filter);
        q->filter = NULL;
        query_invalidate(q);
        return FW_OK;
    }
    struct json_tokener *tok = json_tokener_new_ex(FW_FILTER_MAX_DEPTH);
    if (!tok)
        return query_oom(q);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    size_t len = strlen(filter_json);
    struct json_object *obj = json_tokener_parse_ex(tok, filter_json, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (len > INT32_MAX)
        jerr = json_tokener_error_size;
    if (jerr == json_tokener_error_depth || jerr == json_tokener_error_size) {
        json_object_put(obj);
        if (jerr == json_tokener_error_size)
            return query_limit(q, "filter of %zu bytes is too large", len);
        return query_limit(q, "invalid filter: nested deeper than %d levels, the client's limit",
                           FW_FILTER_MAX_DEPTH);
    }
    if (jerr != json_tokener_success || !obj) {
        json_object_put(obj);
        return query_fail(q, "invalid filter: %s",
                          jerr == json_tokener_continue ? "unexpected end of input"
                                                        : json_tokener_error_desc(jerr));
    }
    while (used < len && strchr(" \t\r\n", filter_json[used]))
        used++;
    int is_object = json_object_is_type(obj, json_type_object);
    json_object_put(obj);
    if (used != len)
        return query_fail(q, "invalid filter: unexpected text after the JSON value");
    if (!is_object)
        return query_fail(q, "invalid filter: a filter is a JSON object, e.g. "
                          "{\"status\": {\"eq\": \"active\"}}");
    char *copy = strdup(filter_json);
    if (!copy)
        return query_oom(q);
    free(q->filter);
    q->filter = copy;
    query_invalidate(q);
    return FW_OK;
}

FW_API fw_status
fw_query_add_order_by(fw_query *q, const char *field_path, fw_order_type type, unsigned flags)
{
    if (!q)
        return FW_ERR_USAGE;
    query_clear_error(q);
    if (q->norder >= FW_MAX_ORDER_KEYS)
        return query_limit(q, "too many ORDER BY fields (at most %d)", FW_MAX_ORDER_KEYS);
    if ((flags & FW_ORDER_NULLS_FIRST) && (flags & FW_ORDER_NULLS_LAST))
        return query_fail(q, "ORDER BY \"%s\": NULLS FIRST and NULLS LAST together",
                          field_path ? field_path : "");
    if (flags & ~(unsigned)(FW_ORDER_DESC | FW_ORDER_NULLS_FIRST | FW_ORDER_NULLS_LAST))
        return query_fail(q, "ORDER BY: unknown flags 0x%x", flags);
    if ((int)type < FW_ORDER_JSONB || type > FW_ORDER_BOOLEAN)
        return query_fail(q, "ORDER BY: unknown type %d", (int)type);
    if (field_path == NULL || *field_path == '\0')
        return query_fail(q, "ORDER BY field path is empty");

    fw_order_key key = {.type = type, .flags = flags};
    key.path = calloc(FW_MAX_PATH_KEYS, sizeof(char *));
    if (!key.path)
        return query_oom(q);
    const char *p = field_path;
    for (;;) {
        size_t n = strcspn(p, ".");
        if (n == 0) {
            for (int k = 0; k < key.npath; k++)
                free(key.path[k]);
            free(key.path);
            return query_fail(q, "ORDER BY field path \"%s\" has an empty key", field_path);
        }
        if (key.npath >= FW_MAX_PATH_KEYS) {
            for (int k = 0; k < key.npath; k++)
                free(key.path[k]);
            free(key.path);
            return query_limit(q, "ORDER BY field path \"%s\" is deeper than %d keys",
                              field_path, FW_MAX_PATH_KEYS);
        }
        key.path[key.npath] = strndup(p, n);
        if (!key.path[key.npath]) {
            for (int k = 0; k < key.npath; k++)
                free(key.path[k]);
            free(key.path);
            return query_oom(q);
        }
        key.npath++;
        p += n;
        if (*p == '\0')
            break;
        p++;
    }
    q->order[q->norder++] = key;
    query_invalidate(q);
    return FW_OK;
}

FW_API fw_status
fw_query_set_limit(fw_query *q, int64_t limit)
{
    if (!q)
        return FW_ERR_USAGE;
    query_clear_error(q);
    if (limit < -1)
        return query_fail(q, "LIMIT must be >= 0 (or -1 for none), not %" PRId64, limit);
    q->limit = limit;
    query_invalidate(q);
    return FW_OK;
}

FW_API fw_status
fw_query_set_offset(fw_query *q, int64_t offset)
{
    if (!q)
        return FW_ERR_USAGE;
    query_clear_error(q);
    if (offset < -1)
        return query_fail(q, "OFFSET must be >= 0 (or -1 for none), not %" PRId64, offset);
    q->offset = offset;
    query_invalidate(q);
    return FW_OK;
}

FW_API fw_status
fw_query_set_chunk_size(fw_query *q, size_t rows)
{
    if (!q)
        return FW_ERR_USAGE;
    query_clear_error(q);
    if (rows > INT32_MAX)
        return query_fail(q, "chunk size %zu is larger than %d", rows, INT32_MAX);
    q->chunk = rows ? rows : FW_DEFAULT_CHUNK;
    return FW_OK;
}

FW_API fw_status
fw_query_set_parallel(fw_query *q, int parts)
{
    if (!q)
        return FW_ERR_USAGE;
    query_clear_error(q);
    if (parts < 1 || parts > FW_MAX_PARALLEL)
        return query_fail(q, "parallel parts must be between 1 and %d, not %d", FW_MAX_PARALLEL,
                          parts);
    q->parallel = parts;
    return FW_OK;
}

static fw_status
set_trusted(fw_query *q, char **slot, const char *sql)
{
    if (!q)
        return FW_ERR_USAGE;
    query_clear_error(q);
    char *copy = NULL;
    if (sql && *sql) {
        copy = strdup(sql);
        if (!copy)
            return query_oom(q);
    }
    free(*slot);
    *slot = copy;
    query_invalidate(q);
    return FW_OK;
}

FW_API fw_status
fw_query_set_where_sql_trusted(fw_query *q, const char *sql)
{
    return set_trusted(q, q ? &q->where_trusted : NULL, sql);
}

FW_API fw_status
fw_query_set_order_by_sql_trusted(fw_query *q, const char *sql)
{
    return set_trusted(q, q ? &q->order_trusted : NULL, sql);
}

FW_API fw_status
fw_query_add_predicate(fw_query *q, fw_predicate_fn fn, void *arg)
{
    if (!q || !fn)
        return FW_ERR_USAGE;
    query_clear_error(q);
    if (q->npredicates >= FW_MAX_PREDICATES)
        return query_limit(q, "too many client-side predicates (at most %d)", FW_MAX_PREDICATES);
    q->predicates[q->npredicates].fn = fn;
    q->predicates[q->npredicates].arg = arg;
    q->npredicates++;
    return FW_OK;
}

/* ---------------------------------------------------------------- render */

typedef struct render {
    fw_buf sql;
    char **params;
    int nparams;
    fw_status st;
} render;

static void
put(render *r, const char *s)
{
    if (r->st == FW_OK)
        r->st = fw_buf_put(&r->sql, s, strlen(s));
}

static void
put_ident(render *r, const char *name)
{
    put(r, "\"");
    for (const char *p = name; *p && r->st == FW_OK; p++)
        put(r, *p == '"' ? "\"\"" : (char[2]){*p, 0});
    put(r, "\"");
}

/* Adds a parameter and writes "$n::type", or "$n" when type is NULL (the
 * server then gives it the type of what it is compared with: a split key
 * column of any type). */
static void
put_param(render *r, const char *value, const char *type)
{
    char ref[64];
    if (r->st != FW_OK)
        return;
    char *copy = strdup(value);
    char **grown = realloc(r->params, (size_t)(r->nparams + 1) * sizeof(char *));
    if (!copy || !grown) {
        free(copy);
        if (grown)
            r->params = grown;
        r->st = FW_ERR_MEMORY;
        return;
    }
    r->params = grown;
    r->params[r->nparams++] = copy;
    if (type)
        snprintf(ref, sizeof ref, "$%d::%s", r->nparams, type);
    else
        snprintf(ref, sizeof ref, "$%d", r->nparams);
    put(r, ref);
}

/* data->$a->$b (json_op "->"), or data->$a->>$b (last_op "->>"). */
static void
put_path(render *r, const fw_order_key *k, const char *last_op)
{
    put(r, "data");
    for (int i = 0; i < k->npath; i++) {
        put(r, i == k->npath - 1 ? last_op : "->");
        put_param(r, k->path[i], "text");
    }
}

/* fraiseql_wire.fn(data, $a::text, $b::text): the extension's sort key of
 * the value at the path (VARIADIC keys, each a parameter). */
static void
put_sort_key(render *r, const fw_order_key *k, const char *fn)
{
    put(r, "fraiseql_wire.");
    put(r, fn);
    put(r, "(data");
    for (int i = 0; i < k->npath; i++) {
        put(r, ", ");
        put_param(r, k->path[i], "text");
    }
    put(r, ")");
}

static void
put_order_key(render *r, const fw_order_key *k)
{
    switch (k->type) {
    case FW_ORDER_JSONB:
        put(r, "(");
        put_path(r, k, "->");
        put(r, ")");
        break;
    /* Text, numbers and booleans go through the extension's sort keys: the
     * value as ->> gives it / the JSON number / the JSON boolean, NULL for
     * any other JSON type (a stray value never aborts the stream).  On a v_
     * view the planner maps a key that is an integer, text or boolean
     * column back to the column, so its B-tree index serves ORDER BY. */
    case FW_ORDER_TEXT:
        put_sort_key(r, k, "sort_key_text");
        put(r, " COLLATE \"C\"");
        break;
    case FW_ORDER_NUMERIC:
        put_sort_key(r, k, "sort_key_numeric");
        break;
    case FW_ORDER_BOOLEAN:
        put_sort_key(r, k, "sort_key_boolean");
        break;
    case FW_ORDER_TIMESTAMPTZ:
    case FW_ORDER_DATE:
        put(r, "(");
        put_path(r, k, "->>");
        put(r, k->type == FW_ORDER_DATE ? ")::date" : ")::timestamptz");
        break;
    }
    put(r, (k->flags & FW_ORDER_DESC) ? " DESC" : " ASC");
    if (k->flags & FW_ORDER_NULLS_FIRST)
        put(r, " NULLS FIRST");
    else if (k->flags & FW_ORDER_NULLS_LAST)
        put(r, " NULLS LAST");
}

/* Renders q into r; with part, the part's key range is ANDed into WHERE. */
static void
render_into(const fw_query *q, const fw_query_part *part, render *r)
{
    char num[32];

    fw_buf_init(&r->sql, 0);
    put(r, "SELECT data FROM ");
    if (q->schema) {
        put_ident(r, q->schema);
        put(r, ".");
    }
    put_ident(r, q->name);
    const char *glue = " WHERE ";
    if (q->filter) {
        put(r, glue);
        put(r, "fraiseql_wire.matches(data, ");
        put_param(r, q->filter, "jsonb");
        put(r, ")");
        glue = " AND ";
    }
    if (q->where_trusted) {
        put(r, glue);
        put(r, "(");
        put(r, q->where_trusted);
        put(r, ")");
        glue = " AND ";
    }
    if (part && part->blocks && (part->lower || part->upper)) {
        put(r, glue);
        put(r, "fraiseql_wire.in_blocks(data, ");
        if (part->lower)
            put_param(r, part->lower, "tid");
        else
            put(r, "NULL");
        put(r, ", ");
        if (part->upper)
            put_param(r, part->upper, "tid");
        else
            put(r, "NULL");
        put(r, ")");
    } else if (part && part->lower) {
        put(r, glue);
        put_ident(r, part->key_column);
        put(r, " >= ");
        put_param(r, part->lower, NULL);
        glue = " AND ";
    }
    if (part && !part->blocks && part->upper) {
        put(r, glue);
        put_ident(r, part->key_column);
        put(r, " < ");
        put_param(r, part->upper, NULL);
    }
    if (q->norder > 0 || q->order_trusted) {
        put(r, " ORDER BY ");
        for (int i = 0; i < q->norder; i++) {
            if (i > 0)
                put(r, ", ");
            put_order_key(r, &q->order[i]);
        }
        if (q->order_trusted) {
            if (q->norder > 0)
                put(r, ", ");
            put(r, q->order_trusted);
        }
    }
    if (q->limit >= 0) {
        snprintf(num, sizeof num, "%" PRId64, q->limit);
        put(r, " LIMIT ");
        put_param(r, num, "bigint");
    }
    if (q->offset >= 0 && !part) {
        snprintf(num, sizeof num, "%" PRId64, q->offset);
        put(r, " OFFSET ");
        put_param(r, num, "bigint");
    }
}

static fw_status
query_render(fw_query *q)
{
    render r = {.st = FW_OK};

    if (q->sql)
        return FW_OK;
    if (!q->name)   /* fw_query_new failed: q only carries its error */
        return q->error_class != FW_OK ? q->error_class : FW_ERR_USAGE;
    render_into(q, NULL, &r);
    if (r.st == FW_OK)
        r.st = fw_buf_put_u8(&r.sql, 0);
    if (r.st != FW_OK) {
        fw_buf_free(&r.sql);
        for (int i = 0; i < r.nparams; i++)
            free(r.params[i]);
        free(r.params);
        return r.st;
    }
    q->sql = (char *)r.sql.data;
    q->params = r.params;
    q->nparams = r.nparams;
    return FW_OK;
}

FW_API const char *
fw_query_sql(fw_query *q)
{
    if (!q || query_render(q) != FW_OK)
        return NULL;
    return q->sql;
}

FW_API int
fw_query_nparams(const fw_query *q)
{
    return q && q->sql ? q->nparams : 0;
}

FW_API const char *
fw_query_param(const fw_query *q, int index)
{
    if (!q || !q->sql || index < 0 || index >= q->nparams)
        return NULL;
    return q->params[index];
}

/* For stream.c: the rendered query and its predicates. */
fw_status
fw_query_prepare(fw_query *q, const char **sql, int *nparams, const char *const **params,
                 size_t *chunk, const fw_predicate_entry **predicates, int *npredicates)
{
    fw_status st = query_render(q);
    if (st != FW_OK)
        return st;
    *sql = q->sql;
    *nparams = q->nparams;
    *params = (const char *const *)q->params;
    *chunk = q->chunk;
    *predicates = q->predicates;
    *npredicates = q->npredicates;
    return FW_OK;
}

/* ------------------------------------------------------- parallel parts */

fw_status
fw_query_render_part(const fw_query *q, const fw_query_part *part, char **sql, char ***params,
                     int *nparams)
{
    render r = {.st = FW_OK};

    *sql = NULL;
    *params = NULL;
    *nparams = 0;
    if (!q->name)
        return q->error_class != FW_OK ? q->error_class : FW_ERR_USAGE;
    render_into(q, part, &r);
    if (r.st == FW_OK)
        r.st = fw_buf_put_u8(&r.sql, 0);
    if (r.st != FW_OK) {
        fw_buf_free(&r.sql);
        fw_query_free_params(r.params, r.nparams);
        return r.st;
    }
    *sql = (char *)r.sql.data;
    *params = r.params;
    *nparams = r.nparams;
    return FW_OK;
}

void
fw_query_free_params(char **params, int nparams)
{
    for (int i = 0; i < nparams; i++)
        free(params[i]);
    free(params);
}

int64_t
fw_query_get_limit(const fw_query *q)
{
    return q ? q->limit : -1;
}

int
fw_query_parts(const fw_query *q)
{
    return q ? q->parallel : 1;
}

char *
fw_query_relation_quoted(const fw_query *q)
{
    render r = {.st = FW_OK};

    if (!q->name)
        return NULL;
    fw_buf_init(&r.sql, 0);
    if (q->schema) {
        put_ident(&r, q->schema);
        put(&r, ".");
    }
    put_ident(&r, q->name);
    if (r.st == FW_OK)
        r.st = fw_buf_put_u8(&r.sql, 0);
    if (r.st != FW_OK) {
        fw_buf_free(&r.sql);
        return NULL;
    }
    return (char *)r.sql.data;
}

fw_status
fw_query_parallel_order(const fw_query *q, fw_query_par_order *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (q->offset >= 0) {
        snprintf(why, whylen, "OFFSET cannot be used with parallel streams (each part would skip "
                              "its own rows); page with a filter on the key instead");
        return FW_ERR_CONFIG;
    }
    if (q->order_trusted) {
        snprintf(why, whylen, "a trusted ORDER BY cannot be used with parallel streams: only "
                              "ORDER BY the split key keeps the parts in order");
        return FW_ERR_CONFIG;
    }
    if (q->norder == 0)
        return FW_OK;
    if (q->norder > 1 || q->order[0].npath != 1) {
        snprintf(why, whylen, "ORDER BY with parallel streams must be exactly the split key (one "
                              "top-level field, the relation's first primary key column)");
        return FW_ERR_CONFIG;
    }
    out->ordered = 1;
    out->field = q->order[0].path[0];
    out->type = q->order[0].type;
    out->desc = (q->order[0].flags & FW_ORDER_DESC) != 0;
    return FW_OK;
}
