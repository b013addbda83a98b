/*
 * pgtype.h — PostgreSQL's names for the built-in type OIDs a result column
 * is most likely to have, for error messages (no catalog lookup: the
 * client cannot ask the server in the middle of a failed stream).
 */
#ifndef FW_PGTYPE_H
#define FW_PGTYPE_H

#include <stddef.h>
#include <stdint.h>

/* The type's name as format_type() writes it ("text", "integer",
 * "timestamp with time zone", "jsonb[]"), or NULL for an OID not in the
 * table (a user-defined type, an extension's, a rare built-in).  Static. */
const char *fw_pg_type_name(uint32_t oid);

/* The name, or "a type unknown to the client (type oid N)", into buf
 * (always terminated).  Returns buf. */
const char *fw_pg_type_describe(uint32_t oid, char *buf, size_t size);

#endif /* FW_PGTYPE_H */
