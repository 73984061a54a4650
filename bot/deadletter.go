package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The dead-letter view: the outbox actions the relay gave up on, listed for
// staff without their message text, and put back in the queue on request.

// Refusal names why a dead action must not be put back in the queue; the
// empty Refusal means it may be. Most protect a promise made to the customer
// (erasure, consent, opt-out, the prompt cooldown, a survey that is over), so
// nothing overrides them.
type Refusal string

// Refusals, each explained by Reason.
const (
	RefuseNotFound      Refusal = "not_found"
	RefuseNotDead       Refusal = "not_dead"
	RefuseCaseMissing   Refusal = "case_missing"
	RefuseForgotten     Refusal = "forgotten"
	RefuseTextErased    Refusal = "text_erased"
	RefuseSurveyClosed  Refusal = "survey_closed"
	RefuseOptedOut      Refusal = "opted_out"
	RefusePromptedSince Refusal = "prompted_since"
	RefuseShareClosed   Refusal = "share_closed"
	RefuseWithdrawn     Refusal = "withdrawn"
)

// Reason explains r to an operator, in one line.
func (r Refusal) Reason() string {
	switch r {
	case "":
		return ""
	case RefuseNotFound:
		return "no such outbox action"
	case RefuseNotDead:
		return "not dead: it is waiting for delivery or was delivered"
	case RefuseCaseMissing:
		return "its case no longer exists"
	case RefuseForgotten:
		return "the customer was erased (advocate forget): nothing more goes out about their case"
	case RefuseTextErased:
		return "its message text was erased (advocate forget or store.retention); it would go out empty"
	case RefuseSurveyClosed:
		return "that survey is over (rated, expired, reopened or closed); its buttons would not work"
	case RefuseOptedOut:
		return "the customer opted out of share prompts"
	case RefusePromptedSince:
		return "the customer has had a share prompt since; another would break the cooldown"
	case RefuseShareClosed:
		return "none of that prompt's share offers is open any more (declined or expired)"
	case RefuseWithdrawn:
		return "the customer withdrew that testimonial; posting it would break their consent"
	}
	return string(r)
}

// DeadLetter is a dead outbox action as staff see it. It has no message
// text, which may be private: only what the action was and why it failed.
type DeadLetter struct {
	ID        int64
	CaseID    int64 // 0: the action belongs to no case
	Platform  string
	Kind      string // ActSend, ActOpenPrivate, ActUpdate, ActDelete
	Key       string // the message's key, such as "survey:1"; "" for most
	Place     string // PlacePrivate, …
	Purpose   Purpose
	Subject   int64
	Attempts  int
	LastErr   string // the last delivery error, as the relay recorded it
	CreatedAt time.Time
	DiedAt    time.Time
	// Erased is true when its message text was erased (Forget or Purge).
	Erased bool
	// Refusal is why the action may not be retried ("" if it may). From
	// RetryDead and RetryAllDead, it is why it was not.
	Refusal Refusal
}

// DeadFilter selects dead actions; zero fields select all.
type DeadFilter struct {
	Platform string
	CaseID   int64
	Before   int64 // only IDs below it (0: no bound), to page through them
}

// retryBatch bounds the actions RetryAllDead puts back in one transaction, so
// that a large dead-letter queue does not hold up the bot's own writes.
const retryBatch = 256

// DeadLetters lists the dead actions f selects, newest first, at most limit
// (<= 0: all), each with the Refusal a retry would meet, and the total
// matching. It reads one snapshot.
func (c *Core) DeadLetters(ctx context.Context, f DeadFilter, limit int) ([]DeadLetter, int, error) {
	var out []DeadLetter
	var total int
	err := c.store.View(ctx, func(tx Tx) error {
		var err error
		if out, total, err = tx.DeadLetters(ctx, f, limit); err != nil {
			return err
		}
		for i := range out {
			if out[i].Refusal, err = retryRefusal(ctx, tx, out[i]); err != nil {
				return fmt.Errorf("dead letter %d: %w", out[i].ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("dead letters: %w", err)
	}
	return out, total, nil
}

// RetryDead puts the dead actions ids back in the queue, in one transaction:
// pending, due now, attempts reset (the last error is kept until the next
// attempt replaces it). An action that may not be retried stays as it is; its
// result says why (RefuseNotFound, RefuseNotDead or a rule of retryRefusal).
// The results describe each action as it was found, in ID order; repeated ids
// count once. Once its transaction has started, ctx no longer interrupts it:
// a canceled statement would roll back a transaction that a group commit
// shares with the bot's own writes.
func (c *Core) RetryDead(ctx context.Context, ids ...int64) ([]DeadLetter, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var out []DeadLetter
	err := c.store.Update(ctx, func(tx Tx) error {
		out = out[:0] // Update may run fn again
		ctx := context.WithoutCancel(ctx)
		for _, id := range ids {
			d, err := tx.DeadLetter(ctx, id)
			switch {
			case errors.Is(err, ErrNotFound):
				out = append(out, DeadLetter{ID: id, Refusal: RefuseNotFound})
				continue
			case errors.Is(err, ErrConflict):
				d.Refusal = RefuseNotDead
				out = append(out, d)
				continue
			case err != nil:
				return fmt.Errorf("retry %d: %w", id, err)
			}
			if d, err = retry(ctx, tx, d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("retry dead: %w", err)
	}
	return out, nil
}

// RetryAllDead is RetryDead for every dead action f selects, in batches of
// retryBatch per transaction. The results list the actions put back and
// those refused, in ID order.
func (c *Core) RetryAllDead(ctx context.Context, f DeadFilter) ([]DeadLetter, error) {
	var out []DeadLetter
	for {
		var batch []DeadLetter
		err := c.store.Update(ctx, func(tx Tx) error {
			// As in RetryDead: fn may run again, and ctx must not interrupt it.
			ctx := context.WithoutCancel(ctx)
			var err error
			if batch, _, err = tx.DeadLetters(ctx, f, retryBatch); err != nil {
				return err
			}
			for i := range batch {
				if batch[i], err = retry(ctx, tx, batch[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return sortedByID(out), fmt.Errorf("retry all dead: %w", err)
		}
		out = append(out, batch...)
		if len(batch) < retryBatch {
			return sortedByID(out), nil
		}
		f.Before = batch[len(batch)-1].ID // newest first: the rest are below
	}
}

func sortedByID(ds []DeadLetter) []DeadLetter {
	slices.SortFunc(ds, func(a, b DeadLetter) int { return cmp.Compare(a.ID, b.ID) })
	return ds
}

// retry puts d back in the queue unless a rule refuses it, and returns it
// with the refusal.
func retry(ctx context.Context, tx Tx, d DeadLetter) (DeadLetter, error) {
	var err error
	if d.Refusal, err = retryRefusal(ctx, tx, d); err != nil {
		return DeadLetter{}, fmt.Errorf("retry %d: %w", d.ID, err)
	}
	if d.Refusal != "" {
		return d, nil
	}
	if err := tx.Requeue(ctx, d.ID); err != nil {
		return DeadLetter{}, fmt.Errorf("retry %d: %w", d.ID, err)
	}
	return d, nil
}

// retryRefusal decides whether the dead action d may go out again. A delete
// is always allowed while its case exists: it removes a post (a withdrawn
// testimonial), which is what the customer asked for. Anything that would
// contact a forgotten customer or go out without its erased text is not. A
// survey, share prompt or testimonial must still be what the bot would send
// now: the same rules as the core's own (the survey's round still open, no
// opt-out, the cooldown, the consent not withdrawn).
func retryRefusal(ctx context.Context, tx Tx, d DeadLetter) (Refusal, error) {
	var cs *Case
	if d.CaseID != 0 {
		var err error
		cs, err = tx.Case(ctx, d.CaseID)
		if errors.Is(err, ErrNotFound) {
			return RefuseCaseMissing, nil
		}
		if err != nil {
			return "", err
		}
	}
	switch {
	case d.Kind == ActDelete:
		return "", nil
	case cs != nil && IsForgotten(cs.Customer.ID):
		return RefuseForgotten, nil
	case d.Erased:
		return RefuseTextErased, nil
	case d.Kind != ActSend || cs == nil:
		return "", nil
	}
	switch d.Purpose {
	case PurposeSurvey, PurposeReminder:
		if cs.Status != StatusResolved || int64(cs.Round) != d.Subject {
			return RefuseSurveyClosed, nil
		}
	case PurposePrompt:
		return promptRefusal(ctx, tx, cs, d)
	case PurposeTestimonial:
		o, err := tx.Offer(ctx, d.Subject)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		if o == nil || o.CaseID != cs.ID || o.State != OfferShared {
			return RefuseWithdrawn, nil
		}
	}
	return "", nil
}

// promptRefusal applies the share prompt's rules to a dead prompt: no
// opt-out, no prompt since (it was counted when it was queued: a later count
// is another prompt), and an offer of its round still open.
func promptRefusal(ctx context.Context, tx Tx, cs *Case, d DeadLetter) (Refusal, error) {
	p, err := personOf(ctx, tx, cs.Platform, cs.Customer.ID)
	if err != nil {
		return "", err
	}
	switch {
	case p.OptedOut:
		return RefuseOptedOut, nil
	case p.LastPromptAt.After(d.CreatedAt):
		return RefusePromptedSince, nil
	}
	offers, err := tx.Offers(ctx, cs.ID)
	if err != nil {
		return "", err
	}
	for _, o := range offers {
		if int64(o.Round) == d.Subject && (o.State == OfferOffered || o.State == OfferClicked) {
			return "", nil
		}
	}
	return RefuseShareClosed, nil
}
