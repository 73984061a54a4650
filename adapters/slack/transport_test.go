package slack

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/internal/testkit"
)

// flaky fails the first n events it is handed, like a core whose commit failed.
type flaky struct {
	mu   sync.Mutex
	n    int
	seen []string
}

func (f *flaky) Handle(_ context.Context, ev bot.Event) (bot.Reply, error) {
	if ev.Kind == bot.EventNamed {
		return bot.Reply{}, nil // a name looked up after the event: not a delivery
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, ev.ID)
	if len(f.seen) <= f.n {
		return bot.Reply{}, errors.New("database is locked")
	}
	return bot.Reply{}, nil
}

func (f *flaky) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

// runOnFake starts an adapter against a fake Slack with a custom handler.
func runOnFake(t *testing.T, mode string, h bot.Handler, opts ...slackfake.Option) (*Adapter, *slackfake.Server, *testkit.LogBuffer) {
	t.Helper()
	fake := slackfake.New(t, opts...)
	fake.AddUser("U0ADA000001", "Ada")
	fake.AddChannel(testSupport, "support", true)
	fake.AddChannel(testStaff, "staff", false)
	logs := &testkit.LogBuffer{}
	a, err := New(Options{
		BotToken: fake.BotToken(), AppToken: fake.AppToken(), SigningSecret: fake.SigningSecret(),
		Mode: mode, APIURL: fake.APIURL(),
		SupportChannels: []string{testSupport}, StaffChannel: testStaff,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PostInterval: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return a, fake, logs
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSocketLeavesUncommittedEventsUnacknowledged(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := &flaky{n: 1}
	_, fake, logs := runOnFake(t, ModeSocket, h, slackfake.WithAckTimeout(300*time.Millisecond))
	p, err := fake.UserSays("U0ADA000001", testSupport, "help")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.WaitAck(ctx, p.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	env, _ := fake.Envelope(p.EnvelopeID)
	if env.Deliveries != 2 || env.RetryAttempt != 1 || env.RetryReason != "timeout" || env.Acks != 1 {
		t.Errorf("envelope: got %d deliveries, retry %d (%s), %d acks; want the failed one redelivered once and acked once",
			env.Deliveries, env.RetryAttempt, env.RetryReason, env.Acks)
	}
	ids := h.ids()
	if len(ids) != 2 || ids[0] != ids[1] || ids[0] != p.EventID {
		t.Errorf("events handed to the core: got %v, want the same event_id twice", ids)
	}
	if !strings.Contains(logs.String(), "retry_attempt=1") || !strings.Contains(logs.String(), "retry_reason=timeout") {
		t.Errorf("the redelivery was not logged:\n%s", logs.String())
	}
}

func TestHTTPAnswers500UntilCommitted(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := &flaky{n: 1}
	a, fake, logs := runOnFake(t, ModeHTTP, h, slackfake.WithDelivery(5*time.Second, 0))
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	select {
	case <-a.ready:
	case <-ctx.Done():
		t.Fatal("the adapter did not start")
	}
	if err := fake.VerifyURL(ctx, srv.URL+"/slack/events"); err != nil {
		t.Errorf("url_verification: %v", err)
	}
	m, err := fake.PostAsUser("U0ADA000001", testSupport, "", "help")
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := fake.MessageEvent(m)
	body, eventID, _ := fake.EventCallbackBody(ev)
	d, err := fake.Deliver(ctx, srv.URL+"/slack/events", body, slackfake.JSONContentType)
	if err != nil {
		t.Fatalf("delivery: %v", err)
	}
	if len(d.Attempts) != 2 || d.Attempts[0].Status != 500 || d.Attempts[1].Status != 200 || d.Attempts[1].RetryNum != 1 {
		t.Errorf("attempts: got %+v, want 500 then 200 on the retry", d.Attempts)
	}
	ids := h.ids()
	if len(ids) != 2 || ids[1] != eventID {
		t.Errorf("events handed to the core: got %v", ids)
	}
	if !strings.Contains(logs.String(), "retry_attempt=1") || !strings.Contains(logs.String(), "retry_reason=http_error") {
		t.Errorf("the retry was not logged:\n%s", logs.String())
	}
}

func TestHTTPBeforeRunAnswers503(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	fake := slackfake.New(t, slackfake.WithDelivery(5*time.Second))
	a, err := New(Options{BotToken: "xoxb-1", SigningSecret: fake.SigningSecret(), Mode: ModeHTTP, APIURL: fake.APIURL(), StaffChannel: testStaff})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	body, _, _ := fake.EventCallbackBody(map[string]any{"type": "app_mention", "user": "U0ADA000001", "channel": "C1", "ts": "1.1"})
	d, _ := fake.Deliver(ctx, srv.URL+"/slack/events", body, slackfake.JSONContentType)
	if got, want := d.Last().Status, 503; got != want {
		t.Errorf("status before Run: got %d, want %d", got, want)
	}
}
