-- What the dashboard needs beyond reports: its signing key, its sign-ins, a
-- row for the readiness probe to write, and an index to find staff members'
-- display names (store/dashboard_access.go, store/health.go).

-- +goose Up
-- Random keys made once and kept: "session" signs the dashboard's session
-- cookies and form tokens. It is not derived from the configured secret, so
-- knowing the secret (or the example configuration) forges nothing.
CREATE TABLE dashboard_keys (
    name       TEXT    PRIMARY KEY,
    key        BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- One row per dashboard sign-in until it ends (logout) or expires, so a
-- logout holds across restarts and every instance.
CREATE TABLE dashboard_sessions (
    id         TEXT    PRIMARY KEY,
    user_name  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);

-- The row /readyz rewrites to prove the database takes a committed write.
CREATE TABLE store_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
) STRICT;

-- Staff display names come with the events staff cause (the name in their
-- detail); this finds a staff member's latest such event.
CREATE INDEX case_events_staff ON case_events (actor, id) WHERE kind IN ('claimed', 'first_staff_response');

-- +goose Down
DROP INDEX case_events_staff;
DROP TABLE store_probe;
DROP TABLE dashboard_sessions;
DROP TABLE dashboard_keys;
