-- Every Data Entry Settings selection saved before the period ended, for the given sites (those saved
-- before its start govern it; those saved during it are checked, so a rejection is reported once).
SELECT selection_id, site_id, method, effective_start, chosen_at, chosen_by
  FROM portal.data_entry_selection
 WHERE chosen_at < %(period_end_instant)s
   AND site_id = ANY (%(site_ids)s::text[])
 ORDER BY site_id, chosen_at, selection_id;
