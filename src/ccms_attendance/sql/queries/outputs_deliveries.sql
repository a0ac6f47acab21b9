-- The ledger: every letter delivered (or withheld) so far, oldest first.
SELECT notice_id, child_id, enrollment_year_start, limit_kind, threshold, letter, channel, outcome, delivered_at
  FROM reconciled.notice_delivery
 ORDER BY delivered_at, delivery_id;
