-- Events acknowledged before they are decided, as in the SQLite store's
-- migration 00045: each row is deleted by the transaction that decides it;
-- until_at ends its owner's claim, after which any instance may claim it.

-- +goose Up
CREATE TABLE inbound (
	id       bigserial PRIMARY KEY,
	event    bytea  NOT NULL,
	owner    text   NOT NULL,
	until_at bigint NOT NULL,
	attempts integer NOT NULL DEFAULT 1
);
CREATE INDEX inbound_until ON inbound (until_at, id);

-- +goose Down
DROP TABLE inbound;
