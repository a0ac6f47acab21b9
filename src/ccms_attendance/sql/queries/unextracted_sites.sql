-- Planned sites the run has no extraction result for from their governing source (its extract
-- task did not complete: the warehouse failed, or a bug): nothing may be concluded about them.
-- Sites the plan already found incomplete (an unlinked license) are not extracted at all.
SELECT p.governing_source AS source, p.site_id
  FROM staging.site_plan p
 WHERE p.run_id = %(run_id)s
   AND p.incomplete_reason IS NULL
   AND NOT EXISTS (SELECT 1
                     FROM staging.site_extract e
                    WHERE e.run_id = p.run_id AND e.source = p.governing_source AND e.site_id = p.site_id)
 ORDER BY p.governing_source, p.site_id;
