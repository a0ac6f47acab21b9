-- One row per run and GX suite: what data-quality validation found (see ccms_attendance.validation).
-- `result` is a JSON summary of the GX result (statistics, per-expectation success and unexpected
-- counts), never a dump of rows; quarantined rows themselves are in staging/reconciled.quarantine.
CREATE TABLE reconciled.validation_result (
    run_id           text NOT NULL,
    period_start     date NOT NULL,
    suite_name       text NOT NULL,
    success          boolean NOT NULL,
    evaluated        integer NOT NULL,
    failed_critical  integer NOT NULL DEFAULT 0,
    failed_warning   integer NOT NULL DEFAULT 0,
    quarantined_rows integer NOT NULL DEFAULT 0,
    result           jsonb NOT NULL DEFAULT '{}',
    validated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, suite_name),
    CONSTRAINT validation_result_counts_valid
        CHECK (evaluated >= 0 AND failed_critical >= 0 AND failed_warning >= 0 AND quarantined_rows >= 0)
);
CREATE INDEX validation_result_period_idx ON reconciled.validation_result (period_start, suite_name);
