/*
 * compat.h — every PG_VERSION_NUM shim of the extension lives here.
 *
 * The extension targets PostgreSQL 15; later majors are added here and
 * nowhere else.
 */
#ifndef FRAISEQL_WIRE_COMPAT_H
#define FRAISEQL_WIRE_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "fraiseql_wire requires PostgreSQL 15 or later"
#endif

#endif /* FRAISEQL_WIRE_COMPAT_H */
