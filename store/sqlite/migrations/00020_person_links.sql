-- One person across platforms (bot/link.go): identities linked with each
-- other, the one-time codes that link them, and what stays of a forgotten
-- identity that had opted out of share prompts.

-- +goose Up
-- An identity linked with others: all the identities of one person share
-- its number. An identity linked with none has no row.
CREATE TABLE person_links (
    platform  TEXT    NOT NULL,
    id        TEXT    NOT NULL,
    person    INTEGER NOT NULL,
    linked_at INTEGER NOT NULL,
    via       TEXT    NOT NULL, -- bot.LinkedIdentity.Via
    PRIMARY KEY (platform, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX person_links_person ON person_links (person);

-- Codes given by /link and not entered yet, by their HMAC; one per identity.
CREATE TABLE link_codes (
    hash       TEXT    NOT NULL PRIMARY KEY,
    platform   TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE (platform, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX link_codes_expires ON link_codes (expires_at);

-- bot.OptOutMarker of each forgotten identity that had opted out: no ID,
-- only enough to keep not asking the same account.
CREATE TABLE forgotten_opt_outs (
    marker TEXT    NOT NULL PRIMARY KEY,
    at     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE forgotten_opt_outs;
DROP TABLE link_codes;
DROP TABLE person_links;
