-- Experiments on the share prompt and survey fatigue controls
-- (bot/experiment.go, bot/sampling.go): the experiment and variant of each
-- offer and of each delayed prompt's timer, and when each person was last
-- surveyed, for survey.cooldown.

-- +goose Up
ALTER TABLE offers ADD COLUMN experiment TEXT NOT NULL DEFAULT '';
ALTER TABLE offers ADD COLUMN variant TEXT NOT NULL DEFAULT '';
ALTER TABLE timers ADD COLUMN experiment TEXT NOT NULL DEFAULT '';
ALTER TABLE timers ADD COLUMN variant TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN last_survey_at INTEGER;

-- The experiments page counts the prompts of each variant: offers in an
-- experiment, by variant and prompt (case and round), with their clicks
-- and shares, without touching the offers' rows.
CREATE INDEX offers_experiment ON offers (experiment, variant, case_id, round, clicked, shared)
    WHERE experiment <> '';

-- +goose Down
DROP INDEX offers_experiment;
ALTER TABLE people DROP COLUMN last_survey_at;
ALTER TABLE timers DROP COLUMN variant;
ALTER TABLE timers DROP COLUMN experiment;
ALTER TABLE offers DROP COLUMN variant;
ALTER TABLE offers DROP COLUMN experiment;
