-- The instant a run judges "now" by (taken at plan), its period's submission deadline, when its
-- staging rows were pruned (then no step of the run can go on: its plan must run again), and the
-- instant it reads reference and portal data as known at (runs planned before V011: their as_of).
SELECT a.as_of, p.submission_deadline, a.staging_pruned_at, coalesce(a.as_known_at, a.as_of) AS as_known_at
  FROM reconciled.run_audit a
  JOIN ref.service_period p ON p.period_start = a.period_start
 WHERE a.run_id = %(run_id)s;
