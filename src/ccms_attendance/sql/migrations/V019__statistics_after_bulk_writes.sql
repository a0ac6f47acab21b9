-- Planner statistics right after a bulk write (issue 20). A table PostgreSQL has not analyzed since
-- a bulk write misleads the planner: with staging.site_plan never analyzed, the run's 3,000 planned
-- sites were estimated as 8 rows, and the reconcile's voucher read compared every planned site with
-- every voucher (a nested loop over 3,000 x 120,000 rows: 15.9 s at twice the statewide children,
-- 23 ms once analyzed). Autovacuum analyzes a table only once its changed rows pass a threshold and
-- a worker comes round (a minute or more later): after the next step has read it. So the step that
-- finishes a bulk write analyzes what it wrote (docs/performance.md, "Planner statistics"):
--
--   the plan       staging.site_plan, which every later step of the run joins;
--   the reconcile  staging.site_extract and staging.quarantine, its inputs besides the records;
--   the intake     every table of ref and portal, after it applied a drop;
--   the load       reconciled.* and the period's history partitions (V016, analyze_after_load).
--
-- Only a table's owner may ANALYZE it (PostgreSQL 15); the loader and the sync own nothing (V010),
-- so these are SECURITY DEFINER functions of the owner, executable by the role whose step calls it.

-- ANALYZE the named tables of schema staging (a name of another schema is refused, not resolved).
CREATE FUNCTION staging.analyze_tables(tables text[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY coalesce(tables, '{}') LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname = 'staging' AND t.tablename = name) THEN
            RAISE EXCEPTION 'staging.analyze_tables: no table staging.% to analyze', quote_ident(name);
        END IF;
        EXECUTE format('ANALYZE staging.%I', name);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION staging.analyze_tables(text[]) IS
    'ANALYZE these staging tables after a step wrote them (V019)';

-- ANALYZE every table of ref and portal (what an intake drop writes). ANALYZE samples at most
-- 300 x default_statistics_target rows of a table, so it costs the same however long the history.
CREATE FUNCTION ref.analyze_after_intake() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    tbl regclass;
BEGIN
    FOR tbl IN SELECT c.oid::regclass
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname IN ('ref', 'portal') AND c.relkind IN ('r', 'p')
                ORDER BY n.nspname, c.relname LOOP
        EXECUTE format('ANALYZE %s', tbl);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION ref.analyze_after_intake() IS
    'ANALYZE every table of ref and portal after an intake drop was applied (V019)';

REVOKE EXECUTE ON FUNCTION staging.analyze_tables(text[]), ref.analyze_after_intake() FROM PUBLIC;
SELECT meta.ccms_grant('EXECUTE', 'FUNCTION staging.analyze_tables(text[])', 'writer');
SELECT meta.ccms_grant('EXECUTE', 'FUNCTION ref.analyze_after_intake()', 'intake');
