-- The lifecycle of a period's current version (no row: the period was never loaded).
SELECT lifecycle, run_id FROM reconciled.period_load WHERE period_start = %(period_start)s;
