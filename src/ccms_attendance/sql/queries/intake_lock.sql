-- One drop is applied at a time, whatever the number of sync runs (held until the transaction ends).
SELECT pg_advisory_xact_lock(hashtext('ccms_reference_sync'));
