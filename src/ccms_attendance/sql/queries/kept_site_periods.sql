-- The sites whose current version a load keeps instead of replacing it (docs/reliability.md, "Kept
-- versions"): this run found their data unavailable for a cause that is no verdict on the data
-- (keepable_causes: the vendor could not be read, or sent nothing), while the current version
-- holds usable data for them (complete, or pending only by the lifecycle: usable_kinds) from the
-- same governing source. Read under the period's advisory lock, inside the load transaction.
SELECT s.site_id,
       c.run_id AS kept_run_id,
       c.complete AS kept_complete,
       c.incomplete_kind AS kept_kind,
       c.lifecycle AS kept_lifecycle,
       s.incomplete_reason AS reason
  FROM staging.site_period s
  JOIN reconciled.site_period c ON c.period_start = s.period_start AND c.site_id = s.site_id
 WHERE s.run_id = %(run_id)s
   AND s.incomplete_kind = 'data_unavailable'
   AND s.unavailable_cause = ANY(%(keepable_causes)s::text[])
   AND c.governing_source = s.governing_source
   AND (c.complete OR c.incomplete_kind = ANY(%(usable_kinds)s::text[]))
 ORDER BY s.site_id;
