// Package bot is advocate's platform-neutral core: cases, the support-to-advocacy
// flow, surveys, share offers and timers. It knows no platform SDK, store driver or
// web package; adapters translate platform traffic into Events and deliver Actions.
package bot

import "time"

// Platform names used in refs, events and reports.
const (
	Slack   = "slack"
	Discord = "discord"
	Sandbox = "sandbox"
)

// Named channels an adapter resolves from its own configuration. A Ref whose Channel
// is one of these is delivered to that configured channel.
const (
	StaffChannel    = "@staff"
	ShowcaseChannel = "@showcase"
)

// Ref points at a place on a platform: a channel, optionally a thread in it, and
// optionally one message. The same shape serves conversations and messages.
type Ref struct {
	Platform string `json:"platform"`
	Space    string `json:"space,omitempty"` // workspace or guild
	Channel  string `json:"channel,omitempty"`
	Thread   string `json:"thread,omitempty"`  // thread ts (Slack) or thread channel (Discord)
	Message  string `json:"message,omitempty"` // message ts or ID
}

// IsZero reports whether the ref points nowhere.
func (r Ref) IsZero() bool { return r.Channel == "" && r.Message == "" && r.Thread == "" }

// Conversation returns the ref without its message: the place messages are posted to.
func (r Ref) Conversation() Ref { r.Message = ""; return r }

// Person is someone on a platform as the adapter saw them.
type Person struct {
	Platform string   `json:"platform"`
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	Roles    []string `json:"roles,omitempty"` // Discord role IDs, Slack user-group IDs
	Bot      bool     `json:"bot,omitempty"`
}

// EventKind says what an inbound Event is.
type EventKind string

// Inbound event kinds.
const (
	EventMessage EventKind = "message" // a message in a channel or conversation the bot sees
	EventMention EventKind = "mention" // a message that mentions the bot
	EventCommand EventKind = "command" // slash command or context-menu command
	EventAction  EventKind = "action"  // a button click (or a tracked link click)
	EventSubmit  EventKind = "submit"  // a modal submitted
	// EventNamed tells the name (Author.Name) of a person the platform first
	// handed over by ID alone (Author.ID), once the adapter has looked it up.
	// It needs no ID and nobody waits on it.
	EventNamed EventKind = "named"
)

// Commands the core understands in Event.Command.
const (
	CmdSupport = "support" // open a case; Text is the description
	CmdClaim   = "claim"
	CmdResolve = "resolve"
	CmdReopen  = "reopen"
	CmdNote    = "note"   // Text is the internal note
	CmdNotice  = "notice" // Fields["channel"] and Text: proactive notice to open cases in a channel
	CmdStats   = "stats"  // Text: "7d" or "30d"
	CmdLink    = "link"   // Text: "" for a new link code, or the code to enter
)

// Event is one piece of inbound platform traffic, already translated.
type Event struct {
	// ID is unique per platform delivery of the same thing (Slack event_id, Discord
	// message or interaction ID); the core ignores an ID it has already committed.
	ID   string
	Kind EventKind
	// Where the event happened. For a message Where.Message is its own ID; for a
	// button click it is the message that carried the button.
	Where  Ref
	Author Person
	Text   string
	// Support marks a message posted in a watched public support channel.
	Support bool
	// Direct marks a message in a one-to-one conversation with the bot.
	Direct   bool
	Command  string            // for EventCommand
	ActionID string            // for EventAction and EventSubmit: the signed ID
	Fields   map[string]string // modal fields and command options
	At       time.Time
}

// Reply is what the core wants said straight back to the person who caused an
// event, within the platform's interaction deadline. It is not durable: everything
// that must survive goes through the outbox.
type Reply struct {
	Ephemeral string // shown only to the person who clicked or ran a command
	Modal     *Modal // a form to open with the interaction's trigger
	URL       string // for a tracked link click: where to redirect the browser
	// Hide says the event's own message must not stay where it was written:
	// a staff note typed on the customer's side. The core has queued its
	// deletion; an adapter that can keep it from the customer before then
	// (the sandbox, which has not shown it yet) deletes it at once.
	Hide bool
}

// Modal is a form: the preview/edit of a testimonial, a survey comment.
type Modal struct {
	ActionID string // signed; the submit event carries it back
	Title    string
	Fields   []Field
	Submit   string // label of the submit button
}

// Field is one input of a Modal: a text input, or with Check a check box
// (Label is its text), submitted as FieldChecked when ticked and "" when
// not. Only adapters that implement CheckModals are given check boxes.
type Field struct {
	ID        string
	Label     string
	Value     string // prefilled text; for a check box, FieldChecked to start ticked
	Multiline bool
	Required  bool
	MaxLen    int
	Check     bool
}

// FieldChecked is the value of a ticked check box.
const FieldChecked = "yes"

// Message is an outgoing message: text and optional buttons.
type Message struct {
	Text    string   `json:"text"`
	Buttons []Button `json:"buttons,omitempty"`
	// Nonce is set by the relay from the outbox action's ID, so an adapter can make
	// a retried send idempotent (Discord's nonce with enforce_nonce).
	Nonce string `json:"-"`
	// PostedSince is set by the relay when an earlier attempt may have posted
	// this message after that time without the delivery being recorded (an
	// attempt failed, or the process stopped after the action was queued). An
	// adapter whose platform has no idempotency key looks for a message it
	// posted with Nonce since then before posting again.
	PostedSince time.Time `json:"-"`
}

// Button is a clickable choice. A button with a URL is a link button: adapters that
// receive link clicks (Slack) report them with ActionID; the others link through
// advocate's tracking redirect built from ActionID.
type Button struct {
	ActionID string `json:"action_id"`
	Label    string `json:"label"`
	URL      string `json:"url,omitempty"`
	Style    string `json:"style,omitempty"` // "primary", "danger" or ""
	Staff    bool   `json:"staff,omitempty"` // a staff-only control
}
