-- A source whose data failed critical validation governs nothing this run: its sites become
-- incomplete (never absences) with the validation error as the reason.
INSERT INTO staging.site_extract (run_id, source, batch_no, site_id, outcome, error)
SELECT p.run_id, %(source)s, p.batch_no, p.site_id, 'failed', %(error)s
  FROM staging.site_plan p
 WHERE p.run_id = %(run_id)s AND p.governing_source = %(source)s
ON CONFLICT (run_id, source, site_id) DO UPDATE SET outcome = 'failed', error = EXCLUDED.error;
