-- check_period: the site-periods this run found without usable data. The pending kinds
-- (not_submitted, after_data_through) are the period's lifecycle, not a problem, so they are not
-- listed. kept: the load kept an earlier version of the site instead (docs/reliability.md).
SELECT s.site_id,
       st.license_number,
       s.governing_source,
       s.unavailable_cause,
       s.incomplete_reason,
       coalesce(c.run_id <> s.run_id, false) AS kept
  FROM staging.site_period s
  JOIN ref.site st ON st.site_id = s.site_id
  LEFT JOIN reconciled.site_period c ON c.period_start = s.period_start AND c.site_id = s.site_id
 WHERE s.run_id = %(run_id)s
   AND s.incomplete_kind = 'data_unavailable'
 ORDER BY s.site_id;
