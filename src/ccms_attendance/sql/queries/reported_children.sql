-- Children with a CCDF/OMW voucher on some day of the period anywhere, as known at the run's
-- as_known_at: everyone else a source mentions is dropped before anything is persisted.
SELECT DISTINCT child_id
  FROM ref.voucher_for_period(%(as_known_at)s, %(period_start)s, %(period_end)s)
 WHERE program IN ('CCDF', 'OMW');
