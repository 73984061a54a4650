-- The testimonial wall, as in the SQLite store's migration 00040: the
-- customer's choice to show a testimonial on the public wall too, the name
-- they chose to show there, and when it went on the wall.

-- +goose Up
ALTER TABLE offers ADD COLUMN wall integer NOT NULL DEFAULT 0; -- the customer chose the wall
ALTER TABLE offers ADD COLUMN wall_name text NOT NULL DEFAULT ''; -- '' shows "a customer"
ALTER TABLE offers ADD COLUMN wall_at bigint; -- on the wall since; NULL while not there

-- The wall's pages, newest first: only the offers on it. Unlike SQLite's,
-- it does not cover the text: a B-tree entry holds at most about 2.7 kB, and a
-- testimonial of 1,000 characters may need 4 kB.
CREATE INDEX offers_wall ON offers (wall_at DESC, id DESC) WHERE wall_at IS NOT NULL;

-- +goose Down
DROP INDEX offers_wall;
ALTER TABLE offers DROP COLUMN wall_at;
ALTER TABLE offers DROP COLUMN wall_name;
ALTER TABLE offers DROP COLUMN wall;
