/*
 * fraiseql_wire.h — module-wide declarations shared by the subsystems.
 */
#ifndef FRAISEQL_WIRE_H
#define FRAISEQL_WIRE_H

/* Passed by the Makefile from default_version in fraiseql_wire.control. */
#ifndef FRAISEQL_WIRE_VERSION
#error "FRAISEQL_WIRE_VERSION must be defined by the build"
#endif

/* guc.c: registers every fraiseql_wire.* setting. */
extern void fw_guc_init(void);

/* support.c: registers fraiseql_wire.enable_rewrite; runs before fw_guc_init()
 * reserves the prefix. */
extern void fw_support_init(void);

/* order_key.c: installs the planner hook that orders by index columns. */
extern void fw_order_init(void);

#endif /* FRAISEQL_WIRE_H */
