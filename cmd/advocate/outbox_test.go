package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// question is the customer's question in deadFixture: it is in the dead
// private intro's text, which the outbox commands must never print.
const question = "my invoice 4417 is wrong"

// deadFixture runs a bot whose platform fails to open a case's private
// conversation ten times (503), so the relay gives it up, and then the staff
// controls for that conversation, which have nowhere to go. The harness stays
// open, as a running bot would; the config (the sandbox only) points at its
// database.
func deadFixture(t *testing.T, opts ...bottest.Option) (h *bottest.Harness, cfgPath string) {
	t.Helper()
	h = bottest.New(t, opts...)
	failures := []error{nil} // the public "taken private" reply goes out
	for range 10 {
		failures = append(failures, errors.New("platform answered 503 Service Unavailable"))
	}
	h.Platform.FailNext(failures...)
	h.Ask(h.Person("u-ada", "Ada"), question)
	for range 9 {
		h.Advance(10 * time.Minute) // longer than any backoff up to the tenth attempt
	}
	// A pass that only gives up on an action ends there; the rest of the lane
	// goes on the next passes.
	for range 3 {
		h.Settle()
	}
	cfgPath = filepath.Join(t.TempDir(), "advocate.yaml")
	cfg := "secret: test-secret-0123456789abcdef\nstore:\n  path: " + h.Path() + "\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return h, cfgPath
}

// listOutbox runs advocate outbox --json.
func listOutbox(t *testing.T, cfg string, args ...string) outboxJSON {
	t.Helper()
	out, errOut, code := cli(t, nil, append([]string{"outbox", "--config", cfg, "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("outbox --json: exit %d: %s", code, errOut)
	}
	var got outboxJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("outbox --json: %v\n%s", err, out)
	}
	return got
}

func TestOutboxListsAndRetriesBesideRunningBot(t *testing.T) {
	h, cfg := deadFixture(t)

	out, errOut, code := cli(t, nil, "outbox", "--config", cfg)
	if code != 0 {
		t.Fatalf("outbox: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"outbox: 0 pending, 3 dead", "open_private", "503 Service Unavailable",
		"has no staff conversation", "controls", "LAST ERROR"} {
		if !strings.Contains(out, want) {
			t.Errorf("outbox lacks %q:\n%s", want, out)
		}
	}
	got := listOutbox(t, cfg)
	if got.Pending != 0 || got.Dead != 3 || got.Matching != 3 || len(got.Actions) != 3 {
		t.Fatalf("outbox --json: got %+v, want 3 dead listed", got)
	}
	open, controls := got.Actions[2], got.Actions[0] // newest first; the staff intro between
	if open.Kind != bot.ActOpenPrivate || open.Attempts != 10 || open.CaseID != 1 || !open.Retryable ||
		open.Platform != bot.Sandbox || open.DiedAt == "" {
		t.Errorf("dead private intro: got %+v", open)
	}
	if controls.Key != "controls" || controls.Attempts != 1 || !controls.Retryable {
		t.Errorf("dead staff controls: got %+v", controls)
	}
	if n := len(listOutbox(t, cfg, "--limit", "1").Actions); n != 1 {
		t.Errorf("--limit 1: got %d actions", n)
	}
	if n := len(listOutbox(t, cfg, "--platform", bot.Slack).Actions); n != 0 {
		t.Errorf("--platform slack: got %d actions, want 0", n)
	}
	if got := h.Events(1, bot.KindTakenPrivate); len(got) != 0 {
		t.Fatalf("taken_private before the retry: %v", got)
	}

	out, errOut, code = cli(t, nil, "outbox", "retry", "--all-dead", "--config", cfg)
	if code != 0 || !strings.Contains(out, "retried 3 action(s)") {
		t.Fatalf("retry --all-dead: exit %d, %q %q", code, out, errOut)
	}
	// The running bot's relay picks them up, the intro before the controls
	// that need the conversation it opens. Its clock catches up with the
	// real one the command used for "due now".
	h.Advance(max(time.Since(h.Clock.Now()), 0) + time.Second)
	intro := h.Find("case-1", question)
	if intro == nil || h.Find("staff", "Case #1 from") == nil {
		t.Errorf("after the retry, case-1 has %d messages and #staff %d; want the intro and the staff controls", len(h.Messages("case-1")), len(h.Messages("staff")))
	}
	if got := h.Events(1, bot.KindTakenPrivate); len(got) != 1 {
		t.Errorf("taken_private after the retry: got %d, want 1", len(got))
	}
	if got := listOutbox(t, cfg); got.Dead != 0 || got.Pending != 0 {
		t.Errorf("after delivery: %d pending, %d dead; want none", got.Pending, got.Dead)
	}
	out, _, code = cli(t, nil, "outbox", "retry", "--all-dead", "--config", cfg)
	if code != 0 || !strings.Contains(out, "retried nothing") {
		t.Errorf("second retry --all-dead: exit %d, %q", code, out)
	}
}

func TestOutboxNeverPrintsMessageText(t *testing.T) {
	_, cfg := deadFixture(t)
	for _, args := range [][]string{
		{"outbox"}, {"outbox", "--json"}, {"outbox", "retry", "--all-dead", "--json"},
	} {
		out, errOut, code := cli(t, nil, append(args, "--config", cfg)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		for _, secret := range []string{"4417", "Ada", "private conversation with"} {
			if strings.Contains(out+errOut, secret) {
				t.Errorf("%v prints %q:\n%s%s", args, secret, out, errOut)
			}
		}
	}
}

func TestOutboxRetryRefusesForgottenCustomer(t *testing.T) {
	h, cfg := deadFixture(t)
	ids := listOutbox(t, cfg).Actions
	if _, errOut, code := cli(t, nil, "forget", "--config", cfg, "--platform", bot.Sandbox, "--user", "u-ada"); code != 0 {
		t.Fatalf("forget: %s", errOut)
	}
	out, _, _ := cli(t, nil, "outbox", "--config", cfg)
	if !strings.Contains(out, "no: forgotten") || !strings.Contains(out, "advocate forget") || strings.Contains(out, "retry:") {
		t.Errorf("outbox does not show the refusal:\n%s", out)
	}

	id := strconv.FormatInt(ids[0].ID, 10)
	out, errOut, code := cli(t, nil, "outbox", "retry", id, "999", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "2 of 2 action(s) not retried") ||
		!strings.Contains(out, "not retried "+id+": the customer was erased") ||
		!strings.Contains(out, "not retried 999: no such outbox action") {
		t.Errorf("retry of a forgotten customer's action: exit %d, %q %q", code, out, errOut)
	}
	out, errOut, code = cli(t, nil, "outbox", "retry", "--all-dead", "--config", cfg)
	if code != 0 || !strings.Contains(out, "retried nothing") || strings.Count(out, "not retried") != 3 {
		t.Errorf("retry --all-dead: exit %d, %q %q", code, out, errOut)
	}
	h.Advance(max(time.Since(h.Clock.Now()), 0) + time.Second)
	if got := listOutbox(t, cfg); got.Dead != 3 {
		t.Errorf("dead after refused retries: got %d, want 3", got.Dead)
	}
	if n := len(h.Messages("case-1")); n != 0 {
		t.Errorf("the forgotten customer was sent %d message(s)", n)
	}
}

func TestOutboxRetryWarnsOfDisabledPlatform(t *testing.T) {
	_, cfg := deadFixture(t, bottest.DMs()) // a Slack-like platform; the config runs the sandbox
	out, errOut, code := cli(t, nil, "outbox", "retry", "--all-dead", "--config", cfg)
	if code != 0 || !strings.Contains(out, "retried 3 action(s)") {
		t.Fatalf("retry --all-dead: exit %d, %q %q", code, out, errOut)
	}
	if want := "warning: 3 retried action(s) are for slack, which this configuration does not enable"; !strings.Contains(errOut, want) {
		t.Errorf("stderr: got %q, want %q", errOut, want)
	}
}

func TestOutboxRetryArguments(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"retry"}, "or --all-dead"},
		{[]string{"retry", "12", "--all-dead"}, "not both"},
		{[]string{"retry", "abc"}, `"abc" is not an action ID`},
		{[]string{"retry", "0"}, `"0" is not an action ID`},
		{[]string{"retry", "12", "--platform", "slack"}, "narrow --all-dead"},
		{[]string{"retyr"}, "unknown command"},
	}
	for _, tt := range tests {
		args := append([]string{"outbox", "--config", "/nonexistent.yaml"}, tt.args...)
		if tt.args[0] == "retry" {
			args = append([]string{"outbox", "retry", "--config", "/nonexistent.yaml"}, tt.args[1:]...)
		}
		_, errOut, code := cli(t, nil, args...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, %q; want an error with %q", tt.args, code, errOut, tt.want)
		}
	}
	for _, sub := range [][]string{{"outbox"}, {"outbox", "retry"}} {
		out, _, code := cli(t, nil, append(sub, "--help")...)
		if code != 0 || !strings.Contains(out, "--config") {
			t.Errorf("%v --help: exit %d:\n%s", sub, code, out)
		}
	}
}
