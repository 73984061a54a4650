package bot

import (
	"encoding/json"
	"strconv"
	"time"
)

// Status is where a case stands.
type Status string

// Case statuses: open → awaiting_staff ⇄ awaiting_customer → resolved → closed,
// with reopened after a bad rating or a customer's "not fixed".
const (
	StatusOpen             Status = "open"
	StatusAwaitingStaff    Status = "awaiting_staff"
	StatusAwaitingCustomer Status = "awaiting_customer"
	StatusResolved         Status = "resolved"
	StatusReopened         Status = "reopened"
	StatusClosed           Status = "closed"
)

// Active reports whether the case still needs staff: not resolved and not closed.
func (s Status) Active() bool {
	return s != StatusResolved && s != StatusClosed
}

// Case is one customer's support request, from the public question to closing.
type Case struct {
	ID       int64
	Platform string
	Customer Person
	Status   Status
	Public   Ref // the original public question (channel and message)
	Private  Ref // the customer's side of the private conversation
	Staff    Ref // the staff side: a conversation only staff read
	Assignee string
	// Question is the customer's first message; empty unless message text is kept.
	Question        string
	Round           int // resolutions so far; a rating belongs to one round
	OpenedAt        time.Time
	FirstResponseAt time.Time
	ResolvedAt      time.Time
	ClosedAt        time.Time
}

// Funnel event kinds appended to the case log.
const (
	KindAskedPublic         = "asked_public"
	KindTakenPrivate        = "taken_private"
	KindFirstStaffResponse  = "first_staff_response"
	KindClaimed             = "claimed"
	KindResolved            = "resolved"
	KindSurveySent          = "survey_sent"
	KindSurveyUndeliverable = "survey_undeliverable"
	KindSurveyReminded      = "survey_reminded"
	KindSurveyExpired       = "survey_expired"
	KindRated               = "rated"
	KindCommented           = "commented"
	KindShareOffered        = "share_offered"
	KindShareSuppressed     = "share_suppressed"
	KindShareClicked        = "share_clicked"
	KindShared              = "shared"
	KindShareDeclined       = "share_declined"
	KindOptedOut            = "opted_out"
	KindShareWithdrawn      = "share_withdrawn"
	KindReopened            = "reopened"
	KindSLABreached         = "sla_breached"
	KindNote                = "note"
	KindNotice              = "notice"
	KindClosed              = "closed"
	KindForgotten           = "forgotten"
	// KindMessage is a transcript line, recorded only when message text is kept.
	KindMessage = "message"
	// KindPrivateFailed: the private conversation could not be opened.
	KindPrivateFailed = "private_failed"
	// KindWallConsent records the customer's choice, made when they post a
	// testimonial, to show it on the public wall too or not, and the name
	// they chose to show there.
	KindWallConsent = "wall_consent"
	// KindWallRemoved: a testimonial left the public wall (the customer
	// opted out of share prompts).
	KindWallRemoved = "wall_removed"
)

// CaseEvent is one row of the append-only funnel log.
type CaseEvent struct {
	ID       int64
	CaseID   int64
	Kind     string
	Actor    string // platform user ID, or "" for the bot
	Platform string
	At       time.Time
	Detail   json.RawMessage // kind-specific JSON, may be nil
}

// Scale is the survey question asked.
type Scale string

// Survey scales.
const (
	CSAT Scale = "csat" // 1–5, satisfaction
	CES  Scale = "ces"  // 1–7, how easy it was to get help
	NPS  Scale = "nps"  // 0–10, likelihood to recommend
)

// Rating is a customer's answer to the survey for one resolution round.
type Rating struct {
	CaseID    int64
	Round     int
	Scale     Scale
	Score     int
	Satisfied bool
	Unhappy   bool
	Recovery  bool   // satisfied after an unhappy rating on the same case
	Comment   string // empty unless message text is kept or the customer shared it
	At        time.Time
}

// Share target kinds.
const (
	TargetCommunityPost = "community_post"
	TargetXPost         = "x_post"
	TargetReviewLink    = "review_link"
)

// Gating policies: who is offered a target.
const (
	PolicySatisfied = "satisfied"
	PolicyEveryone  = "everyone"
)

// Offer states.
const (
	OfferOffered   = "offered"
	OfferClicked   = "clicked"
	OfferShared    = "shared"
	OfferDeclined  = "declined"
	OfferWithdrawn = "withdrawn"
	OfferExpired   = "expired"
)

// Offer is one share target offered to one customer for one case: the consent
// record. Text is the exact text shown (and, once shared, posted).
type Offer struct {
	ID       int64
	CaseID   int64
	Round    int
	Target   string // the target's name from config
	Kind     string // community_post, x_post, review_link
	Policy   string
	Text     string
	URL      string // x intent or review URL
	State    string
	Post     Ref // the public post, for community_post once shared
	At       time.Time
	SharedAt time.Time
	// Wall is the customer's choice to show the testimonial on the public
	// wall too: false unless they chose it. WallName is the name they chose
	// to show there ("" shows "a customer"). WallAt is when it went on the
	// wall, once the post was live; zero while it is not there.
	Wall     bool
	WallName string
	WallAt   time.Time
	// Experiment and Variant name the experiment variant of the prompt
	// that made the offer; empty outside experiments.
	Experiment string
	Variant    string
}

// WallEntry is one testimonial on the public wall: nothing but what the
// customer agreed to show.
type WallEntry struct {
	Name string // the name the customer chose to show; "" for "a customer"
	Text string
	At   time.Time // when it went on the wall
}

// PersonRecord is what advocate remembers of a person across cases: opt-out and
// the last share prompt, for frequency caps.
type PersonRecord struct {
	Platform     string
	ID           string
	OptedOut     bool
	LastPromptAt time.Time
	// LastSurveyAt is when a survey was last sent, for survey.cooldown.
	LastSurveyAt time.Time
}

// Timer kinds.
const (
	TimerSLA          = "sla"
	TimerRemind       = "survey_remind"
	TimerExpire       = "survey_expire"
	TimerPromptExpire = "prompt_expire"
)

// Timer is a due moment stored as a row, so it survives restarts.
type Timer struct {
	CaseID int64
	Kind   string
	Round  int
	DueAt  time.Time
	// Experiment and Variant are a delayed prompt's (TimerPromptDelayed),
	// so that it fires as it was assigned even if the experiment stopped.
	Experiment string
	Variant    string
}

// Action kinds delivered by the outbox relay.
const (
	ActOpenPrivate = "open_private" // open the case's private conversation; Msg is the intro
	ActSend        = "send"         // post Msg to To
	ActUpdate      = "update"       // replace the message remembered under Key
	ActDelete      = "delete"       // delete the message remembered under Key, or the message To
)

// Places an action can be addressed to, resolved by the relay at delivery time
// from the case row, so an action can be queued before its conversation exists.
const (
	PlaceRef     = "ref"     // To as given
	PlacePublic  = "public"  // a thread reply under the case's original question
	PlacePrivate = "private" // the customer's side of the private conversation
	PlaceStaff   = "staff"   // the staff side of the private conversation
)

// Action is an outgoing platform call written to the outbox in the same transaction
// as the decision that caused it, and delivered at least once.
type Action struct {
	ID       int64
	CaseID   int64 // 0 for actions that belong to no case
	Platform string
	Lane     string // actions in one lane are delivered in order
	Kind     string
	Place    string
	// To is the conversation of a PlaceRef send; for a PlacePublic send, the
	// case's public thread when it was queued (the relay's pacing reads its
	// channel); for a delete without a Key, the message to delete.
	To       Ref
	Fallback []string // places to try, in order, when To is undeliverable
	Msg      Message
	// Key names the delivered message so later actions can update or delete it
	// (for example "survey:2"); for ActUpdate and ActDelete it names the target.
	Key string
	// Purpose says what a send delivers (a survey, a reminder, a share
	// prompt, a testimonial), for what its delivery records and whether a
	// dead one may go out again; "" for any other message. Subject is what it
	// is about: the survey round, or the testimonial's offer ID.
	Purpose  Purpose
	Subject  int64
	Attempts int
	NextAt   time.Time
	LastErr  string
	Created  time.Time // when it was queued (set by the store)
}

// Purpose is what a send delivers, when the core needs to know it later.
type Purpose string

// Purposes of a send.
const (
	PurposeSurvey      Purpose = "survey"
	PurposeReminder    Purpose = "reminder"
	PurposePrompt      Purpose = "prompt"
	PurposeTestimonial Purpose = "testimonial"
)

// key is the Key of the message a send of purpose p about subject posts.
func (p Purpose) key(subject int64) string { return string(p) + ":" + strconv.FormatInt(subject, 10) }

// Delivery is a delivered action's result.
type Delivery struct {
	Ref   Ref    // the message posted, or for ActOpenPrivate the private side
	Staff Ref    // for ActOpenPrivate: the staff side
	Place string // the place it finally went to (after fallbacks)
}
