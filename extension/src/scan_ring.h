/*
 * scan_ring.h — TID Range Scans of big tables through the bulk-read ring
 * (scan_ring.c).
 */
#ifndef FRAISEQL_WIRE_SCAN_RING_H
#define FRAISEQL_WIRE_SCAN_RING_H

#include "compat.h"

/* Installs the ExecutorStart hook; called once from _PG_init. */
extern void fw_scan_ring_init(void);

#endif /* FRAISEQL_WIRE_SCAN_RING_H */
