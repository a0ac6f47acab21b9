-- Dead rows per schema (what the loads' DELETEs and UPDATEs leave for autovacuum), and how many of
-- those tables autovacuum or autoanalyze has visited: bloat is bounded if dead rows do not pile up.
SELECT schemaname AS schema_name, sum(n_dead_tup)::bigint AS dead_rows, sum(n_live_tup)::bigint AS live_rows,
       sum(autovacuum_count)::bigint AS autovacuums, sum(autoanalyze_count)::bigint AS autoanalyzes
  FROM pg_stat_user_tables
 WHERE schemaname IN ('ref', 'portal', 'staging', 'reconciled', 'history')
 GROUP BY schemaname
 ORDER BY schemaname;
