/*
 * strmap.h — a hash map from byte strings to pointers, for the linear-time
 * de-duplication and grouping in the filter code (filter_fold.c, support_*.c).
 *
 * Keys are not copied: they must outlive the map.  Allocates in the memory
 * context current at fw_strmap_create().
 */
#ifndef FRAISEQL_WIRE_STRMAP_H
#define FRAISEQL_WIRE_STRMAP_H

#include "compat.h"

typedef struct FwStrMap FwStrMap;

extern FwStrMap *fw_strmap_create(int expected);

/*
 * The value slot of key[0..len), created (NULL) if it is new; *found tells
 * which.  The slot is valid until the next insertion.
 */
extern void **fw_strmap_insert(FwStrMap *map, const char *key, int len, bool *found);

/* The value of key[0..len), or NULL. */
extern void *fw_strmap_lookup(FwStrMap *map, const char *key, int len);

#endif							/* FRAISEQL_WIRE_STRMAP_H */
