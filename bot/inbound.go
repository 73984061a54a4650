package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// inboundLease is how long the instance that accepted an event has to decide
// it before another may claim it (Tx.ClaimInbound); a decision that failed is
// tried again after it, too.
const inboundLease = 30 * time.Second

// inboundBatch bounds the accepted events one look claims.
const inboundBatch = 100

// Accept commits a message or mention as it arrived, with its ID for dedupe,
// so that the adapter may acknowledge it at once; decide decides it. Accepted
// events are what the commit before the acknowledgement keeps: the effect
// follows from them, in this process or, if it stops, in the next to claim
// them. Events of other kinds are handled whole (Handle) and need no decide.
func (c *Core) Accept(ctx context.Context, ev Event) (func(context.Context), error) {
	if ev.Kind != EventMessage && ev.Kind != EventMention {
		_, err := c.Handle(ctx, ev)
		return nil, err
	}
	if ev.Author.Bot {
		return nil, nil
	}
	start := c.now()
	ev = unmarked(ev)
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("accept %s event: %w", ev.Kind, err)
	}
	in := &Inbound{Event: raw, Owner: c.instance}
	seen := false
	actx := AckContext(ctx)
	err = c.store.Update(actx, func(tx Tx) error {
		in.Until = tx.Now().Add(inboundLease)
		var err error
		if seen, err = tx.Seen(actx, ev.ID); err != nil || seen {
			return err
		}
		return tx.PutInbound(actx, in)
	})
	if err != nil {
		c.log.Error("event not committed", "platform", ev.Where.Platform, "kind", ev.Kind, "event", ev.ID, "err", err)
		return nil, fmt.Errorf("accept %s event: %w", ev.Kind, err)
	}
	if c.obs != nil {
		c.obs.Acked(ev.Where.Platform, c.now().Sub(start))
	}
	if seen {
		return nil, nil
	}
	return func(ctx context.Context) { _ = c.decide(ctx, in.ID, ev) }, nil
}

// decide decides accepted event id in the transaction that takes it from the
// store, so that it is decided once, by whichever instance gets there first.
// When the transaction fails the event stays, to be claimed again.
func (c *Core) decide(ctx context.Context, id int64, ev Event) error {
	_, err := c.commitDecision(ctx, ev, func(tx Tx) (bool, error) { return tx.TakeInbound(ctx, id) })
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("accepted event not decided yet; it will be tried again", "platform", ev.Where.Platform, "kind", ev.Kind, "event", ev.ID, "err", err)
		}
		return fmt.Errorf("decide %s event: %w", ev.Kind, err)
	}
	return nil
}

// reclaim decides, oldest first, the accepted events nobody is deciding: on a
// store only this process uses, at start, every event accepted before this
// Core was made (a process that stopped between an acknowledgement and its
// decision); then, and on a shared store always, those whose claim ran out.
// It returns how many it decided.
func (c *Core) reclaim(ctx context.Context, first bool) (int, error) {
	before := c.now().UTC()
	if _, shared := c.store.(Claimer); first && !shared {
		// a millisecond on, the store's resolution: what this Core
		// accepts is claimed until a lease after it started, or later
		before = c.started.UTC().Add(inboundLease + time.Millisecond)
	}
	n := 0
	for {
		var claimed []Inbound
		err := c.store.Update(ctx, func(tx Tx) (err error) {
			claimed, err = tx.ClaimInbound(ctx, c.instance, before, tx.Now().Add(inboundLease), inboundBatch)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("claim accepted events: %w", err)
		}
		for _, in := range claimed {
			var ev Event
			if err := json.Unmarshal(in.Event, &ev); err != nil {
				c.log.Error("accepted event unreadable; left in the store", "inbound", in.ID, "err", err)
				continue
			}
			if in.Attempts > 3 {
				c.log.Warn("accepted event decided again", "platform", ev.Where.Platform, "event", ev.ID, "attempt", in.Attempts)
			}
			if c.decide(ctx, in.ID, ev) == nil {
				n++
			}
		}
		if len(claimed) < inboundBatch {
			return n, nil
		}
	}
}

// reclaimLoop runs reclaim at start and then every half lease until ctx ends.
func (c *Core) reclaimLoop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for first := true; ; first = false {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := c.reclaim(ctx, first); err != nil && ctx.Err() == nil {
			c.log.Error("accepted events", "err", err)
		} else if n > 0 {
			c.log.Info("accepted events decided after their claim ran out", "count", n)
		}
		t.Reset(inboundLease / 2)
	}
}
