package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Store errors. Implementations wrap them so callers can test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Store is the persistence the core needs. The SQLite implementation lives in
// package store/sqlite; a PostgreSQL one can pass the same conformance suite.
type Store interface {
	// Update runs fn in one write transaction: everything fn writes commits together
	// or not at all. fn may be retried, so it must not have side effects outside tx.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Funnel counts funnel stages for the cases matching q, grouped as q asks.
	Funnel(ctx context.Context, q FunnelQuery) ([]FunnelRow, error)
	Close() error
}

// Tx is one transaction. Every method takes the caller's context.
type Tx interface {
	// Now is the transaction's clock (UTC), replaceable in tests.
	Now() time.Time
	// Seen records an inbound event ID and reports whether it was already
	// recorded. An empty ID is never seen.
	Seen(ctx context.Context, eventID string) (bool, error)

	CreateCase(ctx context.Context, c *Case) error // sets c.ID
	UpdateCase(ctx context.Context, c *Case) error
	Case(ctx context.Context, id int64) (*Case, error)
	// ActiveCaseFor returns the customer's case that is neither resolved nor closed.
	ActiveCaseFor(ctx context.Context, platform, customerID string) (*Case, error)
	// NameCustomer records name on the customer's cases that were opened
	// without one (the platform handed the person over by ID alone); cases
	// that have a name keep it.
	NameCustomer(ctx context.Context, platform, customerID, name string) error
	// CaseByConversation finds the case whose private or staff conversation is ref
	// (matched on platform, channel and thread).
	CaseByConversation(ctx context.Context, ref Ref) (*Case, error)
	// FindCases lists cases matching f, newest first, and the total matching.
	FindCases(ctx context.Context, f CaseFilter) ([]*Case, int, error)
	// CaseEvents lists a case's funnel log, oldest first.
	CaseEvents(ctx context.Context, caseID int64) ([]CaseEvent, error)
	Record(ctx context.Context, e CaseEvent) error

	// PutRating stores a rating; ErrConflict if the round is already rated.
	PutRating(ctx context.Context, r *Rating) error
	Ratings(ctx context.Context, caseID int64) ([]Rating, error)
	UpdateRatingComment(ctx context.Context, caseID int64, round int, comment string) error

	CreateOffer(ctx context.Context, o *Offer) error // sets o.ID
	UpdateOffer(ctx context.Context, o *Offer) error
	Offer(ctx context.Context, id int64) (*Offer, error)
	Offers(ctx context.Context, caseID int64) ([]*Offer, error)

	// Person returns what is known of one identity, or a zero record with the
	// given keys: OptedOut is also true when an identity with these keys was
	// forgotten after it opted out (its OptOutMarker is kept). Identities
	// linked with it have records of their own (see personOf).
	Person(ctx context.Context, platform, id string) (PersonRecord, error)
	PutPerson(ctx context.Context, p PersonRecord) error

	// Identities lists the identities of the person id belongs to, id
	// included, ordered by platform and ID; just id when it is linked with none.
	Identities(ctx context.Context, id Identity) ([]Identity, error)
	// Link makes a and b identities of one person, joining the people each
	// already belongs to; via says how (LinkedIdentity.Via). Linking two
	// identities already linked changes nothing; a with itself is ErrConflict.
	Link(ctx context.Context, a, b Identity, via string) error
	// Unlink takes id out of its person (and a person left with one identity
	// is no more); ErrNotFound if it is linked with none.
	Unlink(ctx context.Context, id Identity) error
	// LinkedPeople lists people with linked identities, the most recently
	// linked first, at most limit (<= 0: all) from offset, and their total.
	LinkedPeople(ctx context.Context, offset, limit int) ([][]LinkedIdentity, int, error)
	// PutLinkCode stores a link code, replacing any earlier code of its
	// identity, and deletes the expired ones; ErrConflict if another
	// identity's code has the same hash.
	PutLinkCode(ctx context.Context, c LinkCode) error
	// TakeLinkCode deletes the code stored under hash and returns it:
	// ErrNotFound if there is none, or it expired by Now.
	TakeLinkCode(ctx context.Context, hash string) (LinkCode, error)

	// SetTimer creates or replaces the timer (CaseID, Kind).
	SetTimer(ctx context.Context, t Timer) error
	CancelTimer(ctx context.Context, caseID int64, kind string) error
	// DueTimers lists timers due at or before now, earliest first.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error)
	// TakeTimer deletes the timer t names if it is still as t says (same
	// round and due time) and no other transaction is taking it, and reports
	// whether this one took it: a timer read by several instances fires once.
	TakeTimer(ctx context.Context, t Timer) (bool, error)

	// PutInbound keeps an event that is acknowledged before it is decided
	// (Core.Accept), claimed by in.Owner until in.Until; sets in.ID.
	PutInbound(ctx context.Context, in *Inbound) error
	// TakeInbound deletes inbound event id in the transaction that decides
	// it, and reports whether this transaction took it: false when it is
	// gone (another transaction decided it), so that it is decided once.
	TakeInbound(ctx context.Context, id int64) (bool, error)
	// ClaimInbound claims for owner until until the inbound events whose
	// claim ends before before (an instance that stopped, a decision that
	// failed), oldest first, at most limit; it adds one to their Attempts
	// and returns them as claimed. Events other transactions are claiming
	// are skipped, not waited for.
	ClaimInbound(ctx context.Context, owner string, before, until time.Time, limit int) ([]Inbound, error)
	// InboundStats counts the inbound events not decided yet.
	InboundStats(ctx context.Context) (undecided int, err error)

	// Enqueue adds an action to the outbox (sets a.ID; NextAt defaults to Now).
	Enqueue(ctx context.Context, a *Action) error
	// PendingActions returns, for each lane, its oldest pending action if that one
	// is due (NextAt <= now), oldest first. Dead and delivered actions do not block.
	PendingActions(ctx context.Context, now time.Time, limit int) ([]Action, error)
	// PendingActionsAfter is PendingActions for the lanes whose due head has
	// an ID above after, and returns the highest action ID queued so far (0
	// when none is): called again with that ID, it returns only the lanes
	// queued since, whatever the backlog before them.
	PendingActionsAfter(ctx context.Context, now time.Time, after int64, limit int) ([]Action, int64, error)
	// LaneHeads returns the oldest pending action of each of lanes that has
	// one, due or not, by ID.
	LaneHeads(ctx context.Context, lanes []string) ([]Action, error)
	// MarkDelivered marks an action delivered, forgets its message text, and
	// remembers d.Ref under (case, key) when the action has a Key.
	MarkDelivered(ctx context.Context, id int64, d Delivery) error
	// MarkFailed records a failed attempt: retry at next, or dead when dead is true.
	MarkFailed(ctx context.Context, id int64, attempts int, next time.Time, lastErr string, dead bool) error
	// Delivered returns the message remembered under (case, key).
	Delivered(ctx context.Context, caseID int64, key string) (Ref, error)
	// OutboxStats counts pending and dead actions.
	OutboxStats(ctx context.Context) (pending, dead int, err error)

	// DeadLetters lists the dead actions f selects, newest first, at most
	// limit (<= 0: all), without their message text, and the total matching.
	DeadLetters(ctx context.Context, f DeadFilter, limit int) ([]DeadLetter, int, error)
	// DeadLetter returns action id without its text: ErrNotFound if there is
	// none, ErrConflict (with the action) if it is not dead.
	DeadLetter(ctx context.Context, id int64) (DeadLetter, error)
	// Requeue puts dead action id back in the queue: pending, due now,
	// attempts reset, the last error kept. ErrNotFound unless it is dead.
	Requeue(ctx context.Context, id int64) error

	// Forget erases one identity and the message texts on every case of
	// theirs (their testimonials leave the wall), keeping the anonymous
	// funnel rows: the customer ID becomes a token that starts with
	// ForgottenPrefix. Its people record, links and link codes go; an
	// opt-out stays, as its OptOutMarker. ForgetPerson forgets a person's
	// linked identities too.
	Forget(ctx context.Context, platform, id string) (cases int, err error)
	// Purge blanks message texts and offer texts of cases closed before
	// cutoff; their testimonials leave the wall.
	Purge(ctx context.Context, cutoff time.Time) (int, error)
}

// Claimer is a Store that several instances share. Before the relay delivers
// to a destination (a channel, a case's private conversation; see
// destination) it claims it for a lease, so that one instance at a time
// posts there: in order, at the platform's pace. A store that serves one
// instance need not implement it.
type Claimer interface {
	// ClaimDestinations claims dests for owner, or renews owner's claims, for
	// lease, and returns those owner now holds; taken are those it took over
	// from another owner whose lease had run out (a stopped instance, whose
	// last deliveries there may have been posted unrecorded).
	ClaimDestinations(ctx context.Context, owner string, dests []string, lease time.Duration) (held, taken []string, err error)
	// ReleaseDestinations gives up owner's claims, so that other instances
	// take its destinations at once.
	ReleaseDestinations(ctx context.Context, owner string) error
}

// Inbound is an event stored as it arrived, acknowledged, and not yet
// decided: the transaction that decides it takes it (Tx.TakeInbound).
type Inbound struct {
	ID int64
	// Event is the bot.Event, as JSON.
	Event []byte
	// Owner is the instance deciding it, and Until when its claim ends: then
	// any instance may claim it (Tx.ClaimInbound).
	Owner string
	Until time.Time
	// Attempts counts its claims: 1 when it was stored.
	Attempts int
}

// ForgottenPrefix starts the anonymous ID that Tx.Forget gives a person.
const ForgottenPrefix = "forgotten:"

// IsForgotten reports whether id is the anonymous ID of a forgotten person.
func IsForgotten(id string) bool { return strings.HasPrefix(id, ForgottenPrefix) }

// OptOutMarker is what the store keeps of a forgotten identity that had
// opted out of share prompts: a SHA-256 of its platform and ID, so that the
// same account coming back is not asked again. It cannot be turned back into
// the ID; whoever holds the database and a candidate ID can only check
// whether that ID opted out, which honouring the opt-out needs.
func OptOutMarker(platform, id string) string {
	sum := sha256.Sum256([]byte("advocate opt-out\x00" + platform + "\x00" + id))
	return hex.EncodeToString(sum[:])
}

// CaseFilter selects cases.
type CaseFilter struct {
	Platform   string
	Channel    string // public channel of the question
	CustomerID string
	Assignee   string
	Statuses   []Status
	Since      time.Time // opened at or after
	Until      time.Time // opened before (zero: no bound)
	Offset     int
	Limit      int // 0: no limit
}
