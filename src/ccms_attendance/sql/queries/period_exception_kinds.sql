SELECT kind, count(*)::int AS exceptions
  FROM reconciled.exception
 WHERE period_start = %(period_start)s
 GROUP BY kind
 ORDER BY kind;
