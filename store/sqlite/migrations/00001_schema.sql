-- The first schema of advocate's store. Times are Unix milliseconds (UTC);
-- NULL means "not yet". Structured values (people, refs, messages) are JSON;
-- the parts that are looked up are generated columns with indexes. The columns
-- the funnel groups by are plain columns the store writes, because SQLite does
-- not count a generated column in GROUP BY as covered by an index.

-- +goose Up
CREATE TABLE cases (
    id                INTEGER PRIMARY KEY,
    platform          TEXT    NOT NULL,
    customer          TEXT    NOT NULL, -- bot.Person
    customer_id       TEXT    GENERATED ALWAYS AS (coalesce(json_extract(customer, '$.id'), '')) STORED,
    status            TEXT    NOT NULL,
    public_ref        TEXT    NOT NULL DEFAULT '{}', -- bot.Ref of the public question
    private_ref       TEXT    NOT NULL DEFAULT '{}',
    staff_ref         TEXT    NOT NULL DEFAULT '{}',
    public_channel    TEXT    NOT NULL DEFAULT '', -- public_ref's channel
    private_channel   TEXT    GENERATED ALWAYS AS (coalesce(json_extract(private_ref, '$.channel'), '')) STORED,
    private_thread    TEXT    GENERATED ALWAYS AS (coalesce(json_extract(private_ref, '$.thread'), '')) STORED,
    staff_channel     TEXT    GENERATED ALWAYS AS (coalesce(json_extract(staff_ref, '$.channel'), '')) STORED,
    staff_thread      TEXT    GENERATED ALWAYS AS (coalesce(json_extract(staff_ref, '$.thread'), '')) STORED,
    assignee          TEXT    NOT NULL DEFAULT '',
    question          TEXT    NOT NULL DEFAULT '',
    round             INTEGER NOT NULL DEFAULT 0,
    opened_at         INTEGER NOT NULL,
    opened_week       TEXT    NOT NULL, -- ISO week of opened_at, e.g. 2026-W47
    first_response_at INTEGER,
    resolved_at       INTEGER,
    closed_at         INTEGER,
    purged_at         INTEGER, -- when Purge blanked the texts
    stages            INTEGER NOT NULL DEFAULT 0, -- bit i set: the case reached bot.Stages[i]
    recovered         INTEGER NOT NULL DEFAULT 0  -- rated unhappy, later satisfied
) STRICT;

CREATE INDEX cases_customer ON cases (platform, customer_id);
CREATE INDEX cases_private ON cases (platform, private_channel, private_thread);
CREATE INDEX cases_staff ON cases (platform, staff_channel, staff_thread);
-- Covers the funnel: a time range scan that never touches the table rows.
CREATE INDEX cases_funnel ON cases (opened_at, platform, public_channel, assignee, opened_week, stages, recovered);
CREATE INDEX cases_unpurged ON cases (closed_at) WHERE purged_at IS NULL;

-- The append-only funnel log.
CREATE TABLE case_events (
    id       INTEGER PRIMARY KEY,
    case_id  INTEGER REFERENCES cases (id),
    kind     TEXT    NOT NULL,
    actor    TEXT    NOT NULL DEFAULT '',
    platform TEXT    NOT NULL DEFAULT '',
    at       INTEGER NOT NULL,
    detail   TEXT -- JSON, kind-specific
) STRICT;

CREATE INDEX case_events_case ON case_events (case_id);
CREATE INDEX case_events_kind ON case_events (kind, case_id);

CREATE TABLE ratings (
    id        INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL REFERENCES cases (id),
    round     INTEGER NOT NULL,
    scale     TEXT    NOT NULL,
    score     INTEGER NOT NULL,
    satisfied INTEGER NOT NULL,
    unhappy   INTEGER NOT NULL,
    recovery  INTEGER NOT NULL,
    comment   TEXT    NOT NULL DEFAULT '',
    at        INTEGER NOT NULL,
    UNIQUE (case_id, round)
) STRICT;

-- The consent record of every share offer.
CREATE TABLE offers (
    id        INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL REFERENCES cases (id),
    round     INTEGER NOT NULL,
    target    TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    policy    TEXT    NOT NULL,
    text      TEXT    NOT NULL DEFAULT '',
    url       TEXT    NOT NULL DEFAULT '',
    state     TEXT    NOT NULL,
    post_ref  TEXT    NOT NULL DEFAULT '{}',
    at        INTEGER NOT NULL,
    shared_at INTEGER,
    clicked   INTEGER NOT NULL DEFAULT 0, -- ever clicked, kept after later states
    shared    INTEGER NOT NULL DEFAULT 0  -- ever shared, kept after a withdrawal
) STRICT;

CREATE INDEX offers_case ON offers (case_id);

CREATE TABLE people (
    platform       TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    opted_out      INTEGER NOT NULL DEFAULT 0,
    last_prompt_at INTEGER,
    PRIMARY KEY (platform, id)
) STRICT, WITHOUT ROWID;

-- Inbound event IDs already handled, for dedupe.
CREATE TABLE processed_events (
    id TEXT    NOT NULL PRIMARY KEY,
    at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX processed_events_at ON processed_events (at);

CREATE TABLE timers (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    kind    TEXT    NOT NULL,
    round   INTEGER NOT NULL DEFAULT 0,
    due_at  INTEGER NOT NULL,
    PRIMARY KEY (case_id, kind)
) STRICT, WITHOUT ROWID;

CREATE INDEX timers_due ON timers (due_at);

-- Outgoing actions, delivered at least once, in order within a lane.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER REFERENCES cases (id), -- NULL: no case
    platform   TEXT    NOT NULL,
    lane       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    place      TEXT    NOT NULL DEFAULT '',
    to_ref     TEXT    NOT NULL DEFAULT '{}',
    fallback   TEXT    NOT NULL DEFAULT '[]',
    msg        TEXT, -- bot.Message; NULL once delivered
    msg_key    TEXT    NOT NULL DEFAULT '',
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL,
    last_err   TEXT    NOT NULL DEFAULT '',
    state      TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    created_at INTEGER NOT NULL,
    done_at    INTEGER, -- delivered or given up
    result_ref TEXT -- bot.Ref of the delivered message
) STRICT;

CREATE INDEX outbox_pending ON outbox (lane, id) WHERE state = 'pending';
CREATE INDEX outbox_dead ON outbox (id) WHERE state = 'dead';
CREATE INDEX outbox_case ON outbox (case_id);

-- Messages delivered under a key, so later actions can update or delete them.
CREATE TABLE deliveries (
    case_id INTEGER NOT NULL, -- 0: no case
    msg_key TEXT    NOT NULL,
    ref     TEXT    NOT NULL, -- bot.Ref
    at      INTEGER NOT NULL,
    PRIMARY KEY (case_id, msg_key)
) STRICT, WITHOUT ROWID;

-- One row per forgotten person: its id numbers the anonymous token.
CREATE TABLE forgotten (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE forgotten;
DROP TABLE deliveries;
DROP TABLE outbox;
DROP TABLE timers;
DROP TABLE processed_events;
DROP TABLE people;
DROP TABLE offers;
DROP TABLE ratings;
DROP TABLE case_events;
DROP TABLE cases;
