-- Registered closures of the run's planned sites in the period, with how many paid closure (PC)
-- days the site had registered earlier in the same calendar year (16 are paid).
SELECT c.site_id, c.closure_date, c.closure_kind,
       (SELECT count(*)
          FROM ref.site_closure e
         WHERE e.site_id = c.site_id
           AND e.closure_kind = 'PC'
           AND e.closure_date >= date_trunc('year', c.closure_date)::date
           AND e.closure_date < c.closure_date) AS paid_closures_before
  FROM ref.site_closure c
  JOIN staging.site_plan p ON p.run_id = %(run_id)s AND p.site_id = c.site_id
 WHERE c.closure_date BETWEEN %(period_start)s AND %(period_end)s;
