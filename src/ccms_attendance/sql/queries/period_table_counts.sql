SELECT 'reconciled.daily_attendance' AS table_name, count(*)::int AS row_count
  FROM reconciled.daily_attendance WHERE period_start = %(period_start)s
UNION ALL
SELECT 'reconciled.absence_summary', count(*)::int FROM reconciled.absence_summary WHERE period_start = %(period_start)s
UNION ALL
SELECT 'reconciled.site_period', count(*)::int FROM reconciled.site_period WHERE period_start = %(period_start)s
UNION ALL
SELECT 'reconciled.exception', count(*)::int FROM reconciled.exception WHERE period_start = %(period_start)s
UNION ALL
SELECT 'reconciled.quarantine', count(*)::int FROM reconciled.quarantine WHERE period_start = %(period_start)s;
