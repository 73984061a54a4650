// Package bottest runs the real core on a real SQLite store with a scripted fake
// platform, so conversation tests read like a chat: a customer says, staff click,
// expect a message.
package bottest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/advocate-bot/advocate/bot"
)

// Post is a message on the fake platform.
type Post struct {
	Ref     bot.Ref
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

// Platform is a fake platform adapter. OneSided platforms (like Discord threads
// and the sandbox) put customer and staff in one private conversation; two-sided
// ones (like Slack) use a DM for the customer and a thread in the staff channel.
type Platform struct {
	name     string
	twoSided bool

	mu        sync.Mutex
	posts     []*Post
	next      int
	closedDMs map[string]bool
	failures  []error
	nonces    map[string]bot.Ref
	calls     int
}

var _ bot.Adapter = (*Platform)(nil)

// NewPlatform returns an empty fake platform.
func NewPlatform(name string, twoSided bool) *Platform {
	return &Platform{name: name, twoSided: twoSided, closedDMs: map[string]bool{}, nonces: map[string]bot.Ref{}}
}

// Platform names the platform.
func (p *Platform) Platform() string { return p.name }

// Run does nothing: events are injected by the harness.
func (p *Platform) Run(ctx context.Context, _ bot.Handler) error {
	<-ctx.Done()
	return nil
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

// OpenPrivate opens the case's private conversation and posts the intro.
func (p *Platform) OpenPrivate(_ context.Context, c *bot.Case, intro bot.Message) (bot.Ref, bot.Ref, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.fail(); err != nil {
		return bot.Ref{}, bot.Ref{}, err
	}
	if !p.twoSided {
		ch := bot.Ref{Platform: p.name, Channel: "case-" + strconv.FormatInt(c.ID, 10)}
		p.post(ch, intro)
		return ch, ch, nil
	}
	if p.closedDMs[c.Customer.ID] {
		return bot.Ref{}, bot.Ref{}, fmt.Errorf("dm %s closed: %w", c.Customer.ID, bot.ErrUndeliverable)
	}
	root := p.post(bot.Ref{Platform: p.name, Channel: "staff"}, bot.Message{Text: fmt.Sprintf("Case #%d", c.ID)})
	staff := bot.Ref{Platform: p.name, Channel: "staff", Thread: root.Message}
	dm := bot.Ref{Platform: p.name, Channel: "dm-" + c.Customer.ID}
	p.post(dm, intro)
	return dm, staff, nil
}

// Send posts m; named channels map to "staff" and "showcase".
func (p *Platform) Send(_ context.Context, to bot.Ref, m bot.Message) (bot.Ref, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.fail(); err != nil {
		return bot.Ref{}, err
	}
	switch to.Channel {
	case bot.StaffChannel:
		to.Channel = "staff"
	case bot.ShowcaseChannel:
		to.Channel = "showcase"
	}
	if id, ok := strings.CutPrefix(to.Channel, "dm-"); ok && p.closedDMs[id] {
		return bot.Ref{}, fmt.Errorf("dm %s closed: %w", id, bot.ErrUndeliverable)
	}
	if ref, ok := p.nonces[m.Nonce]; ok && m.Nonce != "" {
		return ref, nil // like Discord's enforce_nonce: a retry does not post twice
	}
	ref := p.post(to, m)
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

// Delete removes a message.
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

func (p *Platform) post(to bot.Ref, m bot.Message) bot.Ref {
	p.next++
	ref := to
	ref.Platform = p.name
	ref.Message = "m" + strconv.Itoa(p.next)
	p.posts = append(p.posts, &Post{Ref: ref, Msg: m})
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
func (p *Platform) addUserPost(to bot.Ref, text string) bot.Ref {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.post(to, bot.Message{Text: text})
}

// Messages lists the live posts in a channel (any thread), oldest first.
func (p *Platform) Messages(channel string) []*Post {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*Post
	for _, post := range p.posts {
		if post.Ref.Channel == channel && !post.Deleted {
			out = append(out, post)
		}
	}
	return out
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
