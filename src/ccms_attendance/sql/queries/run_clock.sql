-- The instant a run judges "now" by (taken at plan) and its period's submission deadline.
SELECT a.as_of, p.submission_deadline
  FROM reconciled.run_audit a
  JOIN ref.service_period p ON p.period_start = a.period_start
 WHERE a.run_id = %(run_id)s;
