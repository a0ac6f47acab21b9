-- ref.provider_current (V011) expanded its column list when it was created, before V013 added
-- ref.provider.email, so it never showed the address. Recreated with it (appended, so that
-- CREATE OR REPLACE keeps the view's privileges); tests/integration/test_current_views.py checks
-- that every `_current` view shows every column of its table.
CREATE OR REPLACE VIEW ref.provider_current AS
SELECT provider_id, provider_name, recorded_at, superseded_at, email
  FROM ref.provider
 WHERE superseded_at IS NULL;
