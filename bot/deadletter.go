package bot

import "time"

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
	Attempts  int
	LastErr   string // the last delivery error, as the relay recorded it
	CreatedAt time.Time
	DiedAt    time.Time
	// Refusal is why the action may not be retried ("" if it may). From
	// RetryDead and RetryAllDead, it is why it was not.
	Refusal Refusal
}

// DeadFilter selects dead actions; zero fields select all.
type DeadFilter struct {
	Platform string
	CaseID   int64
}
