/*
 * guc.h — variables behind the fraiseql_wire.* settings (defined in guc.c).
 */
#ifndef FRAISEQL_WIRE_GUC_H
#define FRAISEQL_WIRE_GUC_H

#endif /* FRAISEQL_WIRE_GUC_H */
