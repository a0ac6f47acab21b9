-- How many source records an exception stands for, as a number rather than words in `detail`:
-- an `unattributed_records_dropped` exception (records of children on no voucher, never kept) is a
-- count only, and the provider feedback (docs/outputs.md) reports that count. Empty for the kinds
-- about one child-day. Not part of the period checksums (sql/queries/period_checksums.sql).
ALTER TABLE staging.exception ADD COLUMN record_count integer
    CONSTRAINT exception_record_count_positive CHECK (record_count > 0);
ALTER TABLE reconciled.exception ADD COLUMN record_count integer
    CONSTRAINT exception_record_count_positive CHECK (record_count > 0);
ALTER TABLE history.exception ADD COLUMN record_count integer;
