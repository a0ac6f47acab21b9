-- Only a data verdict makes a site-period's data unavailable in a new version; an outage keeps the
-- previous version (docs/reliability.md, "Infrastructure failures and kept versions").

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
