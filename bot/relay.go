package bot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Relay settings.
const (
	maxAttempts   = 10
	relayBatch    = 64
	relayParallel = 8
	maxBackoff    = 5 * time.Minute
)

// Run delivers the outbox and fires timers until ctx is done. Adapters run
// separately; Run only needs them registered.
func (c *Core) Run(ctx context.Context) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if _, err := c.Deliver(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("outbox delivery", "err", err)
		}
		if _, err := c.Tick(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("timers", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.poke:
		case <-tick.C:
		}
	}
}

// Deliver makes delivery passes until nothing is due, delivering lanes in
// parallel and each lane in order. It returns how many actions were attempted.
func (c *Core) Deliver(ctx context.Context) (int, error) {
	total := 0
	for {
		var batch []Action
		err := c.store.View(ctx, func(tx Tx) error {
			var err error
			batch, err = tx.PendingActions(ctx, c.now().UTC(), relayBatch)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("pending actions: %w", err)
		}
		if len(batch) == 0 {
			return total, nil
		}
		progressed := c.deliverBatch(ctx, batch)
		total += len(batch)
		if !progressed || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// deliverBatch delivers one action per lane concurrently and reports whether any
// was delivered (otherwise everything due failed and waits for its retry time).
func (c *Core) deliverBatch(ctx context.Context, batch []Action) bool {
	var wg sync.WaitGroup
	var mu sync.Mutex
	progressed := false
	sem := make(chan struct{}, relayParallel)
	for _, a := range batch {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := c.deliverOne(ctx, a)
			if err != nil {
				c.log.Error("outbox action", "action", a.ID, "case", a.CaseID, "kind", a.Kind, "err", err)
			}
			if ok {
				mu.Lock()
				progressed = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return progressed
}

// deliverOne attempts one action, trying its fallbacks when the destination
// cannot take it, and commits the result with its follow-up decisions.
func (c *Core) deliverOne(ctx context.Context, a Action) (bool, error) {
	if d, ok := c.takeUnrecorded(a.ID); ok {
		return c.record(ctx, a, d)
	}
	ad := c.adapter(a.Platform)
	if ad == nil {
		return false, c.failed(ctx, a, fmt.Errorf("no adapter for platform %q", a.Platform), true)
	}
	places := append([]string{a.Place}, a.Fallback...)
	var err error
	for _, place := range places {
		var d Delivery
		d, err = c.attempt(ctx, ad, a, place)
		if err == nil {
			return c.record(ctx, a, d)
		}
		if !errors.Is(err, ErrUndeliverable) {
			break
		}
	}
	if errors.Is(err, errNothingToDo) {
		return c.record(ctx, a, Delivery{})
	}
	return false, c.failed(ctx, a, err, errors.Is(err, ErrUndeliverable))
}

// record commits a delivery. If the commit fails, the delivery is kept to be
// committed again by a later pass, which does not post it again.
func (c *Core) record(ctx context.Context, a Action, d Delivery) (bool, error) {
	if err := c.delivered(ctx, a, d); err != nil {
		c.unrecordedMu.Lock()
		c.unrecorded[a.ID] = d
		c.unrecordedMu.Unlock()
		return false, err
	}
	return true, nil
}

// takeUnrecorded returns, and forgets, a delivery of action id whose commit
// failed.
func (c *Core) takeUnrecorded(id int64) (Delivery, bool) {
	c.unrecordedMu.Lock()
	defer c.unrecordedMu.Unlock()
	d, ok := c.unrecorded[id]
	delete(c.unrecorded, id)
	return d, ok
}

// errNothingToDo marks an update or delete of a message that was never posted.
var errNothingToDo = errors.New("no message to change")

func (c *Core) attempt(ctx context.Context, ad Adapter, a Action, place string) (Delivery, error) {
	var cs *Case
	var target Ref
	err := c.store.View(ctx, func(tx Tx) error {
		var err error
		if a.CaseID != 0 {
			if cs, err = tx.Case(ctx, a.CaseID); err != nil {
				return err
			}
		}
		if a.Kind == ActUpdate || a.Kind == ActDelete {
			target, err = tx.Delivered(ctx, a.CaseID, a.Key)
			if errors.Is(err, ErrNotFound) {
				return errNothingToDo
			}
		}
		return err
	})
	if err != nil {
		return Delivery{}, err
	}
	m := a.Msg
	m.Nonce = "adv" + strconv.FormatInt(a.ID, 10)
	switch a.Kind {
	case ActOpenPrivate:
		priv, staff, err := ad.OpenPrivate(ctx, cs, m)
		return Delivery{Ref: priv, Staff: staff, Place: PlacePrivate}, err
	case ActUpdate:
		return Delivery{Ref: target}, ad.Update(ctx, target, m)
	case ActDelete:
		return Delivery{Ref: target}, ad.Delete(ctx, target)
	}
	to, err := resolvePlace(cs, place, a.To)
	if err != nil {
		return Delivery{}, err
	}
	ref, err := ad.Send(ctx, to, m)
	return Delivery{Ref: ref, Place: place}, err
}

// resolvePlace turns a symbolic place into the conversation to post to.
func resolvePlace(cs *Case, place string, to Ref) (Ref, error) {
	var r Ref
	switch place {
	case PlaceRef, "":
		return to, nil
	case PlacePublic:
		r = threadOf(cs.Public)
	case PlacePrivate:
		r = cs.Private.Conversation()
	case PlaceStaff:
		r = cs.Staff.Conversation()
	}
	if r.IsZero() {
		return Ref{}, fmt.Errorf("case %d has no %s conversation: %w", cs.ID, place, ErrUndeliverable)
	}
	return r, nil
}

// delivered commits a delivery and what follows from it.
func (c *Core) delivered(ctx context.Context, a Action, d Delivery) error {
	var recorded []CaseEvent
	err := c.store.Update(ctx, func(tx Tx) error {
		recorded = nil
		if err := tx.MarkDelivered(ctx, a.ID, d); err != nil {
			return err
		}
		t := &txn{Core: c, tx: tx, ctx: ctx, recorded: &recorded}
		return t.afterDelivery(a, d)
	})
	if err != nil {
		return fmt.Errorf("commit delivery: %w", err)
	}
	c.committed(recorded)
	if c.obs != nil {
		c.obs.Delivered(a.Platform, false, false)
	}
	return nil
}

// failed schedules a retry with exponential backoff and jitter, honouring a
// platform's Retry-After, or gives up (dead) after too many attempts or when
// nothing can deliver it.
func (c *Core) failed(ctx context.Context, a Action, cause error, permanent bool) error {
	attempts := a.Attempts + 1
	var ra *RetryAfterError
	wait := backoff(attempts)
	if errors.As(cause, &ra) {
		wait = ra.After
	}
	dead := permanent || (attempts >= maxAttempts && ra == nil)
	next := c.now().UTC().Add(wait)
	var recorded []CaseEvent
	err := c.store.Update(ctx, func(tx Tx) error {
		recorded = nil
		if err := tx.MarkFailed(ctx, a.ID, attempts, next, errText(cause), dead); err != nil {
			return err
		}
		if !dead {
			return nil
		}
		t := &txn{Core: c, tx: tx, ctx: ctx, recorded: &recorded}
		return t.afterDeadLetter(a)
	})
	if err != nil {
		return fmt.Errorf("commit failed delivery: %w", err)
	}
	c.committed(recorded)
	if c.obs != nil {
		c.obs.Delivered(a.Platform, true, dead)
	}
	c.log.Warn("outbox delivery failed", "action", a.ID, "case", a.CaseID, "kind", a.Kind, "attempts", attempts, "dead", dead, "err", cause)
	return nil
}

// backoff is 1s, 2s, 4s… up to maxBackoff, with ±50% jitter.
func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 16)
	d = min(d, maxBackoff)
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

// errText keeps the error for the dead-letter view, short and without message text.
func errText(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// afterDelivery records what a delivery completes.
func (t *txn) afterDelivery(a Action, d Delivery) error {
	if a.CaseID == 0 {
		return nil
	}
	cs, err := t.tx.Case(t.ctx, a.CaseID)
	if err != nil {
		return err
	}
	switch {
	case a.Kind == ActOpenPrivate:
		cs.Private, cs.Staff = d.Ref.Conversation(), d.Staff.Conversation()
		if cs.Staff.IsZero() {
			cs.Staff = cs.Private
		}
		if cs.Status == StatusOpen {
			cs.Status = StatusAwaitingStaff
		}
		if err := t.tx.UpdateCase(t.ctx, cs); err != nil {
			return err
		}
		return t.record(cs, KindTakenPrivate, "", map[string]any{"channel": cs.Private.Channel})
	case a.Kind != ActSend:
		return nil
	case strings.HasPrefix(a.Key, "survey:"):
		return t.record(cs, KindSurveySent, "", map[string]any{"round": keyNumber(a.Key), "place": d.Place})
	case strings.HasPrefix(a.Key, "reminder:"):
		return t.record(cs, KindSurveyReminded, "", map[string]any{"round": keyNumber(a.Key)})
	case strings.HasPrefix(a.Key, "testimonial:"):
		o, err := t.tx.Offer(t.ctx, keyNumber(a.Key))
		if err != nil {
			return err
		}
		return t.shared(cs, o, d.Ref)
	}
	return nil
}

// afterDeadLetter records what could not be delivered at all.
func (t *txn) afterDeadLetter(a Action) error {
	if a.CaseID == 0 {
		return nil
	}
	cs, err := t.tx.Case(t.ctx, a.CaseID)
	if err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(a.Key, "survey:"):
		return t.record(cs, KindSurveyUndeliverable, "", map[string]any{"round": keyNumber(a.Key)})
	case a.Kind == ActOpenPrivate:
		return t.record(cs, KindPrivateFailed, "", nil)
	}
	return nil
}

func keyNumber(key string) int64 {
	_, n, _ := strings.Cut(key, ":")
	v, _ := strconv.ParseInt(n, 10, 64)
	return v
}
