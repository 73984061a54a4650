package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/advocate-bot/advocate/bot"
)

// stageBit is the bit of cases.stages that marks bot.Stages' stage, or 0.
func stageBit(stage string) int64 {
	i := slices.Index(bot.Stages, stage)
	if i < 0 {
		return 0
	}
	return 1 << i
}

// kindStage names the funnel stage an event kind reaches, or "".
func kindStage(kind string) string {
	switch kind {
	case bot.KindAskedPublic:
		return "asked"
	case bot.KindTakenPrivate:
		return "taken_private"
	case bot.KindFirstStaffResponse:
		return "first_response"
	case bot.KindResolved:
		return "resolved"
	case bot.KindSurveySent:
		return "surveyed"
	case bot.KindRated:
		return "rated"
	case bot.KindShareOffered:
		return "offered"
	case bot.KindShareClicked:
		return "clicked"
	case bot.KindShared:
		return "shared"
	}
	return ""
}

// Record appends e to the funnel log (At defaults to now) and marks the stage
// it reaches on the case, so the funnel is one pass over cases. A rated event
// whose detail says "satisfied": true also reaches the satisfied stage, and
// "recovery": true counts a recovery.
func (t *tx) Record(ctx context.Context, e bot.CaseEvent) error {
	var detail *string
	if len(e.Detail) > 0 {
		if !json.Valid(e.Detail) {
			return fmt.Errorf("store: record %s on case %d: detail is not JSON", e.Kind, e.CaseID)
		}
		s := string(e.Detail)
		detail = &s
	}
	_, err := t.exec(ctx, `INSERT INTO case_events (case_id, kind, actor, platform, at, detail)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		nullID(e.CaseID), e.Kind, e.Actor, e.Platform, ms(orNow(e.At, t.now)), detail)
	if err != nil {
		return writeErr(err, "record "+e.Kind+" on case", e.CaseID)
	}
	bits, recovered := stageBit(kindStage(e.Kind)), false
	if e.Kind == bot.KindRated && len(e.Detail) > 0 {
		var d struct {
			Satisfied bool `json:"satisfied"`
			Recovery  bool `json:"recovery"`
		}
		if json.Unmarshal(e.Detail, &d) == nil {
			if d.Satisfied {
				bits |= stageBit("satisfied")
			}
			recovered = d.Recovery
		}
	}
	return t.markStages(ctx, e.CaseID, bits, recovered)
}

// markStages sets stage bits (and the recovered flag when recovered) on a case.
func (t *tx) markStages(ctx context.Context, caseID, bits int64, recovered bool) error {
	if caseID == 0 || (bits == 0 && !recovered) {
		return nil
	}
	_, err := t.exec(ctx, `UPDATE cases SET stages = stages | $1, recovered = greatest(recovered, $2)
		WHERE id = $3`, bits, boolInt(recovered), caseID)
	if err != nil {
		return fmt.Errorf("store: mark stages of case %d: %w", caseID, err)
	}
	return nil
}

// eventCols are the columns scanEvent reads, in its order.
const eventCols = `e.id, coalesce(e.case_id, 0), e.kind, e.actor, e.platform, e.at, e.detail`

func scanEvent(s scanner) (bot.CaseEvent, error) {
	var (
		e      bot.CaseEvent
		at     int64
		detail *string
	)
	if err := s.Scan(&e.ID, &e.CaseID, &e.Kind, &e.Actor, &e.Platform, &at, &detail); err != nil {
		return bot.CaseEvent{}, err
	}
	e.At = msTime(at)
	if detail != nil {
		e.Detail = json.RawMessage(*detail)
	}
	return e, nil
}

// CaseEvents lists a case's funnel log, oldest first.
func (t *tx) CaseEvents(ctx context.Context, caseID int64) ([]bot.CaseEvent, error) {
	events, err := collect(ctx, t, `SELECT `+eventCols+` FROM case_events e
		WHERE e.case_id = $1 ORDER BY e.at, e.id`, []any{caseID}, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("store: events of case %d: %w", caseID, err)
	}
	return events, nil
}
