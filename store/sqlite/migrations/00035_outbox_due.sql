-- +goose Up
-- The pending actions in the order the relay reads them: PendingActions
-- walks them oldest first and stops at its limit, instead of grouping every
-- pending action by lane at each look (with 10,000 cases waiting on a
-- channel's pace, that was tens of milliseconds a look).
CREATE INDEX outbox_due ON outbox (id) WHERE state = 'pending';

-- +goose Down
DROP INDEX outbox_due;
