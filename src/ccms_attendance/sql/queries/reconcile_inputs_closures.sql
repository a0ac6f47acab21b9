-- Registered closures of the run's planned sites in the period, with how many paid closure (PC)
-- days the site had registered earlier in the same calendar year (16 are paid); as known at the
-- run's as_known_at.
WITH closure AS (
    SELECT * FROM ref.site_closure_known(%(as_known_at)s)
)
SELECT c.site_id, c.closure_date, c.closure_kind,
       (SELECT count(*)
          FROM closure e
         WHERE e.site_id = c.site_id
           AND e.closure_kind = 'PC'
           AND e.closure_date >= date_trunc('year', c.closure_date)::date
           AND e.closure_date < c.closure_date) AS paid_closures_before
  FROM closure c
  JOIN staging.site_plan p ON p.run_id = %(run_id)s AND p.site_id = c.site_id
 WHERE c.closure_date BETWEEN %(period_start)s AND %(period_end)s;
