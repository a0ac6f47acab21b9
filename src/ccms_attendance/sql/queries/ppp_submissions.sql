-- The portal's period submissions of the run's planned sites, as known at the run's "now" and
-- as_known_at.
SELECT p.site_id, ps.submitted_at
  FROM staging.site_plan p
  JOIN portal.period_submission_known(%(as_known_at)s) ps
    ON ps.site_id = p.site_id AND ps.period_start = %(period_start)s
 WHERE p.run_id = %(run_id)s
   AND ps.submitted_at <= %(as_of)s;
