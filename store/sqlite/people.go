package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

const personSQL = `SELECT opted_out, last_prompt_at FROM people WHERE platform = ? AND id = ?`

// Person returns what is known of a person, or a zero record with their keys.
func (t *tx) Person(ctx context.Context, platform, id string) (bot.PersonRecord, error) {
	p := bot.PersonRecord{Platform: platform, ID: id}
	var last sql.NullInt64
	err := t.queryRow(ctx, personSQL, platform, id).Scan(&p.OptedOut, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("store: person %s/%s: %w", platform, id, err)
	}
	p.LastPromptAt = fromMs(last)
	return p, nil
}

const putPersonSQL = `INSERT INTO people (platform, id, opted_out, last_prompt_at)
	VALUES (?, ?, ?, ?) ON CONFLICT (platform, id) DO UPDATE
	SET opted_out = excluded.opted_out, last_prompt_at = excluded.last_prompt_at`

// PutPerson creates or replaces a person's record.
func (t *tx) PutPerson(ctx context.Context, p bot.PersonRecord) error {
	_, err := t.exec(ctx, putPersonSQL, p.Platform, p.ID, boolInt(p.OptedOut), nullMs(p.LastPromptAt))
	if err != nil {
		return fmt.Errorf("store: put person %s/%s: %w", p.Platform, p.ID, err)
	}
	return nil
}
