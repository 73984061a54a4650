package sandbox

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/internal/testkit"
)

// fakeCore records the events the sandbox hands over and answers with reply.
type fakeCore struct {
	mu     sync.Mutex
	events []bot.Event
	reply  func(bot.Event) (bot.Reply, error)
}

func (f *fakeCore) Handle(_ context.Context, ev bot.Event) (bot.Reply, error) {
	f.mu.Lock()
	f.events = append(f.events, ev)
	reply := f.reply
	f.mu.Unlock()
	if reply == nil {
		return bot.Reply{}, nil
	}
	return reply(ev)
}

func (f *fakeCore) setReply(fn func(bot.Event) (bot.Reply, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reply = fn
}

func (f *fakeCore) Events() []bot.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

func (f *fakeCore) Last(t *testing.T) bot.Event {
	t.Helper()
	evs := f.Events()
	if len(evs) == 0 {
		t.Fatal("got no event, want one")
	}
	return evs[len(evs)-1]
}

// testSandbox is a running sandbox with personas Ada and Ben (customers) and
// Sam (staff), on a fake core.
type testSandbox struct {
	*Sandbox
	core *fakeCore
	logs *testkit.LogBuffer
}

func newTestSandbox(t *testing.T, path string) *testSandbox {
	t.Helper()
	logs := &testkit.LogBuffer{}
	s, err := New(Options{
		Customers: []string{"Ada", "Ben"},
		Staff:     []string{"Sam"},
		Path:      path,
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	core := &fakeCore{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, core) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitFor(t, "the sandbox to run", func() bool { return s.handler() != nil })
	return &testSandbox{Sandbox: s, core: core, logs: logs}
}

// waitFor polls cond until it holds or the test's patience (a context
// deadline, not a timing assertion) runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		case <-tick.C:
		}
	}
}

// channelOf returns what persona sees of a channel, or nil.
func (s *testSandbox) channelOf(t *testing.T, as, name string) *channelJSON {
	t.Helper()
	p, ok := s.byID[as]
	if !ok {
		t.Fatalf("no persona %s", as)
	}
	st := s.state(p)
	for i := range st.Channels {
		if st.Channels[i].Name == name {
			return &st.Channels[i]
		}
	}
	return nil
}

func channelNames(st stateJSON) []string {
	var names []string
	for _, c := range st.Channels {
		names = append(names, c.Name)
	}
	return names
}

func adaPerson() bot.Person { return bot.Person{Platform: bot.Sandbox, ID: "c-ada", Name: "Ada"} }

func TestNewRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no customers", Options{Staff: []string{"Sam"}}, "at least one customer"},
		{"no staff", Options{Customers: []string{"Ada"}}, "at least one customer and one staff"},
		{"same ID twice", Options{Customers: []string{"Ada", "ada!"}, Staff: []string{"Sam"}}, "c-ada"},
		{"no letter", Options{Customers: []string{"!!!"}, Staff: []string{"Sam"}}, "no letter or digit"},
		{"long name", Options{Customers: []string{strings.Repeat("a", maxName+1)}, Staff: []string{"Sam"}}, "longer than"},
		{"script dashboard", Options{Customers: []string{"Ada"}, Staff: []string{"Sam"}, DashboardURL: "javascript:alert(1)"}, "dashboard URL"},
		{"protocol-relative dashboard", Options{Customers: []string{"Ada"}, Staff: []string{"Sam"}, DashboardURL: "//evil.example/"}, "dashboard URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestPersonaIDsAreStable(t *testing.T) {
	s, err := New(Options{Customers: []string{"Ada", "Grace Hopper"}, Staff: []string{"Sam (staff)", "Lee"}, DashboardURL: "/dashboard/"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got, want := s.StaffIDs(), []string{"s-sam-staff", "s-lee"}; !slices.Equal(got, want) {
		t.Errorf("got staff IDs %v, want %v", got, want)
	}
	var ids []string
	for _, p := range s.personas {
		ids = append(ids, p.ID)
	}
	if want := []string{"c-ada", "c-grace-hopper", "s-sam-staff", "s-lee"}; !slices.Equal(ids, want) {
		t.Errorf("got persona IDs %v, want %v", ids, want)
	}
	if got, want := s.Platform(), bot.Sandbox; got != want {
		t.Errorf("got platform %q, want %q", got, want)
	}
}

func TestOpenPrivateOpensTheCustomersChannelAndAStaffThread(t *testing.T) {
	s := newTestSandbox(t, "")
	ctx := context.Background()
	priv, staff, err := s.OpenPrivate(ctx, &bot.Case{ID: 7, Customer: adaPerson()}, bot.Message{Text: "Hi Ada", Nonce: "adv1"})
	if err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	if priv.Channel != "case-7" || priv.Thread != "" || priv.Message == "" || priv.Platform != bot.Sandbox {
		t.Errorf("got private %+v, want case-7 and the intro's ID", priv)
	}
	if staff.Channel != StaffChannel || staff.Thread == "" || staff.Message != "" || staff.Platform != bot.Sandbox {
		t.Errorf("got staff %+v, want a thread in #staff", staff)
	}
	for _, as := range []string{"c-ada", "s-sam"} {
		ch := s.channelOf(t, as, "case-7")
		if ch == nil {
			t.Errorf("%s: got no case-7, want it visible", as)
			continue
		}
		if len(ch.Messages) != 1 || ch.Messages[0].Text != "Hi Ada" || !ch.Messages[0].Author.Bot || ch.Messages[0].ID != priv.Message {
			t.Errorf("%s: got messages %+v, want the bot's intro", as, ch.Messages)
		}
	}
	root := s.channelOf(t, "s-sam", StaffChannel)
	if root == nil || len(root.Messages) != 1 || root.Messages[0].ID != staff.Thread || !strings.Contains(root.Messages[0].Text, "Case #7: Ada") {
		t.Errorf("got #staff %+v, want one message naming the case, the thread's root", root)
	}
	if ch := s.channelOf(t, "c-ben", "case-7"); ch != nil {
		t.Errorf("Ben: got case-7 %+v, want it hidden", ch)
	}
	if ch := s.channelOf(t, "c-ada", StaffChannel); ch != nil {
		t.Errorf("Ada: got #staff %+v, want it hidden", ch)
	}
	// A retried delivery of the same action opens nothing new.
	againPriv, againStaff, err := s.OpenPrivate(ctx, &bot.Case{ID: 7, Customer: adaPerson()}, bot.Message{Text: "Hi Ada", Nonce: "adv1"})
	if err != nil || againPriv != priv || againStaff != staff {
		t.Errorf("retry: got %+v %+v, %v, want %+v %+v", againPriv, againStaff, err, priv, staff)
	}
	if got := len(s.channelOf(t, "s-sam", "case-7").Messages); got != 1 {
		t.Errorf("after a retry got %d messages in case-7, want 1", got)
	}
	if got := len(s.channelOf(t, "s-sam", StaffChannel).Messages); got != 1 {
		t.Errorf("after a retry got %d messages in #staff, want 1", got)
	}
}

func TestSendResolvesNamedChannelsAndThreads(t *testing.T) {
	s := newTestSandbox(t, "")
	ctx := context.Background()
	for _, tt := range []struct{ to, want string }{
		{bot.StaffChannel, StaffChannel},
		{bot.ShowcaseChannel, ShowcaseChannel},
		{SupportChannel, SupportChannel},
	} {
		ref, err := s.Send(ctx, bot.Ref{Platform: bot.Sandbox, Channel: tt.to}, bot.Message{Text: "to " + tt.to})
		if err != nil {
			t.Fatalf("Send to %s: %v", tt.to, err)
		}
		if ref.Channel != tt.want || ref.Message == "" || ref.Platform != bot.Sandbox {
			t.Errorf("Send to %s: got ref %+v, want channel %s and a message ID", tt.to, ref, tt.want)
		}
	}
	root, err := s.Send(ctx, bot.Ref{Channel: SupportChannel}, bot.Message{Text: "question"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	reply, err := s.Send(ctx, bot.Ref{Channel: SupportChannel, Thread: root.Message}, bot.Message{Text: "reply"})
	if err != nil {
		t.Fatalf("Send reply: %v", err)
	}
	if reply.Thread != root.Message {
		t.Errorf("got reply thread %q, want %q", reply.Thread, root.Message)
	}
	nested, err := s.Send(ctx, bot.Ref{Channel: SupportChannel, Thread: reply.Message}, bot.Message{Text: "reply to reply"})
	if err != nil {
		t.Fatalf("Send nested reply: %v", err)
	}
	if nested.Thread != root.Message {
		t.Errorf("got nested reply thread %q, want the root %q", nested.Thread, root.Message)
	}
	ch := s.channelOf(t, "c-ada", SupportChannel)
	var threaded int
	for _, m := range ch.Messages {
		if m.Thread == root.Message {
			threaded++
		}
	}
	if threaded != 2 {
		t.Errorf("got %d replies under the question, want 2", threaded)
	}

	for _, tt := range []struct {
		name string
		to   bot.Ref
		m    bot.Message
	}{
		{"unknown channel", bot.Ref{Channel: "nowhere"}, bot.Message{Text: "x"}},
		{"unknown thread", bot.Ref{Channel: SupportChannel, Thread: "m1"}, bot.Message{Text: "x"}},
		{"thread in another channel", bot.Ref{Channel: ShowcaseChannel, Thread: root.Message}, bot.Message{Text: "x"}},
		{"empty message", bot.Ref{Channel: SupportChannel}, bot.Message{Text: "  "}},
		{"button without ID", bot.Ref{Channel: SupportChannel}, bot.Message{Text: "x", Buttons: []bot.Button{{Label: "A"}}}},
	} {
		if _, err := s.Send(ctx, tt.to, tt.m); !errors.Is(err, bot.ErrUndeliverable) {
			t.Errorf("%s: got error %v, want ErrUndeliverable", tt.name, err)
		}
	}
}

func TestSendWithTheSameNonceDoesNotPostTwice(t *testing.T) {
	s := newTestSandbox(t, "")
	ctx := context.Background()
	first, err := s.Send(ctx, bot.Ref{Channel: bot.StaffChannel}, bot.Message{Text: "alert", Nonce: "adv9"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	second, err := s.Send(ctx, bot.Ref{Channel: bot.StaffChannel}, bot.Message{Text: "alert", Nonce: "adv9"})
	if err != nil {
		t.Fatalf("Send again: %v", err)
	}
	if first != second {
		t.Errorf("got refs %+v and %+v, want the same", first, second)
	}
	if got := len(s.channelOf(t, "s-sam", StaffChannel).Messages); got != 1 {
		t.Errorf("got %d messages, want 1", got)
	}
}

func TestUpdateAndDelete(t *testing.T) {
	s := newTestSandbox(t, "")
	ctx := context.Background()
	ref, err := s.Send(ctx, bot.Ref{Channel: SupportChannel}, bot.Message{Text: "rate us", Buttons: []bot.Button{{ActionID: "a1", Label: "5"}}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := s.Update(ctx, ref, bot.Message{Text: "You rated 5"}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	m := s.channelOf(t, "c-ada", SupportChannel).Messages[0]
	if m.Text != "You rated 5" || len(m.Buttons) != 0 || !m.Edited {
		t.Errorf("after Update got %+v, want the new text, no buttons, edited", m)
	}
	if err := s.Delete(ctx, ref); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := s.channelOf(t, "c-ada", SupportChannel).Messages; len(got) != 0 {
		t.Errorf("after Delete got messages %+v, want none", got)
	}
	if err := s.Delete(ctx, ref); err != nil {
		t.Errorf("second Delete: got %v, want nil", err)
	}
	if err := s.Update(ctx, ref, bot.Message{Text: "again"}); !errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("Update of a deleted message: got %v, want ErrUndeliverable", err)
	}
	if err := s.Update(ctx, bot.Ref{Channel: SupportChannel, Message: "m42"}, bot.Message{Text: "x"}); !errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("Update of an unknown message: got %v, want ErrUndeliverable", err)
	}
	if err := s.Delete(ctx, bot.Ref{Message: "m42"}); !errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("Delete of an unknown message: got %v, want ErrUndeliverable", err)
	}
	other, err := s.Send(ctx, bot.Ref{Channel: SupportChannel}, bot.Message{Text: "hello"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := s.Update(ctx, bot.Ref{Channel: StaffChannel, Message: other.Message}, bot.Message{Text: "x"}); !errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("Update with the wrong channel: got %v, want ErrUndeliverable", err)
	}
}

func TestContextDoneRefusesDelivery(t *testing.T) {
	s := newTestSandbox(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Send(ctx, bot.Ref{Channel: SupportChannel}, bot.Message{Text: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestHistorySurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.jsonl")
	ctx := context.Background()
	s1 := newTestSandbox(t, path)
	if _, _, err := s1.OpenPrivate(ctx, &bot.Case{ID: 1, Customer: adaPerson()}, bot.Message{Text: "intro"}); err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	q, err := s1.Send(ctx, bot.Ref{Channel: SupportChannel}, bot.Message{Text: "question"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if _, err := s1.Send(ctx, bot.Ref{Channel: SupportChannel, Thread: q.Message}, bot.Message{Text: "taken private"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	survey, err := s1.Send(ctx, bot.Ref{Channel: "case-1"}, bot.Message{Text: "rate", Buttons: []bot.Button{{ActionID: "a.1", Label: "5"}, {ActionID: "a.2", Label: "Claim", Staff: true}}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := s1.Update(ctx, survey, bot.Message{Text: "rated", Buttons: []bot.Button{{ActionID: "a.3", Label: "Comment"}}}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	gone, err := s1.Send(ctx, bot.Ref{Channel: bot.ShowcaseChannel}, bot.Message{Text: "testimonial"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := s1.Delete(ctx, gone); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	before := map[string]stateJSON{}
	for _, id := range []string{"c-ada", "c-ben", "s-sam"} {
		before[id] = s1.state(s1.byID[id])
	}

	s2 := newTestSandbox(t, path)
	for id, want := range before {
		got := s2.state(s2.byID[id])
		if !slices.Equal(channelNames(got), channelNames(want)) {
			t.Errorf("%s: got channels %v, want %v", id, channelNames(got), channelNames(want))
			continue
		}
		for i := range want.Channels {
			if g, w := got.Channels[i].Messages, want.Channels[i].Messages; !sameMessages(g, w) {
				t.Errorf("%s #%s: got %+v, want %+v", id, want.Channels[i].Name, g, w)
			}
		}
	}
	next, err := s2.Send(ctx, bot.Ref{Channel: SupportChannel}, bot.Message{Text: "after restart"})
	if err != nil {
		t.Fatalf("Send after restart: %v", err)
	}
	for _, old := range []bot.Ref{q, survey, gone} {
		n, _ := messageNumber(next.Message)
		o, _ := messageNumber(old.Message)
		if n <= o {
			t.Errorf("got new ID %s, want it after %s", next.Message, old.Message)
		}
	}
}

// sameMessages compares messages ignoring times' monotonic readings.
func sameMessages(a, b []messageJSON) bool {
	return slices.EqualFunc(a, b, func(x, y messageJSON) bool {
		return x.ID == y.ID && x.Thread == y.Thread && x.Author == y.Author && x.Text == y.Text &&
			x.At.Equal(y.At) && x.Edited == y.Edited && x.Deleted == y.Deleted && slices.Equal(x.Buttons, y.Buttons)
	})
}

func TestHistoryToleratesATornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.jsonl")
	ctx := context.Background()
	s1 := newTestSandbox(t, path)
	if _, err := s1.Send(ctx, bot.Ref{Channel: SupportChannel}, bot.Message{Text: "kept"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, err := f.WriteString(`{"op":"post","post":{"id":"m9`); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	s2 := newTestSandbox(t, path)
	if got := s2.channelOf(t, "c-ada", SupportChannel).Messages; len(got) != 1 || got[0].Text != "kept" {
		t.Fatalf("after a torn line got %+v, want the one kept message", got)
	}
	if !strings.Contains(s2.logs.String(), "sandbox history line skipped") {
		t.Errorf("got logs %q, want a warning about the skipped line", s2.logs.String())
	}
	if _, err := s2.Send(ctx, bot.Ref{Channel: SupportChannel}, bot.Message{Text: "after"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	s3 := newTestSandbox(t, path)
	var texts []string
	for _, m := range s3.channelOf(t, "c-ada", SupportChannel).Messages {
		texts = append(texts, m.Text)
	}
	if want := []string{"kept", "after"}; !slices.Equal(texts, want) {
		t.Errorf("got %q, want %q", texts, want)
	}
}

func TestOpenPrivateKeepsAnOlderChannelOfTheSameName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.jsonl")
	ctx := context.Background()
	s1 := newTestSandbox(t, path)
	if _, _, err := s1.OpenPrivate(ctx, &bot.Case{ID: 1, Customer: adaPerson()}, bot.Message{Text: "Ada's intro", Nonce: "adv1"}); err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	// A new database starts case numbers again; the platform's history stays.
	s2 := newTestSandbox(t, path)
	ben := bot.Person{Platform: bot.Sandbox, ID: "c-ben", Name: "Ben"}
	if _, _, err := s2.OpenPrivate(ctx, &bot.Case{ID: 1, Customer: ben}, bot.Message{Text: "Ben's intro", Nonce: "adv1"}); err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	for _, s := range []*testSandbox{s2, newTestSandbox(t, path)} {
		ch := s.channelOf(t, "c-ben", "case-1")
		if ch == nil || len(ch.Messages) != 1 || ch.Messages[0].Text != "Ben's intro" {
			t.Errorf("Ben: got case-1 %+v, want only his intro", ch)
		}
		if ch := s.channelOf(t, "c-ada", "case-1"); ch != nil {
			t.Errorf("Ada: got case-1 %+v, want it hidden", ch)
		}
		old := s.channelOf(t, "c-ada", "case-1-old1")
		if old == nil || len(old.Messages) != 1 || old.Messages[0].Text != "Ada's intro" {
			t.Errorf("Ada: got case-1-old1 %+v, want her earlier conversation", old)
		}
	}
}
