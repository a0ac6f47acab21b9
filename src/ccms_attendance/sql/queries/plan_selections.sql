-- Every Data Entry Settings selection of the given sites saved up to the run's "now", as known at
-- its as_known_at. Those saved before the period's start govern it, those saved during it are
-- checked (a rejection is reported once); later ones tell when a site connected a CCMS, which
-- makes the portal read-only for entries typed from then on.
SELECT selection_id, site_id, method, effective_start, chosen_at, chosen_by
  FROM portal.data_entry_selection_known(%(as_known_at)s)
 WHERE chosen_at <= %(as_of)s
   AND site_id = ANY (%(site_ids)s::text[])
 ORDER BY site_id, chosen_at, selection_id;
