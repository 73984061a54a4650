package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Handler is the core's only way in: an adapter hands it every inbound event and
// acknowledges the platform only after Handle returns nil (the effect is committed).
type Handler interface {
	Handle(ctx context.Context, ev Event) (Reply, error)
}

// Accepter is a Handler that takes an event in two steps, for events whose
// acknowledgement carries nothing back (messages and mentions): Accept
// commits the event as it arrived, with its ID, and returns; the adapter
// acknowledges it, then calls decide, which decides it and commits the
// decision. The event is durable from Accept on: when decide cannot commit
// (or never runs, the process stopped), the core decides it later. decide is
// nil when there is nothing left to decide (an event already seen).
// Adapters call decide in the event's conversation order.
type Accepter interface {
	Accept(ctx context.Context, ev Event) (decide func(context.Context), err error)
}

// Adapter connects the core to one platform. It translates and delivers; it
// decides nothing.
type Adapter interface {
	Platform() string
	// Run receives platform traffic and passes it to h until ctx is done.
	Run(ctx context.Context, h Handler) error
	// OpenPrivate opens the case's two sides: the customer's private
	// conversation, with intro posted in it, and the staff side (a thread
	// only staff read), and returns both. private.Message is the intro's ID,
	// so the core can update it later. The two sides are always different
	// conversations: staff-only messages go to the staff side.
	OpenPrivate(ctx context.Context, c *Case, intro Message) (private, staff Ref, err error)
	// Send posts m to the conversation to (a channel, thread, or a named channel such
	// as StaffChannel) and returns the posted message's ref.
	Send(ctx context.Context, to Ref, m Message) (Ref, error)
	// Update replaces a posted message, for example to disable used buttons.
	Update(ctx context.Context, msg Ref, m Message) error
	// Delete removes a message: one the bot posted (a withdrawn testimonial),
	// or one a person posted where the platform allows it (a staff note typed
	// on the customer's side).
	Delete(ctx context.Context, msg Ref) error
}

// ErrUndeliverable means the destination cannot take the message and retrying will
// not help (a closed DM, an unknown channel). The relay tries the action's fallbacks.
var ErrUndeliverable = errors.New("undeliverable")

// RetryAfterError is a platform's "slow down": retry no sooner than After.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("rate limited, retry after %s: %v", e.After, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// ChannelPacer is an adapter whose platform limits posts per channel where
// one channel takes the posts of several places: on Slack, a case's root
// (posted by OpenPrivate), its staff thread and the alerts to the staff
// channel all count against the staff channel's limit. The relay treats the
// actions of one paced channel as one destination: a few in flight at a
// time, and with several instances one instance at a time posting there.
type ChannelPacer interface {
	// PacedChannel names the channel a's post counts against, the same for
	// every instance with the same configuration, or "" when the relay's
	// own reckoning serves (see destination).
	PacedChannel(a Action) string
}

// CheckModals is an adapter whose modals can hold a check box (Field.Check)
// besides text inputs. The core asks for a yes-or-no choice inside a modal
// only where CheckModals reports true; elsewhere it offers the choice as a
// button on the message that opens the modal.
type CheckModals interface {
	CheckModals() bool
}

// Checker is an adapter that can tell whether it is connected to its platform,
// for readiness checks. Adapters without a connection need not implement it.
type Checker interface {
	Connected() error
}
