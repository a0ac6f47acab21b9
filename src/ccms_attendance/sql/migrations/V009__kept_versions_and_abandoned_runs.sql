-- Only a data verdict makes a site-period's data unavailable in a new version; an outage keeps the
-- previous version (docs/reliability.md, "Infrastructure failures and kept versions"). Runs that
-- stopped without finishing are marked, and their staging rows pruned.

-- Why a site-period's data is unavailable (incomplete_kind = 'data_unavailable'), so that the load
-- can tell a data verdict (the plan's portal facts, a failed validation) from a source that could
-- not be read (ccms_attendance.rules.lifecycle.UnavailableCause).
ALTER TABLE staging.site_period ADD COLUMN unavailable_cause text;
ALTER TABLE reconciled.site_period ADD COLUMN unavailable_cause text;
ALTER TABLE reconciled.site_period
    ADD CONSTRAINT site_period_cause_when_unavailable
        CHECK ((incomplete_kind IS NOT DISTINCT FROM 'data_unavailable') = (unavailable_cause IS NOT NULL));
UPDATE reconciled.site_period SET unavailable_cause = 'unknown' WHERE incomplete_kind = 'data_unavailable';

-- A source whose records failed a critical expectation: its retrieved sites are 'failed_validation'
-- (a data verdict), distinct from 'failed' (the vendor could not be read).
ALTER TABLE staging.site_extract DROP CONSTRAINT site_extract_outcome_valid;
ALTER TABLE staging.site_extract
    ADD CONSTRAINT site_extract_outcome_valid CHECK (outcome IN ('retrieved', 'failed', 'failed_validation'));

-- Which sites a load kept from the previous version instead of replacing them, and why:
-- [{"site_id": ..., "kept_run_id": ..., "reason": ...}].
ALTER TABLE history.period_version ADD COLUMN kept_sites jsonb NOT NULL DEFAULT '[]';

-- A run is 'failed' when a step that stops the load failed for good (its failure callback says
-- so), 'abandoned' when it stopped without saying (killed): the next plan of any run finds it.
-- staging_pruned_at: its staging rows were deleted; no step of that run can go on from there.
ALTER TABLE reconciled.run_audit DROP CONSTRAINT run_audit_status_valid;
ALTER TABLE reconciled.run_audit
    ADD CONSTRAINT run_audit_status_valid CHECK (status IN ('running', 'loaded', 'failed', 'abandoned')),
    ADD COLUMN status_reason text,
    ADD COLUMN staging_pruned_at timestamptz;
CREATE INDEX run_audit_status_idx ON reconciled.run_audit (status, started_at);
