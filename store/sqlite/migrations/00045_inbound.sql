-- +goose Up
-- Events acknowledged before they are decided (bot.Core.Accept): each row is
-- deleted by the transaction that decides it. until_at ends its owner's
-- claim; after it any instance may claim it.
CREATE TABLE inbound (
	id       INTEGER PRIMARY KEY,
	event    BLOB    NOT NULL,
	owner    TEXT    NOT NULL,
	until_at INTEGER NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX inbound_until ON inbound (until_at, id);

-- +goose Down
DROP TABLE inbound;
