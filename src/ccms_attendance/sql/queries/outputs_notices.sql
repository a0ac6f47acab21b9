-- Every absence-limit notice of a final period, current or withdrawn, with where it happened (the
-- site the child was absent at on the crossing day, else a voucher site that day), the provider,
-- the absences counted in the enrollment year through that day, and the period's submission
-- deadline (the correction window runs from it). ref keeps every version (docs/history.md): the
-- site and provider are read as they are now (ref.site_latest, the current ref.provider), one row each.
SELECT n.notice_id, n.child_id, n.enrollment_year_start, n.limit_kind, n.threshold, n.crossed_on,
       n.period_start, n.action, n.voucher_ends_on, n.withdrawn_at,
       site.site_id, s.site_name, s.provider_id, p.provider_name,
       (SELECT count(DISTINCT d.attendance_date) FROM reconciled.daily_attendance d
         WHERE d.child_id = n.child_id AND d.status = 'absent'
           AND d.attendance_date BETWEEN n.enrollment_year_start AND n.crossed_on) AS absences_so_far,
       sp.submission_deadline
  FROM reconciled.absence_limit_notice n
  JOIN reconciled.period_load pl ON pl.period_start = n.period_start AND pl.lifecycle = 'final'
  JOIN ref.service_period sp ON sp.period_start = n.period_start
  CROSS JOIN LATERAL (
      SELECT coalesce(
          (SELECT d.site_id FROM reconciled.daily_attendance d
            WHERE d.child_id = n.child_id AND d.attendance_date = n.crossed_on
            ORDER BY (d.status = 'absent') DESC, d.site_id LIMIT 1),
          (SELECT v.site_id FROM ref.voucher_current v
            WHERE v.child_id = n.child_id AND v.authorized_start <= n.crossed_on
              AND (v.authorized_end IS NULL OR v.authorized_end >= n.crossed_on)
              AND v.valid_from <= n.crossed_on AND (v.valid_until IS NULL OR v.valid_until > n.crossed_on)
            ORDER BY v.site_id LIMIT 1)) AS site_id
  ) site
  JOIN ref.site_latest s ON s.site_id = site.site_id
  JOIN ref.provider p ON p.provider_id = s.provider_id AND p.superseded_at IS NULL
 ORDER BY s.provider_id, n.child_id, n.crossed_on, n.threshold, n.notice_id;
