/*
 * secctx.c — work the extension does on behalf of a source's owner.
 *
 * fraiseql_wire._fill_table_view(tv, truncate) (re)fills a registered tv_
 * table the way REFRESH MATERIALIZED VIEW fills a materialized view: as the
 * owner of the source, in a security-restricted operation, with a pinned
 * search_path and the fixed rendering settings, and with every setting the
 * statement changes undone afterwards.  The documents are built by code the
 * source's owner controls (column output functions, casts to json, triggers
 * on the tv_ table), so the caller — often a superuser — must not lend them
 * its rights.  The statement is built from the registry row, never passed
 * in: this is not a way to run arbitrary SQL as another role, and the caller
 * must have the privileges of the source's owner anyway.
 *
 * fraiseql_wire._restrict_security() and _end_restricted(token) bracket
 * the body of every tv_ trigger function (SECURITY DEFINER, owned by the
 * source's owner): in between, the call is a security-restricted operation
 * with a GUC nesting level of its own, like the fill, so that code of the
 * owner's that runs there on behalf of whoever wrote to the source cannot
 * leave temporary objects, settings or other session state behind.  The
 * function manager restores the user and the security context when the
 * SECURITY DEFINER call returns; _end_restricted() undoes every setting
 * changed since _restrict_security() (the function's SET clauses alone
 * would keep a plain SET made inside it).  An error rolls all of it back
 * with the (sub)transaction.  Outside a SECURITY DEFINER call
 * _restrict_security() is refused (nothing would lift the restriction).
 * Each section has a token never issued before in the backend, and only
 * the innermost section can be ended, with its token: code running inside
 * the bracket may end the section early, but cannot open one with the same
 * token again, so the trigger function's own _end_restricted() then fails
 * and the statement's error rolls everything back.
 *
 * fraiseql_wire._depend_on_extension(tv) records that a registered tv_ table
 * and its trigger function depend on the extension, so that DROP EXTENSION
 * refuses to leave them (and the source's triggers) behind, and
 * DROP EXTENSION ... CASCADE takes them along.
 */
#include "compat.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(fraiseql_wire_fill_table_view);
PG_FUNCTION_INFO_V1(fraiseql_wire_depend_on_extension);
PG_FUNCTION_INFO_V1(fraiseql_wire_restrict_security);
PG_FUNCTION_INFO_V1(fraiseql_wire_end_restricted);

/* The settings every stored document is rendered with (docs/extension.md). */
static const char *const secctx_settings[][2] = {
	{"search_path", "pg_catalog, pg_temp"},
	{"TimeZone", "UTC"},
	{"DateStyle", "ISO"},
	{"IntervalStyle", "postgres"},
	{"extra_float_digits", "3"},
	{"bytea_output", "hex"},
};

static Oid
secctx_rel_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

static char *
secctx_qualified(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* SPI must be connected.  Fails unless tv is a registered tv_ table. */
static void
secctx_registration(Oid tv, Oid *source, char **entity, char **fill_sql)
{
	Oid			argtypes[2] = {REGCLASSOID, BOOLOID};
	Datum		values[2] = {ObjectIdGetDatum(tv), BoolGetDatum(fill_sql != NULL)};
	bool		isnull;
	int			ret;

	/* The statement is made by the extension's own SQL from the row. */
	ret = SPI_execute_with_args(
		"SELECT r.source::pg_catalog.oid, r.entity,"
		"       CASE WHEN $2 THEN fraiseql_wire._fill_statement(r) END"
		"  FROM fraiseql_wire.registry r"
		" WHERE r.relation OPERATOR(pg_catalog.=) $1"
		"   AND r.kind OPERATOR(pg_catalog.=) 'table'",
		2, argtypes, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("relation %s is not a registered tv_ table", secctx_qualified(tv)),
				 errhint("fraiseql_wire.entities() lists the registered entities.")));
	*source = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											 1, &isnull));
	*entity = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (fill_sql)
		*fill_sql = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
}

static void
secctx_check_owner_privileges(Oid owner, Oid rel, const char *what)
{
	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to %s", secctx_qualified(rel), what),
				 errdetail("The work runs as the owner of the table, role %s.",
						   quote_identifier(GetUserNameFromId(owner, false))),
				 errhint("Run the call as the owner, or as a member of that role.")));
}

Datum
fraiseql_wire_fill_table_view(PG_FUNCTION_ARGS)
{
	Oid			tv = PG_GETARG_OID(0);
	bool		truncate = PG_GETARG_BOOL(1);
	Oid			source;
	Oid			owner;
	char	   *entity;
	char	   *fill_sql;
	char	   *truncate_sql;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	int			ret;
	uint64		rows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	secctx_registration(tv, &source, &entity, &fill_sql);
	(void) secctx_rel_owner(tv);
	owner = secctx_rel_owner(source);
	secctx_check_owner_privileges(owner, source, "fill its tv_ table");
	truncate_sql = psprintf("TRUNCATE %s", secctx_qualified(tv));

	/*
	 * As ExecRefreshMatView: the source's owner, no SET ROLE, no temporary
	 * objects or other session state left for the caller, and every setting
	 * changed in here rolled back when we return (an error rolls the user,
	 * the context and the settings back with the (sub)transaction).
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	for (int i = 0; i < (int) lengthof(secctx_settings); i++)
		(void) set_config_option(secctx_settings[i][0], secctx_settings[i][1],
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);

	if (truncate)
	{
		ret = SPI_execute(truncate_sql, false, 0);
		if (ret != SPI_OK_UTILITY)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	}
	ret = SPI_execute(fill_sql, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	rows = SPI_processed;

	AtEOXact_GUC(false, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	SPI_finish();
	PG_RETURN_INT64((int64) rows);
}

/* The open restricted sections of tv_ trigger functions, innermost last. */
#define SECCTX_MAX_SECTIONS 64
typedef struct SecctxSection
{
	uint64		token;
	int			gucNestLevel;
	SubTransactionId subid;
} SecctxSection;

static SecctxSection secctx_sections[SECCTX_MAX_SECTIONS];
static int	secctx_nsections = 0;
static uint64 secctx_last_token = 0;
static bool secctx_callbacks_registered = false;

/* A transaction's end unwinds every GUC level, and so every section. */
static void
secctx_xact_callback(XactEvent event, void *arg)
{
	secctx_nsections = 0;
}

/* An aborted subtransaction unwinds the GUC levels opened inside it. */
static void
secctx_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	while (secctx_nsections > 0 &&
		   secctx_sections[secctx_nsections - 1].subid >= mySubid)
		secctx_nsections--;
}

Datum
fraiseql_wire_restrict_security(PG_FUNCTION_ARGS)
{
	Oid			userid;
	int			sec_context;
	SecctxSection *section;

	if (!InLocalUserIdChange())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("fraiseql_wire._restrict_security() must be called from a SECURITY DEFINER function"),
				 errdetail("Only there is the restriction lifted again when the function returns.")));
	if (secctx_nsections >= SECCTX_MAX_SECTIONS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tv_ trigger functions nested more than %d deep", SECCTX_MAX_SECTIONS)));
	if (!secctx_callbacks_registered)
	{
		RegisterXactCallback(secctx_xact_callback, NULL);
		RegisterSubXactCallback(secctx_subxact_callback, NULL);
		secctx_callbacks_registered = true;
	}
	section = &secctx_sections[secctx_nsections];
	section->token = ++secctx_last_token;
	section->subid = GetCurrentSubTransactionId();

	GetUserIdAndSecContext(&userid, &sec_context);
	SetUserIdAndSecContext(userid, sec_context | SECURITY_RESTRICTED_OPERATION);
	section->gucNestLevel = NewGUCNestLevel();
	secctx_nsections++;
	PG_RETURN_INT64((int64) section->token);
}

Datum
fraiseql_wire_end_restricted(PG_FUNCTION_ARGS)
{
	uint64		token = (uint64) PG_GETARG_INT64(0);
	SecctxSection *section;

	if (secctx_nsections == 0 ||
		secctx_sections[secctx_nsections - 1].token != token)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("security-restricted section of a tv_ trigger function ended out of order"),
				 errdetail("fraiseql_wire._end_restricted() closes the innermost section that fraiseql_wire._restrict_security() opened, with its token.")));
	section = &secctx_sections[secctx_nsections - 1];
	AtEOXact_GUC(false, section->gucNestLevel);
	secctx_nsections--;
	PG_RETURN_VOID();
}

/* SPI must be connected. */
static void
secctx_depend(Oid classid, Oid objid, Oid extoid)
{
	Oid			argtypes[3] = {OIDOID, OIDOID, OIDOID};
	Datum		values[3] = {ObjectIdGetDatum(classid), ObjectIdGetDatum(objid),
							 ObjectIdGetDatum(extoid)};
	ObjectAddress depender;
	ObjectAddress referenced;
	int			ret;

	ret = SPI_execute_with_args(
		"SELECT FROM pg_catalog.pg_depend d"
		" WHERE d.classid OPERATOR(pg_catalog.=) $1 AND d.objid OPERATOR(pg_catalog.=) $2"
		"   AND d.objsubid OPERATOR(pg_catalog.=) 0"
		"   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass"
		"   AND d.refobjid OPERATOR(pg_catalog.=) $3",
		3, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
		return;
	ObjectAddressSet(depender, classid, objid);
	ObjectAddressSet(referenced, ExtensionRelationId, extoid);
	recordDependencyOn(&depender, &referenced, DEPENDENCY_NORMAL);
}

Datum
fraiseql_wire_depend_on_extension(PG_FUNCTION_ARGS)
{
	Oid			tv = PG_GETARG_OID(0);
	Oid			source;
	char	   *entity;
	char	   *fnname;
	Oid			extoid;
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	secctx_registration(tv, &source, &entity, NULL);
	secctx_check_owner_privileges(secctx_rel_owner(tv), tv, "record its dependencies");
	extoid = get_extension_oid("fraiseql_wire", false);

	secctx_depend(RelationRelationId, tv, extoid);

	/* The trigger function, if it exists yet (pg_restore creates it first). */
	fnname = psprintf("tv_%s_sync", entity);
	values[0] = ObjectIdGetDatum(get_rel_namespace(tv));
	values[1] = CStringGetTextDatum(fnname);
	ret = SPI_execute_with_args(
		"SELECT p.oid, p.proowner FROM pg_catalog.pg_proc p"
		" WHERE p.pronamespace OPERATOR(pg_catalog.=) $1"
		"   AND p.proname::pg_catalog.text OPERATOR(pg_catalog.=) $2"
		"   AND p.pronargs OPERATOR(pg_catalog.=) 0"
		"   AND p.prorettype OPERATOR(pg_catalog.=) 'pg_catalog.trigger'::pg_catalog.regtype",
		2, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		bool		isnull;
		Oid			fn = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1, &isnull));
		Oid			fnowner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
															 SPI_tuptable->tupdesc, 2, &isnull));

		if (has_privs_of_role(GetUserId(), fnowner))
			secctx_depend(ProcedureRelationId, fn, extoid);
	}
	SPI_finish();
	PG_RETURN_VOID();
}
