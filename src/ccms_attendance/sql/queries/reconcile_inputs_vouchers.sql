SELECT v.voucher_id, v.child_id, v.site_id, v.program, v.schedule, v.scheduled_weekdays,
       v.authorized_start, v.authorized_end
  FROM ref.voucher v
  JOIN staging.site_plan p ON p.run_id = %(run_id)s AND p.site_id = v.site_id
 WHERE v.authorized_start <= %(period_end)s
   AND (v.authorized_end IS NULL OR v.authorized_end >= %(period_start)s);
