-- The reference sync (dags/ccms_reference_sync.py, docs/intake.md): every drop applied, once.
-- A drop's digest (sha256 over its manifest and files) is its identity: the same drop applied
-- again finds its row here and changes nothing.

-- The provider's contact e-mail (optional in the intake contract; V013 adds it too, for the letters).
ALTER TABLE ref.provider ADD COLUMN IF NOT EXISTS email text;

CREATE TABLE ref.intake_drop (
    drop_hash   text PRIMARY KEY,
    drop_name   text NOT NULL,
    mode        text NOT NULL,
    exported_at timestamptz NOT NULL,
    source      text NOT NULL DEFAULT '',
    -- Per entity: rows upserted (new or changed), unchanged and deleted by this drop.
    entities    jsonb NOT NULL,
    applied_at  timestamptz NOT NULL,
    applied_by  text NOT NULL DEFAULT current_user,
    CONSTRAINT intake_drop_mode_valid CHECK (mode IN ('snapshot', 'changes')),
    CONSTRAINT intake_drop_hash_format CHECK (drop_hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX intake_drop_applied_idx ON ref.intake_drop (applied_at);
