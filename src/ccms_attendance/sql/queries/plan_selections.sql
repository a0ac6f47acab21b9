-- Every Data Entry Settings selection saved before the period started, for the given sites.
SELECT selection_id, site_id, method, effective_start, chosen_at, chosen_by
  FROM portal.data_entry_selection
 WHERE chosen_at < %(period_start_instant)s
   AND site_id = ANY (%(site_ids)s::text[])
 ORDER BY site_id, chosen_at, selection_id;
