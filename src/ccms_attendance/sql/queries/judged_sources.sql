-- The run's sources already judged and recorded (V020), with the verdict recorded then.
SELECT s.source, s.suite_name, v.success, v.evaluated, v.quarantined_rows, v.failed_warning
  FROM unnest(%(sources)s::text[], %(suites)s::text[]) AS s(source, suite_name)
  JOIN staging.source_judged j ON j.run_id = %(run_id)s AND j.source = s.source
  JOIN reconciled.validation_result v ON v.run_id = j.run_id AND v.suite_name = s.suite_name
 ORDER BY s.source;
