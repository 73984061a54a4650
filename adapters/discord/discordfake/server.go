package discordfake

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/advocate-bot/advocate/internal/faults"
)

// discordEpoch is the first millisecond of 2015, the origin of Discord snowflakes.
const discordEpoch = 1420070400000

// Limit is a rate limit: at most Requests requests in each fixed Window.
type Limit struct {
	// Requests is the number of requests allowed per window.
	Requests int
	// Window is the length of the window; it starts with the first request.
	Window time.Duration
}

// Options configure a fake Discord. The zero value is usable: every field has
// a default that matches Discord, except where a test-friendly value is noted.
type Options struct {
	// Token is the bot token without the "Bot " prefix. Default "fake-bot-token".
	Token string
	// BotUserID is the bot's user ID. Default "900000000000000001".
	BotUserID string
	// BotName is the bot's username. Default "advocate".
	BotName string
	// ApplicationID is the application ID. Default BotUserID, as for every
	// application created since 2020.
	ApplicationID string

	// HeartbeatInterval is sent in HELLO. Default 41.25 s, as Discord. discordgo
	// heartbeats once at once and then on this interval, and reconnects when no
	// ACK came for five intervals.
	HeartbeatInterval time.Duration
	// BotPermissions are the permissions of the bot in every guild, as its
	// invite link granted them (Discord's managed bot role). Channel
	// overwrites apply to them. Default: Administrator, which may do anything.
	BotPermissions int64
	// DisallowedIntents are privileged intents the application is not approved
	// for; an IDENTIFY asking for any of them is closed with 4014.
	DisallowedIntents int

	// InteractionDeadline is the time to send the initial interaction response.
	// Default 3 s.
	InteractionDeadline time.Duration
	// InteractionTokenTTL is how long follow-ups and edits of the original
	// response are accepted. Default 15 min.
	InteractionTokenTTL time.Duration
	// NonceWindow is how long a nonce sent with enforce_nonce deduplicates
	// message creation ("a few minutes" per Discord). Default 5 min.
	NonceWindow time.Duration

	// MessageLimit is the per-channel bucket of message creation. Default 5 per
	// second (Discord's is about 5 per 5 s; the shorter window keeps tests fast).
	MessageLimit Limit
	// RouteLimit is the bucket of every other route, per major parameter
	// (channel, guild, interaction, webhook). Default 50 per second.
	RouteLimit Limit
	// GlobalLimit is the global limit on authenticated requests; interaction
	// callbacks and webhooks are exempt, as on Discord. Default 50 per second;
	// a negative Requests disables it.
	GlobalLimit Limit

	// Now is the clock for message timestamps, snowflakes, interaction
	// deadlines, token expiry and the nonce window. Rate limits always use the
	// real clock, because the client sleeps in real time. Default time.Now.
	Now func() time.Time
	// Logf, when set, receives a line for each refused request and each
	// gateway connection event (pass t.Logf).
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.Token == "" {
		o.Token = "fake-bot-token"
	}
	if o.BotUserID == "" {
		o.BotUserID = "900000000000000001"
	}
	if o.BotName == "" {
		o.BotName = "advocate"
	}
	if o.ApplicationID == "" {
		o.ApplicationID = o.BotUserID
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 41250 * time.Millisecond
	}
	if o.InteractionDeadline <= 0 {
		o.InteractionDeadline = 3 * time.Second
	}
	if o.InteractionTokenTTL <= 0 {
		o.InteractionTokenTTL = 15 * time.Minute
	}
	if o.NonceWindow <= 0 {
		o.NonceWindow = 5 * time.Minute
	}
	if o.MessageLimit.Requests <= 0 || o.MessageLimit.Window <= 0 {
		o.MessageLimit = Limit{Requests: 5, Window: time.Second}
	}
	if o.RouteLimit.Requests <= 0 || o.RouteLimit.Window <= 0 {
		o.RouteLimit = Limit{Requests: 50, Window: time.Second}
	}
	if o.GlobalLimit.Requests >= 0 && (o.GlobalLimit.Requests == 0 || o.GlobalLimit.Window <= 0) {
		o.GlobalLimit = Limit{Requests: 50, Window: time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// Server is a running fake Discord. All methods are safe for concurrent use.
//
// Its Script scripts REST faults by route (a Route* constant; RouteGlobal
// rate-limits every bot request globally): RateLimit, Fail, LoseResponse and
// Hold, the vocabulary slackfake shares.
type Server struct {
	*faults.Script

	opts     Options
	ts       *httptest.Server
	base     *url.URL
	wsURL    string
	upgrader websocket.Upgrader
	wg       sync.WaitGroup

	closeOnce sync.Once

	mu      sync.Mutex
	closed  bool
	changed chan struct{}
	lastID  uint64

	users    map[string]*User
	guilds   map[string]*guild
	guildIDs []string
	channels map[string]*channel
	dms      map[string]string // user ID -> DM channel ID
	blocked  map[string]bool   // users who refuse DMs from the bot
	messages map[string]*Message
	nonces   map[string]nonceEntry

	interactions map[string]*interaction
	byToken      map[string]string // interaction token -> interaction ID
	commands     map[string][]*command

	conns    map[*conn]bool
	sessions map[string]*session
	nextConn int

	buckets     map[string]*bucket
	global      bucket
	requests    map[string]int
	limited     map[string]int
	rateLimited int
	invalid     int

	connections int
	identifies  int
	resumes     int
	heartbeats  int
	lastIntents int
	dispatched  map[string]int

	effects       []Effect
	effectCreated map[string]bool // IDs of messages and threads effects made
	ihttp         httpInteractions
}

// New starts a fake Discord on 127.0.0.1. Close it when done (t.Cleanup).
func New(opts Options) *Server {
	s := &Server{
		Script:       faults.NewScript(func(route string) bool { return route == RouteGlobal || knownRoute(route) }),
		opts:         opts.withDefaults(),
		changed:      make(chan struct{}),
		users:        map[string]*User{},
		guilds:       map[string]*guild{},
		channels:     map[string]*channel{},
		dms:          map[string]string{},
		blocked:      map[string]bool{},
		messages:     map[string]*Message{},
		nonces:       map[string]nonceEntry{},
		interactions: map[string]*interaction{},
		byToken:      map[string]string{},
		commands:     map[string][]*command{},
		conns:        map[*conn]bool{},
		sessions:     map[string]*session{},
		buckets:      map[string]*bucket{},
		requests:     map[string]int{},
		limited:      map[string]int{},
		dispatched:   map[string]int{},
	}
	s.upgrader = websocket.Upgrader{
		// Clients dial with whatever Origin they like; Discord does not check it.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	s.users[s.opts.BotUserID] = &User{ID: s.opts.BotUserID, Username: s.opts.BotName, Bot: true}

	mux := http.NewServeMux()
	s.routes(mux)
	mux.HandleFunc("GET /{$}", s.serveGateway)
	s.ts = httptest.NewServer(mux)
	s.base, _ = url.Parse(s.ts.URL)
	s.wsURL = "ws://" + s.base.Host
	return s
}

// Close disconnects every gateway connection and stops the server. Close the
// discordgo session first, or it will try to reconnect to a closed server.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.Script.Close()
		s.mu.Lock()
		s.closed = true
		conns := make([]*conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			c.ws.Close()
		}
		s.ts.Close()
		s.wg.Wait()
	})
}

// URL is the base HTTP URL of the fake (http://127.0.0.1:PORT); the REST API
// lives under URL()+"/api/v9".
func (s *Server) URL() string { return s.ts.URL }

// GatewayURL is what GET /gateway returns: ws://127.0.0.1:PORT.
func (s *Server) GatewayURL() string { return s.wsURL }

// Token is the bot token without the "Bot " prefix.
func (s *Server) Token() string { return s.opts.Token }

// BotUserID is the bot's user ID, as in READY.
func (s *Server) BotUserID() string { return s.opts.BotUserID }

// ApplicationID is the application ID, as in READY and interactions.
func (s *Server) ApplicationID() string { return s.opts.ApplicationID }

// Transport returns a RoundTripper that sends every request to the fake,
// whatever its scheme and host (https://discord.com/... included).
func (s *Server) Transport() http.RoundTripper {
	return rewriteTransport{target: s.base, next: s.ts.Client().Transport}
}

// HTTPClient returns a client using Transport; assign it to
// discordgo.Session.Client.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: s.Transport(), Timeout: 30 * time.Second}
}

// rewriteTransport redirects requests to a fixed scheme and host.
type rewriteTransport struct {
	target *url.URL
	next   http.RoundTripper
}

// RoundTrip rewrites the request's scheme and host and forwards it.
func (t rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Scheme = t.target.Scheme
	r2.URL.Host = t.target.Host
	r2.Host = t.target.Host
	return t.next.RoundTrip(r2)
}

// WaitUntil blocks until cond returns true or ctx ends. cond is evaluated
// after every change of the fake's state (it may call the Server's methods).
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
			return ctx.Err()
		}
	}
}

// notify wakes WaitUntil callers. Callers hold s.mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// now reads the configured clock.
func (s *Server) now() time.Time { return s.opts.Now() }

// nextID returns a new snowflake, unique and increasing. Callers hold s.mu.
func (s *Server) nextID() string {
	ms := s.now().UnixMilli() - discordEpoch
	if ms < 0 {
		ms = 0
	}
	id := uint64(ms) << 22
	if id <= s.lastID {
		id = s.lastID + 1
	}
	s.lastID = id
	return strconv.FormatUint(id, 10)
}

// randomToken returns n random bytes, URL-safe base64 encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomHex returns n random bytes, hex encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fmtTime formats a time as Discord does in JSON.
func fmtTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

// Error is a constant error returned by the fake's helpers.
type Error string

// Error implements error.
func (e Error) Error() string { return string(e) }

// ErrNotDelivered is returned (with the result) by helpers that create an
// interaction when no gateway session received it: on Discord the user would
// see "This interaction failed".
const ErrNotDelivered Error = "discordfake: no gateway session received the interaction"

// mentionedIDs returns the user IDs mentioned as <@id> or <@!id> in content.
func mentionedIDs(content string) []string {
	var ids []string
	seen := map[string]bool{}
	for {
		i := strings.Index(content, "<@")
		if i < 0 {
			return ids
		}
		content = content[i+2:]
		rest := strings.TrimPrefix(content, "!")
		j := strings.IndexByte(rest, '>')
		if j <= 0 || strings.HasPrefix(rest, "&") {
			continue
		}
		id := rest[:j]
		if strings.ContainsAny(id, " \t\n<@") {
			continue
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
}
