/*
 * fraiseql_wire.h — the module entry point (fraiseql_wire.c).
 */
#ifndef FRAISEQL_WIRE_H
#define FRAISEQL_WIRE_H

/* Passed by the Makefile from default_version in fraiseql_wire.control. */
#ifndef FRAISEQL_WIRE_VERSION
#error "FRAISEQL_WIRE_VERSION must be defined by the build"
#endif

/* Called by the server when the library is loaded: registers the settings
 * (guc.c) and the planner hook (order_key.c). */
extern void _PG_init(void);

#endif /* FRAISEQL_WIRE_H */
