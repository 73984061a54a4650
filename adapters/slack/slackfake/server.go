package slackfake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/internal/faults"
)

// Config sets up a Server. The zero value of every field selects the default given
// in its comment, so tests only set what they care about.
type Config struct {
	// BotToken is the bot token (xoxb-…) Web API methods accept.
	BotToken string
	// AppToken is the app-level token (xapp-…) apps.connections.open accepts.
	AppToken string
	// SigningSecret signs HTTP deliveries (X-Slack-Signature).
	SigningSecret string
	// VerificationToken is the deprecated token carried inside payloads.
	VerificationToken string

	// TeamID, TeamDomain and TeamName describe the workspace.
	TeamID, TeamDomain, TeamName string
	// AppID is the app's ID (A…).
	AppID string
	// BotUserID, BotID and BotName describe the app's bot user (U…, B…).
	BotUserID, BotID, BotName string

	// AckTimeout is how long an envelope may stay unacknowledged before Slack
	// gives up on that delivery (3 s). Events API envelopes are then redelivered.
	AckTimeout time.Duration
	// MaxEventRetries is how many times an unacknowledged events_api envelope is
	// redelivered (3). A negative value disables redelivery.
	MaxEventRetries int
	// PingInterval is how often each socket gets a WebSocket PING frame (5 s). It
	// must be shorter than the client's socketmode.OptionPingInterval.
	PingInterval time.Duration
	// TriggerTTL is how long a trigger_id can be exchanged (3 s).
	TriggerTTL time.Duration
	// ResponseURLTTL is how long a response_url accepts posts (30 min).
	ResponseURLTTL time.Duration
	// ResponseURLUses is how many posts a response_url accepts (5).
	ResponseURLUses int

	// DeliveryTimeout is how long an HTTP delivery waits for a 2xx (3 s).
	DeliveryTimeout time.Duration
	// RetrySchedule holds the delays before each retry of an Events API HTTP
	// delivery (nil: Slack's at once, 1 min, 5 min; empty: no retries). Set
	// short delays in tests.
	RetrySchedule []time.Duration

	// PostPacing, when positive, enforces at most one chat.postMessage per
	// channel per PostPacing (Slack allows about one per second); faster posts
	// get a 429.
	PostPacing time.Duration
	// HistoryInterval, when positive, allows one conversations.history and one
	// conversations.replies call per HistoryInterval (each method on its own),
	// as Slack does for commercially distributed apps outside the Marketplace
	// since 2025 (one a minute); a faster call gets a 429 with Retry-After.
	HistoryInterval time.Duration
	// HistoryLimit, when positive, is the default and the largest page of
	// conversations.history and conversations.replies (15 for those apps);
	// the rest of a longer answer follows with response_metadata.next_cursor.
	HistoryLimit int
	// NoBotEcho stops the server from sending the bot's own posts back as
	// message events. Slack sends them, so adapters must ignore them.
	NoBotEcho bool

	// Now is the clock for ts values, trigger and response_url expiry, request
	// timestamps and pacing (time.Now). Ack deadlines and pings use real timers.
	Now func() time.Time
	// Logger receives connection-level debug logs (discarded when nil).
	Logger *slog.Logger
}

// Option adjusts the Config of a Server before it starts.
type Option func(*Config)

// WithTokens sets the bot and app-level tokens.
func WithTokens(bot, app string) Option {
	return func(c *Config) { c.BotToken, c.AppToken = bot, app }
}

// WithSigningSecret sets the secret HTTP deliveries are signed with.
func WithSigningSecret(secret string) Option {
	return func(c *Config) { c.SigningSecret = secret }
}

// WithAckTimeout shortens the acknowledgement deadline so redelivery tests are fast.
func WithAckTimeout(d time.Duration) Option {
	return func(c *Config) { c.AckTimeout = d }
}

// WithPingInterval sets how often sockets are pinged.
func WithPingInterval(d time.Duration) Option {
	return func(c *Config) { c.PingInterval = d }
}

// WithTriggerTTL sets how long trigger IDs stay valid.
func WithTriggerTTL(d time.Duration) Option {
	return func(c *Config) { c.TriggerTTL = d }
}

// WithDelivery sets the HTTP delivery timeout and the delays before each retry;
// giving no delays means no retries.
func WithDelivery(timeout time.Duration, retries ...time.Duration) Option {
	return func(c *Config) {
		c.DeliveryTimeout, c.RetrySchedule = timeout, append([]time.Duration{}, retries...)
	}
}

// WithPostPacing enforces one chat.postMessage per channel per interval.
func WithPostPacing(interval time.Duration) Option {
	return func(c *Config) { c.PostPacing = interval }
}

// WithHistoryLimit limits conversations.history and conversations.replies
// to one call per interval each and pages of at most limit messages, as Slack
// limits non-Marketplace apps (one a minute, 15 messages).
func WithHistoryLimit(interval time.Duration, limit int) Option {
	return func(c *Config) { c.HistoryInterval, c.HistoryLimit = interval, limit }
}

// WithClock replaces the server's clock (see Config.Now).
func WithClock(now func() time.Time) Option {
	return func(c *Config) { c.Now = now }
}

// WithConfig replaces the whole Config; later options still apply on top.
func WithConfig(cfg Config) Option {
	return func(c *Config) { *c = cfg }
}

func (c *Config) setDefaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	defd := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&c.BotToken, "xoxb-1000000001-2000000002-fakebottoken00000001")
	def(&c.AppToken, "xapp-1-A0FAKEAPP01-3000000003-fakeapptoken00000001")
	def(&c.SigningSecret, "8f742231b10e8888abcd99yyyzzz85a5")
	def(&c.VerificationToken, "fakeVerificationToken000")
	def(&c.TeamID, "T0FAKETEAM1")
	def(&c.TeamDomain, "advocate-fake")
	def(&c.TeamName, "Advocate Fake")
	def(&c.AppID, "A0FAKEAPP01")
	def(&c.BotUserID, "U0FAKEBOT01")
	def(&c.BotID, "B0FAKEBOT01")
	def(&c.BotName, "advocate")
	defd(&c.AckTimeout, 3*time.Second)
	defd(&c.PingInterval, 5*time.Second)
	defd(&c.TriggerTTL, 3*time.Second)
	defd(&c.ResponseURLTTL, 30*time.Minute)
	defd(&c.DeliveryTimeout, 3*time.Second)
	if c.MaxEventRetries == 0 {
		c.MaxEventRetries = 3
	}
	if c.MaxEventRetries < 0 {
		c.MaxEventRetries = 0
	}
	if c.ResponseURLUses <= 0 {
		c.ResponseURLUses = 5
	}
	if c.RetrySchedule == nil {
		c.RetrySchedule = []time.Duration{0, time.Minute, 5 * time.Minute}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// User is a workspace member as users.info reports it.
type User struct {
	ID       string
	Name     string // the handle, e.g. "ada"
	RealName string
	IsBot    bool
	Deleted  bool
}

// Message is one stored message of a channel's history.
type Message struct {
	Channel string
	TS      string
	// ThreadTS is the parent's ts for a thread reply and empty for a top-level
	// message (Slack also sets it on parents that have replies; Thread finds those).
	ThreadTS string
	// User is the author's user ID; for the bot's posts it is the bot user ID.
	User string
	// BotID is set on messages the app posted.
	BotID string
	Text  string
	// Blocks is the stored blocks array as Slack keeps it: generated block_id and
	// action_id filled in. Nil when the message has no blocks.
	Blocks         json.RawMessage
	ReplyBroadcast bool
	// Edits counts chat.update calls and replace_original responses applied.
	Edits int
	// Metadata is the message metadata the app posted it with
	// ({"event_type": …, "event_payload": {…}}), or nil.
	Metadata json.RawMessage
}

// Ephemeral is a message only one user sees.
type Ephemeral struct {
	Channel  string
	User     string // the only user who sees it
	TS       string // the message_ts Slack returned
	ThreadTS string
	Text     string
	Blocks   json.RawMessage
	// Source says how it was posted: "chat.postEphemeral", "response_url", or
	// "ack" for a slash command's immediate response (the Socket Mode ack payload
	// or the HTTP response body).
	Source string
}

type channel struct {
	id, name string
	public   bool
	members  map[string]bool // who sees a private channel, besides the bot
	im       bool
	user     string // the other member of a DM
	created  int64
	messages []*Message
	ephem    []*Ephemeral
	lastPost time.Time
}

// Server is a running fake Slack. Create it with New; all methods are safe for
// concurrent use.
//
// Its Script scripts Web API faults by method ("chat.postMessage"):
// RateLimit, Fail, LoseResponse and Hold, the vocabulary discordfake shares.
type Server struct {
	*faults.Script

	cfg  Config
	srv  *httptest.Server
	log  *slog.Logger
	done chan struct{}
	wg   sync.WaitGroup

	mu         sync.Mutex
	closed     bool
	changed    chan struct{}
	lastTS     int64
	seq        int
	users      map[string]*User
	channels   map[string]*channel
	dms        map[string]string // user ID → DM channel ID
	dmFail     map[string]string
	postFail   map[string]string
	usergroups map[string][]string
	views      []*View
	triggers   map[string]*trigger
	responses  map[string]*responseURL
	posts      []ResponsePost
	effects    []Effect
	httpBase   string // DeliverOverHTTP's app address; "" in Socket Mode
	calls      map[string]int
	limits     rateLimits
	socket     socketState
}

// New starts a Server on 127.0.0.1 and stops it when the test ends. tb may be nil,
// in which case the caller must call Close.
func New(tb testing.TB, opts ...Option) *Server {
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	cfg.setDefaults()
	s := &Server{
		Script: faults.NewScript(func(method string) bool {
			_, ok := methods()[method]
			return ok
		}),
		cfg:        cfg,
		log:        cfg.Logger.With("component", "slackfake"),
		done:       make(chan struct{}),
		changed:    make(chan struct{}),
		users:      map[string]*User{},
		channels:   map[string]*channel{},
		dms:        map[string]string{},
		dmFail:     map[string]string{},
		postFail:   map[string]string{},
		usergroups: map[string][]string{},
		triggers:   map[string]*trigger{},
		responses:  map[string]*responseURL{},
		calls:      map[string]int{},
		limits:     newRateLimits(cfg.PostPacing),
		socket:     newSocketState(),
	}
	s.users[cfg.BotUserID] = &User{ID: cfg.BotUserID, Name: cfg.BotName, RealName: cfg.BotName, IsBot: true}

	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/link/", s.handleLink)
	mux.HandleFunc("/actions/", s.handleResponseURL)
	mux.HandleFunc("/commands/", s.handleResponseURL)
	s.srv = httptest.NewServer(mux)

	s.wg.Add(1)
	go s.dispatch()
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// Close disconnects every socket and stops the server. It is safe to call twice.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := append([]*wsConn(nil), s.socket.conns...)
	s.mu.Unlock()
	s.Script.Close()
	close(s.done)
	for _, c := range conns {
		c.close()
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.wg.Wait()
}

// URL is the server's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the Web API base with its trailing slash, for slack.OptionAPIURL.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// Config returns the effective configuration, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// BotToken returns the bot token the server accepts.
func (s *Server) BotToken() string { return s.cfg.BotToken }

// AppToken returns the app-level token the server accepts.
func (s *Server) AppToken() string { return s.cfg.AppToken }

// SigningSecret returns the secret HTTP deliveries are signed with.
func (s *Server) SigningSecret() string { return s.cfg.SigningSecret }

// BotUserID returns the bot's user ID (what auth.test reports as user_id).
func (s *Server) BotUserID() string { return s.cfg.BotUserID }

// BotID returns the bot's bot ID (B…), set on every message the app posts.
func (s *Server) BotID() string { return s.cfg.BotID }

// TeamID returns the workspace ID.
func (s *Server) TeamID() string { return s.cfg.TeamID }

// AppID returns the app ID.
func (s *Server) AppID() string { return s.cfg.AppID }

// AddUser adds a member with a handle; the real name is the handle until PutUser
// says otherwise.
func (s *Server) AddUser(id, name string) {
	s.PutUser(User{ID: id, Name: name, RealName: name})
}

// PutUser adds or replaces a member.
func (s *Server) PutUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = &u
	s.notifyLocked()
}

// AddChannel creates a public or private channel the bot is a member of. Adding an
// existing ID renames it and keeps its history. People see a private channel
// only once they are added to it (AddMembers).
func (s *Server) AddChannel(id, name string, public bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.channels[id]; ok {
		ch.name, ch.public = name, public
		return
	}
	s.channels[id] = &channel{id: id, name: name, public: public, created: s.cfg.Now().Unix()}
	s.notifyLocked()
}

// AddUserGroup creates a user group (S…) for usergroups.users.list.
func (s *Server) AddUserGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usergroups[id] = append([]string(nil), members...)
}

// DMChannel returns the ID of the DM channel between the bot and userID, the one
// conversations.open returns for that user, whether or not it is open yet.
func (s *Server) DMChannel(userID string) string {
	if len(userID) > 1 && (userID[0] == 'U' || userID[0] == 'W') {
		return "D" + userID[1:]
	}
	return "D" + userID
}

// FailDM makes conversations.open for userID fail with errCode (for example
// "cannot_dm_bot" or "user_disabled"); an empty code clears it.
func (s *Server) FailDM(userID, errCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	setOrDelete(s.dmFail, userID, errCode)
}

// FailPosts makes chat.postMessage into channelID fail with errCode (for example
// "is_archived", "not_in_channel", or "messages_tab_disabled" for a DM channel);
// an empty code clears it.
func (s *Server) FailPosts(channelID, errCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	setOrDelete(s.postFail, channelID, errCode)
}

func setOrDelete(m map[string]string, k, v string) {
	if v == "" {
		delete(m, k)
		return
	}
	m[k] = v
}

// Messages returns a copy of every message in the channel, top-level and thread
// replies, in posting order. Deleted messages are gone.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil {
		return nil
	}
	out := make([]Message, 0, len(ch.messages))
	for _, m := range ch.messages {
		out = append(out, copyMessage(m))
	}
	return out
}

// Thread returns the parent message with ts and its replies in order, or nil when
// there is no such message. A reply's ts finds its whole thread.
func (s *Server) Thread(channelID, ts string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil {
		return nil
	}
	parent := ch.find(ts)
	if parent == nil {
		return nil
	}
	if parent.ThreadTS != "" {
		parent = ch.find(parent.ThreadTS)
		if parent == nil {
			return nil
		}
	}
	out := []Message{copyMessage(parent)}
	for _, m := range ch.messages {
		if m.ThreadTS == parent.TS {
			out = append(out, copyMessage(m))
		}
	}
	return out
}

// Message returns one stored message.
func (s *Server) Message(channelID, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil {
		return Message{}, false
	}
	m := ch.find(ts)
	if m == nil {
		return Message{}, false
	}
	return copyMessage(m), true
}

// Ephemerals returns the ephemeral messages shown in the channel, in order.
func (s *Server) Ephemerals(channelID string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil {
		return nil
	}
	out := make([]Ephemeral, 0, len(ch.ephem))
	for _, e := range ch.ephem {
		c := *e
		c.Blocks = cloneBytes(e.Blocks)
		out = append(out, c)
	}
	return out
}

// Calls returns how many requests reached a Web API method, refused ones included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// WaitUntil blocks until cond returns true or ctx ends. cond is evaluated after
// every change to the server's state (messages, views, acks, connections), so
// tests wait for outcomes instead of sleeping. cond may call Server methods.
func (s *Server) WaitUntil(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("slackfake: condition not met: %w", ctx.Err())
		}
	}
}

// notifyLocked wakes WaitUntil callers; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (ch *channel) find(ts string) *Message {
	for _, m := range ch.messages {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

func (ch *channel) remove(ts string) bool {
	for i, m := range ch.messages {
		if m.TS == ts {
			ch.messages = append(ch.messages[:i], ch.messages[i+1:]...)
			return true
		}
	}
	return false
}

// channelType is the channel_type of message events.
func (ch *channel) channelType() string {
	switch {
	case ch.im:
		return "im"
	case ch.public:
		return "channel"
	default:
		return "group"
	}
}

func copyMessage(m *Message) Message {
	c := *m
	c.Blocks = cloneBytes(m.Blocks)
	c.Metadata = cloneBytes(m.Metadata)
	return c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// nextTSLocked returns a message ts from the clock, strictly increasing.
func (s *Server) nextTSLocked() string {
	us := s.cfg.Now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}

// nextIDLocked returns a Slack-looking ID with the prefix, unique per server.
func (s *Server) nextIDLocked(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%09d", prefix, s.seq)
}

// dmLocked returns the DM channel with userID, creating it.
func (s *Server) dmLocked(userID string) (*channel, bool) {
	id := s.DMChannel(userID)
	if ch, ok := s.channels[id]; ok {
		return ch, true
	}
	ch := &channel{id: id, name: userID, im: true, user: userID, created: s.cfg.Now().Unix()}
	s.channels[id] = ch
	s.dms[userID] = id
	return ch, false
}

// lookupChannelLocked resolves a channel argument: an ID, a #name or name, or a
// user ID (which Slack treats as the DM with that user).
func (s *Server) lookupChannelLocked(arg string) (*channel, string) {
	if arg == "" {
		return nil, "channel_not_found"
	}
	if ch, ok := s.channels[arg]; ok {
		return ch, ""
	}
	if u, ok := s.users[arg]; ok {
		if u.ID == s.cfg.BotUserID || u.IsBot {
			return nil, "channel_not_found"
		}
		ch, _ := s.dmLocked(u.ID)
		return ch, ""
	}
	name := strings.TrimPrefix(arg, "#")
	ids := make([]string, 0, len(s.channels))
	for id := range s.channels {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if ch := s.channels[id]; !ch.im && ch.name == name {
			return ch, ""
		}
	}
	return nil, "channel_not_found"
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("slackfake: crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// randomUUID returns a v4-shaped UUID, the shape of envelope IDs.
func randomUUID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}
