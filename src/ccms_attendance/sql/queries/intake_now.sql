-- The instant a drop is applied: the transaction's start, one recorded_at for all of its rows.
SELECT now() AS now;
