package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// personSQL always returns one row (an aggregate without GROUP BY): the
// identity's record, if any, and whether it was forgotten after opting out
// (its bot.OptOutMarker is kept).
const personSQL = `SELECT
	coalesce(max(opted_out), 0) OR EXISTS (SELECT 1 FROM forgotten_opt_outs WHERE marker = ?3),
	max(last_prompt_at), max(last_survey_at)
	FROM people WHERE platform = ?1 AND id = ?2`

// Person returns what is known of one identity, or a zero record with its
// keys; an identity forgotten after it opted out is still opted out.
func (t *tx) Person(ctx context.Context, platform, id string) (bot.PersonRecord, error) {
	p := bot.PersonRecord{Platform: platform, ID: id}
	var last, surveyed sql.NullInt64
	err := t.queryRow(ctx, personSQL, platform, id, bot.OptOutMarker(platform, id)).Scan(&p.OptedOut, &last, &surveyed)
	if err != nil {
		return p, fmt.Errorf("store: person %s/%s: %w", platform, id, err)
	}
	p.LastPromptAt, p.LastSurveyAt = fromMs(last), fromMs(surveyed)
	return p, nil
}

const putPersonSQL = `INSERT INTO people (platform, id, opted_out, last_prompt_at, last_survey_at)
	VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, id) DO UPDATE
	SET opted_out = excluded.opted_out, last_prompt_at = excluded.last_prompt_at,
	last_survey_at = excluded.last_survey_at`

// PutPerson creates or replaces a person's record.
func (t *tx) PutPerson(ctx context.Context, p bot.PersonRecord) error {
	_, err := t.exec(ctx, putPersonSQL, p.Platform, p.ID, boolInt(p.OptedOut), nullMs(p.LastPromptAt), nullMs(p.LastSurveyAt))
	if err != nil {
		return fmt.Errorf("store: put person %s/%s: %w", p.Platform, p.ID, err)
	}
	return nil
}
