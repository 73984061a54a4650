package bottest

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/internal/testkit"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// Clock is a controllable clock shared by the core and the store.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a fake clock that reads t until moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Harness is the real core on a real SQLite file and a fake platform.
type Harness struct {
	T        testing.TB
	Clock    *Clock
	Platform *Platform
	Core     *bot.Core
	Store    *sqlite.DB
	Config   bot.Config
	// Logs holds everything the core logged, to check that no text leaks.
	Logs *testkit.LogBuffer
	path string
	seq  *int // shared with the harness's other platforms (On)
}

// Option changes a harness before it starts.
type Option func(*Harness)

// DMs makes the platform Slack-like: the customer's side of a case is a direct
// conversation with the bot, which staff cannot read.
func DMs() Option {
	return func(h *Harness) { h.Platform = NewPlatform(bot.Slack, true) }
}

// TextModals makes the platform's modals hold text inputs only, as
// Discord's do: the core asks yes-or-no questions with buttons instead.
func TextModals() Option {
	return func(h *Harness) { h.Platform.textModals = true }
}

// Configure edits the core's configuration.
func Configure(fn func(*bot.Config)) Option {
	return func(h *Harness) { fn(&h.Config) }
}

// Config is the harness's default: staff members "staff1" (Sam) and "staff2"
// (Lee), message text kept, a community post, an X post and a review link,
// and the testimonial wall on.
func Config() bot.Config {
	cfg := bot.DefaultConfig()
	cfg.Brand = "Acme"
	cfg.Secret = "test-secret-0123456789abcdef"
	cfg.KeepText = true
	cfg.Wall.Enabled = true
	ids := bot.StaffIDs{Users: []string{"staff1", "staff2"}, Roles: []string{"role-staff"}}
	for _, p := range []string{bot.Slack, bot.Discord, bot.Sandbox} {
		cfg.Staff.Set(p, ids)
	}
	cfg.Share.Targets = []bot.ShareTarget{
		{Name: "showcase", Kind: bot.TargetCommunityPost, Label: "Post in #showcase", Text: "{{.Brand}} support sorted me out quickly."},
		{Name: "x", Kind: bot.TargetXPost, Label: "Post on X", Text: "Great help from {{.Brand}} support!"},
		{Name: "trustpilot", Kind: bot.TargetReviewLink, Label: "Review us on Trustpilot", URL: "https://www.trustpilot.com/evaluate/example.com"},
	}
	return cfg
}

// New starts a harness; it is closed when the test ends.
func New(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	h := &Harness{
		T:        t,
		Clock:    &Clock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)},
		Platform: NewPlatform(bot.Sandbox, false),
		Config:   Config(),
		Logs:     &testkit.LogBuffer{},
		path:     filepath.Join(t.TempDir(), "advocate.db"),
		seq:      new(int),
	}
	for _, o := range opts {
		o(h)
	}
	h.start()
	t.Cleanup(func() { _ = h.Store.Close() })
	return h
}

func (h *Harness) start() {
	h.T.Helper()
	log := slog.New(slog.NewTextHandler(h.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db, err := sqlite.Open(context.Background(), h.path, sqlite.Options{Now: h.Clock.Now, Logger: log})
	if err != nil {
		h.T.Fatalf("open store: %v", err)
	}
	core, err := bot.New(bot.Options{Store: db, Config: h.Config, Logger: log, Now: h.Clock.Now})
	if err != nil {
		h.T.Fatalf("new core: %v", err)
	}
	h.Platform.SetStaff(h.Config.Staff.Of(h.Platform.Platform()).Users...)
	core.Register(h.Platform)
	h.Store, h.Core = db, core
}

// Restart closes the store and starts a new core on the same file, as a process
// restart would; the platform keeps its messages.
func (h *Harness) Restart() {
	h.T.Helper()
	if err := h.Store.Close(); err != nil {
		h.T.Fatalf("close store: %v", err)
	}
	h.start()
}

// On adds a second fake platform (with dms, Slack-like) to the same core and
// store, and returns a harness that acts on it: its Ask, Say, Click, Person
// and Messages are that platform's, everything else is shared. It is how a
// test plays one person on Slack and on Discord. Take it again after a
// Restart.
func (h *Harness) On(platform string, dms bool) *Harness {
	h.T.Helper()
	other := *h
	other.Platform = NewPlatform(platform, dms)
	other.Platform.SetStaff(h.Config.Staff.Of(platform).Users...)
	h.Core.Register(other.Platform)
	return &other
}

// Command runs a slash command as who in the public support channel and
// returns the answer only who sees.
func (h *Harness) Command(who bot.Person, command, text string) bot.Reply {
	h.T.Helper()
	return h.Handle(bot.Event{Kind: bot.EventCommand, Command: command, Author: who, Text: text,
		Where: bot.Ref{Platform: h.Platform.Platform(), Channel: supportChannel}})
}

// Person returns a person on the harness's platform.
func (h *Harness) Person(id, name string) bot.Person {
	return bot.Person{Platform: h.Platform.Platform(), ID: id, Name: name}
}

// Staff is the configured staff member.
func (h *Harness) Staff() bot.Person { return h.Person("staff1", "Sam") }

// Handle sends one event through the core and delivers what it queued.
func (h *Harness) Handle(ev bot.Event) bot.Reply {
	h.T.Helper()
	if ev.Where.Platform == "" {
		ev.Where.Platform = h.Platform.Platform()
	}
	if ev.ID == "" {
		*h.seq++
		ev.ID = "ev" + strconv.Itoa(*h.seq)
	}
	r, err := h.Core.Handle(context.Background(), ev)
	if err != nil {
		h.T.Fatalf("handle %s: %v", ev.Kind, err)
	}
	h.Settle()
	return r
}

// Ask posts a question in the public support channel and returns its ref.
func (h *Harness) Ask(who bot.Person, text string) bot.Ref {
	h.T.Helper()
	ref := h.Platform.addUserPost(bot.Ref{Platform: h.Platform.Platform(), Channel: supportChannel}, who.ID, text)
	h.Handle(bot.Event{Kind: bot.EventMessage, Where: ref, Author: who, Text: text, Support: true})
	return ref
}

// Say posts a message in a conversation (channel and optional thread).
func (h *Harness) Say(who bot.Person, where bot.Ref, text string) {
	h.T.Helper()
	where.Platform = h.Platform.Platform()
	ref := h.Platform.addUserPost(where.Conversation(), who.ID, text)
	h.Handle(bot.Event{Kind: bot.EventMessage, Where: ref, Author: who, Text: text, Direct: strings.HasPrefix(where.Channel, "dm-")})
}

// Click presses the button labelled label on post, as who.
func (h *Harness) Click(who bot.Person, post *Post, label string) bot.Reply {
	h.T.Helper()
	if post == nil {
		h.T.Fatalf("click %q: no message", label)
	}
	b := post.Button(label)
	if b == nil {
		h.T.Fatalf("click %q: no such button on %q (buttons: %v)", label, post.Msg.Text, labels(post.Msg.Buttons))
	}
	return h.Handle(bot.Event{Kind: bot.EventAction, Where: post.Ref, Author: who, ActionID: b.ActionID})
}

// Submit submits a modal with the given field values, as who.
func (h *Harness) Submit(who bot.Person, m *bot.Modal, where bot.Ref, fields map[string]string) bot.Reply {
	h.T.Helper()
	if m == nil {
		h.T.Fatalf("submit: no modal was opened")
	}
	return h.Handle(bot.Event{Kind: bot.EventSubmit, Where: where, Author: who, ActionID: m.ActionID, Fields: fields})
}

// Settle delivers the outbox until nothing is due.
func (h *Harness) Settle() {
	h.T.Helper()
	if _, err := h.Core.Deliver(context.Background()); err != nil {
		h.T.Fatalf("deliver: %v", err)
	}
}

// Advance moves the clock, fires due timers and delivers.
func (h *Harness) Advance(d time.Duration) {
	h.T.Helper()
	h.Clock.Advance(d)
	if _, err := h.Core.Tick(context.Background()); err != nil {
		h.T.Fatalf("tick: %v", err)
	}
	h.Settle()
}

// Case loads a case.
func (h *Harness) Case(id int64) *bot.Case {
	h.T.Helper()
	var cs *bot.Case
	h.view(func(tx bot.Tx) (err error) { cs, err = tx.Case(context.Background(), id); return err })
	return cs
}

// Kinds lists a case's funnel event kinds, oldest first.
func (h *Harness) Kinds(id int64) []string {
	h.T.Helper()
	var kinds []string
	h.view(func(tx bot.Tx) error {
		evs, err := tx.CaseEvents(context.Background(), id)
		for _, e := range evs {
			kinds = append(kinds, e.Kind)
		}
		return err
	})
	return kinds
}

// Events lists a case's funnel events of one kind.
func (h *Harness) Events(id int64, kind string) []bot.CaseEvent {
	h.T.Helper()
	var out []bot.CaseEvent
	h.view(func(tx bot.Tx) error {
		evs, err := tx.CaseEvents(context.Background(), id)
		for _, e := range evs {
			if e.Kind == kind {
				out = append(out, e)
			}
		}
		return err
	})
	return out
}

// Offers lists a case's offers.
func (h *Harness) Offers(id int64) []*bot.Offer {
	h.T.Helper()
	var out []*bot.Offer
	h.view(func(tx bot.Tx) (err error) { out, err = tx.Offers(context.Background(), id); return err })
	return out
}

func (h *Harness) view(fn func(bot.Tx) error) {
	h.T.Helper()
	if err := h.Store.View(context.Background(), fn); err != nil {
		h.T.Fatalf("view: %v", err)
	}
}

// Messages lists the live posts in a channel.
func (h *Harness) Messages(channel string) []*Post { return h.Platform.Messages(channel) }

// Last is the newest live post in a channel, or nil.
func (h *Harness) Last(channel string) *Post {
	ms := h.Platform.Messages(channel)
	if len(ms) == 0 {
		return nil
	}
	return ms[len(ms)-1]
}

// Find is the newest live post in a channel whose text contains s, or nil.
func (h *Harness) Find(channel, s string) *Post {
	ms := h.Platform.Messages(channel)
	for i := len(ms) - 1; i >= 0; i-- {
		if strings.Contains(ms[i].Msg.Text, s) {
			return ms[i]
		}
	}
	return nil
}

// WithButton is the newest live post in a channel with a button labelled label.
func (h *Harness) WithButton(channel, label string) *Post {
	ms := h.Platform.Messages(channel)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Button(label) != nil {
			return ms[i]
		}
	}
	return nil
}

// WithButtonIn is the newest live post in a conversation (a channel, or a
// thread when where.Thread is set) with a button labelled label.
func (h *Harness) WithButtonIn(where bot.Ref, label string) *Post {
	ms := h.Platform.Messages(where.Channel)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Ref.Thread == where.Thread && ms[i].Button(label) != nil {
			return ms[i]
		}
	}
	return nil
}

// HasKinds reports whether want occur in got in order (not necessarily adjacent).
func HasKinds(got []string, want ...string) bool {
	i := 0
	for _, k := range got {
		if i < len(want) && k == want[i] {
			i++
		}
	}
	return i == len(want)
}

// Count counts occurrences of kind.
func Count(kinds []string, kind string) int {
	n := 0
	for _, k := range kinds {
		if k == kind {
			n++
		}
	}
	return n
}

func labels(bs []bot.Button) []string {
	out := make([]string, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.Label)
	}
	return slices.Clip(out)
}

// Path is the SQLite file the harness uses.
func (h *Harness) Path() string { return h.path }
