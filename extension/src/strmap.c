/*
 * strmap.c — FwStrMap on PostgreSQL's simplehash (open addressing).
 */
#include "compat.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "strmap.h"

typedef struct FwStrKey
{
	const char *s;
	int			len;
} FwStrKey;

typedef struct FwStrEntry
{
	FwStrKey	key;
	uint32		hash;
	char		status;
	void	   *value;
} FwStrEntry;

#define SH_PREFIX fwstr
#define SH_ELEMENT_TYPE FwStrEntry
#define SH_KEY_TYPE FwStrKey
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k).s, (k).len)
#define SH_EQUAL(tb, a, b) ((a).len == (b).len && memcmp((a).s, (b).s, (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

struct FwStrMap
{
	fwstr_hash *tab;
};

FwStrMap *
fw_strmap_create(int expected)
{
	FwStrMap   *map = palloc(sizeof(FwStrMap));

	map->tab = fwstr_create(CurrentMemoryContext, Max(16, expected), NULL);
	return map;
}

void	  **
fw_strmap_insert(FwStrMap *map, const char *key, int len, bool *found)
{
	FwStrKey	k = {key, len};
	FwStrEntry *e = fwstr_insert(map->tab, k, found);

	if (!*found)
		e->value = NULL;
	return &e->value;
}

void *
fw_strmap_lookup(FwStrMap *map, const char *key, int len)
{
	FwStrKey	k = {key, len};
	FwStrEntry *e = fwstr_lookup(map->tab, k);

	return e != NULL ? e->value : NULL;
}
