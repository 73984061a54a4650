-- The testimonial wall (bot/wall.go): the customer's choice, made in the
-- preview, to show a testimonial on the public wall too, the name they chose
-- to show there, and when it went on the wall.

-- +goose Up
ALTER TABLE offers ADD COLUMN wall INTEGER NOT NULL DEFAULT 0; -- the customer chose the wall
ALTER TABLE offers ADD COLUMN wall_name TEXT NOT NULL DEFAULT ''; -- '' shows "a customer"
ALTER TABLE offers ADD COLUMN wall_at INTEGER; -- on the wall since; NULL while not there

-- The wall's pages, newest first: only the offers on it, and covering what a
-- page reads, so that a page far back skips index entries, not table rows.
CREATE INDEX offers_wall ON offers (wall_at DESC, id DESC, wall, state, text, wall_name)
    WHERE wall_at IS NOT NULL;

-- +goose Down
DROP INDEX offers_wall;
ALTER TABLE offers DROP COLUMN wall_at;
ALTER TABLE offers DROP COLUMN wall_name;
ALTER TABLE offers DROP COLUMN wall;
