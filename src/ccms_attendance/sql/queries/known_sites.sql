SELECT site_id FROM ref.site WHERE site_id = ANY (%(site_ids)s::text[]);
