-- What the dashboard keeps beyond reports, as in the SQLite store's migration
-- 00003: its signing key, its sign-ins, the readiness probe's row, and an
-- index to find staff members' display names (dashboard_access.go, health.go).

-- +goose Up
-- Random keys made once and kept: "session" signs the dashboard's session
-- cookies and form tokens, for every instance alike.
CREATE TABLE dashboard_keys (
    name       text   PRIMARY KEY,
    key        bytea  NOT NULL,
    created_at bigint NOT NULL
);

-- One row per dashboard sign-in until it ends (logout) or expires, so a
-- logout holds across restarts and on every instance.
CREATE TABLE dashboard_sessions (
    id         text   PRIMARY KEY,
    user_name  text   NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);

CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);

-- The row /readyz rewrites to prove the database takes a committed write.
CREATE TABLE store_probe (
    id integer PRIMARY KEY CHECK (id = 1),
    at bigint  NOT NULL
);

-- Staff display names come with the events staff cause (the name in their
-- detail); this finds a staff member's latest such event.
CREATE INDEX case_events_staff ON case_events (actor, id) WHERE kind IN ('claimed', 'first_staff_response');

-- +goose Down
DROP INDEX case_events_staff;
DROP TABLE store_probe;
DROP TABLE dashboard_sessions;
DROP TABLE dashboard_keys;
