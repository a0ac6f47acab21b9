-- Rows a run handled per stage, for the benchmark's rows/s (staged records per source; loaded rows).
SELECT 'staged:' || source AS what, count(*)::bigint AS row_count
  FROM staging.source_record WHERE run_id = %(run_id)s GROUP BY source
UNION ALL
SELECT 'loaded:daily_attendance', count(*) FROM reconciled.daily_attendance WHERE run_id = %(run_id)s
UNION ALL
SELECT 'loaded:absence_summary', count(*) FROM reconciled.absence_summary WHERE run_id = %(run_id)s
UNION ALL
SELECT 'loaded:site_period', count(*) FROM reconciled.site_period WHERE run_id = %(run_id)s
UNION ALL
SELECT 'loaded:exception', count(*) FROM reconciled.exception WHERE run_id = %(run_id)s
UNION ALL
SELECT 'loaded:quarantine', count(*) FROM reconciled.quarantine WHERE run_id = %(run_id)s;
