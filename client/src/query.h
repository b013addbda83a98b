/*
 * query.h — what stream.c needs from the query builder (query.c).
 */
#ifndef FW_QUERY_H
#define FW_QUERY_H

#include <stddef.h>

#include "fraiseql_wire.h"

/* Nesting depth accepted in a filter document by the client's JSON check;
 * the server applies its own limit (fraiseql_wire.max_filter_depth). */
#define FW_FILTER_MAX_DEPTH 64
/* Rows per Execute when the caller does not say (fw_stream_sql chunk 0,
 * fw_query_chunk_size 0).  Each Execute costs the server a portal run and
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

#endif /* FW_QUERY_H */
