package bot

import (
	"context"
	"errors"
	"fmt"
)

// Tick fires every due timer, each in its own transaction with its effects, and
// returns how many fired. A timer's row is deleted in the transaction that acts on
// it, so a crash fires it again rather than never.
func (c *Core) Tick(ctx context.Context) (int, error) {
	var due []Timer
	err := c.store.View(ctx, func(tx Tx) error {
		var err error
		due, err = tx.DueTimers(ctx, c.now().UTC(), 500)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("due timers: %w", err)
	}
	for _, tm := range due {
		var recorded []CaseEvent
		err := c.store.Update(ctx, func(tx Tx) error {
			recorded = nil
			t := &txn{Core: c, tx: tx, ctx: ctx, recorded: &recorded}
			return t.fire(tm)
		})
		if err != nil {
			return 0, fmt.Errorf("fire %s timer of case %d: %w", tm.Kind, tm.CaseID, err)
		}
		c.committed(recorded)
	}
	if len(due) > 0 {
		c.Poke()
	}
	return len(due), nil
}

func (t *txn) fire(tm Timer) error {
	taken, err := t.tx.TakeTimer(t.ctx, tm)
	if err != nil {
		return fmt.Errorf("take timer: %w", err)
	}
	if !taken {
		return nil // cancelled, replaced or fired since it was read
	}
	cs, err := t.tx.Case(t.ctx, tm.CaseID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load case: %w", err)
	}
	switch tm.Kind {
	case TimerSLA:
		return t.slaBreached(cs)
	case TimerRemind:
		return t.remind(cs, tm)
	case TimerExpire:
		return t.expire(cs, tm)
	case TimerPromptExpire:
		return t.expirePrompt(cs, tm)
	case TimerPromptDelayed:
		return t.delayedPrompt(cs, tm)
	}
	t.log.Warn("timer of unknown kind dropped", "kind", tm.Kind, "case", tm.CaseID)
	return nil
}

// slaBreached nudges staff once about a case with no first response.
func (t *txn) slaBreached(cs *Case) error {
	if !cs.FirstResponseAt.IsZero() || !cs.Status.Active() {
		return nil
	}
	wait := t.cfg.SLA.FirstResponse.D().String()
	if err := t.record(cs, KindSLABreached, "", map[string]any{"sla_seconds": t.cfg.SLA.FirstResponse.D().Seconds()}); err != nil {
		return err
	}
	return t.alertStaff(cs, Message{Text: t.say("SLANudge", cs, TextData{Wait: wait})})
}
