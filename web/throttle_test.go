package web

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/config"
	"github.com/advocate-bot/advocate/internal/throttle"
)

func TestLoginThrottleTakesTokensBeforeTheCheck(t *testing.T) {
	var f loginFailures
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	// Attempts in flight together: each holds its tokens, so the sixth for
	// one name is refused before any of the five has failed.
	var held []*throttle.Attempt
	for i := range nameBurst {
		a, wait := f.begin("10.0.0.1", "ada", now)
		if a == nil {
			t.Fatalf("attempt %d: refused (wait %s)", i+1, wait)
		}
		held = append(held, a)
	}
	if a, wait := f.begin("10.0.0.1", "ada", now); a != nil || wait != nameEvery {
		t.Errorf("attempt %d in flight: got %v, wait %s; want refused, wait %s", nameBurst+1, a != nil, wait, nameEvery)
	}
	if a, _ := f.begin("10.0.0.2", "ada", now); a == nil {
		t.Error("the same name from another address: refused")
	}
	// Successes give their tokens back.
	for _, a := range held {
		a.Forgive(now)
	}
	if a, _ := f.begin("10.0.0.1", "ada", now); a == nil {
		t.Error("after successful sign-ins: refused")
	}
}

func TestSignInsBoundedAtOnce(t *testing.T) {
	h := bottest.New(t)
	pw, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key, err := h.Store.SessionKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: h.Store, Sessions: h.Store, SessionKey: key, Now: h.Clock.Now,
		Users: []config.DashboardUser{{Name: "ada", PasswordHash: string(pw), Role: config.RoleAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	s.hashes = newHashGate(2, 1)
	var inside, most atomic.Int32
	release := make(chan struct{})
	s.compare = func(hash, password []byte) error {
		n := inside.Add(1)
		defer inside.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		return bcrypt.CompareHashAndPassword(hash, password)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	login := func(name string) *http.Response {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(srv.URL + "/login")
		if err != nil {
			t.Error(err)
			return nil
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
		if m == nil {
			t.Error("no CSRF token")
			return nil
		}
		resp, err = c.PostForm(srv.URL+"/login", url.Values{"csrf": {string(m[1])}, "name": {name}, "password": {"wrong"}})
		if err != nil {
			t.Error(err)
			return nil
		}
		resp.Body.Close()
		return resp
	}
	var wg sync.WaitGroup
	codes := make(chan int, 3)
	for _, name := range []string{"ada", "bob", "cy"} {
		wg.Go(func() {
			if resp := login(name); resp != nil {
				codes <- resp.StatusCode
			}
		})
	}
	// Two comparisons run, one sign-in waits for a slot.
	deadline := time.Now().Add(30 * time.Second)
	for inside.Load() != 2 || len(s.hashes.admitted) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("never 2 running and 3 admitted: %d running, %d admitted", inside.Load(), len(s.hashes.admitted))
		}
		time.Sleep(time.Millisecond)
	}
	resp := login("dee")
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("a fourth sign-in while two run and one waits: got %v, want 429 with Retry-After 1", resp)
	}
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusUnauthorized {
			t.Errorf("an admitted sign-in with a wrong password: got %d, want 401", code)
		}
	}
	if got := most.Load(); got != 2 {
		t.Errorf("comparisons at once: got %d, want 2", got)
	}
}
