package postgres

import (
	"context"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// Person returns what is known of one identity, or a zero record with its
// keys; an identity forgotten after it opted out is still opted out.
func (t *tx) Person(ctx context.Context, platform, id string) (bot.PersonRecord, error) {
	p := bot.PersonRecord{Platform: platform, ID: id}
	if err := t.lockPerson(ctx, platform, id); err != nil {
		return p, err
	}
	var last, surveyed *int64
	err := t.queryRow(ctx, `SELECT
		coalesce((SELECT opted_out FROM people WHERE platform = $1 AND id = $2), false)
			OR EXISTS (SELECT 1 FROM forgotten_opt_outs WHERE marker = $3),
		(SELECT last_prompt_at FROM people WHERE platform = $1 AND id = $2),
		(SELECT last_survey_at FROM people WHERE platform = $1 AND id = $2)`,
		platform, id, bot.OptOutMarker(platform, id)).Scan(&p.OptedOut, &last, &surveyed)
	if err != nil {
		return p, fmt.Errorf("store: person %s/%s: %w", platform, id, err)
	}
	p.LastPromptAt, p.LastSurveyAt = fromMs(last), fromMs(surveyed)
	return p, nil
}

// PutPerson creates or replaces a person's record.
func (t *tx) PutPerson(ctx context.Context, p bot.PersonRecord) error {
	_, err := t.exec(ctx, `INSERT INTO people (platform, id, opted_out, last_prompt_at, last_survey_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (platform, id) DO UPDATE
		SET opted_out = excluded.opted_out, last_prompt_at = excluded.last_prompt_at,
		last_survey_at = excluded.last_survey_at`,
		p.Platform, p.ID, p.OptedOut, nullMs(p.LastPromptAt), nullMs(p.LastSurveyAt))
	if err != nil {
		return fmt.Errorf("store: put person %s/%s: %w", p.Platform, p.ID, err)
	}
	return nil
}
