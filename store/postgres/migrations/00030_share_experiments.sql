-- Experiments on the share prompt and survey fatigue controls
-- (bot/experiment.go, bot/sampling.go): the experiment and variant of each
-- offer and of each delayed prompt's timer, and when each person was last
-- surveyed, for survey.cooldown.

-- +goose Up
ALTER TABLE offers ADD COLUMN experiment text NOT NULL DEFAULT '';
ALTER TABLE offers ADD COLUMN variant text NOT NULL DEFAULT '';
ALTER TABLE timers ADD COLUMN experiment text NOT NULL DEFAULT '';
ALTER TABLE timers ADD COLUMN variant text NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN last_survey_at bigint;

-- The experiments page joins the period's cases to their offers in
-- experiments, by variant and prompt (case and round), with their clicks
-- and shares: an index-only lookup per case.
CREATE INDEX offers_experiment ON offers (case_id, round, experiment, variant, clicked, shared)
    WHERE experiment <> '';

-- +goose Down
DROP INDEX offers_experiment;
ALTER TABLE people DROP COLUMN last_survey_at;
ALTER TABLE timers DROP COLUMN variant;
ALTER TABLE timers DROP COLUMN experiment;
ALTER TABLE offers DROP COLUMN variant;
ALTER TABLE offers DROP COLUMN experiment;
