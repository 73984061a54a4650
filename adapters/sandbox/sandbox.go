// Package sandbox is advocate's local web sandbox: a simulated chat community
// served over HTTP, so anyone can play the whole support-to-advocacy flow in a
// browser with no Slack or Discord tokens.
//
// The sandbox is a bot.Adapter like the real ones. It plays the platform: it
// keeps channels and messages (with buttons, edits, deletions and thread
// replies) in an append-only JSON lines file, turns what personas do in the page
// into bot events, and delivers what the core sends. Nothing in package bot
// knows it exists.
//
// Channels: #support (the watched public channel), #showcase (where
// testimonials go), #staff (staff only: a thread per case, and alerts), and
// one private channel "case-<id>" per case, shared by the case's customer and
// every staff persona. A case has two sides, like on Slack: the customer's
// channel, and its thread in #staff with the staff intro, the controls, the
// customer's messages relayed and the notes. Visibility is enforced by the
// server.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/advocate-bot/advocate/bot"
)

// Channel names of the simulated community.
const (
	SupportChannel  = "support"  // the watched public channel
	ShowcaseChannel = "showcase" // where testimonials are posted
	StaffChannel    = "staff"    // staff only: alerts and nudges
)

// Limits that keep one persona from filling the sandbox.
const (
	maxText     = 4000  // characters a persona may type in one message or field
	maxBotText  = 40000 // characters of one bot message (Slack's limit)
	maxButtons  = 25    // buttons on one message
	maxName     = 40    // characters of a persona name
	maxViews    = 256   // open modals kept for submission
	maxChannel  = 500   // most recent top-level messages shown per channel
	botAuthorID = "advocate"
)

// Channel kinds decide who sees a channel.
const (
	kindPublic = "public"
	kindStaff  = "staff"
	kindCase   = "case"
)

// Options are what a Sandbox needs.
type Options struct {
	// Customers and Staff are the persona names the page offers. Each needs at
	// least one name; names must give distinct IDs ("Ada" is "c-ada", "Sam" is
	// "s-sam").
	Customers []string
	Staff     []string
	// Path is the JSON lines file where the simulated platform keeps its own
	// history, replayed at New; empty keeps it in memory only.
	Path string
	// DashboardURL, when set, is linked from the page: an http(s) URL or an
	// absolute path such as "/dashboard/".
	DashboardURL string
	Logger       *slog.Logger
	// Now is the clock of message times and IDs; time.Now when nil.
	Now func() time.Time
}

// persona is someone the page can act as.
type persona struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Staff bool   `json:"staff"`
}

func (p persona) person() bot.Person {
	return bot.Person{Platform: bot.Sandbox, ID: p.ID, Name: p.Name}
}

// Sandbox is the simulated platform: a bot.Adapter and the http.Handler of its
// page. It is safe for concurrent use.
type Sandbox struct {
	log       *slog.Logger
	path      string
	dashboard string
	now       func() time.Time
	personas  []persona
	byID      map[string]persona
	boot      string // random per process, so event IDs never repeat across restarts

	mu       sync.Mutex
	channels map[string]*channel
	order    []string // channel names in creation order
	posts    map[string]*post
	lastID   int64
	nonces   map[string]bot.Ref // this process's sends, so a retried send does not post twice
	version  int64
	views    map[string]*view
	viewSeq  []string // view IDs, oldest first
	subs     map[*subscriber]struct{}
	evSeq    int64
	h        bot.Handler
	stop     chan struct{} // closed by CloseStreams, ending event streams
}

var (
	_ bot.Adapter     = (*Sandbox)(nil)
	_ bot.CheckModals = (*Sandbox)(nil)
)

// New replays the history at opts.Path and returns a Sandbox. Mount Handler and
// start Run to use it.
func New(opts Options) (*Sandbox, error) {
	s := &Sandbox{
		log:      opts.Logger,
		path:     opts.Path,
		now:      opts.Now,
		byID:     map[string]persona{},
		channels: map[string]*channel{},
		posts:    map[string]*post{},
		nonces:   map[string]bot.Ref{},
		views:    map[string]*view{},
		subs:     map[*subscriber]struct{}{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "sandbox")
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.addPersonas(opts.Customers, opts.Staff); err != nil {
		return nil, err
	}
	if opts.DashboardURL != "" {
		if !validDashboardURL(opts.DashboardURL) {
			return nil, errors.New("sandbox: dashboard URL must be an http(s) URL or an absolute path")
		}
		s.dashboard = opts.DashboardURL
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("sandbox: boot ID: %w", err)
	}
	s.boot = hex.EncodeToString(b[:])
	for _, name := range []string{SupportChannel, ShowcaseChannel, StaffChannel} {
		kind := kindPublic
		if name == StaffChannel {
			kind = kindStaff
		}
		s.addChannel(&channel{Name: name, Kind: kind})
	}
	if err := s.replay(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Sandbox) addPersonas(customers, staff []string) error {
	if len(customers) == 0 || len(staff) == 0 {
		return errors.New("sandbox: at least one customer and one staff persona are needed")
	}
	for _, group := range []struct {
		prefix string
		names  []string
		staff  bool
	}{{"c-", customers, false}, {"s-", staff, true}} {
		for _, name := range group.names {
			name = strings.TrimSpace(name)
			slug := slugify(name)
			switch {
			case slug == "":
				return fmt.Errorf("sandbox: persona name %q has no letter or digit", name)
			case len([]rune(name)) > maxName:
				return fmt.Errorf("sandbox: persona name %q is longer than %d characters", name, maxName)
			}
			p := persona{ID: group.prefix + slug, Name: name, Staff: group.staff}
			if _, dup := s.byID[p.ID]; dup {
				return fmt.Errorf("sandbox: persona %q: another persona has the ID %s", name, p.ID)
			}
			s.byID[p.ID] = p
			s.personas = append(s.personas, p)
		}
	}
	return nil
}

// slugify lowercases name and joins its runs of letters and digits with "-".
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

func validDashboardURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	if u.Scheme == "" && u.Host == "" {
		return strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//")
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// StaffIDs lists the staff personas' user IDs, for the core's staff
// configuration of the sandbox platform.
func (s *Sandbox) StaffIDs() []string {
	var ids []string
	for _, p := range s.personas {
		if p.Staff {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// Platform names the platform: bot.Sandbox.
func (s *Sandbox) Platform() string { return bot.Sandbox }

// CheckModals reports that the sandbox's modals hold check boxes
// (bot.CheckModals).
func (s *Sandbox) CheckModals() bool { return true }

// Run hands what personas do in the page to h until ctx is done. Until Run is
// called, and after it returns, the page can be read but not acted in.
func (s *Sandbox) Run(ctx context.Context, h bot.Handler) error {
	if h == nil {
		return errors.New("sandbox: run: no handler")
	}
	s.mu.Lock()
	if s.h != nil {
		s.mu.Unlock()
		return errors.New("sandbox: run: already running")
	}
	s.h = h
	s.stop = make(chan struct{})
	s.mu.Unlock()
	s.log.Info("sandbox running", "personas", len(s.personas))
	<-ctx.Done()
	s.mu.Lock()
	s.h = nil
	s.mu.Unlock()
	s.CloseStreams()
	return nil
}

// CloseStreams ends the page's open event streams at once and refuses new
// ones, so an HTTP server shutting down does not wait for open tabs. Run
// calls it when it returns; call it as the server begins to shut down
// (http.Server.RegisterOnShutdown).
func (s *Sandbox) CloseStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		close(s.stop)
		s.stop = nil
	}
}

// handler returns the core's entry point, or nil when not running.
// Connected reports whether the sandbox is running, for readiness checks: its
// pages refuse to play until it is.
func (s *Sandbox) Connected() error {
	if s.handler() == nil {
		return errors.New("the sandbox is not running")
	}
	return nil
}

func (s *Sandbox) handler() bot.Handler {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h
}

// eventID is unique across restarts: the core remembers committed IDs.
func (s *Sandbox) eventID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evSeq++
	return "sandbox-" + s.boot + "-" + strconv.FormatInt(s.evSeq, 10)
}

// OpenPrivate opens the case's two sides, shaped like Slack's: the customer's
// private channel "case-<id>" (which staff can read and write in too) with
// intro posted in it, and a thread in #staff under a message naming the case,
// which only staff read. The private ref names the intro. A retry of the same
// action (its nonce) opens nothing new.
func (s *Sandbox) OpenPrivate(ctx context.Context, c *bot.Case, intro bot.Message) (bot.Ref, bot.Ref, error) {
	if err := ctx.Err(); err != nil {
		return bot.Ref{}, bot.Ref{}, err
	}
	if c == nil || c.ID <= 0 {
		return bot.Ref{}, bot.Ref{}, fmt.Errorf("sandbox: open private: no case: %w", bot.ErrUndeliverable)
	}
	if err := checkBotMessage(intro); err != nil {
		return bot.Ref{}, bot.Ref{}, fmt.Errorf("sandbox: open private for case %d: %w", c.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	private, ok := s.nonces[intro.Nonce]
	if !ok || intro.Nonce == "" {
		var err error
		if private, err = s.openCaseChannelLocked(c, intro); err != nil {
			return bot.Ref{}, bot.Ref{}, err
		}
	}
	rootNonce := ""
	if intro.Nonce != "" {
		rootNonce = intro.Nonce + ".staff"
	}
	root, ok := s.nonces[rootNonce]
	if !ok || rootNonce == "" {
		name := c.Customer.Name
		if name == "" {
			name = c.Customer.ID
		}
		var err error
		root, err = s.postLocked(bot.Ref{Platform: bot.Sandbox, Channel: StaffChannel}, botAuthor(),
			bot.Message{Text: fmt.Sprintf("Case #%d: %s", c.ID, name), Nonce: rootNonce}, false)
		if err != nil {
			return bot.Ref{}, bot.Ref{}, err
		}
		s.changedLocked(StaffChannel)
	}
	staff := bot.Ref{Platform: bot.Sandbox, Channel: StaffChannel, Thread: root.Message}
	return private, staff, nil
}

// openCaseChannelLocked creates "case-<id>" for the customer and posts the
// intro in it. s.mu is held.
func (s *Sandbox) openCaseChannelLocked(c *bot.Case, intro bot.Message) (bot.Ref, error) {
	name := "case-" + strconv.FormatInt(c.ID, 10)
	changed := []string{name}
	if old, ok := s.channels[name]; ok {
		// A channel of the same name from an earlier database: keep it, renamed,
		// so a new case never shows an old conversation.
		to := s.archiveName(name)
		if err := s.write(record{Op: opRename, ID: name, To: to, At: s.now().UTC()}); err != nil {
			return bot.Ref{}, err
		}
		s.rename(old, to)
		changed = append(changed, to)
	}
	ch := &channel{Name: name, Kind: kindCase, Customer: c.Customer.ID, CustomerName: c.Customer.Name, Case: c.ID}
	if ch.CustomerName == "" {
		ch.CustomerName = c.Customer.ID
	}
	if err := s.write(record{Op: opChannel, Channel: ch, At: s.now().UTC()}); err != nil {
		return bot.Ref{}, err
	}
	s.addChannel(ch)
	ref, err := s.postLocked(bot.Ref{Platform: bot.Sandbox, Channel: name}, botAuthor(), intro, false)
	if err != nil {
		return bot.Ref{}, err
	}
	s.changedLocked(changed...)
	return ref, nil
}

func (s *Sandbox) archiveName(name string) string {
	for i := 1; ; i++ {
		to := name + "-old" + strconv.Itoa(i)
		if _, taken := s.channels[to]; !taken {
			return to
		}
	}
}

// Send posts m to a channel, or as a thread reply when to.Thread is set.
// bot.StaffChannel is #staff and bot.ShowcaseChannel is #showcase.
func (s *Sandbox) Send(ctx context.Context, to bot.Ref, m bot.Message) (bot.Ref, error) {
	if err := ctx.Err(); err != nil {
		return bot.Ref{}, err
	}
	if err := checkBotMessage(m); err != nil {
		return bot.Ref{}, fmt.Errorf("sandbox: send: %w", err)
	}
	to.Channel = namedChannel(to.Channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref, ok := s.nonces[m.Nonce]; ok && m.Nonce != "" {
		return ref, nil
	}
	ref, err := s.postLocked(to, botAuthor(), m, false)
	if err != nil {
		return bot.Ref{}, err
	}
	s.changedLocked(ref.Channel)
	return ref, nil
}

// Update replaces a message the bot posted.
func (s *Sandbox) Update(ctx context.Context, msg bot.Ref, m bot.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkBotMessage(m); err != nil {
		return fmt.Errorf("sandbox: update: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.botPost(msg)
	if err != nil {
		return fmt.Errorf("sandbox: update: %w", err)
	}
	if p.Deleted {
		return fmt.Errorf("sandbox: update: message %s was deleted: %w", msg.Message, bot.ErrUndeliverable)
	}
	edit := bot.Message{Text: m.Text, Buttons: m.Buttons}
	if err := s.write(record{Op: opEdit, ID: p.ID, Msg: &edit, At: s.now().UTC()}); err != nil {
		return err
	}
	p.edit(edit)
	s.changedLocked(p.Channel)
	return nil
}

// Delete removes a message, the bot's or a persona's (as a bot allowed to
// manage messages can); deleting it twice is not an error.
func (s *Sandbox) Delete(ctx context.Context, msg bot.Ref) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.findPost(msg)
	if err != nil {
		return fmt.Errorf("sandbox: delete: %w", err)
	}
	if p.Deleted {
		return nil
	}
	if err := s.write(record{Op: opDelete, ID: p.ID, At: s.now().UTC()}); err != nil {
		return err
	}
	p.Deleted = true
	s.changedLocked(p.Channel)
	return nil
}

// findPost finds a live or deleted message by ref.
func (s *Sandbox) findPost(ref bot.Ref) (*post, error) {
	p, ok := s.posts[ref.Message]
	if !ok || ref.Message == "" {
		return nil, fmt.Errorf("no message %q: %w", ref.Message, bot.ErrUndeliverable)
	}
	if ch := namedChannel(ref.Channel); ch != "" && ch != p.Channel {
		return nil, fmt.Errorf("message %s is not in channel %s: %w", ref.Message, ch, bot.ErrUndeliverable)
	}
	return p, nil
}

// botPost finds a live or deleted bot message by ref.
func (s *Sandbox) botPost(ref bot.Ref) (*post, error) {
	p, err := s.findPost(ref)
	if err != nil {
		return nil, err
	}
	if !p.Author.Bot {
		return nil, fmt.Errorf("message %s is not the bot's: %w", ref.Message, bot.ErrUndeliverable)
	}
	return p, nil
}

// namedChannel resolves the core's named channels.
func namedChannel(name string) string {
	switch name {
	case bot.StaffChannel:
		return StaffChannel
	case bot.ShowcaseChannel:
		return ShowcaseChannel
	}
	return name
}

// checkBotMessage refuses what no platform would post.
func checkBotMessage(m bot.Message) error {
	switch {
	case strings.TrimSpace(m.Text) == "" && len(m.Buttons) == 0:
		return fmt.Errorf("empty message: %w", bot.ErrUndeliverable)
	case len([]rune(m.Text)) > maxBotText:
		return fmt.Errorf("message longer than %d characters: %w", maxBotText, bot.ErrUndeliverable)
	case len(m.Buttons) > maxButtons:
		return fmt.Errorf("more than %d buttons: %w", maxButtons, bot.ErrUndeliverable)
	}
	for _, b := range m.Buttons {
		if b.ActionID == "" || b.Label == "" {
			return fmt.Errorf("a button without an action ID or label: %w", bot.ErrUndeliverable)
		}
	}
	return nil
}

func botAuthor() author { return author{ID: botAuthorID, Name: "advocate", Bot: true} }
