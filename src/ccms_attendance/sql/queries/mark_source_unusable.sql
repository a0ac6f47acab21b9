-- A source whose data failed critical validation governs nothing this run: the retrieved sites it
-- governs become 'failed_validation' (a data verdict: incomplete, never absences) with the
-- validation error as the reason. A site the vendor could not be read for keeps its own failure
-- (none of its records were judged); a site with no extraction result stays without one (the run
-- then refuses to reconcile: an extract that did not complete is no verdict on the data).
UPDATE staging.site_extract e
   SET outcome = 'failed_validation', error = %(error)s
  FROM staging.site_plan p
 WHERE e.run_id = %(run_id)s AND e.source = %(source)s AND e.outcome = 'retrieved'
   AND p.run_id = e.run_id AND p.site_id = e.site_id AND p.governing_source = %(source)s;
