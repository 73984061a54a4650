-- Experiments on the share prompt and survey fatigue controls
-- (bot/experiment.go, bot/sampling.go): the experiment and variant of each
-- offer and of each delayed prompt's timer, and when each person was last
-- surveyed, for survey.cooldown; and the experiments page's roll-up.

-- +goose Up
ALTER TABLE offers ADD COLUMN experiment TEXT NOT NULL DEFAULT '';
ALTER TABLE offers ADD COLUMN variant TEXT NOT NULL DEFAULT '';
ALTER TABLE timers ADD COLUMN experiment TEXT NOT NULL DEFAULT '';
ALTER TABLE timers ADD COLUMN variant TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN last_survey_at INTEGER;

-- The experiments page's roll-up, kept like those of 00002_dashboard.sql:
-- one row per UTC day of opening, platform, public channel, experiment and
-- variant, counting the prompts (a case's offers of one round) made, clicked
-- and shared. Triggers on offers mark the case's day dirty; the store
-- recomputes the dirty days before the dashboard reads.
CREATE TABLE dashboard_experiments (
    day        INTEGER NOT NULL, -- opened_at / 86400000
    platform   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    experiment TEXT    NOT NULL,
    variant    TEXT    NOT NULL,
    offered    INTEGER NOT NULL DEFAULT 0,
    clicked    INTEGER NOT NULL DEFAULT 0,
    shared     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, platform, channel, experiment, variant)
) STRICT, WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER dashboard_offer_insert AFTER INSERT ON offers WHEN new.experiment <> ''
BEGIN
    INSERT OR IGNORE INTO dashboard_dirty (day) SELECT opened_at / 86400000 FROM cases WHERE id = new.case_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER dashboard_offer_update AFTER UPDATE OF case_id, round, experiment, variant, clicked, shared ON offers
WHEN (old.experiment <> '' OR new.experiment <> '') AND (old.case_id IS NOT new.case_id OR old.round IS NOT new.round OR
    old.experiment IS NOT new.experiment OR old.variant IS NOT new.variant OR old.clicked IS NOT new.clicked OR
    old.shared IS NOT new.shared)
BEGIN
    INSERT OR IGNORE INTO dashboard_dirty (day)
        SELECT opened_at / 86400000 FROM cases WHERE id IN (old.case_id, new.case_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER dashboard_offer_delete AFTER DELETE ON offers WHEN old.experiment <> ''
BEGIN
    INSERT OR IGNORE INTO dashboard_dirty (day) SELECT opened_at / 86400000 FROM cases WHERE id = old.case_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER dashboard_offer_delete;
DROP TRIGGER dashboard_offer_update;
DROP TRIGGER dashboard_offer_insert;
DROP TABLE dashboard_experiments;
ALTER TABLE people DROP COLUMN last_survey_at;
ALTER TABLE timers DROP COLUMN variant;
ALTER TABLE timers DROP COLUMN experiment;
ALTER TABLE offers DROP COLUMN variant;
ALTER TABLE offers DROP COLUMN experiment;
