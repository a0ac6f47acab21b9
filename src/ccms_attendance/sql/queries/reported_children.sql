-- Children with a CCDF/OMW voucher overlapping the period anywhere: everyone else a source
-- mentions is dropped before anything is persisted.
SELECT DISTINCT child_id
  FROM ref.voucher
 WHERE program IN ('CCDF', 'OMW')
   AND authorized_start <= %(period_end)s
   AND (authorized_end IS NULL OR authorized_end >= %(period_start)s);
