package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

func TestSayInAThreadHandsTheThreadToTheCore(t *testing.T) {
	s := newTestSandbox(t, "")
	_, staff, err := s.OpenPrivate(context.Background(), &bot.Case{ID: 3, Customer: adaPerson()}, bot.Message{Text: "intro"})
	if err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	code, r, body := s.post(t, "/sandbox/api/say", sayRequest{As: "s-sam", Channel: StaffChannel, Thread: staff.Thread, Text: "On it"})
	if code != http.StatusOK {
		t.Fatalf("say in the thread: got %d %s", code, body)
	}
	ev := s.core.Last(t)
	want := bot.Ref{Platform: bot.Sandbox, Channel: StaffChannel, Thread: staff.Thread, Message: r.Message}
	if ev.Where != want || ev.Support {
		t.Errorf("got event at %+v (support %v), want %+v", ev.Where, ev.Support, want)
	}
	// A reply to a reply joins the thread; a question in a thread of #support
	// is not a new question.
	code, _, body = s.post(t, "/sandbox/api/say", sayRequest{As: "s-sam", Channel: StaffChannel, Thread: r.Message, Text: "/claim"})
	if code != http.StatusOK {
		t.Fatalf("command in the thread: got %d %s", code, body)
	}
	if ev := s.core.Last(t); ev.Kind != bot.EventCommand || ev.Where.Thread != staff.Thread {
		t.Errorf("got command %+v, want /claim in the case's thread", ev)
	}
	q := s.say(t, "c-ada", SupportChannel, "question")
	code, _, body = s.post(t, "/sandbox/api/say", sayRequest{As: "c-ben", Channel: SupportChannel, Thread: q.Message, Text: "me too"})
	if code != http.StatusOK {
		t.Fatalf("reply in #support: got %d %s", code, body)
	}
	if ev := s.core.Last(t); ev.Support || ev.Where.Thread != q.Message {
		t.Errorf("got %+v, want a thread reply that is not a support question", ev)
	}
	for _, tt := range []struct {
		name   string
		req    sayRequest
		status int
	}{
		{"unknown thread", sayRequest{As: "s-sam", Channel: StaffChannel, Thread: "m1", Text: "x"}, http.StatusBadRequest},
		{"thread of another channel", sayRequest{As: "s-sam", Channel: SupportChannel, Thread: staff.Thread, Text: "x"}, http.StatusBadRequest},
		{"thread a customer cannot see", sayRequest{As: "c-ada", Channel: StaffChannel, Thread: staff.Thread, Text: "x"}, http.StatusForbidden},
	} {
		if code, _, body := s.post(t, "/sandbox/api/say", tt.req); code != tt.status {
			t.Errorf("%s: got %d %s, want %d", tt.name, code, body, tt.status)
		}
	}
}

func TestDeleteRemovesAPersonasMessage(t *testing.T) {
	s := newTestSandbox(t, "")
	if _, _, err := s.OpenPrivate(context.Background(), &bot.Case{ID: 3, Customer: adaPerson()}, bot.Message{Text: "intro"}); err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	r := s.say(t, "s-sam", "case-3", "!note VIP customer")
	if err := s.Delete(context.Background(), bot.Ref{Platform: bot.Sandbox, Channel: "case-3", Message: r.Message}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, m := range s.channelOf(t, "c-ada", "case-3").Messages {
		if strings.Contains(m.Text, "VIP") {
			t.Errorf("Ada still sees %q", m.Text)
		}
	}
}

func TestCloseStreamsEndsOpenStreamsAtOnce(t *testing.T) {
	s := newTestSandbox(t, "")
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/sandbox/api/events?as=c-ada", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	defer resp.Body.Close()
	events := bufio.NewReader(resp.Body)
	if line, err := events.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry:") {
		t.Fatalf("stream start: got %q, %v", line, err)
	}
	s.CloseStreams() // the sandbox still runs, as while the HTTP server shuts down
	if _, err := io.Copy(io.Discard, events); err != nil {
		t.Fatalf("the stream did not end cleanly: %v", err)
	}
	if s.handler() == nil {
		t.Error("CloseStreams stopped the sandbox")
	}
	if w := s.do(t, http.MethodGet, "/sandbox/api/events?as=c-ada", ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("a stream opened after CloseStreams: got %d, want 503", w.Code)
	}
}

// TestCustomersStateHoldsNothingOfTheStaffSide reads the customer's state as
// the page does, raw, after staff wrote notes on both sides.
func TestCustomersStateHoldsNothingOfTheStaffSide(t *testing.T) {
	d := newSuiteDriver(t).(*suiteDriver)
	ctx := t.Context()
	if err := d.Ask(ctx, bottest.Ada, "My order never arrived"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the case's two sides", func() bool {
		_, _, err1 := d.place(ctx, bottest.Private(bottest.Ada))
		_, _, err2 := d.place(ctx, bottest.StaffSide(bottest.Ada))
		return err1 == nil && err2 == nil
	})
	for _, at := range []bottest.Where{bottest.Private(bottest.Ada), bottest.StaffSide(bottest.Ada)} {
		if err := d.Say(ctx, bottest.Sam, at, "!note secret-note "+string(at.Place)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Command(ctx, bottest.Sam, bottest.Private(bottest.Ada), bot.CmdNote, "secret-note by command"); err != nil {
		t.Fatal(err)
	}
	if err := d.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	staffView := d.get(t, "s-sam")
	if strings.Count(staffView, "secret-note") < 3 {
		t.Fatalf("staff see the notes %d times, want all three on the staff side:\n%s", strings.Count(staffView, "secret-note"), staffView)
	}
	raw := d.get(t, "c-ada")
	for _, leak := range []string{"secret-note", "Case #1 from", `"Claim"`, `"Resolve"`, `"Reopen"`} {
		if strings.Contains(raw, leak) {
			t.Errorf("the customer's state contains %s:\n%s", leak, raw)
		}
	}
	var st stateJSON
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatalf("decode: %v", err)
	}
	for _, c := range st.Channels {
		for _, m := range c.Messages {
			for _, b := range m.Buttons {
				if b.Staff {
					t.Errorf("the customer's state has the staff button %q in %s", b.Label, c.Name)
				}
			}
		}
	}
}

// get returns a persona's raw state.
func (d *suiteDriver) get(t *testing.T, as string) string {
	t.Helper()
	res, err := http.Get(d.base + "/sandbox/api/state?as=" + as)
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("state: %d %v", res.StatusCode, err)
	}
	return string(b)
}

// TestStaffMessagesOnTheCustomerSideWaitForTheCore: what staff type in a
// customer's channel is hidden from the customer while the core decides, then
// deleted if the core hides it (a note) or shown (a reply); a restart keeps
// both outcomes. So the customer's state never holds a note, even for a
// moment.
func TestStaffMessagesOnTheCustomerSideWaitForTheCore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.jsonl")
	s := newTestSandbox(t, path)
	if _, _, err := s.OpenPrivate(context.Background(), &bot.Case{ID: 3, Customer: adaPerson()}, bot.Message{Text: "intro"}); err != nil {
		t.Fatal(err)
	}
	sees := func(s *testSandbox, as, text string) bool {
		for _, m := range s.channelOf(t, as, "case-3").Messages {
			if strings.Contains(m.Text, text) {
				return true
			}
		}
		return false
	}
	var adaSaw, samSaw []string
	s.core.setReply(func(ev bot.Event) (bot.Reply, error) {
		if sees(s, "c-ada", ev.Text) {
			adaSaw = append(adaSaw, ev.Text)
		}
		if sees(s, "s-sam", ev.Text) {
			samSaw = append(samSaw, ev.Text)
		}
		return bot.Reply{Hide: strings.HasPrefix(ev.Text, "!note")}, nil
	})
	s.say(t, "s-sam", "case-3", "!note secret-note")
	s.say(t, "s-sam", "case-3", "Let me check")
	if len(adaSaw) != 0 {
		t.Errorf("while the core decided, Ada saw %q", adaSaw)
	}
	if len(samSaw) != 2 {
		t.Errorf("while the core decided, Sam saw %q, want both of his messages", samSaw)
	}
	s2 := newTestSandbox(t, path)
	for _, sb := range []*testSandbox{s, s2} {
		if sees(sb, "c-ada", "secret-note") || sees(sb, "s-sam", "secret-note") {
			t.Error("the note is still in the customer's channel")
		}
		if !sees(sb, "c-ada", "Let me check") {
			t.Error("Ada does not see Sam's reply once the core has handled it")
		}
	}
}
