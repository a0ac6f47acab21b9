-- The sources whose staged records the run's validate task judged and recorded (issue 20). The
-- task judges only the sources without a row here: a recorded verdict moved the bad rows to the
-- quarantine, so judging what is left again (a retry, or the task re-run after another source's
-- extract was cleared) could not reproduce it. Re-staging a source's batch or the whole run deletes
-- the source's row (clear_batch_extract.sql, clear_run_staging.sql), so new records are judged.
CREATE TABLE staging.source_judged (
    run_id text NOT NULL,
    source text NOT NULL,
    PRIMARY KEY (run_id, source)
);
