-- Record one suite's validation outcome for a run; a retried task replaces its earlier row.
INSERT INTO reconciled.validation_result
       (run_id, period_start, suite_name, success, evaluated, failed_critical, failed_warning, quarantined_rows,
        result, validated_at)
VALUES (%(run_id)s, %(period_start)s, %(suite_name)s, %(success)s, %(evaluated)s, %(failed_critical)s,
        %(failed_warning)s, %(quarantined_rows)s, %(result)s, now())
ON CONFLICT (run_id, suite_name) DO UPDATE
   SET period_start     = EXCLUDED.period_start,
       success          = EXCLUDED.success,
       evaluated        = EXCLUDED.evaluated,
       failed_critical  = EXCLUDED.failed_critical,
       failed_warning   = EXCLUDED.failed_warning,
       quarantined_rows = EXCLUDED.quarantined_rows,
       result           = EXCLUDED.result,
       validated_at     = EXCLUDED.validated_at;
