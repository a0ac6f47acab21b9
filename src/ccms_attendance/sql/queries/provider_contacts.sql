-- The providers' names and e-mail addresses (NULL: letters go to the folder only).
SELECT provider_id, provider_name, nullif(btrim(email), '') AS email FROM ref.provider ORDER BY provider_id;
