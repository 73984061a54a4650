package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/config"
	"github.com/advocate-bot/advocate/internal/testkit"
	"github.com/advocate-bot/advocate/web"
)

// Accounts of the test dashboard.
const (
	adminName, adminPassword   = "ada", "correct horse battery"
	viewerName, viewerPassword = "vic", "viewer staple 42"
	token                      = "script-token-0123456789"
)

// fixture is the dashboard on a real core and store (bot/bottest), served
// on 127.0.0.1.
type fixture struct {
	t       testing.TB
	h       *bottest.Harness
	srv     *httptest.Server
	reg     *prometheus.Registry
	metrics *web.Metrics
	logs    *testkit.LogBuffer
	ready   error
}

func hash(t testing.TB, password string) string {
	t.Helper()
	b, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newFixture starts a dashboard; edit may change its options.
func newFixture(t testing.TB, edit ...func(*web.Options)) *fixture {
	t.Helper()
	return newFixtureOn(t, bottest.New(t), edit...)
}

// newFixtureOn starts a dashboard on h's store.
func newFixtureOn(t testing.TB, h *bottest.Harness, edit ...func(*web.Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, h: h, reg: prometheus.NewRegistry(), logs: &testkit.LogBuffer{}}
	f.metrics = web.NewMetrics(f.reg)
	key, err := h.Store.SessionKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	opts := web.Options{
		Store:      f.h.Store,
		Sessions:   f.h.Store,
		SessionKey: key,
		Users: []config.DashboardUser{
			{Name: adminName, PasswordHash: hash(t, adminPassword), Role: config.RoleAdmin},
			{Name: viewerName, PasswordHash: hash(t, viewerPassword), Role: config.RoleViewer},
		},
		Token:    token,
		Logger:   slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:      f.h.Clock.Now,
		Registry: f.reg,
		// the test server listens on 127.0.0.1
		MetricsOpen: true,
		Ready:       func(context.Context) error { return f.ready },
		SLA:         time.Hour,
	}
	for _, e := range edit {
		e(&opts)
	}
	s, err := web.New(opts)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

// client is a browser-like client with a cookie jar that does not follow
// redirects, so tests see them.
func (f *fixture) client() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// do sends a request and returns the response with its body read.
func (f *fixture) do(c *http.Client, method, path string, form url.Values, header ...string) (*http.Response, string) {
	f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, string(b)
}

// csrfToken finds the CSRF token of a page's form.
func csrfToken(page string) []string {
	return regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
}

// csrf fetches the login form and returns its CSRF token (setting the cookie).
func (f *fixture) csrf(c *http.Client) string {
	f.t.Helper()
	_, body := f.do(c, "GET", "/login", nil)
	m := csrfToken(body)
	if m == nil {
		f.t.Fatalf("no CSRF token in the login form:\n%s", body)
	}
	return m[1]
}

// login signs c in and returns the login response.
func (f *fixture) login(c *http.Client, name, password string) *http.Response {
	f.t.Helper()
	resp, _ := f.do(c, "POST", "/login", url.Values{"csrf": {f.csrf(c)}, "name": {name}, "password": {password}})
	return resp
}

// signedIn is a client signed in as name.
func (f *fixture) signedIn(name, password string) *http.Client {
	f.t.Helper()
	c := f.client()
	if resp := f.login(c, name, password); resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("login as %s: got %d, want 303", name, resp.StatusCode)
	}
	return c
}

// story is what happens to one customer's case in a conversation.
type story struct {
	score int    // 0: not resolved; else the rating
	share string // text to post in #showcase, "" for none
	say   string // a message the customer sends in the private conversation
	wall  bool   // also show the post on the wall
	name  string // the name typed for the wall
}

// play runs stories through the real core, an hour apart, and returns the
// case IDs.
func (f *fixture) play(stories ...story) []int64 {
	f.t.Helper()
	h := f.h
	var ids []int64
	for i, st := range stories {
		who := h.Person(fmt.Sprintf("u-%d", i), fmt.Sprintf("Customer %d", i))
		h.Ask(who, "I need help with my account")
		cs := activeCase(f.t, h, who)
		ids = append(ids, cs.ID)
		h.Advance(time.Duration(5+i%40) * time.Minute)
		h.Say(h.Staff(), cs.Staff, "Looking into it now")
		if st.say != "" {
			h.Say(who, cs.Private, st.say)
		}
		if st.score > 0 {
			h.Advance(time.Duration(1+i%5) * time.Hour)
			h.Click(h.Staff(), h.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
			h.Click(who, h.WithButton(cs.Private.Channel, fmt.Sprint(st.score)), fmt.Sprint(st.score))
		}
		if st.share != "" {
			r := h.Click(who, h.WithButton(cs.Private.Channel, "Post in #showcase"), "Post in #showcase")
			fields := map[string]string{"text": st.share, "name": st.name}
			if st.wall {
				fields["wall"] = bot.FieldChecked
			}
			h.Submit(who, r.Modal, cs.Private.Conversation(), fields)
		}
		h.Advance(time.Hour)
	}
	return ids
}

func activeCase(t testing.TB, h *bottest.Harness, who bot.Person) *bot.Case {
	t.Helper()
	var cs *bot.Case
	err := h.Store.View(context.Background(), func(tx bot.Tx) (err error) {
		cs, err = tx.ActiveCaseFor(context.Background(), who.Platform, who.ID)
		return err
	})
	if err != nil {
		t.Fatalf("active case for %s: %v", who.ID, err)
	}
	return cs
}

// someStories is a varied few dozen cases: resolved and not, happy and
// unhappy, some shared.
func someStories(n int) []story {
	out := make([]story, n)
	for i := range out {
		switch i % 6 {
		case 0:
			out[i] = story{score: 5, share: fmt.Sprintf("Support fixed it in minutes (%d)", i)}
		case 1, 2:
			out[i] = story{score: 4 + i%2}
		case 3:
			out[i] = story{score: 1}
		case 4:
			out[i] = story{score: 3}
		default:
			out[i] = story{}
		}
	}
	return out
}
