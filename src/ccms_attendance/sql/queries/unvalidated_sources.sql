-- Sources with records staged for the run but no persisted validation result: the validate task
-- did not complete, so their data must not be used. One index probe per source (not a pass over
-- every staged record).
SELECT s.source
  FROM unnest(%(sources)s::text[], %(suites)s::text[]) AS s(source, suite_name)
 WHERE EXISTS (SELECT 1
                 FROM staging.source_record r
                WHERE r.run_id = %(run_id)s AND r.source = s.source)
   AND NOT EXISTS (SELECT 1
                     FROM reconciled.validation_result v
                    WHERE v.run_id = %(run_id)s AND v.suite_name = s.suite_name)
 ORDER BY s.source;
