-- Bytes on disk per schema (tables, their indexes and TOAST), for the year bench's growth curve.
SELECT n.nspname AS schema_name, sum(pg_total_relation_size(c.oid))::bigint AS bytes
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'm')
   AND n.nspname IN ('ref', 'portal', 'staging', 'reconciled', 'history', 'meta')
 GROUP BY n.nspname
 ORDER BY n.nspname;
