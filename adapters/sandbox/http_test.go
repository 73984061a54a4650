package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// do sends a request to the sandbox's handler and returns the recorded answer.
func (s *testSandbox) do(t *testing.T, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w
}

// post sends v as JSON and decodes a successful answer.
func (s *testSandbox) post(t *testing.T, path string, v any) (int, replyJSON, string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	w := s.do(t, http.MethodPost, path, string(b))
	var r replyJSON
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
			t.Fatalf("decode %s: %v", w.Body.String(), err)
		}
	}
	return w.Code, r, w.Body.String()
}

func (s *testSandbox) say(t *testing.T, as, channel, text string) replyJSON {
	t.Helper()
	code, r, body := s.post(t, "/sandbox/api/say", sayRequest{As: as, Channel: channel, Text: text})
	if code != http.StatusOK {
		t.Fatalf("say %q as %s in %s: got %d %s, want 200", text, as, channel, code, body)
	}
	return r
}

func TestStateShowsOnlyWhatThePersonaMaySee(t *testing.T) {
	s := newTestSandbox(t, "")
	ctx := context.Background()
	ben := bot.Person{Platform: bot.Sandbox, ID: "c-ben", Name: "Ben"}
	var adaStaff bot.Ref
	for i, who := range []bot.Person{adaPerson(), ben} {
		_, staff, err := s.OpenPrivate(ctx, &bot.Case{ID: int64(i + 1), Customer: who}, bot.Message{Text: "intro"})
		if err != nil {
			t.Fatalf("OpenPrivate: %v", err)
		}
		if i == 0 {
			adaStaff = staff
		}
	}
	solved := bot.Message{Text: "solved?", Buttons: []bot.Button{{ActionID: "solved", Label: "Solved"}}}
	if _, err := s.Send(ctx, bot.Ref{Channel: "case-1"}, solved); err != nil {
		t.Fatalf("Send: %v", err)
	}
	controls := bot.Message{Text: "controls", Buttons: []bot.Button{{ActionID: "claim", Label: "Claim", Staff: true}}}
	if _, err := s.Send(ctx, adaStaff, controls); err != nil {
		t.Fatalf("Send: %v", err)
	}
	tests := []struct {
		as       string
		channels []string
		buttons  []string
	}{
		{"c-ada", []string{"support", "showcase", "case-1"}, []string{"Solved"}},
		{"c-ben", []string{"support", "showcase", "case-2"}, nil},
		{"s-sam", []string{"support", "showcase", "staff", "case-1", "case-2"}, []string{"Claim", "Solved"}},
	}
	for _, tt := range tests {
		w := s.do(t, http.MethodGet, "/sandbox/api/state?as="+tt.as, "")
		if w.Code != http.StatusOK {
			t.Fatalf("%s: got %d %s, want 200", tt.as, w.Code, w.Body)
		}
		var st stateJSON
		if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got := channelNames(st); strings.Join(got, ",") != strings.Join(tt.channels, ",") {
			t.Errorf("%s: got channels %v, want %v", tt.as, got, tt.channels)
		}
		if st.Me.ID != tt.as || !st.Running {
			t.Errorf("%s: got me %+v running %v, want %s and running", tt.as, st.Me, st.Running, tt.as)
		}
		var labels []string
		for _, c := range st.Channels {
			for _, m := range c.Messages {
				for _, b := range m.Buttons {
					labels = append(labels, b.Label)
				}
			}
		}
		if strings.Join(labels, ",") != strings.Join(tt.buttons, ",") {
			t.Errorf("%s: got buttons %v, want %v", tt.as, labels, tt.buttons)
		}
	}
	if w := s.do(t, http.MethodGet, "/sandbox/api/state?as=c-nobody", ""); w.Code != http.StatusBadRequest {
		t.Errorf("unknown persona: got %d, want 400", w.Code)
	}
}

func TestSayRefusesBadInput(t *testing.T) {
	s := newTestSandbox(t, "")
	if _, _, err := s.OpenPrivate(context.Background(), &bot.Case{ID: 1, Customer: adaPerson()}, bot.Message{Text: "intro"}); err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	tests := []struct {
		name   string
		ctype  string
		body   string
		status int
	}{
		{"unknown persona", "application/json", `{"as":"c-eve","channel":"support","text":"hi"}`, http.StatusBadRequest},
		{"unknown channel", "application/json", `{"as":"c-ada","channel":"random","text":"hi"}`, http.StatusBadRequest},
		{"another customer's case", "application/json", `{"as":"c-ben","channel":"case-1","text":"hi"}`, http.StatusForbidden},
		{"staff channel as a customer", "application/json", `{"as":"c-ada","channel":"staff","text":"hi"}`, http.StatusForbidden},
		{"too long", "application/json", `{"as":"c-ada","channel":"support","text":"` + strings.Repeat("é", maxText+1) + `"}`, http.StatusBadRequest},
		{"empty", "application/json", `{"as":"c-ada","channel":"support","text":"  \n "}`, http.StatusBadRequest},
		{"malformed JSON", "application/json", `{"as":"c-ada",`, http.StatusBadRequest},
		{"unknown field", "application/json", `{"as":"c-ada","channel":"support","text":"hi","html":true}`, http.StatusBadRequest},
		{"two objects", "application/json", `{"as":"c-ada","channel":"support","text":"hi"}{}`, http.StatusBadRequest},
		{"not JSON", "text/plain", `as=c-ada`, http.StatusUnsupportedMediaType},
		{"too large", "application/json", `{"as":"` + strings.Repeat("a", maxBody) + `"}`, http.StatusRequestEntityTooLarge},
		{"unknown command", "application/json", `{"as":"c-ada","channel":"support","text":"/dance"}`, http.StatusBadRequest},
		{"note without text", "application/json", `{"as":"s-sam","channel":"case-1","text":"/note"}`, http.StatusBadRequest},
		{"stats of a year", "application/json", `{"as":"s-sam","channel":"case-1","text":"/stats 365d"}`, http.StatusBadRequest},
		{"notice without text", "application/json", `{"as":"s-sam","channel":"case-1","text":"/notice #support"}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/sandbox/api/say", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, req)
			if w.Code != tt.status {
				t.Fatalf("got %d %s, want %d", w.Code, w.Body, tt.status)
			}
			var e errorJSON
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Errorf("got body %q, want a JSON error", w.Body)
			}
		})
	}
	if got := len(s.core.Events()); got != 0 {
		t.Errorf("got %d events handed to the core, want 0", got)
	}
	if got := len(s.channelOf(t, "c-ada", SupportChannel).Messages); got != 0 {
		t.Errorf("got %d messages in #support, want 0", got)
	}
	if got := strings.Count(s.logs.String(), "sandbox request refused"); got != len(tests) {
		t.Errorf("got %d refusal log lines, want %d", got, len(tests))
	}
}

func TestSayHandsMessagesToTheCore(t *testing.T) {
	s := newTestSandbox(t, "")
	if _, _, err := s.OpenPrivate(context.Background(), &bot.Case{ID: 3, Customer: adaPerson()}, bot.Message{Text: "intro"}); err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	secret := "my card number is 4111 1111"
	r := s.say(t, "c-ada", SupportChannel, secret)
	ev := s.core.Last(t)
	want := bot.Ref{Platform: bot.Sandbox, Channel: SupportChannel, Message: r.Message}
	if ev.Kind != bot.EventMessage || !ev.Support || ev.Where != want || ev.Text != secret {
		t.Errorf("got event %+v, want a support message at %+v", ev, want)
	}
	if a := ev.Author; a.Platform != bot.Sandbox || a.ID != "c-ada" || a.Name != "Ada" || a.Bot || ev.At.IsZero() {
		t.Errorf("got author %+v at %v, want Ada and a time", ev.Author, ev.At)
	}
	if msgs := s.channelOf(t, "s-sam", SupportChannel).Messages; len(msgs) != 1 || msgs[0].Text != secret || msgs[0].Author.ID != "c-ada" {
		t.Errorf("got #support %+v, want Ada's message", msgs)
	}

	r = s.say(t, "s-sam", "case-3", "Let me check")
	ev2 := s.core.Last(t)
	want = bot.Ref{Platform: bot.Sandbox, Channel: "case-3", Message: r.Message}
	if ev2.Kind != bot.EventMessage || ev2.Support || ev2.Where != want || ev2.Author.ID != "s-sam" {
		t.Errorf("got event %+v, want Sam's message at %+v", ev2, want)
	}
	if ev.ID == "" || ev.ID == ev2.ID || !strings.HasPrefix(ev.ID, "sandbox-") {
		t.Errorf("got event IDs %q and %q, want distinct sandbox IDs", ev.ID, ev2.ID)
	}
	if strings.Contains(s.logs.String(), "4111") {
		t.Errorf("message text leaked into the logs: %s", s.logs)
	}
}

func TestCommandsBecomeCommandEvents(t *testing.T) {
	s := newTestSandbox(t, "")
	if _, _, err := s.OpenPrivate(context.Background(), &bot.Case{ID: 1, Customer: adaPerson()}, bot.Message{Text: "intro"}); err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	s.core.setReply(func(ev bot.Event) (bot.Reply, error) {
		return bot.Reply{Ephemeral: "Done."}, nil
	})
	tests := []struct {
		as, channel, line string
		command, text     string
		fields            map[string]string
	}{
		{"c-ada", SupportChannel, "/support my login fails", bot.CmdSupport, "my login fails", nil},
		{"c-ada", SupportChannel, "/support", bot.CmdSupport, "", nil},
		{"c-ada", SupportChannel, "/link", bot.CmdLink, "", nil},
		{"c-ada", SupportChannel, "/link K7M2-QX9D", bot.CmdLink, "K7M2-QX9D", nil},
		{"s-sam", "case-1", "/claim", bot.CmdClaim, "", nil},
		{"s-sam", "case-1", "/RESOLVE", bot.CmdResolve, "", nil},
		{"s-sam", "case-1", "/reopen", bot.CmdReopen, "", nil},
		{"s-sam", "case-1", "/note called the bank", bot.CmdNote, "called the bank", nil},
		{"s-sam", "case-1", "/notice #support Logins are slow", bot.CmdNotice, "Logins are slow", map[string]string{"channel": "support"}},
		{"s-sam", StaffChannel, "/stats 30d", bot.CmdStats, "30d", nil},
		{"c-ada", "case-1", "/claim", bot.CmdClaim, "", nil}, // the core refuses a customer
	}
	for _, tt := range tests {
		r := s.say(t, tt.as, tt.channel, tt.line)
		if r.Ephemeral != "Done." || r.Message != "" {
			t.Errorf("%s: got reply %+v, want the ephemeral and no message", tt.line, r)
		}
		ev := s.core.Last(t)
		where := bot.Ref{Platform: bot.Sandbox, Channel: tt.channel}
		if ev.Kind != bot.EventCommand || ev.Command != tt.command || ev.Text != tt.text || ev.Where != where || ev.Author.ID != tt.as {
			t.Errorf("%s: got %+v, want command %q text %q at %+v by %s", tt.line, ev, tt.command, tt.text, where, tt.as)
		}
		if len(ev.Fields) != len(tt.fields) || ev.Fields["channel"] != tt.fields["channel"] {
			t.Errorf("%s: got fields %v, want %v", tt.line, ev.Fields, tt.fields)
		}
	}
	if got := len(s.channelOf(t, "s-sam", "case-1").Messages); got != 1 {
		t.Errorf("got %d messages in case-1, want only the intro: commands post nothing", got)
	}
}

func TestClickHandsTheButtonToTheCore(t *testing.T) {
	s := newTestSandbox(t, "")
	ctx := context.Background()
	if _, _, err := s.OpenPrivate(ctx, &bot.Case{ID: 1, Customer: adaPerson()}, bot.Message{Text: "intro"}); err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	survey, err := s.Send(ctx, bot.Ref{Channel: "case-1"}, bot.Message{Text: "rate", Buttons: []bot.Button{
		{ActionID: "a1.1.1.rate.5.x", Label: "5"},
		{ActionID: "a1.1.1.go.2.x", Label: "Post on X", URL: "https://x.com/intent/post?text=hi"},
	}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	s.core.setReply(func(ev bot.Event) (bot.Reply, error) { return bot.Reply{Ephemeral: "Thanks"}, nil })
	code, r, body := s.post(t, "/sandbox/api/click", clickRequest{As: "c-ada", Message: survey.Message, ActionID: "a1.1.1.rate.5.x"})
	if code != http.StatusOK || r.Ephemeral != "Thanks" {
		t.Fatalf("click: got %d %s, want 200 with the ephemeral", code, body)
	}
	ev := s.core.Last(t)
	if ev.Kind != bot.EventAction || ev.ActionID != "a1.1.1.rate.5.x" || ev.Where != survey || ev.Author.ID != "c-ada" {
		t.Errorf("got %+v, want Ada's click on %+v", ev, survey)
	}
	n := len(s.core.Events())
	for _, tt := range []struct {
		name   string
		req    clickRequest
		status int
	}{
		{"unknown message", clickRequest{As: "c-ada", Message: "m1", ActionID: "a1.1.1.rate.5.x"}, http.StatusBadRequest},
		{"button not on the message", clickRequest{As: "c-ada", Message: survey.Message, ActionID: "a1.1.1.rate.1.x"}, http.StatusBadRequest},
		{"someone else's case", clickRequest{As: "c-ben", Message: survey.Message, ActionID: "a1.1.1.rate.5.x"}, http.StatusForbidden},
		{"link button", clickRequest{As: "c-ada", Message: survey.Message, ActionID: "a1.1.1.go.2.x"}, http.StatusBadRequest},
		{"unknown persona", clickRequest{As: "nobody", Message: survey.Message, ActionID: "a1.1.1.rate.5.x"}, http.StatusBadRequest},
	} {
		if code, _, body := s.post(t, "/sandbox/api/click", tt.req); code != tt.status {
			t.Errorf("%s: got %d %s, want %d", tt.name, code, body, tt.status)
		}
	}
	if got := len(s.core.Events()); got != n {
		t.Errorf("got %d more events, want none for refused clicks", got-n)
	}
}

func TestModalsAreSubmittedOnceByTheirPersona(t *testing.T) {
	s := newTestSandbox(t, "")
	ctx := context.Background()
	if _, _, err := s.OpenPrivate(ctx, &bot.Case{ID: 1, Customer: adaPerson()}, bot.Message{Text: "intro"}); err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	prompt, err := s.Send(ctx, bot.Ref{Channel: "case-1"}, bot.Message{Text: "share?", Buttons: []bot.Button{{ActionID: "share", Label: "Post in #showcase"}}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	s.core.setReply(func(ev bot.Event) (bot.Reply, error) {
		if ev.Kind == bot.EventSubmit {
			return bot.Reply{Ephemeral: "Posted"}, nil
		}
		return bot.Reply{Modal: &bot.Modal{ActionID: "post.sig", Title: "Preview", Submit: "Post", Fields: []bot.Field{
			{ID: "text", Label: "Your words", Value: "Great help", Multiline: true, Required: true, MaxLen: 20},
			{ID: "extra", Label: "Extra"},
		}}}, nil
	})
	code, r, body := s.post(t, "/sandbox/api/click", clickRequest{As: "c-ada", Message: prompt.Message, ActionID: "share"})
	if code != http.StatusOK || r.Modal == nil {
		t.Fatalf("click: got %d %s, want a modal", code, body)
	}
	m := r.Modal
	wantField := fieldJSON{ID: "text", Label: "Your words", Value: "Great help", Multiline: true, Required: true, MaxLen: 20}
	if m.View == "" || m.Title != "Preview" || m.Submit != "Post" || len(m.Fields) != 2 || m.Fields[0] != wantField || m.Fields[1].MaxLen != maxText {
		t.Fatalf("got modal %+v, want the preview with its fields", m)
	}
	if strings.Contains(body, "post.sig") {
		t.Errorf("got body %s, want the signed action ID kept on the server", body)
	}
	n := len(s.core.Events())
	for _, tt := range []struct {
		name   string
		req    submitRequest
		status int
	}{
		{"another persona", submitRequest{As: "c-ben", View: m.View, Fields: map[string]string{"text": "hi"}}, http.StatusForbidden},
		{"unknown view", submitRequest{As: "c-ada", View: "v123", Fields: map[string]string{"text": "hi"}}, http.StatusBadRequest},
		{"unknown field", submitRequest{As: "c-ada", View: m.View, Fields: map[string]string{"text": "hi", "html": "x"}}, http.StatusBadRequest},
		{"too long", submitRequest{As: "c-ada", View: m.View, Fields: map[string]string{"text": strings.Repeat("x", 21)}}, http.StatusBadRequest},
		{"required missing", submitRequest{As: "c-ada", View: m.View, Fields: map[string]string{"text": "   "}}, http.StatusBadRequest},
	} {
		if code, _, body := s.post(t, "/sandbox/api/submit", tt.req); code != tt.status {
			t.Errorf("%s: got %d %s, want %d", tt.name, code, body, tt.status)
		}
	}
	if got := len(s.core.Events()); got != n {
		t.Errorf("got %d more events, want none for refused submissions", got-n)
	}
	code, r, body = s.post(t, "/sandbox/api/submit", submitRequest{As: "c-ada", View: m.View, Fields: map[string]string{"text": "Quick and kind"}})
	if code != http.StatusOK || r.Ephemeral != "Posted" {
		t.Fatalf("submit: got %d %s, want 200 with the ephemeral", code, body)
	}
	ev := s.core.Last(t)
	where := bot.Ref{Platform: bot.Sandbox, Channel: "case-1"}
	if ev.Kind != bot.EventSubmit || ev.ActionID != "post.sig" || ev.Where != where || ev.Fields["text"] != "Quick and kind" || ev.Fields["extra"] != "" || len(ev.Fields) != 2 {
		t.Errorf("got %+v, want the submission of the preview in case-1", ev)
	}
	if code, _, _ := s.post(t, "/sandbox/api/submit", submitRequest{As: "c-ada", View: m.View, Fields: map[string]string{"text": "again"}}); code != http.StatusBadRequest {
		t.Errorf("second submission: got %d, want 400", code)
	}
}

func TestLinkButtonsRedirectThroughTheCore(t *testing.T) {
	s := newTestSandbox(t, "")
	ctx := context.Background()
	if _, _, err := s.OpenPrivate(ctx, &bot.Case{ID: 1, Customer: adaPerson()}, bot.Message{Text: "intro"}); err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	const id = "a1.1.1.go.2.sig"
	prompt, err := s.Send(ctx, bot.Ref{Channel: "case-1"}, bot.Message{Text: "share?", Buttons: []bot.Button{
		{ActionID: id, Label: "Post on X", URL: "https://x.com/intent/post?text=hi"},
	}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	var href string
	for _, m := range s.channelOf(t, "c-ada", "case-1").Messages {
		for _, b := range m.Buttons {
			href = b.Href
		}
	}
	want := "go?" + (url.Values{"a": {id}, "as": {"c-ada"}}).Encode()
	if href != want {
		t.Fatalf("got href %q, want %q", href, want)
	}
	s.core.setReply(func(ev bot.Event) (bot.Reply, error) {
		if ev.ActionID == id && ev.Author.ID == "c-ada" {
			return bot.Reply{URL: "https://x.com/intent/post?text=hi"}, nil
		}
		return bot.Reply{Ephemeral: "Only the customer of this case can use these buttons."}, nil
	})
	w := s.do(t, http.MethodGet, "/sandbox/"+href, "")
	if w.Code != http.StatusFound || w.Header().Get("Location") != "https://x.com/intent/post?text=hi" {
		t.Fatalf("got %d to %q, want 302 to the X intent", w.Code, w.Header().Get("Location"))
	}
	ev := s.core.Last(t)
	if ev.Kind != bot.EventAction || ev.ActionID != id || ev.Author.ID != "c-ada" || ev.Where != prompt {
		t.Errorf("got %+v, want Ada's link click on %+v", ev, prompt)
	}
	n := len(s.core.Events())
	for _, tt := range []struct {
		name, target string
		status       int
	}{
		{"forged ID", "/sandbox/go?" + url.Values{"a": {"a1.1.1.go.2.forged"}, "as": {"c-ada"}}.Encode(), http.StatusNotFound},
		{"no ID", "/sandbox/go?as=c-ada", http.StatusNotFound},
		{"not visible to Ben", "/sandbox/go?" + url.Values{"a": {id}, "as": {"c-ben"}}.Encode(), http.StatusNotFound},
		{"unknown persona", "/sandbox/go?" + url.Values{"a": {id}, "as": {"c-eve"}}.Encode(), http.StatusBadRequest},
	} {
		if w := s.do(t, http.MethodGet, tt.target, ""); w.Code != tt.status || w.Header().Get("Location") != "" {
			t.Errorf("%s: got %d to %q, want %d and no redirect", tt.name, w.Code, w.Header().Get("Location"), tt.status)
		}
	}
	if got := len(s.core.Events()); got != n {
		t.Errorf("got %d more events, want none for refused links", got-n)
	}
	// Staff see the case, but the core refuses their click: no URL, no redirect.
	w = s.do(t, http.MethodGet, "/sandbox/go?"+url.Values{"a": {id}, "as": {"s-sam"}}.Encode(), "")
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "Only the customer") {
		t.Errorf("refused by the core: got %d %q, want 404 with the refusal", w.Code, w.Body)
	}
}

func TestActingNeedsARunningSandbox(t *testing.T) {
	s, err := New(Options{Customers: []string{"Ada"}, Staff: []string{"Sam"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := &testSandbox{Sandbox: s, core: &fakeCore{}}
	if err := s.Connected(); err == nil {
		t.Error("Connected before Run: got nil, want an error for /readyz")
	}
	code, _, body := ts.post(t, "/sandbox/api/say", sayRequest{As: "c-ada", Channel: SupportChannel, Text: "hello"})
	if code != http.StatusServiceUnavailable {
		t.Errorf("say: got %d %s, want 503", code, body)
	}
	if got := len(ts.channelOf(t, "c-ada", SupportChannel).Messages); got != 0 {
		t.Errorf("got %d messages, want none posted while not running", got)
	}
	if w := ts.do(t, http.MethodGet, "/sandbox/api/events?as=c-ada", ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("events: got %d, want 503", w.Code)
	}
	if err := s.Run(context.Background(), nil); err == nil {
		t.Error("Run with no handler: got nil, want an error")
	}
}

func TestCoreErrorsAndPanicsAreAnswered(t *testing.T) {
	s := newTestSandbox(t, "")
	s.core.setReply(func(bot.Event) (bot.Reply, error) { return bot.Reply{}, errors.New("disk full") })
	if code, _, body := s.post(t, "/sandbox/api/say", sayRequest{As: "c-ada", Channel: SupportChannel, Text: "hi"}); code != http.StatusInternalServerError {
		t.Errorf("core error: got %d %s, want 500", code, body)
	}
	s.core.setReply(func(bot.Event) (bot.Reply, error) { panic("bug") })
	if code, _, body := s.post(t, "/sandbox/api/say", sayRequest{As: "c-ada", Channel: SupportChannel, Text: "hi"}); code != http.StatusInternalServerError {
		t.Errorf("core panic: got %d %s, want 500", code, body)
	}
}

func TestPageAndRoutes(t *testing.T) {
	s := newTestSandbox(t, "")
	tests := []struct {
		method, target string
		status         int
		ctype          string
	}{
		{http.MethodGet, "/sandbox/", http.StatusOK, "text/html"},
		{http.MethodGet, "/sandbox/static/app.js", http.StatusOK, "javascript"},
		{http.MethodGet, "/sandbox/static/style.css", http.StatusOK, "text/css"},
		{http.MethodGet, "/sandbox/static/index.html", http.StatusNotFound, ""},
		{http.MethodGet, "/sandbox/static/nope.js", http.StatusNotFound, ""},
		{http.MethodGet, "/sandbox/api/nope", http.StatusNotFound, "application/json"},
		{http.MethodGet, "/sandbox/api/say", http.StatusMethodNotAllowed, "application/json"},
		{http.MethodPost, "/sandbox/api/state", http.StatusMethodNotAllowed, "application/json"},
		{http.MethodGet, "/sandbox/api/personas", http.StatusOK, "application/json"},
	}
	for _, tt := range tests {
		w := s.do(t, tt.method, tt.target, "")
		if w.Code != tt.status || !strings.Contains(w.Header().Get("Content-Type"), tt.ctype) {
			t.Errorf("%s %s: got %d %q, want %d %q", tt.method, tt.target, w.Code, w.Header().Get("Content-Type"), tt.status, tt.ctype)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s %s: got CSP %q, want scripts from the page's origin only", tt.method, tt.target, csp)
		}
	}
	if w := s.do(t, http.MethodGet, "/sandbox", ""); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/sandbox/" {
		t.Errorf("/sandbox: got %d to %q, want a redirect to /sandbox/", w.Code, w.Header().Get("Location"))
	}
}

func TestEventsStreamOnlyVisibleChanges(t *testing.T) {
	s := newTestSandbox(t, "")
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/sandbox/api/events?as=c-ada", nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Fatalf("got content type %q, want text/event-stream", got)
	}
	events := bufio.NewReader(resp.Body)
	next := func() (string, change) {
		t.Helper()
		var name string
		for {
			line, err := events.ReadString('\n')
			if err != nil {
				t.Fatalf("read stream: %v", err)
			}
			line = strings.TrimSpace(line)
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				var c change
				if err := json.Unmarshal([]byte(v), &c); err != nil {
					t.Fatalf("decode %q: %v", v, err)
				}
				return name, c
			}
		}
	}
	if name, _ := next(); name != "hello" {
		t.Fatalf("got first event %q, want hello", name)
	}
	if _, err := s.Send(ctx, bot.Ref{Channel: bot.StaffChannel}, bot.Message{Text: "for staff"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if _, err := s.Send(ctx, bot.Ref{Channel: SupportChannel}, bot.Message{Text: "for all"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	name, c := next()
	if name != "change" || c.Channel != SupportChannel || c.Version == 0 {
		t.Errorf("got %s %+v, want a change in #support (and nothing about #staff)", name, c)
	}
}
