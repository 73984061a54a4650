-- +goose Up
-- What a send delivers (bot.Purpose) and what it is about (a survey round,
-- an offer ID), as columns of their own instead of a prefix of msg_key.
ALTER TABLE outbox ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN subject INTEGER NOT NULL DEFAULT 0;

UPDATE outbox
SET purpose = substr(msg_key, 1, instr(msg_key, ':') - 1),
    subject = CAST(substr(msg_key, instr(msg_key, ':') + 1) AS INTEGER)
WHERE kind = 'send'
  AND substr(msg_key, 1, instr(msg_key, ':') - 1) IN ('survey', 'reminder', 'prompt', 'testimonial')
  AND substr(msg_key, instr(msg_key, ':') + 1) GLOB '[0-9]*';

-- +goose Down
ALTER TABLE outbox DROP COLUMN subject;
ALTER TABLE outbox DROP COLUMN purpose;
