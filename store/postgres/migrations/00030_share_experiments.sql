-- Experiments on the share prompt and survey fatigue controls
-- (bot/experiment.go, bot/sampling.go): the experiment and variant of each
-- offer and of each delayed prompt's timer, and when each person was last
-- surveyed, for survey.cooldown; and the experiments page's roll-up.

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

-- The experiments page's roll-up, kept like those of 00021_dashboard_rollups.sql
-- (store/postgres/rollup.go): one row per UTC day of opening, platform,
-- public channel, experiment and variant, counting the prompts (a case's
-- offers of one round) made, clicked and shared. Triggers on offers append
-- the case's day to dashboard_dirty; reads compute the marked days from the
-- cases.
CREATE TABLE dashboard_experiments (
    day        bigint  NOT NULL,
    platform   text    NOT NULL,
    channel    text    NOT NULL,
    experiment text    NOT NULL,
    variant    text    NOT NULL,
    offered    integer NOT NULL DEFAULT 0,
    clicked    integer NOT NULL DEFAULT 0,
    shared     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, platform, channel, experiment, variant)
);

-- +goose StatementBegin
CREATE FUNCTION dashboard_mark_offer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO dashboard_dirty (day) SELECT opened_at / 86400000 FROM cases WHERE id = OLD.case_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.case_id <> OLD.case_id) THEN
        INSERT INTO dashboard_dirty (day) SELECT opened_at / 86400000 FROM cases WHERE id = NEW.case_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER dashboard_offer_insert AFTER INSERT ON offers
    FOR EACH ROW WHEN (NEW.experiment <> '') EXECUTE FUNCTION dashboard_mark_offer();

-- UpdateOffer sets every column: only a change of what the roll-up counts marks.
CREATE TRIGGER dashboard_offer_update AFTER UPDATE ON offers
    FOR EACH ROW WHEN ((OLD.experiment <> '' OR NEW.experiment <> '') AND (OLD.case_id IS DISTINCT FROM NEW.case_id OR
        OLD.round IS DISTINCT FROM NEW.round OR OLD.experiment IS DISTINCT FROM NEW.experiment OR
        OLD.variant IS DISTINCT FROM NEW.variant OR OLD.clicked IS DISTINCT FROM NEW.clicked OR
        OLD.shared IS DISTINCT FROM NEW.shared))
    EXECUTE FUNCTION dashboard_mark_offer();

CREATE TRIGGER dashboard_offer_delete AFTER DELETE ON offers
    FOR EACH ROW WHEN (OLD.experiment <> '') EXECUTE FUNCTION dashboard_mark_offer();

-- +goose Down
DROP TRIGGER dashboard_offer_delete ON offers;
DROP TRIGGER dashboard_offer_update ON offers;
DROP TRIGGER dashboard_offer_insert ON offers;
DROP FUNCTION dashboard_mark_offer();
DROP TABLE dashboard_experiments;
DROP INDEX offers_experiment;
ALTER TABLE people DROP COLUMN last_survey_at;
ALTER TABLE timers DROP COLUMN variant;
ALTER TABLE timers DROP COLUMN experiment;
ALTER TABLE offers DROP COLUMN variant;
ALTER TABLE offers DROP COLUMN experiment;
