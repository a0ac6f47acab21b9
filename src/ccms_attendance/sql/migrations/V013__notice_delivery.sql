-- What the state sends onward (ccms_attendance.outputs, docs/outputs.md): provider e-mail
-- addresses and the ledger of every absence-limit letter delivered, so that a rerun never sends
-- the same letter twice and a withdrawn notice gets exactly one withdrawal.

-- Where a provider's letters are e-mailed (none: the folder only). Another branch may add it too.
ALTER TABLE ref.provider ADD COLUMN IF NOT EXISTS email text;

-- One row per letter and channel. A notice is identified across recounts by its child, enrollment
-- year, limit kind and threshold (a correction that moves the crossing day makes a new notice_id);
-- the latest letter per identity and channel says what the family was last told.
CREATE TABLE reconciled.notice_delivery (
    delivery_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_id             bigint NOT NULL REFERENCES reconciled.absence_limit_notice,
    child_id              text NOT NULL,
    enrollment_year_start date NOT NULL,
    limit_kind            text NOT NULL,
    threshold             integer NOT NULL,
    letter                text NOT NULL,
    channel               text NOT NULL,
    provider_id           text NOT NULL,
    -- sent; or withheld: a withdrawal past the correction window (recorded, never sent).
    outcome               text NOT NULL,
    location              text,
    period_start          date NOT NULL,
    run_id                text NOT NULL,
    delivered_at          timestamptz NOT NULL,
    CONSTRAINT delivery_letter_valid CHECK (letter IN ('notice', 'withdrawal')),
    CONSTRAINT delivery_channel_valid CHECK (channel IN ('folder', 'email')),
    CONSTRAINT delivery_outcome_valid CHECK (outcome IN ('sent', 'withheld')),
    CONSTRAINT delivery_once UNIQUE (notice_id, letter, channel)
);
CREATE INDEX notice_delivery_identity_idx
    ON reconciled.notice_delivery (child_id, enrollment_year_start, limit_kind, threshold, channel);
