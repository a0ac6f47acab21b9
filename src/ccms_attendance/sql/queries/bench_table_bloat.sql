-- Per table of reconciled and history (a partitioned table: its partitions added up): bytes of the
-- table (TOAST included) and of its indexes, live and dead rows, and how many partitions, for the
-- year bench's bloat curve. Dead rows are what the loads' DELETEs leave until a VACUUM.
SELECT n.nspname || '.' || coalesce(parent.relname, c.relname) AS table_name,
       sum(pg_table_size(c.oid))::bigint AS table_bytes,
       sum(pg_indexes_size(c.oid))::bigint AS index_bytes,
       sum(coalesce(s.n_live_tup, 0))::bigint AS live_rows,
       sum(coalesce(s.n_dead_tup, 0))::bigint AS dead_rows,
       count(parent.oid)::int AS partitions
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
  LEFT JOIN pg_class parent ON parent.oid = i.inhparent
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE c.relkind = 'r'
   AND n.nspname IN ('reconciled', 'history')
 GROUP BY 1
 ORDER BY 1;
