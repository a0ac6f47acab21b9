-- Which of the given site ids the reference data knows now (a manual run's `sites` Param).
SELECT DISTINCT site_id FROM ref.site_current WHERE site_id = ANY (%(site_ids)s::text[]);
