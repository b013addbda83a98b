/*
 * pgtype.c — names of built-in type OIDs (src/include/catalog/pg_type.dat;
 * the OIDs of built-in types are fixed across PostgreSQL versions).
 */
#include <stdio.h>

#include "pgtype.h"

static const struct {
    uint32_t oid;
    const char *name;
} builtin_types[] = {
    {16, "boolean"},
    {17, "bytea"},
    {18, "\"char\""},
    {19, "name"},
    {20, "bigint"},
    {21, "smallint"},
    {23, "integer"},
    {24, "regproc"},
    {25, "text"},
    {26, "oid"},
    {114, "json"},
    {142, "xml"},
    {199, "json[]"},
    {600, "point"},
    {650, "cidr"},
    {700, "real"},
    {701, "double precision"},
    {705, "unknown"},
    {790, "money"},
    {829, "macaddr"},
    {869, "inet"},
    {1000, "boolean[]"},
    {1005, "smallint[]"},
    {1007, "integer[]"},
    {1009, "text[]"},
    {1015, "character varying[]"},
    {1016, "bigint[]"},
    {1021, "real[]"},
    {1022, "double precision[]"},
    {1042, "character"},
    {1043, "character varying"},
    {1082, "date"},
    {1083, "time without time zone"},
    {1114, "timestamp without time zone"},
    {1115, "timestamp without time zone[]"},
    {1182, "date[]"},
    {1184, "timestamp with time zone"},
    {1185, "timestamp with time zone[]"},
    {1186, "interval"},
    {1231, "numeric[]"},
    {1266, "time with time zone"},
    {1560, "bit"},
    {1562, "bit varying"},
    {1700, "numeric"},
    {2205, "regclass"},
    {2206, "regtype"},
    {2249, "record"},
    {2278, "void"},
    {2287, "record[]"},
    {2950, "uuid"},
    {2951, "uuid[]"},
    {3614, "tsvector"},
    {3802, "jsonb"},
    {3807, "jsonb[]"},
    {3904, "int4range"},
    {3906, "numrange"},
    {3910, "tstzrange"},
    {3912, "daterange"},
    {4072, "jsonpath"},
};

const char *
fw_pg_type_name(uint32_t oid)
{
    size_t lo = 0, hi = sizeof builtin_types / sizeof builtin_types[0];

    while (lo < hi) {   /* the table is sorted by OID */
        size_t mid = lo + (hi - lo) / 2;
        if (builtin_types[mid].oid == oid)
            return builtin_types[mid].name;
        if (builtin_types[mid].oid < oid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *
fw_pg_type_describe(uint32_t oid, char *buf, size_t size)
{
    const char *name = fw_pg_type_name(oid);

    if (name)
        snprintf(buf, size, "%s", name);
    else
        snprintf(buf, size, "a type unknown to the client (type oid %u)", (unsigned)oid);
    return buf;
}
