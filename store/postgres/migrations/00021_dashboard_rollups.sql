-- The dashboard's roll-ups, as in the SQLite store's migration 00002: one row
-- per UTC day of opening, platform and public channel (dashboard_daily) or
-- assignee (dashboard_staff), counting the cases, the funnel stages they
-- reached, the recoveries, histograms of their times to the first staff
-- response (first_<i>) and to resolution (resolve_<i>) over the buckets of
-- dashboard_time_bounds, and their ratings by scale and score. A page sums a
-- few thousand of these rows instead of reading every case of its period
-- (store/postgres/dashboard.go).
--
-- Kept lazily, safely for several instances: the triggers append the day of
-- every case or rating that changed to dashboard_dirty in the changing
-- transaction itself (an append, so concurrent transactions never wait for
-- each other there). A read takes one snapshot and computes the days it sees
-- marked from their cases, the rest from the roll-ups; a refresh rewrites the
-- marked days' rows in a REPEATABLE READ transaction and deletes the marks it
-- saw, and only those. An existing database starts with every day marked.

-- +goose Up
CREATE TABLE dashboard_daily (
    day             bigint  NOT NULL, -- opened_at / 86400000: days since 1970-01-01 UTC
    platform        text    NOT NULL,
    channel         text    NOT NULL, -- cases.public_channel
    cases           integer NOT NULL DEFAULT 0,
    asked           integer NOT NULL DEFAULT 0,
    taken_private   integer NOT NULL DEFAULT 0,
    first_response  integer NOT NULL DEFAULT 0,
    resolved        integer NOT NULL DEFAULT 0,
    surveyed        integer NOT NULL DEFAULT 0,
    rated           integer NOT NULL DEFAULT 0,
    satisfied       integer NOT NULL DEFAULT 0,
    offered         integer NOT NULL DEFAULT 0,
    clicked         integer NOT NULL DEFAULT 0,
    shared          integer NOT NULL DEFAULT 0,
    recovered       integer NOT NULL DEFAULT 0,
    first_0         integer NOT NULL DEFAULT 0,
    first_1         integer NOT NULL DEFAULT 0,
    first_2         integer NOT NULL DEFAULT 0,
    first_3         integer NOT NULL DEFAULT 0,
    first_4         integer NOT NULL DEFAULT 0,
    first_5         integer NOT NULL DEFAULT 0,
    first_6         integer NOT NULL DEFAULT 0,
    first_7         integer NOT NULL DEFAULT 0,
    first_8         integer NOT NULL DEFAULT 0,
    first_9         integer NOT NULL DEFAULT 0,
    first_10        integer NOT NULL DEFAULT 0,
    first_11        integer NOT NULL DEFAULT 0,
    first_12        integer NOT NULL DEFAULT 0,
    first_13        integer NOT NULL DEFAULT 0,
    first_14        integer NOT NULL DEFAULT 0,
    first_15        integer NOT NULL DEFAULT 0,
    first_16        integer NOT NULL DEFAULT 0,
    first_17        integer NOT NULL DEFAULT 0,
    first_18        integer NOT NULL DEFAULT 0,
    first_19        integer NOT NULL DEFAULT 0,
    first_20        integer NOT NULL DEFAULT 0,
    first_21        integer NOT NULL DEFAULT 0,
    first_22        integer NOT NULL DEFAULT 0,
    first_23        integer NOT NULL DEFAULT 0,
    resolve_0       integer NOT NULL DEFAULT 0,
    resolve_1       integer NOT NULL DEFAULT 0,
    resolve_2       integer NOT NULL DEFAULT 0,
    resolve_3       integer NOT NULL DEFAULT 0,
    resolve_4       integer NOT NULL DEFAULT 0,
    resolve_5       integer NOT NULL DEFAULT 0,
    resolve_6       integer NOT NULL DEFAULT 0,
    resolve_7       integer NOT NULL DEFAULT 0,
    resolve_8       integer NOT NULL DEFAULT 0,
    resolve_9       integer NOT NULL DEFAULT 0,
    resolve_10      integer NOT NULL DEFAULT 0,
    resolve_11      integer NOT NULL DEFAULT 0,
    resolve_12      integer NOT NULL DEFAULT 0,
    resolve_13      integer NOT NULL DEFAULT 0,
    resolve_14      integer NOT NULL DEFAULT 0,
    resolve_15      integer NOT NULL DEFAULT 0,
    resolve_16      integer NOT NULL DEFAULT 0,
    resolve_17      integer NOT NULL DEFAULT 0,
    resolve_18      integer NOT NULL DEFAULT 0,
    resolve_19      integer NOT NULL DEFAULT 0,
    resolve_20      integer NOT NULL DEFAULT 0,
    resolve_21      integer NOT NULL DEFAULT 0,
    resolve_22      integer NOT NULL DEFAULT 0,
    resolve_23      integer NOT NULL DEFAULT 0,
    ces_1           integer NOT NULL DEFAULT 0,
    ces_2           integer NOT NULL DEFAULT 0,
    ces_3           integer NOT NULL DEFAULT 0,
    ces_4           integer NOT NULL DEFAULT 0,
    ces_5           integer NOT NULL DEFAULT 0,
    ces_6           integer NOT NULL DEFAULT 0,
    ces_7           integer NOT NULL DEFAULT 0,
    csat_1          integer NOT NULL DEFAULT 0,
    csat_2          integer NOT NULL DEFAULT 0,
    csat_3          integer NOT NULL DEFAULT 0,
    csat_4          integer NOT NULL DEFAULT 0,
    csat_5          integer NOT NULL DEFAULT 0,
    nps_0           integer NOT NULL DEFAULT 0,
    nps_1           integer NOT NULL DEFAULT 0,
    nps_2           integer NOT NULL DEFAULT 0,
    nps_3           integer NOT NULL DEFAULT 0,
    nps_4           integer NOT NULL DEFAULT 0,
    nps_5           integer NOT NULL DEFAULT 0,
    nps_6           integer NOT NULL DEFAULT 0,
    nps_7           integer NOT NULL DEFAULT 0,
    nps_8           integer NOT NULL DEFAULT 0,
    nps_9           integer NOT NULL DEFAULT 0,
    nps_10          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, platform, channel)
);

CREATE TABLE dashboard_staff (
    day             bigint  NOT NULL,
    assignee        text    NOT NULL,
    cases           integer NOT NULL DEFAULT 0,
    asked           integer NOT NULL DEFAULT 0,
    taken_private   integer NOT NULL DEFAULT 0,
    first_response  integer NOT NULL DEFAULT 0,
    resolved        integer NOT NULL DEFAULT 0,
    surveyed        integer NOT NULL DEFAULT 0,
    rated           integer NOT NULL DEFAULT 0,
    satisfied       integer NOT NULL DEFAULT 0,
    offered         integer NOT NULL DEFAULT 0,
    clicked         integer NOT NULL DEFAULT 0,
    shared          integer NOT NULL DEFAULT 0,
    recovered       integer NOT NULL DEFAULT 0,
    first_0         integer NOT NULL DEFAULT 0,
    first_1         integer NOT NULL DEFAULT 0,
    first_2         integer NOT NULL DEFAULT 0,
    first_3         integer NOT NULL DEFAULT 0,
    first_4         integer NOT NULL DEFAULT 0,
    first_5         integer NOT NULL DEFAULT 0,
    first_6         integer NOT NULL DEFAULT 0,
    first_7         integer NOT NULL DEFAULT 0,
    first_8         integer NOT NULL DEFAULT 0,
    first_9         integer NOT NULL DEFAULT 0,
    first_10        integer NOT NULL DEFAULT 0,
    first_11        integer NOT NULL DEFAULT 0,
    first_12        integer NOT NULL DEFAULT 0,
    first_13        integer NOT NULL DEFAULT 0,
    first_14        integer NOT NULL DEFAULT 0,
    first_15        integer NOT NULL DEFAULT 0,
    first_16        integer NOT NULL DEFAULT 0,
    first_17        integer NOT NULL DEFAULT 0,
    first_18        integer NOT NULL DEFAULT 0,
    first_19        integer NOT NULL DEFAULT 0,
    first_20        integer NOT NULL DEFAULT 0,
    first_21        integer NOT NULL DEFAULT 0,
    first_22        integer NOT NULL DEFAULT 0,
    first_23        integer NOT NULL DEFAULT 0,
    resolve_0       integer NOT NULL DEFAULT 0,
    resolve_1       integer NOT NULL DEFAULT 0,
    resolve_2       integer NOT NULL DEFAULT 0,
    resolve_3       integer NOT NULL DEFAULT 0,
    resolve_4       integer NOT NULL DEFAULT 0,
    resolve_5       integer NOT NULL DEFAULT 0,
    resolve_6       integer NOT NULL DEFAULT 0,
    resolve_7       integer NOT NULL DEFAULT 0,
    resolve_8       integer NOT NULL DEFAULT 0,
    resolve_9       integer NOT NULL DEFAULT 0,
    resolve_10      integer NOT NULL DEFAULT 0,
    resolve_11      integer NOT NULL DEFAULT 0,
    resolve_12      integer NOT NULL DEFAULT 0,
    resolve_13      integer NOT NULL DEFAULT 0,
    resolve_14      integer NOT NULL DEFAULT 0,
    resolve_15      integer NOT NULL DEFAULT 0,
    resolve_16      integer NOT NULL DEFAULT 0,
    resolve_17      integer NOT NULL DEFAULT 0,
    resolve_18      integer NOT NULL DEFAULT 0,
    resolve_19      integer NOT NULL DEFAULT 0,
    resolve_20      integer NOT NULL DEFAULT 0,
    resolve_21      integer NOT NULL DEFAULT 0,
    resolve_22      integer NOT NULL DEFAULT 0,
    resolve_23      integer NOT NULL DEFAULT 0,
    ces_1           integer NOT NULL DEFAULT 0,
    ces_2           integer NOT NULL DEFAULT 0,
    ces_3           integer NOT NULL DEFAULT 0,
    ces_4           integer NOT NULL DEFAULT 0,
    ces_5           integer NOT NULL DEFAULT 0,
    ces_6           integer NOT NULL DEFAULT 0,
    ces_7           integer NOT NULL DEFAULT 0,
    csat_1          integer NOT NULL DEFAULT 0,
    csat_2          integer NOT NULL DEFAULT 0,
    csat_3          integer NOT NULL DEFAULT 0,
    csat_4          integer NOT NULL DEFAULT 0,
    csat_5          integer NOT NULL DEFAULT 0,
    nps_0           integer NOT NULL DEFAULT 0,
    nps_1           integer NOT NULL DEFAULT 0,
    nps_2           integer NOT NULL DEFAULT 0,
    nps_3           integer NOT NULL DEFAULT 0,
    nps_4           integer NOT NULL DEFAULT 0,
    nps_5           integer NOT NULL DEFAULT 0,
    nps_6           integer NOT NULL DEFAULT 0,
    nps_7           integer NOT NULL DEFAULT 0,
    nps_8           integer NOT NULL DEFAULT 0,
    nps_9           integer NOT NULL DEFAULT 0,
    nps_10          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, assignee)
);

-- Days whose roll-up rows may be out of date: one row per change, not per day.
CREATE TABLE dashboard_dirty (
    day bigint NOT NULL
);

INSERT INTO dashboard_dirty (day) SELECT DISTINCT opened_at / 86400000 FROM cases;

-- +goose StatementBegin
CREATE FUNCTION dashboard_mark_case() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO dashboard_dirty (day) VALUES (OLD.opened_at / 86400000);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.opened_at / 86400000 <> OLD.opened_at / 86400000) THEN
        INSERT INTO dashboard_dirty (day) VALUES (NEW.opened_at / 86400000);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION dashboard_mark_rating() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER dashboard_case_insert AFTER INSERT ON cases
    FOR EACH ROW EXECUTE FUNCTION dashboard_mark_case();

-- UpdateCase sets every column: only a change of what the roll-ups count marks.
CREATE TRIGGER dashboard_case_update AFTER UPDATE ON cases
    FOR EACH ROW WHEN (OLD.platform IS DISTINCT FROM NEW.platform OR
        OLD.public_channel IS DISTINCT FROM NEW.public_channel OR OLD.assignee IS DISTINCT FROM NEW.assignee OR
        OLD.opened_at IS DISTINCT FROM NEW.opened_at OR OLD.stages IS DISTINCT FROM NEW.stages OR
        OLD.recovered IS DISTINCT FROM NEW.recovered OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at OR
        OLD.resolved_at IS DISTINCT FROM NEW.resolved_at)
    EXECUTE FUNCTION dashboard_mark_case();

CREATE TRIGGER dashboard_case_delete AFTER DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION dashboard_mark_case();

CREATE TRIGGER dashboard_rating_insert AFTER INSERT ON ratings
    FOR EACH ROW EXECUTE FUNCTION dashboard_mark_rating();

CREATE TRIGGER dashboard_rating_update AFTER UPDATE ON ratings
    FOR EACH ROW WHEN (OLD.case_id IS DISTINCT FROM NEW.case_id OR OLD.scale IS DISTINCT FROM NEW.scale OR
        OLD.score IS DISTINCT FROM NEW.score)
    EXECUTE FUNCTION dashboard_mark_rating();

CREATE TRIGGER dashboard_rating_delete AFTER DELETE ON ratings
    FOR EACH ROW EXECUTE FUNCTION dashboard_mark_rating();

-- +goose Down
DROP TRIGGER dashboard_rating_delete ON ratings;
DROP TRIGGER dashboard_rating_update ON ratings;
DROP TRIGGER dashboard_rating_insert ON ratings;
DROP TRIGGER dashboard_case_delete ON cases;
DROP TRIGGER dashboard_case_update ON cases;
DROP TRIGGER dashboard_case_insert ON cases;
DROP FUNCTION dashboard_mark_rating();
DROP FUNCTION dashboard_mark_case();
DROP TABLE dashboard_dirty;
DROP TABLE dashboard_staff;
DROP TABLE dashboard_daily;
