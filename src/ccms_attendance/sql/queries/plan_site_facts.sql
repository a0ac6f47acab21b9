-- Sites with at least one reported-program voucher overlapping the period, with the portal facts
-- the governing-source rules need, as they were at the period start.
SELECT s.site_id,
       s.license_number,
       (SELECT min(ps.submitted_at)
          FROM portal.period_submission ps
         WHERE ps.site_id = s.site_id) AS first_submission_at,
       EXISTS (SELECT 1
                 FROM ref.license_link ll
                WHERE ll.license_number = s.license_number
                  AND ll.linked_from <= %(period_start_instant)s
                  AND (ll.linked_until IS NULL OR ll.linked_until > %(period_start_instant)s)) AS license_linked
  FROM ref.site s
 WHERE EXISTS (SELECT 1
                 FROM ref.voucher v
                WHERE v.site_id = s.site_id
                  AND v.program IN ('CCDF', 'OMW')
                  AND v.authorized_start <= %(period_end)s
                  AND (v.authorized_end IS NULL OR v.authorized_end >= %(period_start)s))
   AND (cardinality(%(only_sites)s::text[]) = 0 OR s.site_id = ANY (%(only_sites)s::text[]))
 ORDER BY s.site_id;
