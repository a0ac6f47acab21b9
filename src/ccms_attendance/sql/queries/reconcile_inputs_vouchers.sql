-- Vouchers of the planned sites on the period's days, as known at the run's as_known_at; a voucher
-- whose attributes change within the period comes as several non-overlapping pieces.
SELECT v.voucher_id, v.child_id, v.site_id, v.program, v.schedule, v.scheduled_weekdays,
       v.authorized_start, v.authorized_end
  FROM ref.voucher_for_period(%(as_known_at)s, %(period_start)s, %(period_end)s) v
  JOIN staging.site_plan p ON p.run_id = %(run_id)s AND p.site_id = v.site_id;
