-- The providers' names and e-mail addresses (NULL: letters go to the folder only), as they are now:
-- ref keeps every version (docs/history.md), the current one is the address to write to.
SELECT provider_id, provider_name, nullif(btrim(email), '') AS email
  FROM ref.provider_current
 ORDER BY provider_id;
