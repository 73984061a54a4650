package discordfake

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

const (
	testGuild   = "800000000000000001"
	testChannel = "800000000000000010"
	testAlice   = "700000000000000001"
	testBob     = "700000000000000002"
	testStaff   = "staff-role"
)

// newFake starts a fake with a guild, a channel, a customer (alice), a staff
// member (bob) and closes it at the end of the test.
func newFake(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	f := New(opts)
	t.Cleanup(f.Close)
	f.AddGuild(testGuild, "Acme")
	f.AddChannel(testGuild, testChannel, "support")
	f.AddMember(testGuild, testAlice, "alice")
	f.AddRole(testGuild, testStaff, "staff", PermManageThreads)
	f.AddMember(testGuild, testBob, "bob", testStaff)
	return f
}

// clientOpts configure newClient.
type clientOpts struct {
	intents discordgo.Intent
	// reconnect keeps discordgo's reconnect-on-error; the session is then
	// closed explicitly at cleanup (discordgo sleeps 1 s while closing).
	reconnect bool
	token     string
}

// events collects what a discordgo session received, for assertions.
type events struct {
	mu           sync.Mutex
	ready        []*discordgo.Ready
	resumed      int
	guilds       []*discordgo.GuildCreate
	messages     []*discordgo.MessageCreate
	updates      []*discordgo.MessageUpdate
	interactions []*discordgo.InteractionCreate
	threads      []*discordgo.ThreadCreate
	rateLimits   []*discordgo.RateLimit
	changed      chan struct{}
}

func (e *events) add(f func()) {
	e.mu.Lock()
	f()
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
}

// wait blocks until cond (called with e.mu held) is true.
func (e *events) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		e.mu.Lock()
		ok := cond()
		ch := e.changed
		e.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// newClient opens a real discordgo session on the fake.
func newClient(t *testing.T, f *Server, o clientOpts) (*discordgo.Session, *events) {
	t.Helper()
	s := newSession(t, f, o)
	ev := &events{changed: make(chan struct{})}
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) { ev.add(func() { ev.ready = append(ev.ready, r) }) })
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) { ev.add(func() { ev.resumed++ }) })
	s.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) {
		ev.add(func() { ev.guilds = append(ev.guilds, g) })
	})
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
		ev.add(func() { ev.messages = append(ev.messages, m) })
	})
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageUpdate) {
		ev.add(func() { ev.updates = append(ev.updates, m) })
	})
	s.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) {
		ev.add(func() { ev.interactions = append(ev.interactions, i) })
	})
	s.AddHandler(func(_ *discordgo.Session, c *discordgo.ThreadCreate) {
		ev.add(func() { ev.threads = append(ev.threads, c) })
	})
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.RateLimit) {
		ev.add(func() { ev.rateLimits = append(ev.rateLimits, r) })
	})
	if err := s.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	if o.reconnect {
		t.Cleanup(func() { s.Close() })
	}
	return s, ev
}

// newSession configures a discordgo session for the fake without opening it.
// Without reconnect, the session is left to notice the fake's Close: it then
// stops without reconnecting, and the test does not wait for discordgo's
// one-second close.
func newSession(t *testing.T, f *Server, o clientOpts) *discordgo.Session {
	t.Helper()
	tok := o.token
	if tok == "" {
		tok = f.Token()
	}
	s, err := discordgo.New("Bot " + tok)
	if err != nil {
		t.Fatal(err)
	}
	s.Client = f.HTTPClient()
	s.SyncEvents = true
	s.ShouldReconnectOnError = o.reconnect
	s.LogLevel = -1
	if o.intents == 0 {
		o.intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages | discordgo.IntentMessageContent
	}
	s.Identify.Intents = o.intents
	return s
}

// restError unwraps a discordgo REST error, failing the test otherwise.
func restError(t *testing.T, err error) (status, code int) {
	t.Helper()
	var re *discordgo.RESTError
	if !errors.As(err, &re) {
		t.Fatalf("got error %v (%T), want a *discordgo.RESTError", err, err)
	}
	if re.Message == nil {
		t.Fatalf("REST error without JSON message: %s", re.ResponseBody)
	}
	return re.Response.StatusCode, re.Message.Code
}

// waitFake waits on the fake's state.
func waitFake(t *testing.T, f *Server, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.WaitUntil(ctx, cond); err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// testClock is a settable clock for Options.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rawRequest sends a request through the fake's transport to a discord.com URL.
func rawRequest(t *testing.T, f *Server, method, path, token string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, "https://discord.com/api/v9"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bot "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
