-- One person across platforms (bot/link.go): identities linked with each
-- other, the one-time codes that link them, and what stays of a forgotten
-- identity that had opted out of share prompts.

-- +goose Up
-- An identity linked with others: all the identities of one person share
-- its number. An identity linked with none has no row.
CREATE TABLE person_links (
    platform  text   NOT NULL,
    id        text   NOT NULL,
    person    bigint NOT NULL,
    linked_at bigint NOT NULL,
    via       text   NOT NULL, -- bot.LinkedIdentity.Via
    PRIMARY KEY (platform, id)
);

CREATE INDEX person_links_person ON person_links (person);

CREATE SEQUENCE person_seq;

-- Codes given by /link and not entered yet, by their HMAC; one per identity.
CREATE TABLE link_codes (
    hash       text   PRIMARY KEY,
    platform   text   NOT NULL,
    id         text   NOT NULL,
    expires_at bigint NOT NULL,
    UNIQUE (platform, id)
);

CREATE INDEX link_codes_expires ON link_codes (expires_at);

-- bot.OptOutMarker of each forgotten identity that had opted out: no ID,
-- only enough to keep not asking the same account.
CREATE TABLE forgotten_opt_outs (
    marker text   PRIMARY KEY,
    at     bigint NOT NULL
);

-- +goose Down
DROP TABLE forgotten_opt_outs;
DROP TABLE link_codes;
DROP SEQUENCE person_seq;
DROP TABLE person_links;
