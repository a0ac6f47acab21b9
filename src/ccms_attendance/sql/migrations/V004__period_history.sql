-- Every version of every period that was ever current, so a correction never destroys what was
-- reported before: who/when/which run loaded it, and which run replaced it.

CREATE SCHEMA IF NOT EXISTS history;

CREATE TABLE history.period_version (
    -- One row per load: a cleared and re-executed run loads again under the same run id.
    version_no        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period_start      date NOT NULL,
    run_id            text NOT NULL,
    dag_id            text NOT NULL,
    loaded_at         timestamptz NOT NULL,
    loaded_by         text NOT NULL,
    scope             jsonb NOT NULL DEFAULT '{}',
    checksum          text NOT NULL,
    superseded_at     timestamptz,
    superseded_by_run text,
    CONSTRAINT period_version_superseded_together
        CHECK ((superseded_at IS NULL) = (superseded_by_run IS NULL))
);
CREATE INDEX period_version_period_idx ON history.period_version (period_start, loaded_at);
CREATE UNIQUE INDEX period_version_one_current ON history.period_version (period_start)
    WHERE superseded_at IS NULL;

-- Rows of replaced versions, copied out of reconciled.* by the load that replaced them;
-- (run_id, superseded_at) names the version they belonged to.
CREATE TABLE history.daily_attendance (
    LIKE reconciled.daily_attendance INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    superseded_by_run text NOT NULL,
    superseded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX history_daily_version_idx ON history.daily_attendance (period_start, run_id);

CREATE TABLE history.absence_summary (
    LIKE reconciled.absence_summary INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    superseded_by_run text NOT NULL,
    superseded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX history_summary_version_idx ON history.absence_summary (period_start, run_id);

CREATE TABLE history.exception (
    period_start      date NOT NULL,
    run_id            text NOT NULL,
    kind              text NOT NULL,
    severity          text NOT NULL,
    site_id           text,
    child_id          text,
    attendance_date   date,
    detail            text NOT NULL,
    superseded_by_run text NOT NULL,
    superseded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX history_exception_version_idx ON history.exception (period_start, run_id);
