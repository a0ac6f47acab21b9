-- Sources with records staged for the run but no persisted validation result: their validate task
-- did not complete, so their data must not be used.
SELECT DISTINCT r.source
  FROM staging.source_record r
  JOIN unnest(%(sources)s::text[], %(suites)s::text[]) AS s(source, suite_name) ON s.source = r.source
 WHERE r.run_id = %(run_id)s
   AND NOT EXISTS (SELECT 1
                     FROM reconciled.validation_result v
                    WHERE v.run_id = r.run_id AND v.suite_name = s.suite_name);
