-- One 'site_period_kept' exception per site whose current version the load kept (the detail says
-- which run loaded the kept version and why this run's data for the site was not used).
INSERT INTO reconciled.exception (period_start, run_id, kind, severity, site_id, detail)
SELECT %(period_start)s, %(run_id)s, 'site_period_kept', 'warning', k.site_id, k.detail
  FROM unnest(%(kept_sites)s::text[], %(kept_details)s::text[]) AS k(site_id, detail)
 ORDER BY k.site_id;
