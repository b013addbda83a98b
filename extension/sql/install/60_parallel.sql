-- parallel_parts(): splits a relation into disjoint parts for parallel
-- streams over one exported snapshot (the client's fw_query_parallel,
-- `fraiseql-wire stream --parallel N`).  docs/extension.md and
-- docs/client.md ("Parallel streams") describe the contract.
--
-- Part i is  key_column >= lower_bound AND key_column < upper_bound, a NULL
-- bound being unbounded; the first part has no lower bound and the last no
-- upper bound, and each bound is the next part's lower bound, so the parts
-- are disjoint and together hold every row, whatever the statistics say and
-- whatever was written since.  Bounds are text: the client sends them as
-- untyped parameters and the server reads them as the key column's type.
-- Block ranges (key_column ctid, key_type tid) are read with
-- in_blocks(data, lower_bound, upper_bound), which also serves a v_ view:
-- its bounds are blocks of the view's source table.
--
-- The registry is read by relation (registry.relation is unique), never by
-- entity name, so the lookup does not depend on how entities are scoped.

-- in_blocks(): true when the row of the one table whose columns `doc` is
-- built from lies in the block range [lower_bound, upper_bound) (NULL: no
-- limit).  The planner support replaces the call with ctid conditions on
-- that table (a TID Range Scan); a call it cannot replace raises 0A000 when
-- executed (extension/src/parallel_blocks.c).
CREATE FUNCTION fraiseql_wire.in_blocks_support(internal) RETURNS internal
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_in_blocks_support';
CREATE FUNCTION fraiseql_wire.in_blocks(doc anyelement, lower_bound tid, upper_bound tid)
  RETURNS boolean
  LANGUAGE c STABLE PARALLEL SAFE
  SUPPORT fraiseql_wire.in_blocks_support
  AS 'MODULE_PATHNAME', 'fraiseql_wire_in_blocks';
COMMENT ON FUNCTION fraiseql_wire.in_blocks(anyelement, tid, tid) IS
  'whether the table row a document is built from lies in a block range; planned as a TID Range Scan (a part of a parallel stream)';

-- The most parts one call returns (each is a connection on the client).
CREATE FUNCTION fraiseql_wire._parallel_max_parts() RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$ SELECT 1024 $fn$;

-- Bounds that split a sorted sample into at most `parts` ranges of about
-- equal frequency: the inner boundaries of the sample, cast to the key type,
-- de-duplicated and sorted in the column's collation (so that the ranges,
-- evaluated with the column's own comparison, are disjoint).
CREATE FUNCTION fraiseql_wire._parallel_inner_bounds(sample text[], parts integer,
                                                     key_type regtype, key_collation oid)
  RETURNS text[]
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  n      integer := coalesce(cardinality(sample), 0);
  picked text[] := '{}';
  result text[];
  coll   text := '';
BEGIN
  IF n < 2 OR parts < 2 THEN
    RETURN '{}';
  END IF;
  FOR i IN 1 .. parts - 1 LOOP
    picked := picked || sample[1 + round(i::numeric * (n - 1) / parts)::integer];
  END LOOP;
  IF key_collation <> 0 THEN
    coll := (SELECT format(' COLLATE %I.%I', n.nspname, c.collname)
               FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
              WHERE c.oid = key_collation);
  END IF;
  EXECUTE format('SELECT array_agg(x::text ORDER BY x%s) FROM (SELECT DISTINCT b::%s AS x FROM unnest($1) b) s',
                 coll, key_type)
     INTO result USING picked;
  RETURN coalesce(result, '{}');
END
$fn$;

CREATE FUNCTION fraiseql_wire.parallel_parts(rel regclass, parts integer, by_key boolean DEFAULT false)
  RETURNS TABLE (part integer, key_column name, key_type regtype, doc_key text,
                 lower_bound text, upper_bound text)
  LANGUAGE plpgsql STABLE SECURITY INVOKER
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  c         pg_class;
  reg       fraiseql_wire.registry;
  base      regclass;          -- where the key's statistics live
  keycol    name;
  keytyp    regtype;
  keycoll   oid;
  dockey    text;
  blocks    bigint;
  nparts    integer;
  sample    text[];
  bounds    text[];
  lo        numeric;
  hi        numeric;
BEGIN
  IF rel IS NULL OR parts IS NULL OR by_key IS NULL THEN
    RAISE EXCEPTION 'arguments of parallel_parts must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF parts < 1 OR parts > fraiseql_wire._parallel_max_parts() THEN
    RAISE EXCEPTION 'parts must be between 1 and %, not %', fraiseql_wire._parallel_max_parts(), parts
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Each part is read by its own connection.';
  END IF;
  SELECT * INTO c FROM pg_class WHERE oid = rel;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'relation with OID % does not exist', rel::oid
      USING ERRCODE = 'undefined_table';
  END IF;
  IF c.relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
    RAISE EXCEPTION '% cannot be streamed', rel
      USING ERRCODE = 'wrong_object_type',
            DETAIL = 'Only tables, views, materialized views and foreign tables can be split.';
  END IF;
  IF NOT has_table_privilege(rel, 'SELECT') THEN
    RAISE EXCEPTION 'permission denied for % %', CASE WHEN c.relkind = 'v' THEN 'view' ELSE 'table' END, c.relname
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Splitting a relation needs the SELECT privilege that reading it needs.';
  END IF;

  SELECT * INTO reg FROM fraiseql_wire.registry r WHERE r.relation = rel;

  -- Block ranges, when no key order is asked: of a tv_ table or any plain
  -- table, or of the source table of a v_ view (read with in_blocks()).
  base := CASE WHEN c.relkind IN ('r', 'm') THEN rel
               WHEN reg.relation IS NOT NULL AND reg.kind = 'view'
                    AND (SELECT s.relkind FROM pg_class s WHERE s.oid = reg.source) IN ('r', 'm')
                 THEN reg.source END;
  IF NOT by_key AND base IS NOT NULL THEN
    blocks := pg_relation_size(base) / current_setting('block_size')::bigint;
    nparts := least(parts::bigint, greatest(blocks, 1))::integer;
    FOR i IN 1 .. nparts LOOP
      part := i;
      key_column := 'ctid';
      key_type := 'tid'::regtype;
      doc_key := NULL;
      lower_bound := CASE WHEN i = 1 THEN NULL ELSE format('(%s,0)', (blocks * (i - 1)) / nparts) END;
      upper_bound := CASE WHEN i = nparts THEN NULL ELSE format('(%s,0)', (blocks * i) / nparts) END;
      RETURN NEXT;
    END LOOP;
    RETURN;
  END IF;

  -- Key ranges: the first primary-key column, as the relation exposes it.
  IF reg.relation IS NOT NULL AND reg.kind = 'view' THEN
    base := reg.source;
  ELSE
    base := rel;
  END IF;
  SELECT p.col INTO keycol FROM fraiseql_wire._pk_columns(base) p LIMIT 1;
  IF keycol IS NULL THEN
    RAISE EXCEPTION '% has no key to split on', rel
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = CASE
              WHEN reg.relation IS NOT NULL AND reg.kind = 'view'
                THEN format('The source %s of the v_ view has no primary key.', base)
              WHEN reg.relation IS NULL AND c.relkind = 'v'
                THEN 'A view that is not a registered v_ view has no known key.'
              ELSE 'The relation has no primary key.' END,
            HINT = CASE WHEN c.relkind IN ('r', 'm')
                        THEN 'Split it by blocks (by_key => false), or add a primary key.'
                        ELSE 'Register the view with fraiseql_wire.create_view() over a source with a primary key.' END;
  END IF;
  SELECT a.atttypid::regtype, a.attcollation INTO keytyp, keycoll FROM pg_attribute a
   WHERE a.attrelid = rel AND a.attname = keycol AND a.attnum > 0 AND NOT a.attisdropped;
  IF keytyp IS NULL THEN
    RAISE EXCEPTION '% has no column "%" to split on', rel, keycol
      USING ERRCODE = 'undefined_column',
            DETAIL = format('"%s" is the first primary key column of %s.', keycol, base);
  END IF;
  IF reg.relation IS NOT NULL AND keycol::text = ANY (reg.columns) THEN
    dockey := CASE WHEN reg.camel_case THEN fraiseql_wire._camel_key(keycol) ELSE keycol::text END;
  END IF;

  IF parts > 1 THEN
    -- Statistics of the base table (those of the whole inheritance tree
    -- first; pg_stats shows only what the caller may read).
    SELECT s.histogram_bounds::text::text[] INTO sample
      FROM pg_stats s
      JOIN pg_class bc ON bc.oid = base
      JOIN pg_namespace bn ON bn.oid = bc.relnamespace
     WHERE s.schemaname = bn.nspname AND s.tablename = bc.relname AND s.attname = keycol
     ORDER BY s.inherited DESC
     LIMIT 1;
    bounds := fraiseql_wire._parallel_inner_bounds(sample, parts, keytyp, keycoll);
    IF cardinality(bounds) = 0 AND keytyp IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
      -- No statistics: interpolate between the smallest and largest key
      -- (two index probes through the relation itself).
      EXECUTE format('SELECT min(%1$I)::numeric, max(%1$I)::numeric FROM %2$s', keycol, rel)
         INTO lo, hi;
      IF hi > lo THEN
        SELECT array_agg(b::text ORDER BY b) INTO bounds
          FROM (SELECT DISTINCT floor(lo + (hi - lo + 1) * i / parts) AS b
                  FROM generate_series(1, parts - 1) i) s
         WHERE b > lo AND b <= hi;
        bounds := coalesce(bounds, '{}');
      END IF;
    END IF;
  END IF;

  nparts := coalesce(cardinality(bounds), 0) + 1;
  FOR i IN 1 .. nparts LOOP
    part := i;
    key_column := keycol;
    key_type := keytyp;
    doc_key := dockey;
    lower_bound := CASE WHEN i = 1 THEN NULL ELSE bounds[i - 1] END;
    upper_bound := CASE WHEN i = nparts THEN NULL ELSE bounds[i] END;
    RETURN NEXT;
  END LOOP;
END
$fn$;

COMMENT ON FUNCTION fraiseql_wire.parallel_parts(regclass, integer, boolean) IS
  'splits a relation into disjoint parts (ctid block ranges, or primary-key ranges from the statistics) for parallel streams';
