-- Record ids a vendor sent more than once for a site-period (counted per site, never staged twice):
-- `duplicates_dropped` the very same record again (dropped by the hook); `duplicate_conflicts`
-- another version under an id already sent (both versions settled by the child-day policy).
ALTER TABLE staging.site_extract
    ADD COLUMN duplicates_dropped  integer NOT NULL DEFAULT 0,
    ADD COLUMN duplicate_conflicts integer NOT NULL DEFAULT 0;
