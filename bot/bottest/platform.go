// Package bottest runs the real core on a real SQLite store with a scripted fake
// platform, so conversation tests read like a chat: a customer says, staff click,
// expect a message. It also holds the conversation suite every platform runs
// (see Driver).
package bottest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/advocate-bot/advocate/bot"
)

// Channel names of the fake platform.
const (
	supportChannel  = "support"  // the watched public channel
	staffChannel    = "staff"    // staff only: a thread per case, and alerts
	showcaseChannel = "showcase" // testimonials
)

// Post is a message on the fake platform.
type Post struct {
	Ref     bot.Ref
	Author  string // the person's ID; "" for the bot
	Msg     bot.Message
	Edits   int
	Deleted bool
}

// Button returns the post's button with the given label, or nil.
func (p *Post) Button(label string) *bot.Button {
	for i := range p.Msg.Buttons {
		if p.Msg.Buttons[i].Label == label {
			return &p.Msg.Buttons[i]
		}
	}
	return nil
}

// Platform is a fake platform adapter with two sides to every case, like every
// real one: the customer's side is a private channel "case-<id>" that the
// customer and staff can read (like a Discord private thread or the sandbox),
// or with DMs a direct conversation "dm-<user>" only the customer reads (like
// Slack); the staff side is a thread in #staff, which only staff read.
type Platform struct {
	name string
	dms  bool
	// textModals makes its modals hold text inputs only (like Discord's):
	// the core then asks yes-or-no questions with buttons.
	textModals bool

	mu        sync.Mutex
	posts     []*Post
	next      int
	closedDMs map[string]bool
	failures  []error
	nonces    map[string]bot.Ref
	calls     int
	customers map[string]string // private channel -> its customer's ID
	staff     map[string]bool   // staff IDs, for what they may read
}

var _ bot.Adapter = (*Platform)(nil)

// NewPlatform returns an empty fake platform; with dms the customer's side of
// a case is a direct conversation.
func NewPlatform(name string, dms bool) *Platform {
	return &Platform{name: name, dms: dms, closedDMs: map[string]bool{}, nonces: map[string]bot.Ref{},
		customers: map[string]string{}, staff: map[string]bool{}}
}

// Platform names the platform.
func (p *Platform) Platform() string { return p.name }

// CheckModals reports whether its modals can hold a check box: yes, unless
// made with TextModals.
func (p *Platform) CheckModals() bool { return !p.textModals }

// Run does nothing: events are injected by the harness.
func (p *Platform) Run(ctx context.Context, _ bot.Handler) error {
	<-ctx.Done()
	return nil
}

// SetStaff names the people who may read #staff and every private channel.
func (p *Platform) SetStaff(ids ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		p.staff[id] = true
	}
}

// CloseDMs makes the customer unreachable in private, like a closed DM.
func (p *Platform) CloseDMs(customerID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closedDMs[customerID] = true
}

// FailNext makes the next calls fail with errs, in order.
func (p *Platform) FailNext(errs ...error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = append(p.failures, errs...)
}

// Calls counts delivery calls, failed ones included.
func (p *Platform) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

func (p *Platform) fail() error {
	p.calls++
	if len(p.failures) == 0 {
		return nil
	}
	err := p.failures[0]
	p.failures = p.failures[1:]
	return err
}

// OpenPrivate opens the case's customer side, posts the intro in it, and
// starts the case's thread in #staff. The private ref names the intro.
func (p *Platform) OpenPrivate(_ context.Context, c *bot.Case, intro bot.Message) (bot.Ref, bot.Ref, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.fail(); err != nil {
		return bot.Ref{}, bot.Ref{}, err
	}
	private := bot.Ref{Platform: p.name, Channel: "case-" + strconv.FormatInt(c.ID, 10)}
	if p.dms {
		if p.closedDMs[c.Customer.ID] {
			return bot.Ref{}, bot.Ref{}, fmt.Errorf("dm %s closed: %w", c.Customer.ID, bot.ErrUndeliverable)
		}
		private.Channel = "dm-" + c.Customer.ID
	}
	p.customers[private.Channel] = c.Customer.ID
	root := p.post(bot.Ref{Platform: p.name, Channel: staffChannel}, "", bot.Message{Text: fmt.Sprintf("Case #%d", c.ID)})
	staff := bot.Ref{Platform: p.name, Channel: staffChannel, Thread: root.Message}
	return p.post(private, "", intro), staff, nil
}

// Send posts m; named channels map to #staff and #showcase.
func (p *Platform) Send(_ context.Context, to bot.Ref, m bot.Message) (bot.Ref, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.fail(); err != nil {
		return bot.Ref{}, err
	}
	switch to.Channel {
	case bot.StaffChannel:
		to.Channel = staffChannel
	case bot.ShowcaseChannel:
		to.Channel = showcaseChannel
	}
	if id, ok := strings.CutPrefix(to.Channel, "dm-"); ok && p.closedDMs[id] {
		return bot.Ref{}, fmt.Errorf("dm %s closed: %w", id, bot.ErrUndeliverable)
	}
	if ref, ok := p.nonces[m.Nonce]; ok && m.Nonce != "" {
		return ref, nil // like Discord's enforce_nonce: a retry does not post twice
	}
	ref := p.post(to, "", m)
	p.nonces[m.Nonce] = ref
	return ref, nil
}

// Update replaces a message.
func (p *Platform) Update(_ context.Context, msg bot.Ref, m bot.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.fail(); err != nil {
		return err
	}
	post := p.find(msg)
	if post == nil {
		return fmt.Errorf("message %s: %w", msg.Message, bot.ErrUndeliverable)
	}
	post.Msg = m
	post.Edits++
	return nil
}

// Delete removes a message, the bot's or a person's (like Discord with Manage
// Messages).
func (p *Platform) Delete(_ context.Context, msg bot.Ref) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.fail(); err != nil {
		return err
	}
	post := p.find(msg)
	if post == nil {
		return fmt.Errorf("message %s: %w", msg.Message, bot.ErrUndeliverable)
	}
	post.Deleted = true
	return nil
}

func (p *Platform) post(to bot.Ref, author string, m bot.Message) bot.Ref {
	p.next++
	ref := to
	ref.Platform = p.name
	ref.Message = "m" + strconv.Itoa(p.next)
	p.posts = append(p.posts, &Post{Ref: ref, Author: author, Msg: m})
	return ref
}

func (p *Platform) find(ref bot.Ref) *Post {
	for _, post := range p.posts {
		if post.Ref.Message == ref.Message {
			return post
		}
	}
	return nil
}

// addUserPost records a message a person wrote, for threading.
func (p *Platform) addUserPost(to bot.Ref, author, text string) bot.Ref {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.post(to, author, bot.Message{Text: text})
}

// Messages lists the live posts in a channel (any thread), oldest first.
func (p *Platform) Messages(channel string) []*Post {
	return p.live(func(post *Post) bool { return post.Ref.Channel == channel })
}

// Deleted lists the deleted posts in a channel.
func (p *Platform) Deleted(channel string) []*Post {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*Post
	for _, post := range p.posts {
		if post.Ref.Channel == channel && post.Deleted {
			out = append(out, post)
		}
	}
	return out
}

// Visible lists the live posts person id can read, oldest first: the public
// channels, #staff and every case's channel for staff, and a customer's own
// private conversations.
func (p *Platform) Visible(id string) []*Post {
	p.mu.Lock()
	staff := p.staff[id]
	p.mu.Unlock()
	return p.live(func(post *Post) bool { return p.canRead(id, staff, post.Ref.Channel) })
}

// CanRead reports whether person id can read (and write in) a channel.
func (p *Platform) CanRead(id, channel string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.canRead(id, p.staff[id], channel)
}

func (p *Platform) canRead(id string, staff bool, channel string) bool {
	switch {
	case channel == supportChannel, channel == showcaseChannel:
		return true
	case channel == staffChannel:
		return staff
	case strings.HasPrefix(channel, "dm-"):
		return p.customers[channel] == id || channel == "dm-"+id
	}
	return staff || p.customers[channel] == id
}

func (p *Platform) live(keep func(*Post) bool) []*Post {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*Post
	for _, post := range p.posts {
		if !post.Deleted && keep(post) {
			out = append(out, post)
		}
	}
	return out
}
