/*
 * query.h — what stream.c needs from the query builder (query.c).
 */
#ifndef FW_QUERY_H
#define FW_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "fraiseql_wire.h"

/* Nesting depth accepted in a filter document by the client's JSON check;
 * the server applies its own limit (fraiseql_wire.max_filter_depth). */
#define FW_FILTER_MAX_DEPTH 64
/* Rows per Execute when the caller does not say (fw_stream_open_sql chunk 0,
 * fw_query_set_chunk_size 0).  Each Execute costs the server a portal run and
 * a PortalSuspended; 1024 rows of ~200 bytes measured 10-20 % faster than
 * 256 on a server that only copies stored json, and no faster above. */
#define FW_DEFAULT_CHUNK 1024
/* Client-side predicates one query (and so one stream) may carry. */
#define FW_MAX_PREDICATES 32

typedef struct fw_predicate_entry {
    fw_predicate_fn fn;
    void *arg;
} fw_predicate_entry;

/* Renders q (if needed) and returns borrowed views of its SQL, parameters,
 * chunk size and predicates, valid until the next change to q. */
fw_status fw_query_prepare(fw_query *q, const char **sql, int *nparams, const char *const **params,
                           size_t *chunk, const fw_predicate_entry **predicates, int *npredicates);

/* The most parts fw_query_set_parallel accepts (parallel_parts' own limit). */
#define FW_MAX_PARALLEL 1024

/* One part of a parallel query: key_column >= lower AND key_column < upper
 * (NULL = unbounded), bounds sent as untyped parameters; a block range
 * (blocks: key column ctid) is fraiseql_wire.in_blocks(data, lower, upper),
 * which the extension plans on the ctid of the tv_ table or of a v_ view's
 * source table. */
typedef struct fw_query_part {
    const char *key_column;
    const char *lower;
    const char *upper;
    int blocks;
} fw_query_part;

/* Renders q restricted to one part into malloc'd SQL and parameters (free
 * with free() and fw_query_free_params).  OFFSET is never rendered. */
fw_status fw_query_render_part(const fw_query *q, const fw_query_part *part, char **sql,
                               char ***params, int *nparams);
void fw_query_free_params(char **params, int nparams);
/* The LIMIT (-1 = none). */
int64_t fw_query_get_limit(const fw_query *q);
/* The parts asked for with fw_query_set_parallel (1 = serial). */
int fw_query_parts(const fw_query *q);
/* The relation as quoted SQL ("schema"."name"), malloc'd; NULL on failure. */
char *fw_query_relation_quoted(const fw_query *q);

/* What a parallel query's ORDER BY asks: nothing, or one top-level field
 * (which must turn out to be the split key).  FW_ERR_CONFIG with the reason
 * in why for what parallel streams cannot do (OFFSET, several keys, …). */
typedef struct fw_query_par_order {
    int ordered;
    const char *field;     /* borrowed from q */
    fw_order_type type;
    int desc;
} fw_query_par_order;
fw_status fw_query_parallel_order(const fw_query *q, fw_query_par_order *out, char *why,
                                  size_t whylen);

#endif /* FW_QUERY_H */
