package slackfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
)

// testCtx bounds a test so a missing event fails it instead of hanging.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func apiClient(srv *slackfake.Server, token string) *slack.Client {
	return slack.New(token, slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken(srv.AppToken()))
}

// slackErr returns the Slack error code of err, or "" when it is not one.
func slackErr(err error) string {
	var e slack.SlackErrorResponse
	if errors.As(err, &e) {
		return e.Err
	}
	return ""
}

// startSocket runs a real socketmode client against srv and forwards its events.
func startSocket(t *testing.T, srv *slackfake.Server) (*socketmode.Client, <-chan socketmode.Event) {
	t.Helper()
	api := apiClient(srv, srv.BotToken())
	client := socketmode.New(api, socketmode.OptionPingInterval(10*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = client.RunContext(ctx)
	}()
	events := make(chan socketmode.Event, 256)
	go func() {
		for {
			select {
			case e := <-client.Events:
				select {
				case events <- e:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return client, events
}

// nextEvent returns the next client event of type typ, skipping others.
func nextEvent(ctx context.Context, t *testing.T, events <-chan socketmode.Event, typ socketmode.EventType) socketmode.Event {
	t.Helper()
	for {
		select {
		case e := <-events:
			if e.Type == typ {
				return e
			}
		case <-ctx.Done():
			t.Fatalf("no %s event: %v", typ, ctx.Err())
		}
	}
}

func buttonBlocks(actionID, value string) slack.MsgOption {
	return slack.MsgOptionBlocks(
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Did that fix it?", false, false), nil, nil),
		slack.NewActionBlock("", slack.NewButtonBlockElement(actionID, value, slack.NewTextBlockObject(slack.PlainTextType, "Yes", false, false))),
	)
}

func TestPostMessageKeepsHistoryAndThreads(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddChannel("C100", "help", true)
	api := apiClient(srv, srv.BotToken())

	ch, ts1, err := api.PostMessage("C100", slack.MsgOptionText("hello", false), buttonBlocks("fixed", "yes"))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	if ch != "C100" {
		t.Errorf("channel: got %q, want %q", ch, "C100")
	}
	_, ts2, err := api.PostMessage("C100", slack.MsgOptionText("a reply", false), slack.MsgOptionTS(ts1))
	if err != nil {
		t.Fatalf("PostMessage reply: %v", err)
	}
	f1, _ := strconv.ParseFloat(ts1, 64)
	f2, _ := strconv.ParseFloat(ts2, 64)
	if !(f2 > f1) {
		t.Errorf("ts not increasing: got %s then %s", ts1, ts2)
	}

	msgs := srv.Messages("C100")
	if got, want := len(msgs), 2; got != want {
		t.Fatalf("messages: got %d, want %d", got, want)
	}
	if got, want := msgs[0].BotID, srv.BotID(); got != want {
		t.Errorf("bot_id: got %q, want %q", got, want)
	}
	if got, want := msgs[0].User, srv.BotUserID(); got != want {
		t.Errorf("user: got %q, want %q", got, want)
	}
	var blocks []map[string]any
	if err := json.Unmarshal(msgs[0].Blocks, &blocks); err != nil {
		t.Fatalf("stored blocks: %v", err)
	}
	if id, _ := blocks[1]["block_id"].(string); id == "" {
		t.Errorf("actions block: got no generated block_id in %s", msgs[0].Blocks)
	}
	if got, want := msgs[1].ThreadTS, ts1; got != want {
		t.Errorf("reply thread_ts: got %q, want %q", got, want)
	}
	if got, want := len(srv.Thread("C100", ts2)), 2; got != want {
		t.Errorf("Thread by reply ts: got %d messages, want %d", got, want)
	}
	replies, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C100", Timestamp: ts1})
	if err != nil {
		t.Fatalf("GetConversationReplies: %v", err)
	}
	if got, want := len(replies), 2; got != want {
		t.Errorf("replies: got %d, want %d", got, want)
	}

	if _, _, _, err := api.UpdateMessage("C100", ts1, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatalf("UpdateMessage: %v", err)
	}
	if m, _ := srv.Message("C100", ts1); m.Text != "edited" || m.Edits != 1 {
		t.Errorf("after update: got text %q edits %d, want %q 1", m.Text, m.Edits, "edited")
	}
	if _, _, err := api.DeleteMessage("C100", ts2); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if _, _, err := api.DeleteMessage("C100", ts2); slackErr(err) != "message_not_found" {
		t.Errorf("second delete: got %v, want message_not_found", err)
	}
	if got, want := len(srv.Messages("C100")), 1; got != want {
		t.Errorf("messages after delete: got %d, want %d", got, want)
	}
	if _, _, err := api.PostMessage("C999", slack.MsgOptionText("x", false)); slackErr(err) != "channel_not_found" {
		t.Errorf("unknown channel: got %v, want channel_not_found", err)
	}
	if _, _, err := api.PostMessage("C100"); slackErr(err) != "no_text" {
		t.Errorf("empty post: got %v, want no_text", err)
	}

	// Slack echoes the app's own posts as message events; adapters must skip them.
	envs := srv.Envelopes()
	if got, want := len(envs), 2; got != want {
		t.Fatalf("echo envelopes: got %d, want %d", got, want)
	}
	ev, err := slackevents.ParseEvent(envs[0].Payload, slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatalf("echo payload: %v", err)
	}
	if me, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent); !ok || me.BotID != srv.BotID() {
		t.Errorf("echo event: got %#v, want a message event with bot_id %q", ev.InnerEvent.Data, srv.BotID())
	}
}

func TestTokensAreChecked(t *testing.T) {
	srv := slackfake.New(t)
	ctx := testCtx(t)

	res, err := apiClient(srv, srv.BotToken()).AuthTestContext(ctx)
	if err != nil {
		t.Fatalf("AuthTest: %v", err)
	}
	if res.UserID != srv.BotUserID() || res.BotID != srv.BotID() || res.TeamID != srv.TeamID() {
		t.Errorf("auth.test: got user %q bot %q team %q, want %q %q %q",
			res.UserID, res.BotID, res.TeamID, srv.BotUserID(), srv.BotID(), srv.TeamID())
	}
	for _, tc := range []struct {
		name, token, want string
	}{
		{"wrong token", "xoxb-not-the-token", "invalid_auth"},
		{"missing token", "", "not_authed"},
		{"app token on a bot method", srv.AppToken(), "not_allowed_token_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := apiClient(srv, tc.token).AuthTestContext(ctx)
			if got := slackErr(err); got != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
	bad := slack.New(srv.BotToken(), slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken(srv.BotToken()))
	if _, _, err := bad.StartSocketModeContext(ctx); slackErr(err) != "not_allowed_token_type" {
		t.Errorf("apps.connections.open with a bot token: got %v, want not_allowed_token_type", err)
	}
	if _, url, err := apiClient(srv, srv.BotToken()).StartSocketModeContext(ctx); err != nil || !strings.HasPrefix(url, "ws://127.0.0.1:") {
		t.Errorf("apps.connections.open: got %q, %v, want a ws://127.0.0.1 URL", url, err)
	}
}

func TestRateLimitsSurfaceAsRateLimitedError(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddChannel("C1", "help", true)
	srv.AddChannel("C2", "general", true)
	srv.AddUser("U1", "ada")
	api := apiClient(srv, srv.BotToken())

	srv.RateLimit("chat.postMessage", 1, 1500*time.Millisecond)
	_, _, err := api.PostMessage("C1", slack.MsgOptionText("one", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("got %v, want *slack.RateLimitedError", err)
	}
	if got, want := rl.RetryAfter, 2*time.Second; got != want {
		t.Errorf("RetryAfter: got %s, want %s (whole seconds, rounded up)", got, want)
	}
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("two", false)); err != nil {
		t.Errorf("post after the injected 429: %v", err)
	}

	srv.RateLimitChannel("C2", 1, 3*time.Second)
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("other channel", false)); err != nil {
		t.Errorf("post to an unlimited channel: %v", err)
	}
	_, _, err = api.PostMessage("C2", slack.MsgOptionText("limited", false))
	if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Errorf("channel limit: got %v, want a 3s RateLimitedError", err)
	}
	if got, want := srv.RateLimited(), 2; got != want {
		t.Errorf("RateLimited: got %d, want %d", got, want)
	}

	srv.Fail("users.info", 1, http.StatusServiceUnavailable)
	_, err = api.GetUserInfo("U1")
	var sce slack.StatusCodeError
	if !errors.As(err, &sce) || sce.Code != http.StatusServiceUnavailable {
		t.Errorf("injected 503: got %v, want StatusCodeError 503", err)
	}
}

func TestLostResponseTakesEffect(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddChannel("C1", "help", true)
	api := apiClient(srv, srv.BotToken())
	srv.LoseResponse("chat.postMessage", 1, http.StatusBadGateway)
	_, _, err := api.PostMessage("C1", slack.MsgOptionText("posted anyway", false))
	var sce slack.StatusCodeError
	if !errors.As(err, &sce) || sce.Code != http.StatusBadGateway {
		t.Errorf("lost response: got %v, want StatusCodeError 502", err)
	}
	if ms := srv.Messages("C1"); len(ms) != 1 || ms[0].Text != "posted anyway" {
		t.Errorf("history = %+v, want the post applied", ms)
	}
}

func TestHoldKeepsACallUnanswered(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddChannel("C1", "help", true)
	api := apiClient(srv, srv.BotToken())
	arrived, release := srv.Hold("chat.postMessage")
	done := make(chan error, 1)
	go func() {
		_, _, err := api.PostMessage("C1", slack.MsgOptionText("slow", false))
		done <- err
	}()
	<-arrived
	if n := len(srv.Messages("C1")); n != 0 {
		t.Errorf("a held call took effect: %d messages", n)
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("released call: %v", err)
	}
	if n := len(srv.Messages("C1")); n != 1 {
		t.Errorf("%d messages after release, want 1", n)
	}
}

func TestFaultForAnUnknownMethodPanics(t *testing.T) {
	srv := slackfake.New(t)
	defer func() {
		if recover() == nil {
			t.Error("a fault for a misspelt method was accepted")
		}
	}()
	srv.Fail("chat.postMesage", 1, http.StatusInternalServerError)
}

// fakeClock is a settable clock for pacing and expiry.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestPostPacingPerChannel(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1700000000, 0)}
	srv := slackfake.New(t, slackfake.WithClock(clock.Now), slackfake.WithPostPacing(time.Second))
	srv.AddChannel("C1", "help", true)
	srv.AddChannel("C2", "general", true)
	api := apiClient(srv, srv.BotToken())

	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("first", false)); err != nil {
		t.Fatalf("first post: %v", err)
	}
	var rl *slack.RateLimitedError
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("too fast", false)); !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Errorf("second post within the pace: got %v, want a 1s RateLimitedError", err)
	}
	if _, _, err := api.PostMessage("C2", slack.MsgOptionText("elsewhere", false)); err != nil {
		t.Errorf("post to another channel: %v", err)
	}
	clock.Advance(time.Second)
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("later", false)); err != nil {
		t.Errorf("post after the pace: %v", err)
	}
	if got, want := srv.RateLimitedCalls("chat.postMessage"), 1; got != want {
		t.Errorf("429s: got %d, want %d", got, want)
	}
	if got, want := len(srv.Messages("C1")), 2; got != want {
		t.Errorf("C1 messages: got %d, want %d", got, want)
	}
}

func TestSocketModeDeliversEventsAndRecordsAcks(t *testing.T) {
	srv := slackfake.New(t, slackfake.WithPingInterval(50*time.Millisecond))
	srv.AddUser("U1", "ada")
	srv.AddChannel("C1", "help", true)
	ctx := testCtx(t)
	client, events := startSocket(t, srv)
	nextEvent(ctx, t, events, socketmode.EventTypeHello)

	posted, err := srv.UserSays("U1", "C1", "<@"+srv.BotUserID()+"> my export is broken")
	if err != nil {
		t.Fatalf("UserSays: %v", err)
	}
	if posted.MentionEnvelopeID == "" {
		t.Fatalf("a mention of the bot sent no app_mention envelope")
	}
	ev := nextEvent(ctx, t, events, socketmode.EventTypeEventsAPI)
	if got, want := ev.Request.EnvelopeID, posted.EnvelopeID; got != want {
		t.Fatalf("envelope: got %q, want %q", got, want)
	}
	outer := ev.Data.(slackevents.EventsAPIEvent)
	cb, ok := outer.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || cb.EventID != posted.EventID {
		t.Errorf("event_id: got %#v, want %q", outer.Data, posted.EventID)
	}
	msg, ok := outer.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		t.Fatalf("inner event: got %T, want *slackevents.MessageEvent", outer.InnerEvent.Data)
	}
	if msg.User != "U1" || msg.Channel != "C1" || msg.ChannelType != "channel" || msg.TimeStamp != posted.Message.TS {
		t.Errorf("message event: got user %q channel %q type %q ts %q", msg.User, msg.Channel, msg.ChannelType, msg.TimeStamp)
	}
	if err := client.Ack(*ev.Request); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if _, err := srv.WaitAck(ctx, posted.EnvelopeID); err != nil {
		t.Fatalf("WaitAck: %v", err)
	}
	env, _ := srv.Envelope(posted.EnvelopeID)
	if !env.Acked || env.Deliveries != 1 || env.Acks != 1 {
		t.Errorf("envelope: got acked %v deliveries %d acks %d, want true 1 1", env.Acked, env.Deliveries, env.Acks)
	}

	mention := nextEvent(ctx, t, events, socketmode.EventTypeEventsAPI)
	if _, ok := mention.Data.(slackevents.EventsAPIEvent).InnerEvent.Data.(*slackevents.AppMentionEvent); !ok {
		t.Errorf("second event: got %T, want *slackevents.AppMentionEvent", mention.Data.(slackevents.EventsAPIEvent).InnerEvent.Data)
	}
	if err := srv.WaitUntil(ctx, func() bool { return srv.Pongs() > 0 }); err != nil {
		t.Errorf("the client never answered a PING: %v", err)
	}
}

func TestUnackedEventIsRedelivered(t *testing.T) {
	srv := slackfake.New(t, slackfake.WithAckTimeout(150*time.Millisecond))
	srv.AddUser("U1", "ada")
	srv.AddChannel("C1", "help", true)
	ctx := testCtx(t)
	client, events := startSocket(t, srv)
	nextEvent(ctx, t, events, socketmode.EventTypeHello)

	posted, err := srv.UserSays("U1", "C1", "hello?")
	if err != nil {
		t.Fatalf("UserSays: %v", err)
	}
	first := nextEvent(ctx, t, events, socketmode.EventTypeEventsAPI)
	if first.Request.RetryAttempt != 0 {
		t.Errorf("first delivery retry_attempt: got %d, want 0", first.Request.RetryAttempt)
	}
	// Not acked: Slack sends it again with retry_attempt 1 and reason "timeout".
	second := nextEvent(ctx, t, events, socketmode.EventTypeEventsAPI)
	if got, want := second.Request.EnvelopeID, posted.EnvelopeID; got != want {
		t.Errorf("redelivered envelope: got %q, want %q", got, want)
	}
	if second.Request.RetryAttempt != 1 || second.Request.RetryReason != "timeout" {
		t.Errorf("redelivery: got attempt %d reason %q, want 1 timeout", second.Request.RetryAttempt, second.Request.RetryReason)
	}
	if err := client.Ack(*second.Request); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if _, err := srv.WaitAck(ctx, posted.EnvelopeID); err != nil {
		t.Fatalf("WaitAck: %v", err)
	}
	if env, _ := srv.Envelope(posted.EnvelopeID); env.Deliveries < 2 {
		t.Errorf("deliveries: got %d, want at least 2", env.Deliveries)
	}

	// Interactive envelopes are not redelivered: Slack shows the user an error.
	id := srv.SendEnvelope("interactive", json.RawMessage(`{"type":"shortcut","callback_id":"x","trigger_id":"1.2.3","user":{"id":"U1"},"team":{"id":"T1"}}`), false)
	if err := srv.WaitUntil(ctx, func() bool { e, _ := srv.Envelope(id); return e.Expired }); err != nil {
		t.Fatalf("interactive envelope never expired: %v", err)
	}
	if env, _ := srv.Envelope(id); env.Deliveries != 1 {
		t.Errorf("interactive deliveries: got %d, want 1", env.Deliveries)
	}
}

func TestDisconnectMakesTheClientReconnect(t *testing.T) {
	srv := slackfake.New(t, slackfake.WithPingInterval(50*time.Millisecond))
	srv.AddUser("U1", "ada")
	srv.AddChannel("C1", "help", true)
	ctx := testCtx(t)
	client, events := startSocket(t, srv)
	nextEvent(ctx, t, events, socketmode.EventTypeHello)

	if got := srv.Disconnect("refresh_requested"); got != 1 {
		t.Fatalf("Disconnect told %d sockets, want 1", got)
	}
	if err := srv.WaitUntil(ctx, func() bool { return srv.Connections() == 2 && srv.ActiveConnections() == 1 }); err != nil {
		t.Fatalf("no reconnect: connections %d active %d: %v", srv.Connections(), srv.ActiveConnections(), err)
	}
	posted, err := srv.UserSays("U1", "C1", "still there?")
	if err != nil {
		t.Fatalf("UserSays: %v", err)
	}
	for {
		ev := nextEvent(ctx, t, events, socketmode.EventTypeEventsAPI)
		if ev.Request.EnvelopeID == posted.EnvelopeID {
			if err := client.Ack(*ev.Request); err != nil {
				t.Fatalf("Ack: %v", err)
			}
			break
		}
	}
	if _, err := srv.WaitAck(ctx, posted.EnvelopeID); err != nil {
		t.Fatalf("WaitAck after reconnect: %v", err)
	}

	srv.DropConnections()
	if err := srv.WaitUntil(ctx, func() bool { return srv.Connections() == 3 }); err != nil {
		t.Fatalf("no reconnect after a dropped socket: %v", err)
	}
}

func TestButtonClickTriggerOpensView(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	srv := slackfake.New(t, slackfake.WithClock(clock.Now))
	srv.AddUser("U1", "ada")
	srv.AddChannel("C1", "help", true)
	ctx := testCtx(t)
	api := apiClient(srv, srv.BotToken())
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("Did that fix it?", false), buttonBlocks("fixed", "case-42"))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	client, events := startSocket(t, srv)
	nextEvent(ctx, t, events, socketmode.EventTypeHello)

	envID, err := srv.ClickButton("U1", "C1", ts, "fixed", "")
	if err != nil {
		t.Fatalf("ClickButton: %v", err)
	}
	ev := nextEvent(ctx, t, events, socketmode.EventTypeInteractive)
	cb := ev.Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeBlockActions {
		t.Fatalf("type: got %q, want block_actions", cb.Type)
	}
	if got, want := len(cb.ActionCallback.BlockActions), 1; got != want {
		t.Fatalf("block actions: got %d, want %d (block_id must be a string)", got, want)
	}
	act := cb.ActionCallback.BlockActions[0]
	var stored []map[string]any
	m, _ := srv.Message("C1", ts)
	_ = json.Unmarshal(m.Blocks, &stored)
	if act.ActionID != "fixed" || act.Value != "case-42" || act.BlockID != stored[1]["block_id"] {
		t.Errorf("action: got id %q value %q block %q, want fixed case-42 %v", act.ActionID, act.Value, act.BlockID, stored[1]["block_id"])
	}
	if cb.Container.MessageTs != ts || cb.Message.Timestamp != ts || cb.User.ID != "U1" || cb.Channel.ID != "C1" {
		t.Errorf("context: got container ts %q message ts %q user %q channel %q", cb.Container.MessageTs, cb.Message.Timestamp, cb.User.ID, cb.Channel.ID)
	}
	if err := client.Ack(*ev.Request); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if _, err := srv.WaitAck(ctx, envID); err != nil {
		t.Fatalf("WaitAck: %v", err)
	}

	modal := slack.ModalViewRequest{
		Type:       slack.VTModal,
		Title:      slack.NewTextBlockObject(slack.PlainTextType, "Your testimonial", false, false),
		Submit:     slack.NewTextBlockObject(slack.PlainTextType, "Share", false, false),
		CallbackID: "testimonial",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("quote", slack.NewTextBlockObject(slack.PlainTextType, "Quote", false, false), nil,
				slack.NewPlainTextInputBlockElement(nil, "quote_text")),
		}},
	}
	resp, err := api.OpenViewContext(ctx, cb.TriggerID, modal)
	if err != nil {
		t.Fatalf("OpenView with a fresh trigger: %v", err)
	}
	views := srv.Views()
	if len(views) != 1 || views[0].ID != resp.View.ID || views[0].UserID != "U1" || !views[0].Open || views[0].CallbackID != "testimonial" {
		t.Fatalf("views: got %+v, want one open testimonial view for U1 with id %q", views, resp.View.ID)
	}
	if _, err := api.OpenViewContext(ctx, cb.TriggerID, modal); slackErr(err) != "exchanged_trigger_id" {
		t.Errorf("reused trigger: got %v, want exchanged_trigger_id", err)
	}
	expiring := srv.NewTrigger("U1")
	clock.Advance(srv.Config().TriggerTTL)
	if _, err := api.OpenViewContext(ctx, expiring, modal); slackErr(err) != "expired_trigger_id" {
		t.Errorf("expired trigger: got %v, want expired_trigger_id", err)
	}
	if _, err := api.OpenViewContext(ctx, "123.456.abc", modal); slackErr(err) != "invalid_arguments" {
		t.Errorf("unknown trigger: got %v, want invalid_arguments", err)
	}

	// Submitting: the ack's response_action is applied to the stored view.
	sub, err := srv.SubmitView(resp.View.ID, map[string]string{"quote_text": "It just works"})
	if err != nil {
		t.Fatalf("SubmitView: %v", err)
	}
	ev = nextEvent(ctx, t, events, socketmode.EventTypeInteractive)
	cb = ev.Data.(slack.InteractionCallback)
	if got := cb.View.State.Values["quote"]["quote_text"].Value; cb.Type != slack.InteractionTypeViewSubmission || got != "It just works" {
		t.Errorf("view_submission: got type %q value %q", cb.Type, got)
	}
	if !ev.Request.AcceptsResponsePayload {
		t.Errorf("view_submission envelope: accepts_response_payload false, want true")
	}
	if err := client.Ack(*ev.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"quote": "too short"})); err != nil {
		t.Fatalf("Ack with errors: %v", err)
	}
	if _, err := srv.WaitAck(ctx, sub); err != nil {
		t.Fatalf("WaitAck: %v", err)
	}
	if v, _ := srv.View(resp.View.ID); !v.Open || v.Errors["quote"] != "too short" {
		t.Errorf("after errors ack: got open %v errors %v", v.Open, v.Errors)
	}
	sub, err = srv.SubmitView(resp.View.ID, map[string]string{"quote_text": "It just works, every time"})
	if err != nil {
		t.Fatalf("SubmitView again: %v", err)
	}
	ev = nextEvent(ctx, t, events, socketmode.EventTypeInteractive)
	if err := client.Ack(*ev.Request); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if _, err := srv.WaitAck(ctx, sub); err != nil {
		t.Fatalf("WaitAck: %v", err)
	}
	if v, _ := srv.View(resp.View.ID); v.Open {
		t.Errorf("after a plain ack: the view is still open")
	}
}

func TestSlashCommandAckAndResponseURL(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddUser("U1", "ada")
	srv.AddChannel("C1", "help", true)
	ctx := testCtx(t)
	api := apiClient(srv, srv.BotToken())
	client, events := startSocket(t, srv)
	nextEvent(ctx, t, events, socketmode.EventTypeHello)

	envID, err := srv.SlashCommand("U1", "C1", "/advocate", "status")
	if err != nil {
		t.Fatalf("SlashCommand: %v", err)
	}
	ev := nextEvent(ctx, t, events, socketmode.EventTypeSlashCommand)
	cmd := ev.Data.(slack.SlashCommand)
	if cmd.Command != "/advocate" || cmd.Text != "status" || cmd.UserID != "U1" || cmd.ChannelID != "C1" || cmd.TriggerID == "" || cmd.ResponseURL == "" {
		t.Errorf("slash command: got %+v", cmd)
	}
	if err := client.Ack(*ev.Request, map[string]any{"text": "Looking into it"}); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if _, err := srv.WaitAck(ctx, envID); err != nil {
		t.Fatalf("WaitAck: %v", err)
	}
	eph := srv.Ephemerals("C1")
	if len(eph) != 1 || eph[0].User != "U1" || eph[0].Text != "Looking into it" || eph[0].Source != "ack" {
		t.Errorf("ephemerals: got %+v, want the ack's text shown to U1", eph)
	}

	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeInChannel), slack.MsgOptionText("All fixed", false)); err != nil {
		t.Fatalf("in_channel response: %v", err)
	}
	if msgs := srv.Messages("C1"); len(msgs) != 1 || msgs[0].Text != "All fixed" {
		t.Errorf("messages: got %+v, want the in_channel response", msgs)
	}
	for i := 2; i <= 5; i++ {
		if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionText("update", false)); err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionText("sixth", false)); err == nil {
		t.Errorf("sixth use of a response_url: got no error")
	}
	posts := srv.ResponsePosts()
	if got, want := posts[len(posts)-1].Error, "used_url"; got != want {
		t.Errorf("sixth post: got error %q, want %q", got, want)
	}
	if got, want := len(srv.Ephemerals("C1")), 5; got != want {
		t.Errorf("ephemerals: got %d, want %d", got, want)
	}
}

func TestConversationsUsersAndDMs(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddUser("U1", "ada")
	srv.PutUser(slackfake.User{ID: "U2", Name: "bob", RealName: "Bob Jones", Deleted: true})
	srv.AddUser("U3", "cy")
	srv.AddChannel("G1", "staff", false)
	srv.AddUserGroup("S1", "U1", "U3")
	srv.FailDM("U3", "user_not_visible")
	ctx := testCtx(t)
	api := apiClient(srv, srv.BotToken())

	ch, _, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil {
		t.Fatalf("OpenConversation: %v", err)
	}
	if got, want := ch.ID, srv.DMChannel("U1"); got != want || already {
		t.Errorf("DM: got %q already %v, want %q false", got, already, want)
	}
	again, _, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil || again.ID != ch.ID || !already {
		t.Errorf("second open: got %v already %v err %v, want the same channel", again, already, err)
	}
	for _, tc := range []struct{ user, want string }{
		{srv.BotUserID(), "cannot_dm_bot"},
		{"U2", "user_disabled"},
		{"U3", "user_not_visible"},
		{"U404", "user_not_found"},
	} {
		if _, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{tc.user}}); slackErr(err) != tc.want {
			t.Errorf("open DM with %s: got %v, want %s", tc.user, err, tc.want)
		}
	}
	if _, _, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("private hello", false)); err != nil {
		t.Fatalf("post to DM: %v", err)
	}
	srv.FailPosts(ch.ID, "messages_tab_disabled")
	if _, _, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("again", false)); slackErr(err) != "messages_tab_disabled" {
		t.Errorf("post to a closed DM: got %v, want messages_tab_disabled", err)
	}
	if got, want := len(srv.Messages(ch.ID)), 1; got != want {
		t.Errorf("DM messages: got %d, want %d", got, want)
	}

	u, err := api.GetUserInfoContext(ctx, "U2")
	if err != nil || u.Name != "bob" || u.RealName != "Bob Jones" || !u.Deleted {
		t.Errorf("users.info: got %+v, %v", u, err)
	}
	if _, err := api.GetUserInfoContext(ctx, "U404"); slackErr(err) != "user_not_found" {
		t.Errorf("unknown user: got %v, want user_not_found", err)
	}
	info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "G1"})
	if err != nil || info.Name != "staff" || !info.IsPrivate {
		t.Errorf("conversations.info: got %+v, %v", info, err)
	}
	members, err := api.GetUserGroupMembersContext(ctx, "S1")
	if err != nil || strings.Join(members, ",") != "U1,U3" {
		t.Errorf("usergroups.users.list: got %v, %v", members, err)
	}
	if _, err := api.PostEphemeralContext(ctx, "G1", "U1", slack.MsgOptionText("only you", false)); err != nil {
		t.Errorf("PostEphemeral: %v", err)
	}
	if eph := srv.Ephemerals("G1"); len(eph) != 1 || eph[0].User != "U1" {
		t.Errorf("ephemerals: got %+v", eph)
	}
}

func TestBlockKitLimitsAreEnforced(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddChannel("C1", "help", true)
	api := apiClient(srv, srv.BotToken())
	for _, tc := range []struct {
		name, actionID, value, field string
	}{
		{"long action_id", strings.Repeat("a", 256), "v", "action_id"},
		{"long value", "ok", strings.Repeat("v", 2001), "value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := api.PostMessage("C1", slack.MsgOptionText("x", false), buttonBlocks(tc.actionID, tc.value))
			var e slack.SlackErrorResponse
			if !errors.As(err, &e) || e.Err != "invalid_blocks" {
				t.Fatalf("got %v, want invalid_blocks", err)
			}
			if msgs := strings.Join(e.ResponseMetadata.Messages, " "); !strings.Contains(msgs, "/"+tc.field) {
				t.Errorf("messages: got %q, want a pointer to %s", msgs, tc.field)
			}
		})
	}
	if got := len(srv.Messages("C1")); got != 0 {
		t.Errorf("refused posts were stored: got %d messages", got)
	}
}

// verifyingEndpoint stands in for an adapter's HTTP endpoint: it checks the
// signature with slack-go and answers from script, one status per request.
type verifyingEndpoint struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	script []int // status per request; 0 blocks until the request is cancelled
	seen   []http.Header
	bodies [][]byte
}

func (e *verifyingEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sv, err := slack.NewSecretsVerifier(r.Header, e.secret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	e.mu.Lock()
	e.seen = append(e.seen, r.Header.Clone())
	e.bodies = append(e.bodies, body)
	status := http.StatusOK
	if len(e.script) > 0 {
		status, e.script = e.script[0], e.script[1:]
	}
	e.mu.Unlock()
	if status == 0 {
		<-r.Context().Done()
		return
	}
	var ev struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(body, &ev) == nil && ev.Type == "url_verification" {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(ev.Challenge))
		return
	}
	w.WriteHeader(status)
}

func TestSignedHTTPDelivery(t *testing.T) {
	srv := slackfake.New(t, slackfake.WithDelivery(200*time.Millisecond, 0, 0, 0))
	srv.AddUser("U1", "ada")
	srv.AddChannel("C1", "help", true)
	ctx := testCtx(t)
	ep := &verifyingEndpoint{t: t, secret: srv.SigningSecret()}
	hs := httptest.NewServer(ep)
	t.Cleanup(hs.Close)

	if err := srv.VerifyURL(ctx, hs.URL); err != nil {
		t.Fatalf("VerifyURL: %v", err)
	}
	m, err := srv.PostAsUser("U1", "C1", "", "help please")
	if err != nil {
		t.Fatalf("PostAsUser: %v", err)
	}
	event, err := srv.MessageEvent(m)
	if err != nil {
		t.Fatalf("MessageEvent: %v", err)
	}
	body, eventID, err := srv.EventCallbackBody(event)
	if err != nil {
		t.Fatalf("EventCallbackBody: %v", err)
	}
	parsed, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatalf("ParseEvent: %v", err)
	}
	if cb := parsed.Data.(*slackevents.EventsAPICallbackEvent); cb.EventID != eventID {
		t.Errorf("event_id: got %q, want %q", cb.EventID, eventID)
	}
	if d, err := srv.Deliver(ctx, hs.URL, body, slackfake.JSONContentType); err != nil || len(d.Attempts) != 1 {
		t.Fatalf("Deliver: got %+v, %v, want one successful attempt", d, err)
	}

	for _, f := range []slackfake.Forgery{slackfake.BadSignature, slackfake.StaleTimestamp, slackfake.MissingSignature, slackfake.TamperedBody} {
		if a := srv.DeliverForged(ctx, hs.URL, body, slackfake.JSONContentType, f); a.Status != http.StatusUnauthorized {
			t.Errorf("forgery %d: got status %d, want 401 from slack.NewSecretsVerifier", f, a.Status)
		}
	}

	// No 2xx: Events API deliveries are retried with Slack's headers.
	ep.mu.Lock()
	ep.script = []int{http.StatusInternalServerError, 0, http.StatusOK}
	ep.seen = nil
	ep.mu.Unlock()
	d, err := srv.Deliver(ctx, hs.URL, body, slackfake.JSONContentType)
	if err != nil {
		t.Fatalf("Deliver with retries: %v", err)
	}
	if got, want := len(d.Attempts), 3; got != want {
		t.Fatalf("attempts: got %d, want %d", got, want)
	}
	if a := d.Attempts[1]; a.RetryNum != 1 || a.RetryReason != "http_error" {
		t.Errorf("first retry: got num %d reason %q, want 1 http_error", a.RetryNum, a.RetryReason)
	}
	if a := d.Attempts[2]; a.RetryNum != 2 || a.RetryReason != "http_timeout" {
		t.Errorf("second retry: got num %d reason %q, want 2 http_timeout", a.RetryNum, a.RetryReason)
	}
	ep.mu.Lock()
	last := ep.seen[len(ep.seen)-1]
	ep.mu.Unlock()
	if last.Get("X-Slack-Retry-Num") != "2" || last.Get("X-Slack-Retry-Reason") != "http_timeout" {
		t.Errorf("retry headers: got %q %q", last.Get("X-Slack-Retry-Num"), last.Get("X-Slack-Retry-Reason"))
	}

	// Interactivity is not retried.
	_, ts, err := apiClient(srv, srv.BotToken()).PostMessageContext(ctx, "C1", slack.MsgOptionText("fixed?", false), buttonBlocks("fixed", "yes"))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	payload, err := srv.ClickButtonPayload("U1", "C1", ts, "fixed", "")
	if err != nil {
		t.Fatalf("ClickButtonPayload: %v", err)
	}
	ep.mu.Lock()
	ep.script = []int{http.StatusInternalServerError}
	ep.mu.Unlock()
	d, err = srv.Deliver(ctx, hs.URL, slackfake.InteractiveBody(payload), slackfake.FormContentType)
	if err == nil || len(d.Attempts) != 1 {
		t.Errorf("interactive delivery to a failing endpoint: got %d attempts, err %v, want 1 attempt and an error", len(d.Attempts), err)
	}
	ep.mu.Lock()
	form := string(ep.bodies[len(ep.bodies)-1])
	ep.mu.Unlock()
	if !strings.HasPrefix(form, "payload=") {
		t.Errorf("interactive body: got %q, want payload=…", form)
	}
}

func TestResponseURLReplacesAndDeletesTheOriginal(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddUser("U1", "ada")
	srv.AddChannel("C1", "help", true)
	ctx := testCtx(t)
	api := apiClient(srv, srv.BotToken())
	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("Rate us", false), buttonBlocks("rate", "5"))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	payload, err := srv.ClickButtonPayload("U1", "C1", ts, "rate", "")
	if err != nil {
		t.Fatalf("ClickButtonPayload: %v", err)
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		t.Fatalf("payload: %v", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("Thanks!", false)); err != nil {
		t.Fatalf("replace_original: %v", err)
	}
	m, ok := srv.Message("C1", ts)
	if !ok || m.Text != "Thanks!" || m.Blocks != nil || m.Edits != 1 {
		t.Errorf("after replace_original: got %+v", m)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionDeleteOriginal(cb.ResponseURL)); err != nil {
		t.Fatalf("delete_original: %v", err)
	}
	if _, ok := srv.Message("C1", ts); ok {
		t.Errorf("after delete_original: the message is still there")
	}
	srv.ExpireResponseURL(cb.ResponseURL)
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionResponseURL(cb.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionText("late", false)); err == nil {
		t.Errorf("post to an expired response_url: got no error")
	}
}

func TestHTTPSlashCommandResponseBodyIsShown(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddUser("U1", "ada")
	srv.AddChannel("C1", "help", true)
	ctx := testCtx(t)
	var got slack.SlashCommand
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sv, err := slack.NewSecretsVerifier(r.Header, srv.SigningSecret())
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		if got, err = slack.SlashCommandParse(r); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"response_type":"ephemeral","text":"On it"}`))
	}))
	t.Cleanup(hs.Close)

	form, err := srv.SlashCommandForm("U1", "C1", "/advocate", "help")
	if err != nil {
		t.Fatalf("SlashCommandForm: %v", err)
	}
	if _, err := srv.Deliver(ctx, hs.URL, []byte(form.Encode()), slackfake.FormContentType); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if got.Command != "/advocate" || got.Text != "help" || got.UserID != "U1" || got.ResponseURL == "" {
		t.Errorf("parsed command: got %+v", got)
	}
	if eph := srv.Ephemerals("C1"); len(eph) != 1 || eph[0].Text != "On it" || eph[0].User != "U1" {
		t.Errorf("ephemerals: got %+v, want the response body shown to U1", eph)
	}
}

func TestThreadRepliesAndEphemeralClicks(t *testing.T) {
	srv := slackfake.New(t, slackfake.WithConfig(slackfake.Config{NoBotEcho: true}))
	srv.AddUser("U1", "ada")
	srv.AddUser("U2", "bob")
	srv.AddChannel("C1", "help", true)
	ctx := testCtx(t)
	api := apiClient(srv, srv.BotToken())

	q, err := srv.UserSays("U1", "C1", "how do I export?")
	if err != nil {
		t.Fatalf("UserSays: %v", err)
	}
	r, err := srv.UserReplies("U2", "C1", q.Message.TS, "same question")
	if err != nil {
		t.Fatalf("UserReplies: %v", err)
	}
	env, _ := srv.Envelope(r.EnvelopeID)
	ev, err := slackevents.ParseEvent(env.Payload, slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatalf("ParseEvent: %v", err)
	}
	me := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if me.ThreadTimeStamp != q.Message.TS || me.User != "U2" {
		t.Errorf("reply event: got thread_ts %q user %q, want %q U2", me.ThreadTimeStamp, me.User, q.Message.TS)
	}
	hist, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1"})
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(hist.Messages) != 1 || hist.Messages[0].ReplyCount != 1 {
		t.Errorf("history: got %+v, want the parent only, with reply_count 1", hist.Messages)
	}
	if got, want := len(srv.Envelopes()), 2; got != want {
		t.Errorf("envelopes with NoBotEcho: got %d, want %d", got, want)
	}

	ts, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("only for you", false), buttonBlocks("share", "yes"), slack.MsgOptionTS(q.Message.TS))
	if err != nil {
		t.Fatalf("PostEphemeral: %v", err)
	}
	if _, err := srv.ClickButtonPayload("U2", "C1", ts, "share", ""); err == nil {
		t.Errorf("another user clicked U1's ephemeral message: got no error")
	}
	payload, err := srv.ClickButtonPayload("U1", "C1", ts, "share", "")
	if err != nil {
		t.Fatalf("ClickButtonPayload: %v", err)
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		t.Fatalf("payload: %v", err)
	}
	if !cb.Container.IsEphemeral || cb.Container.ThreadTs != q.Message.TS || cb.Message.Timestamp != "" {
		t.Errorf("ephemeral click: got container %+v message ts %q", cb.Container, cb.Message.Timestamp)
	}
	if _, err := srv.ClickButtonPayload("U1", "C1", ts, "no-such-action", ""); err == nil {
		t.Errorf("click on a missing action_id: got no error")
	}
}

func TestMessageMetadataIsKeptAndReturnedOnRequest(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddChannel("C100", "help", true)
	api := apiClient(srv, srv.BotToken())
	meta := slack.SlackMetadata{EventType: "advocate_outbox", EventPayload: map[string]any{"outbox_id": "42"}}

	_, root, err := api.PostMessage("C100", slack.MsgOptionText("root", false), slack.MsgOptionMetadata(meta))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	if _, _, err := api.PostMessage("C100", slack.MsgOptionText("reply", false), slack.MsgOptionTS(root), slack.MsgOptionMetadata(meta)); err != nil {
		t.Fatalf("PostMessage reply: %v", err)
	}
	history := func(all bool) []slack.Message {
		h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C100", IncludeAllMetadata: all})
		if err != nil {
			t.Fatalf("history: %v", err)
		}
		return h.Messages
	}
	if got := history(false); len(got) != 1 || got[0].Metadata.EventType != "" {
		t.Errorf("history without include_all_metadata: got %+v, want one message without metadata", got)
	}
	if got := history(true); len(got) != 1 || got[0].Metadata.EventType != "advocate_outbox" || got[0].Metadata.EventPayload["outbox_id"] != "42" {
		t.Errorf("history with include_all_metadata: got %+v, want the metadata", got)
	}
	replies, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C100", Timestamp: root, IncludeAllMetadata: true})
	if err != nil {
		t.Fatalf("replies: %v", err)
	}
	if len(replies) != 2 || replies[1].Metadata.EventPayload["outbox_id"] != "42" {
		t.Errorf("replies with include_all_metadata: got %+v, want the reply's metadata", replies)
	}

	noType := slack.MsgOptionMetadata(slack.SlackMetadata{EventPayload: map[string]any{"a": 1}})
	if _, _, err := api.PostMessage("C100", slack.MsgOptionText("x", false), noType); err == nil || err.Error() != "invalid_metadata_schema" {
		t.Errorf("metadata without event_type: got %v, want invalid_metadata_schema", err)
	}
}
