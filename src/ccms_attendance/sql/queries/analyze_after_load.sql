-- Fresh statistics after a load committed: the reconciled tables it swapped rows in and the period's
-- history partitions (migration V016). Not inside the load's transaction: it would hold ANALYZE's
-- SHARE UPDATE EXCLUSIVE locks for the load's whole length.
SELECT reconciled.analyze_after_load(%(period_start)s);
