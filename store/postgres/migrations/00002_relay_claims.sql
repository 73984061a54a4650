-- +goose Up
-- Which instance delivers to a destination, until when (Unix ms, the
-- server's clock): see bot.Claimer.
CREATE TABLE relay_claims (
    dest  text   PRIMARY KEY,
    owner text   NOT NULL,
    until bigint NOT NULL
);

CREATE INDEX relay_claims_until ON relay_claims (until);

-- +goose Down
DROP TABLE relay_claims;
