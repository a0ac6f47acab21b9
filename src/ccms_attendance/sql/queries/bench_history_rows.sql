-- Rows kept in history (exact counts; the year bench runs this between periods, outside any timing).
SELECT 'period_version' AS table_name, count(*)::bigint AS rows FROM history.period_version
UNION ALL SELECT 'daily_attendance', count(*) FROM history.daily_attendance
UNION ALL SELECT 'absence_summary', count(*) FROM history.absence_summary
UNION ALL SELECT 'exception', count(*) FROM history.exception;
