-- Children with a CCDF/OMW voucher on some day of the period anywhere, as known at the run's
-- as_known_at (now for a run without a recorded plan): everyone else a source mentions is dropped
-- before anything is persisted.
SELECT DISTINCT v.child_id
  FROM (SELECT coalesce((SELECT coalesce(a.as_known_at, a.as_of) FROM reconciled.run_audit a
                          WHERE a.run_id = %(run_id)s), now()) AS at) k,
       ref.voucher_for_period(k.at, %(period_start)s, %(period_end)s) v
 WHERE v.program IN ('CCDF', 'OMW');
