-- Sites with at least one reported-program voucher on a day of the period, with the portal facts
-- the governing-source rules need, as they were at the period start — everything as known at the
-- run's as_known_at (docs/history.md).
-- The sites with such a voucher are found once, as a set (materialized): as an EXISTS per site the
-- planner, misjudging the de-duplicated site list, compared every site with every voucher (3,000 x
-- 60,000 statewide, 2.4 s).
WITH voucher_site AS MATERIALIZED (
    SELECT DISTINCT v.site_id
      FROM ref.voucher_for_period(%(as_known_at)s, %(period_start)s, %(period_end)s) v
     WHERE v.program IN ('CCDF', 'OMW')
)
SELECT s.site_id,
       s.license_number,
       (SELECT min(ps.submitted_at)
          FROM portal.period_submission_known(%(as_known_at)s) ps
         WHERE ps.site_id = s.site_id) AS first_submission_at,
       EXISTS (SELECT 1
                 FROM ref.license_link_known(%(as_known_at)s) ll
                WHERE ll.license_number = s.license_number
                  AND ll.linked_from <= %(period_start_instant)s
                  AND (ll.linked_until IS NULL OR ll.linked_until > %(period_start_instant)s)) AS license_linked
  FROM ref.site_for_period(%(as_known_at)s, %(period_start)s, %(period_end)s) s
  JOIN voucher_site vs ON vs.site_id = s.site_id
 WHERE (cardinality(%(only_sites)s::text[]) = 0 OR s.site_id = ANY (%(only_sites)s::text[]))
 ORDER BY s.site_id;
