-- Per source, what a run's extraction saw: records kept, non-voucher records dropped, rejects, and
-- record ids the vendor repeated (the same record again: dropped; another version: a conflict).
SELECT source,
       count(*)::int AS sites,
       count(*) FILTER (WHERE outcome <> 'retrieved')::int AS sites_failed,  -- the vendor call, or validation
       sum(records)::int AS records,
       sum(dropped_non_voucher)::int AS dropped_non_voucher,
       sum(rejected)::int AS rejected,
       sum(duplicates_dropped)::int AS duplicates_dropped,
       sum(duplicate_conflicts)::int AS duplicate_conflicts
  FROM staging.site_extract
 WHERE run_id = %(run_id)s
 GROUP BY source
 ORDER BY source;
