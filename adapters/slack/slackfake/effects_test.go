package slackfake_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
)

// TestEffectsCountEveryChange: every accepted call that changes what people
// see is one effect; a refused call and a read are none; the same post made
// twice has one key.
func TestEffectsCountEveryChange(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := slackfake.New(t)
	srv.AddChannel("C1", "support", true)
	srv.AddUser("U1", "ada")
	api := apiClient(srv, srv.BotToken())

	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hello", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hello", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("in a thread", false), slack.MsgOptionTS(ts)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slack.MsgOptionText("hello, edited", false)); err != nil {
		t.Fatal(err)
	}
	if _, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("only you", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C404", slack.MsgOptionText("nowhere", false)); slackErr(err) != "channel_not_found" {
		t.Fatalf("post to an unknown channel: got %v, want channel_not_found", err)
	}
	if _, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1"}); err != nil {
		t.Fatal(err)
	}
	trigger := srv.NewTrigger("U1")
	modal := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "Preview", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "text", false, false), nil, nil)}}}
	if _, err := api.OpenViewContext(ctx, trigger, modal); err != nil {
		t.Fatal(err)
	}
	if _, err := api.OpenViewContext(ctx, trigger, modal); slackErr(err) == "" {
		t.Fatal("a used trigger opened a second view")
	}

	var kinds []string
	keys := map[string]int{}
	for _, e := range srv.Effects() {
		kinds = append(kinds, e.Kind)
		keys[e.Key()]++
	}
	want := "chat.postMessage chat.postMessage chat.postMessage chat.update chat.postEphemeral views.open"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("effects: got %s, want %s", got, want)
	}
	effects := srv.Effects()
	if effects[0].Key() != effects[1].Key() || effects[0].Key() == effects[2].Key() {
		t.Errorf("keys: the same post twice must share a key, a thread reply must not: %q %q %q",
			effects[0].Key(), effects[1].Key(), effects[2].Key())
	}
	if e := effects[2]; e.Thread != ts || e.Channel != "C1" || e.Text != "in a thread" {
		t.Errorf("thread reply effect: got %+v, want channel C1, thread %s", e, ts)
	}
	if e := effects[3]; e.Target != ts {
		t.Errorf("update effect: target %q, want %s", e.Target, ts)
	}
	if e := effects[4]; e.User != "U1" {
		t.Errorf("ephemeral effect: user %q, want U1", e.User)
	}
	if got := srv.CountEffects("chat.postMessage"); got != 3 {
		t.Errorf("CountEffects(chat.postMessage) = %d, want 3", got)
	}
}

// flakyApp answers the first failures[path] requests to a path with 500 and
// records what arrived; the first request waits slow before it answers.
type flakyApp struct {
	mu       sync.Mutex
	failures map[string]int
	seen     map[string]int
	retries  []string
	slow     time.Duration
}

func (a *flakyApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.seen[r.URL.Path]++
	n := a.seen[r.URL.Path]
	if h := r.Header.Get("X-Slack-Retry-Num"); h != "" {
		a.retries = append(a.retries, h+" "+r.Header.Get("X-Slack-Retry-Reason"))
	}
	slow := a.slow
	a.slow = 0
	a.mu.Unlock()
	if slow > 0 {
		select {
		case <-time.After(slow):
		case <-r.Context().Done():
		}
	}
	if n <= a.failures[r.URL.Path] {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	if r.URL.Path == "/slack/interactive" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"response_action":"errors","errors":{"text":"too short"}}`))
	}
}

// TestEnvelopesOverHTTP: in HTTP mode the envelopes go to the app as signed
// POSTs; a failed Events API delivery is retried with Slack's headers, an
// interaction is not, and a response body acts as an ack payload.
func TestEnvelopesOverHTTP(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := slackfake.New(t, slackfake.WithDelivery(200*time.Millisecond, 0, 10*time.Millisecond, 10*time.Millisecond))
	srv.AddChannel("C1", "support", true)
	srv.AddUser("U1", "ada")
	app := &flakyApp{failures: map[string]int{"/slack/events": 2, "/slack/interactive": 1}, seen: map[string]int{}, slow: time.Second}
	hs := httptest.NewServer(app)
	t.Cleanup(hs.Close)
	srv.DeliverOverHTTP(hs.URL)

	p, err := srv.UserSays("U1", "C1", "hello")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitAck(ctx, p.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	env, _ := srv.Envelope(p.EnvelopeID)
	// the first attempt times out (slow), the second gets a 500, the third a 2xx
	if env.Deliveries != 3 || env.RetryAttempt != 2 || env.RetryReason != "http_error" || !env.Acked || env.Late {
		t.Errorf("event envelope: got %+v, want acked on the third delivery after an http_error", env)
	}
	app.mu.Lock()
	retries := strings.Join(app.retries, ", ")
	app.mu.Unlock()
	if retries != "1 http_timeout, 2 http_error" {
		t.Errorf("retry headers: got %q, want \"1 http_timeout, 2 http_error\"", retries)
	}

	// an interaction that fails is not retried
	api := apiClient(srv, srv.BotToken())
	_, ts, err := api.PostMessageContext(ctx, "C1", buttonBlocks("go", "v"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := srv.ClickButton("U1", "C1", ts, "go", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitUntil(ctx, func() bool { e, _ := srv.Envelope(id); return e.Expired }); err != nil {
		t.Fatal(err)
	}
	if e, _ := srv.Envelope(id); e.Deliveries != 1 || e.Acked {
		t.Errorf("failed click: got %+v, want one delivery, not acknowledged", e)
	}

	// a submission's response body is its response_action
	trigger := srv.NewTrigger("U1")
	v, err := api.OpenViewContext(ctx, trigger, slack.ModalViewRequest{Type: slack.VTModal,
		Title:  slack.NewTextBlockObject("plain_text", "Preview", false, false),
		Submit: slack.NewTextBlockObject("plain_text", "Post", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("b", slack.NewTextBlockObject("plain_text", "Text", false, false), nil,
			slack.NewPlainTextInputBlockElement(nil, "text"))}}})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := srv.SubmitView(v.View.ID, map[string]string{"text": "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitAck(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if got, _ := srv.View(v.View.ID); !got.Open || got.Errors["text"] != "too short" {
		t.Errorf("view after a response_action errors body: got open=%v errors=%v", got.Open, got.Errors)
	}
	if got := srv.CountEffects(slackfake.EffectAck); got != 1 {
		t.Errorf("ack effects: got %d, want 1 (the response_action)", got)
	}
}

// TestResponseURLAndCommandAckAreEffects: a slash command's HTTP response body
// shown by Slack and an accepted response_url post are effects; a refused
// response_url post is none.
func TestResponseURLAndCommandAckAreEffects(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := slackfake.New(t)
	srv.AddChannel("C1", "support", true)
	srv.AddUser("U1", "ada")
	form, err := srv.SlashCommandForm("U1", "C1", "/advocate", "help")
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("Working on it"))
	}))
	t.Cleanup(app.Close)
	if _, err := srv.Deliver(ctx, app.URL, []byte(form.Encode()), slackfake.FormContentType); err != nil {
		t.Fatal(err)
	}
	post := func(body string) int {
		resp, err := http.Post(form.Get("response_url"), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(`{"text":"Done"}`); got != http.StatusOK {
		t.Fatalf("response_url post: status %d", got)
	}
	if got := post(`not json`); got == http.StatusOK {
		t.Fatalf("a malformed response_url post was accepted")
	}
	var kinds []string
	for _, e := range srv.Effects() {
		kinds = append(kinds, e.Kind)
	}
	if got, want := strings.Join(kinds, " "), slackfake.EffectAck+" "+slackfake.EffectResponseURL; got != want {
		t.Errorf("effects: got %q, want %q", got, want)
	}
	if es := srv.Effects(); len(es) == 2 && (es[1].User != "U1" || es[1].Channel != "C1" || es[1].Text != "Done") {
		t.Errorf("response_url effect: got %+v, want Done to U1 in C1", es[1])
	}
}
