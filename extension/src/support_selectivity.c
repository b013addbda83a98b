/*
 * support_selectivity.c — the Selectivity request of matches(): the filter
 * evaluated on the column's MCV list and histogram when there are
 * statistics (what PostgreSQL's generic_restriction_selectivity does for
 * operators), else a structural estimate.
 */
#include "compat.h"

#include "access/htup_details.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"

#include "filter.h"
#include "support.h"
#include "support_selectivity.h"

/* A structural guess when there are no statistics to evaluate the filter on. */
static Selectivity
sp_guess(const FwNode *n)
{
	ListCell   *lc;
	Selectivity s;

	switch (n->kind)
	{
		case FW_NODE_AND:
			s = 1.0;
			foreach(lc, n->args)
			{
				CHECK_FOR_INTERRUPTS();
				s *= sp_guess(lfirst(lc));
			}
			return s;
		case FW_NODE_OR:
			s = 0.0;
			foreach(lc, n->args)
			{
				Selectivity a;

				CHECK_FOR_INTERRUPTS();
				a = sp_guess(lfirst(lc));

				s = s + a - s * a;
			}
			return s;
		case FW_NODE_NOT:
			return 1.0 - sp_guess(linitial(n->args));
		case FW_NODE_CMP:
			break;
	}
	switch (n->op)
	{
		case FW_OP_EQ:
			return DEFAULT_EQ_SEL;
		case FW_OP_NEQ:
			return 1.0 - DEFAULT_EQ_SEL;
		case FW_OP_IN:
		case FW_OP_NIN:
			{
				int			k = n->nelems;

				s = Min(0.5, DEFAULT_EQ_SEL * k);
				return n->op == FW_OP_IN ? s : 1.0 - s;
			}
		case FW_OP_GT:
		case FW_OP_GTE:
		case FW_OP_LT:
		case FW_OP_LTE:
			return DEFAULT_INEQ_SEL;
		case FW_OP_ISNULL:
		case FW_OP_EXISTS:
			return 0.5;
		default:
			return DEFAULT_MATCHING_SEL;
	}
}

/*
 * The fraction of the column's MCVs and histogram entries on which the
 * filter is TRUE (what PostgreSQL's generic_restriction_selectivity does for
 * operators), when the column is jsonb and has statistics.
 */
static bool
sp_stats_selectivity(PlannerInfo *root, Node *data, int varRelid, const FwNode *tree,
					 Selectivity *out)
{
	VariableStatData vardata;
	AttStatsSlot sslot;
	double		nullfrac;
	double		mcvsel = 0.0;
	double		mcvfreq = 0.0;
	bool		have_mcv = false;
	bool		have_hist = false;
	double		histsel = 0.0;

	examine_variable(root, data, varRelid, &vardata);
	if (!HeapTupleIsValid(vardata.statsTuple) || vardata.atttype != JSONBOID)
	{
		ReleaseVariableStats(vardata);
		return false;
	}
	nullfrac = ((Form_pg_statistic) GETSTRUCT(vardata.statsTuple))->stanullfrac;

	if (get_attstatsslot(&sslot, vardata.statsTuple, STATISTIC_KIND_MCV, InvalidOid,
						 ATTSTATSSLOT_VALUES | ATTSTATSSLOT_NUMBERS))
	{
		have_mcv = true;
		for (int i = 0; i < sslot.nvalues; i++)
		{
			CHECK_FOR_INTERRUPTS();
			mcvfreq += sslot.numbers[i];
			if (fw_filter_eval(tree, DatumGetJsonbP(sslot.values[i]), NULL))
				mcvsel += sslot.numbers[i];
		}
		free_attstatsslot(&sslot);
	}
	if (get_attstatsslot(&sslot, vardata.statsTuple, STATISTIC_KIND_HISTOGRAM, InvalidOid,
						 ATTSTATSSLOT_VALUES))
	{
		int			hit = 0;

		if (sslot.nvalues >= 10)
		{
			have_hist = true;
			for (int i = 0; i < sslot.nvalues; i++)
			{
				CHECK_FOR_INTERRUPTS();
				if (fw_filter_eval(tree, DatumGetJsonbP(sslot.values[i]), NULL))
					hit++;
			}
			/* an empty sample still leaves room for a few rows */
			histsel = Max((double) hit, 0.5) / sslot.nvalues;
		}
		free_attstatsslot(&sslot);
	}
	ReleaseVariableStats(vardata);

	if (!have_mcv && !have_hist)
		return false;
	if (!have_hist)
		histsel = sp_guess(tree);
	*out = mcvsel + histsel * Max(0.0, 1.0 - mcvfreq - nullfrac);
	return true;
}

Node *
fw_sp_selectivity(SupportRequestSelectivity *req)
{
	Node	   *filter;
	Selectivity s;

	if (req->is_join || list_length(req->args) != 2)
		return NULL;
	filter = lsecond(req->args);
	if (IsA(filter, Const) && exprType(filter) == JSONBOID)
	{
		Const	   *fc = (Const *) filter;
		FwNode	   *tree;

		if (fc->constisnull)
			s = 0.0;
		else
		{
			tree = fw_sp_parse(fc, true);
			if (req->root == NULL ||
				!sp_stats_selectivity(req->root, linitial(req->args), req->varRelid, tree, &s))
				s = sp_guess(tree);
		}
	}
	else
		s = DEFAULT_MATCHING_SEL;	/* a parameter: most filters select little */
	CLAMP_PROBABILITY(s);
	req->selectivity = s;
	return (Node *) req;
}
