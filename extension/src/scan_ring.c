/*
 * scan_ring.c — TID Range Scans of big tables read through the bulk-read
 * ring, as a Seq Scan of the same table does.
 *
 * A part of a parallel stream over a table is a block range
 * (fraiseql_wire.in_blocks(), parallel_blocks.c), which the planner reads
 * with a TID Range Scan.  On PostgreSQL 15 that scan is begun without
 * SO_ALLOW_STRAT (table_beginscan_tidrange), so every block it reads takes
 * a shared buffer of its own: on a table larger than a quarter of
 * shared_buffers the parts evict each other's and everybody's pages, and a
 * fresh backend (each part is one) also pays a page fault for every buffer
 * it touches for the first time.  Measured on the benchmark's 313 MB table
 * with 256 MB of shared_buffers, two half-table TID Range Scans cost the
 * server 1.5–2× the CPU of one Seq Scan of the whole table
 * (docs/performance.md, "Parallel streams").  A Seq Scan reads such a table
 * through a ring of 256 kB (BAS_BULKREAD) instead.
 *
 * The executor begins a TID Range Scan's table scan on its first row, and
 * only when the node has none yet (nodeTidrangescan.c, TidRangeNext);
 * later it sets the range with table_rescan_tidrange(), which keeps the
 * scan's flags and its strategy.  So this ExecutorStart hook begins the scan
 * of each TID Range Scan node of the plan itself, with the flags the
 * executor would use plus SO_ALLOW_STRAT; the heap then decides as for a
 * Seq Scan whether the ring is used (tables over NBuffers / 4 that are not
 * temporary).  Nothing else about the scan changes: the same snapshot, the
 * same bounds, quals and projection, the same EXPLAIN.
 *
 * Only heap tables are touched, only when the plan is executed (not for
 * EXPLAIN without ANALYZE), and only while
 * fraiseql_wire.tid_range_bulk_read is on (the default).  The hook is
 * installed when the module is loaded: a part query loads it by calling
 * in_blocks(), whose planner support runs before the executor starts.
 * regress/shell/55_tid_range_ring.sh checks the effect with pg_buffercache,
 * so a server version that begins the scan differently fails the test
 * rather than silently losing the ring.
 */
#include "compat.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "nodes/execnodes.h"
#include "nodes/nodeFuncs.h"
#include "utils/rel.h"

#include "guc.h"
#include "scan_ring.h"

static ExecutorStart_hook_type sr_prev_executor_start = NULL;

/* Begins the table scan of every TID Range Scan under ps that has none. */
static bool
sr_begin_scans(PlanState *ps, void *context)
{
	EState	   *estate = (EState *) context;

	if (ps == NULL)
		return false;
	if (IsA(ps, TidRangeScanState))
	{
		TidRangeScanState *tr = (TidRangeScanState *) ps;
		Relation	rel = tr->ss.ss_currentRelation;

		if (tr->ss.ss_currentScanDesc == NULL && rel != NULL &&
			rel->rd_tableam == GetHeapamTableAmRoutine())
		{
			/* Where the executor would allocate it: it lives as long as the
			 * query, and ExecEndTidRangeScan ends it. */
			MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);

			tr->ss.ss_currentScanDesc =
				rel->rd_tableam->scan_begin(rel, estate->es_snapshot, 0, NULL, NULL,
											SO_TYPE_TIDRANGESCAN | SO_ALLOW_PAGEMODE |
											SO_ALLOW_STRAT);
			MemoryContextSwitchTo(old);
		}
	}
	return planstate_tree_walker(ps, sr_begin_scans, context);
}

static void
sr_executor_start(QueryDesc *queryDesc, int eflags)
{
	if (sr_prev_executor_start)
		sr_prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (fw_tid_range_bulk_read && !(eflags & EXEC_FLAG_EXPLAIN_ONLY) &&
		queryDesc->planstate != NULL)
		sr_begin_scans(queryDesc->planstate, queryDesc->estate);
}

void
fw_scan_ring_init(void)
{
	sr_prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = sr_executor_start;
}
