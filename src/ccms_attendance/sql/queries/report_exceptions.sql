-- Period report: exceptions of the loaded period by kind and severity.
SELECT kind, severity, count(*)::int AS exceptions
  FROM reconciled.exception
 WHERE period_start = %(period_start)s
 GROUP BY kind, severity
 ORDER BY kind, severity;
