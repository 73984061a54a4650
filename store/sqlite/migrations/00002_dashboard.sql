-- The dashboard's roll-ups, so that its pages read a few thousand rows for any
-- period instead of every case opened in it (store/sqlite/dashboard.go):
--
-- dashboard_daily has one row per UTC day of opening, platform and public
-- channel; dashboard_staff one per day and assignee. Each row counts the
-- cases, the funnel stages they reached (cases.stages), the recoveries,
-- histograms of their times from opening to the first staff response
-- (first_<i>) and to resolution (resolve_<i>), and their ratings by scale and
-- score (<scale>_<score>). Bucket i of a histogram holds the times at least
-- the bound of bucket i-1 and below the bound of bucket i in
-- dashboard_time_bounds; the last bucket has no upper bound.
--
-- The roll-ups are kept by day, lazily: the triggers only mark the day of a
-- case that changed in dashboard_dirty (cheap on the bot's write path), and
-- the store recomputes the marked days from their cases before the dashboard
-- reads. An existing database starts with every day marked.

-- +goose Up
CREATE TABLE dashboard_time_bounds (
    bucket   INTEGER PRIMARY KEY,
    below_ms INTEGER NOT NULL UNIQUE
) STRICT;

INSERT INTO dashboard_time_bounds (bucket, below_ms) VALUES
    (0, 60000), -- 1 min
    (1, 120000), -- 2 min
    (2, 300000), -- 5 min
    (3, 600000), -- 10 min
    (4, 900000), -- 15 min
    (5, 1200000), -- 20 min
    (6, 1800000), -- 30 min
    (7, 2700000), -- 45 min
    (8, 3600000), -- 1 h
    (9, 5400000), -- 90 min
    (10, 7200000), -- 2 h
    (11, 10800000), -- 3 h
    (12, 14400000), -- 4 h
    (13, 21600000), -- 6 h
    (14, 28800000), -- 8 h
    (15, 43200000), -- 12 h
    (16, 57600000), -- 16 h
    (17, 86400000), -- 1 d
    (18, 129600000), -- 36 h
    (19, 172800000), -- 2 d
    (20, 259200000), -- 3 d
    (21, 432000000), -- 5 d
    (22, 604800000); -- 7 d

CREATE TABLE dashboard_daily (
    day             INTEGER NOT NULL, -- opened_at / 86400000: days since 1970-01-01 UTC
    platform        TEXT    NOT NULL,
    channel         TEXT    NOT NULL, -- cases.public_channel
    cases           INTEGER NOT NULL DEFAULT 0,
    asked           INTEGER NOT NULL DEFAULT 0,
    taken_private   INTEGER NOT NULL DEFAULT 0,
    first_response  INTEGER NOT NULL DEFAULT 0,
    resolved        INTEGER NOT NULL DEFAULT 0,
    surveyed        INTEGER NOT NULL DEFAULT 0,
    rated           INTEGER NOT NULL DEFAULT 0,
    satisfied       INTEGER NOT NULL DEFAULT 0,
    offered         INTEGER NOT NULL DEFAULT 0,
    clicked         INTEGER NOT NULL DEFAULT 0,
    shared          INTEGER NOT NULL DEFAULT 0,
    recovered       INTEGER NOT NULL DEFAULT 0,
    first_0         INTEGER NOT NULL DEFAULT 0,
    first_1         INTEGER NOT NULL DEFAULT 0,
    first_2         INTEGER NOT NULL DEFAULT 0,
    first_3         INTEGER NOT NULL DEFAULT 0,
    first_4         INTEGER NOT NULL DEFAULT 0,
    first_5         INTEGER NOT NULL DEFAULT 0,
    first_6         INTEGER NOT NULL DEFAULT 0,
    first_7         INTEGER NOT NULL DEFAULT 0,
    first_8         INTEGER NOT NULL DEFAULT 0,
    first_9         INTEGER NOT NULL DEFAULT 0,
    first_10        INTEGER NOT NULL DEFAULT 0,
    first_11        INTEGER NOT NULL DEFAULT 0,
    first_12        INTEGER NOT NULL DEFAULT 0,
    first_13        INTEGER NOT NULL DEFAULT 0,
    first_14        INTEGER NOT NULL DEFAULT 0,
    first_15        INTEGER NOT NULL DEFAULT 0,
    first_16        INTEGER NOT NULL DEFAULT 0,
    first_17        INTEGER NOT NULL DEFAULT 0,
    first_18        INTEGER NOT NULL DEFAULT 0,
    first_19        INTEGER NOT NULL DEFAULT 0,
    first_20        INTEGER NOT NULL DEFAULT 0,
    first_21        INTEGER NOT NULL DEFAULT 0,
    first_22        INTEGER NOT NULL DEFAULT 0,
    first_23        INTEGER NOT NULL DEFAULT 0,
    resolve_0       INTEGER NOT NULL DEFAULT 0,
    resolve_1       INTEGER NOT NULL DEFAULT 0,
    resolve_2       INTEGER NOT NULL DEFAULT 0,
    resolve_3       INTEGER NOT NULL DEFAULT 0,
    resolve_4       INTEGER NOT NULL DEFAULT 0,
    resolve_5       INTEGER NOT NULL DEFAULT 0,
    resolve_6       INTEGER NOT NULL DEFAULT 0,
    resolve_7       INTEGER NOT NULL DEFAULT 0,
    resolve_8       INTEGER NOT NULL DEFAULT 0,
    resolve_9       INTEGER NOT NULL DEFAULT 0,
    resolve_10      INTEGER NOT NULL DEFAULT 0,
    resolve_11      INTEGER NOT NULL DEFAULT 0,
    resolve_12      INTEGER NOT NULL DEFAULT 0,
    resolve_13      INTEGER NOT NULL DEFAULT 0,
    resolve_14      INTEGER NOT NULL DEFAULT 0,
    resolve_15      INTEGER NOT NULL DEFAULT 0,
    resolve_16      INTEGER NOT NULL DEFAULT 0,
    resolve_17      INTEGER NOT NULL DEFAULT 0,
    resolve_18      INTEGER NOT NULL DEFAULT 0,
    resolve_19      INTEGER NOT NULL DEFAULT 0,
    resolve_20      INTEGER NOT NULL DEFAULT 0,
    resolve_21      INTEGER NOT NULL DEFAULT 0,
    resolve_22      INTEGER NOT NULL DEFAULT 0,
    resolve_23      INTEGER NOT NULL DEFAULT 0,
    ces_1           INTEGER NOT NULL DEFAULT 0,
    ces_2           INTEGER NOT NULL DEFAULT 0,
    ces_3           INTEGER NOT NULL DEFAULT 0,
    ces_4           INTEGER NOT NULL DEFAULT 0,
    ces_5           INTEGER NOT NULL DEFAULT 0,
    ces_6           INTEGER NOT NULL DEFAULT 0,
    ces_7           INTEGER NOT NULL DEFAULT 0,
    csat_1          INTEGER NOT NULL DEFAULT 0,
    csat_2          INTEGER NOT NULL DEFAULT 0,
    csat_3          INTEGER NOT NULL DEFAULT 0,
    csat_4          INTEGER NOT NULL DEFAULT 0,
    csat_5          INTEGER NOT NULL DEFAULT 0,
    nps_0           INTEGER NOT NULL DEFAULT 0,
    nps_1           INTEGER NOT NULL DEFAULT 0,
    nps_2           INTEGER NOT NULL DEFAULT 0,
    nps_3           INTEGER NOT NULL DEFAULT 0,
    nps_4           INTEGER NOT NULL DEFAULT 0,
    nps_5           INTEGER NOT NULL DEFAULT 0,
    nps_6           INTEGER NOT NULL DEFAULT 0,
    nps_7           INTEGER NOT NULL DEFAULT 0,
    nps_8           INTEGER NOT NULL DEFAULT 0,
    nps_9           INTEGER NOT NULL DEFAULT 0,
    nps_10          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, platform, channel)
) STRICT, WITHOUT ROWID;

CREATE TABLE dashboard_staff (
    day             INTEGER NOT NULL,
    assignee        TEXT    NOT NULL,
    cases           INTEGER NOT NULL DEFAULT 0,
    asked           INTEGER NOT NULL DEFAULT 0,
    taken_private   INTEGER NOT NULL DEFAULT 0,
    first_response  INTEGER NOT NULL DEFAULT 0,
    resolved        INTEGER NOT NULL DEFAULT 0,
    surveyed        INTEGER NOT NULL DEFAULT 0,
    rated           INTEGER NOT NULL DEFAULT 0,
    satisfied       INTEGER NOT NULL DEFAULT 0,
    offered         INTEGER NOT NULL DEFAULT 0,
    clicked         INTEGER NOT NULL DEFAULT 0,
    shared          INTEGER NOT NULL DEFAULT 0,
    recovered       INTEGER NOT NULL DEFAULT 0,
    first_0         INTEGER NOT NULL DEFAULT 0,
    first_1         INTEGER NOT NULL DEFAULT 0,
    first_2         INTEGER NOT NULL DEFAULT 0,
    first_3         INTEGER NOT NULL DEFAULT 0,
    first_4         INTEGER NOT NULL DEFAULT 0,
    first_5         INTEGER NOT NULL DEFAULT 0,
    first_6         INTEGER NOT NULL DEFAULT 0,
    first_7         INTEGER NOT NULL DEFAULT 0,
    first_8         INTEGER NOT NULL DEFAULT 0,
    first_9         INTEGER NOT NULL DEFAULT 0,
    first_10        INTEGER NOT NULL DEFAULT 0,
    first_11        INTEGER NOT NULL DEFAULT 0,
    first_12        INTEGER NOT NULL DEFAULT 0,
    first_13        INTEGER NOT NULL DEFAULT 0,
    first_14        INTEGER NOT NULL DEFAULT 0,
    first_15        INTEGER NOT NULL DEFAULT 0,
    first_16        INTEGER NOT NULL DEFAULT 0,
    first_17        INTEGER NOT NULL DEFAULT 0,
    first_18        INTEGER NOT NULL DEFAULT 0,
    first_19        INTEGER NOT NULL DEFAULT 0,
    first_20        INTEGER NOT NULL DEFAULT 0,
    first_21        INTEGER NOT NULL DEFAULT 0,
    first_22        INTEGER NOT NULL DEFAULT 0,
    first_23        INTEGER NOT NULL DEFAULT 0,
    resolve_0       INTEGER NOT NULL DEFAULT 0,
    resolve_1       INTEGER NOT NULL DEFAULT 0,
    resolve_2       INTEGER NOT NULL DEFAULT 0,
    resolve_3       INTEGER NOT NULL DEFAULT 0,
    resolve_4       INTEGER NOT NULL DEFAULT 0,
    resolve_5       INTEGER NOT NULL DEFAULT 0,
    resolve_6       INTEGER NOT NULL DEFAULT 0,
    resolve_7       INTEGER NOT NULL DEFAULT 0,
    resolve_8       INTEGER NOT NULL DEFAULT 0,
    resolve_9       INTEGER NOT NULL DEFAULT 0,
    resolve_10      INTEGER NOT NULL DEFAULT 0,
    resolve_11      INTEGER NOT NULL DEFAULT 0,
    resolve_12      INTEGER NOT NULL DEFAULT 0,
    resolve_13      INTEGER NOT NULL DEFAULT 0,
    resolve_14      INTEGER NOT NULL DEFAULT 0,
    resolve_15      INTEGER NOT NULL DEFAULT 0,
    resolve_16      INTEGER NOT NULL DEFAULT 0,
    resolve_17      INTEGER NOT NULL DEFAULT 0,
    resolve_18      INTEGER NOT NULL DEFAULT 0,
    resolve_19      INTEGER NOT NULL DEFAULT 0,
    resolve_20      INTEGER NOT NULL DEFAULT 0,
    resolve_21      INTEGER NOT NULL DEFAULT 0,
    resolve_22      INTEGER NOT NULL DEFAULT 0,
    resolve_23      INTEGER NOT NULL DEFAULT 0,
    ces_1           INTEGER NOT NULL DEFAULT 0,
    ces_2           INTEGER NOT NULL DEFAULT 0,
    ces_3           INTEGER NOT NULL DEFAULT 0,
    ces_4           INTEGER NOT NULL DEFAULT 0,
    ces_5           INTEGER NOT NULL DEFAULT 0,
    ces_6           INTEGER NOT NULL DEFAULT 0,
    ces_7           INTEGER NOT NULL DEFAULT 0,
    csat_1          INTEGER NOT NULL DEFAULT 0,
    csat_2          INTEGER NOT NULL DEFAULT 0,
    csat_3          INTEGER NOT NULL DEFAULT 0,
    csat_4          INTEGER NOT NULL DEFAULT 0,
    csat_5          INTEGER NOT NULL DEFAULT 0,
    nps_0           INTEGER NOT NULL DEFAULT 0,
    nps_1           INTEGER NOT NULL DEFAULT 0,
    nps_2           INTEGER NOT NULL DEFAULT 0,
    nps_3           INTEGER NOT NULL DEFAULT 0,
    nps_4           INTEGER NOT NULL DEFAULT 0,
    nps_5           INTEGER NOT NULL DEFAULT 0,
    nps_6           INTEGER NOT NULL DEFAULT 0,
    nps_7           INTEGER NOT NULL DEFAULT 0,
    nps_8           INTEGER NOT NULL DEFAULT 0,
    nps_9           INTEGER NOT NULL DEFAULT 0,
    nps_10          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, assignee)
) STRICT, WITHOUT ROWID;

-- Days whose roll-up rows may be out of date.
CREATE TABLE dashboard_dirty (
    day INTEGER PRIMARY KEY
) STRICT, WITHOUT ROWID;

INSERT INTO dashboard_dirty (day) SELECT DISTINCT opened_at / 86400000 FROM cases;

-- The testimonials page lists shared events newest first.
CREATE INDEX case_events_shared ON case_events (at) WHERE kind = 'shared';

-- +goose StatementBegin
CREATE TRIGGER dashboard_case_insert AFTER INSERT ON cases
BEGIN
    INSERT OR IGNORE INTO dashboard_dirty (day) VALUES (new.opened_at / 86400000);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER dashboard_case_update AFTER UPDATE OF platform, public_channel, assignee, opened_at,
    stages, recovered, first_response_at, resolved_at ON cases
WHEN old.platform IS NOT new.platform OR old.public_channel IS NOT new.public_channel OR
    old.assignee IS NOT new.assignee OR old.opened_at IS NOT new.opened_at OR old.stages IS NOT
    new.stages OR old.recovered IS NOT new.recovered OR old.first_response_at IS NOT
    new.first_response_at OR old.resolved_at IS NOT new.resolved_at
BEGIN
    INSERT OR IGNORE INTO dashboard_dirty (day) VALUES (old.opened_at / 86400000), (new.opened_at / 86400000);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER dashboard_case_delete AFTER DELETE ON cases
BEGIN
    INSERT OR IGNORE INTO dashboard_dirty (day) VALUES (old.opened_at / 86400000);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER dashboard_rating_insert AFTER INSERT ON ratings
BEGIN
    INSERT OR IGNORE INTO dashboard_dirty (day) SELECT opened_at / 86400000 FROM cases WHERE id = new.case_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER dashboard_rating_delete AFTER DELETE ON ratings
BEGIN
    INSERT OR IGNORE INTO dashboard_dirty (day) SELECT opened_at / 86400000 FROM cases WHERE id = old.case_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER dashboard_rating_update AFTER UPDATE OF case_id, scale, score ON ratings
BEGIN
    INSERT OR IGNORE INTO dashboard_dirty (day)
        SELECT opened_at / 86400000 FROM cases WHERE id IN (old.case_id, new.case_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER dashboard_rating_update;
DROP TRIGGER dashboard_rating_delete;
DROP TRIGGER dashboard_rating_insert;
DROP TRIGGER dashboard_case_delete;
DROP TRIGGER dashboard_case_update;
DROP TRIGGER dashboard_case_insert;
DROP INDEX case_events_shared;
DROP TABLE dashboard_dirty;
DROP TABLE dashboard_staff;
DROP TABLE dashboard_daily;
DROP TABLE dashboard_time_bounds;
