package slack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/advocate-bot/advocate/bot"
)

func TestNewValidatesOptions(t *testing.T) {
	base := Options{BotToken: "xoxb-1", AppToken: "xapp-1", StaffChannel: "staff"}
	tests := []struct {
		name   string
		mutate func(*Options)
		want   string // substring of the error, "" for none
	}{
		{"socket by default", func(*Options) {}, ""},
		{"no bot token", func(o *Options) { o.BotToken = "" }, "bot token"},
		{"socket without app token", func(o *Options) { o.AppToken = "" }, "app-level token"},
		{"http without secret", func(o *Options) { o.Mode = ModeHTTP }, "signing secret"},
		{"http with secret", func(o *Options) { o.Mode, o.AppToken, o.SigningSecret = ModeHTTP, "", "s" }, ""},
		{"unknown mode", func(o *Options) { o.Mode = "rtm" }, "mode"},
		{"no staff channel", func(o *Options) { o.StaffChannel = " " }, "staff channel"},
		{"negative pacing", func(o *Options) { o.PostInterval = -time.Second }, "interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.mutate(&o)
			_, err := New(o)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestDeliveryErrors(t *testing.T) {
	rl := deliveryError("chat.postMessage", &slackgo.RateLimitedError{RetryAfter: 7 * time.Second})
	var ra *bot.RetryAfterError
	if !errors.As(rl, &ra) || ra.After != 7*time.Second {
		t.Errorf("rate limit: got %v, want a RetryAfterError of 7s", rl)
	}
	for _, code := range []string{"channel_not_found", "is_archived", "not_in_channel", "cannot_dm_bot", "user_not_found", "messages_tab_disabled"} {
		err := deliveryError("chat.postMessage", slackgo.SlackErrorResponse{Err: code})
		if !errors.Is(err, bot.ErrUndeliverable) {
			t.Errorf("%s: got %v, want ErrUndeliverable", code, err)
		}
		if errorCode(err) != code {
			t.Errorf("%s: the Slack error is no longer reachable through %v", code, err)
		}
	}
	for _, err := range []error{
		slackgo.SlackErrorResponse{Err: "invalid_auth"},
		slackgo.StatusCodeError{Code: 503, Status: "503 Service Unavailable"},
		errors.New("connection reset"),
	} {
		got := deliveryError("chat.postMessage", err)
		if errors.Is(got, bot.ErrUndeliverable) || errors.As(got, &ra) {
			t.Errorf("%v: got %v, want a plain error the relay retries with backoff", err, got)
		}
	}
}

func TestOpenPrivateDoesNotRepeatWhatSucceeded(t *testing.T) {
	a, api := newStubAdapter(t)
	ctx := context.Background()
	cs := &bot.Case{ID: 7, Platform: bot.Slack, Customer: bot.Person{Platform: bot.Slack, ID: "U0CUSTOMER1", Name: "Ada"}}
	// the DM intro goes out, then the staff root hits a rate limit
	api.failNext("chat.postMessage", nil, &slackgo.RateLimitedError{RetryAfter: time.Second})
	_, _, err := a.OpenPrivate(ctx, cs, bot.Message{Text: "Hi Ada"})
	var ra *bot.RetryAfterError
	if !errors.As(err, &ra) {
		t.Fatalf("first attempt: got %v, want a RetryAfterError", err)
	}
	priv, staff, err := a.OpenPrivate(ctx, cs, bot.Message{Text: "Hi Ada"})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got, want := api.postCount(), 2; got != want {
		t.Fatalf("posts: got %d, want %d (intro once, staff root once)", got, want)
	}
	intro, root := api.post(0), api.post(1)
	if got, want := intro.Channel, "D0CUSTOMER1"; got != want {
		t.Errorf("intro channel: got %q, want %q", got, want)
	}
	if got, want := root.Channel, testStaff; got != want {
		t.Errorf("staff root channel: got %q, want %q", got, want)
	}
	if !strings.Contains(root.Values.Get("text"), "Case #7") {
		t.Errorf("staff root text: got %q, want it to name the case", root.Values.Get("text"))
	}
	if priv.Channel != "D0CUSTOMER1" || priv.Thread != "" || priv.Platform != bot.Slack || priv.Message == "" || priv.Message == staff.Thread {
		t.Errorf("private ref: got %+v, want the DM and the intro's ts", priv)
	}
	if staff.Channel != testStaff || staff.Thread == "" || staff.Platform != bot.Slack {
		t.Errorf("staff ref: got %+v, want the staff channel and the root's thread", staff)
	}
}

func TestOpenPrivateUndeliverableCustomer(t *testing.T) {
	a, api := newStubAdapter(t)
	api.failNext("conversations.open", slackgo.SlackErrorResponse{Err: "cannot_dm_bot"})
	cs := &bot.Case{ID: 8, Customer: bot.Person{Platform: bot.Slack, ID: "U0OTHERBOT1"}}
	_, _, err := a.OpenPrivate(context.Background(), cs, bot.Message{Text: "Hi"})
	if !errors.Is(err, bot.ErrUndeliverable) {
		t.Fatalf("got %v, want ErrUndeliverable", err)
	}
	if got := api.postCount(); got != 0 {
		t.Errorf("posts: got %d, want none when the customer cannot be reached", got)
	}
}

func TestSendResolvesNamedChannelsAndThreads(t *testing.T) {
	a, api := newStubAdapter(t)
	ctx := context.Background()
	ref, err := a.Send(ctx, bot.Ref{Platform: bot.Slack, Channel: bot.StaffChannel}, bot.Message{Text: "alert"})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Channel != testStaff || ref.Message == "" {
		t.Errorf("staff alert ref: got %+v", ref)
	}
	ref, err = a.Send(ctx, bot.Ref{Platform: bot.Slack, Channel: testSupport, Thread: "1700000000.000001"}, bot.Message{Text: "taken private"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := api.post(1).Values.Get("thread_ts"), "1700000000.000001"; got != want {
		t.Errorf("thread_ts: got %q, want %q", got, want)
	}
	if ref.Thread != "1700000000.000001" || ref.Channel != testSupport {
		t.Errorf("threaded ref: got %+v", ref)
	}
	if _, err := a.Send(ctx, bot.Ref{Channel: bot.ShowcaseChannel}, bot.Message{Text: "testimonial"}); err != nil {
		t.Fatal(err)
	}
	if got, want := api.post(2).Channel, testShowcase; got != want {
		t.Errorf("showcase channel: got %q, want %q", got, want)
	}

	noShowcase, _ := newStubAdapter(t, func(o *Options) { o.ShowcaseChannel = "" })
	if _, err := noShowcase.Send(ctx, bot.Ref{Channel: bot.ShowcaseChannel}, bot.Message{Text: "x"}); !errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("showcase without a configured channel: got %v, want ErrUndeliverable", err)
	}
}

// TestPacedChannel: every post that lands in the staff channel (a case's
// root, its staff thread, an alert) is paced as one channel, so that with
// several instances one of them at a time posts there.
func TestPacedChannel(t *testing.T) {
	a, _ := newStubAdapter(t)
	send := func(place string, to bot.Ref) bot.Action {
		return bot.Action{Platform: bot.Slack, Lane: "case:1", Kind: bot.ActSend, Place: place, To: to}
	}
	tests := []struct {
		name string
		a    bot.Action
		want string
	}{
		{"case root", bot.Action{Platform: bot.Slack, Lane: "case:1", Kind: bot.ActOpenPrivate}, testStaff},
		{"staff thread", send(bot.PlaceStaff, bot.Ref{}), testStaff},
		{"alert", send(bot.PlaceRef, bot.Ref{Channel: bot.StaffChannel}), testStaff},
		{"testimonial", send(bot.PlaceRef, bot.Ref{Channel: bot.ShowcaseChannel}), testShowcase},
		{"public reply", send(bot.PlacePublic, bot.Ref{Channel: testSupport, Thread: "1.2"}), testSupport},
		{"answer in a thread", send(bot.PlaceRef, bot.Ref{Channel: testSupport, Thread: "1.2"}), testSupport},
		{"public, channel unknown", send(bot.PlacePublic, bot.Ref{}), ""},
		{"private", send(bot.PlacePrivate, bot.Ref{}), ""},
		{"update", bot.Action{Platform: bot.Slack, Lane: "case:1", Kind: bot.ActUpdate, Key: "intro"}, ""},
	}
	for _, tt := range tests {
		if got := a.PacedChannel(tt.a); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestUpdate(t *testing.T) {
	a, api := newStubAdapter(t)
	err := a.Update(context.Background(), bot.Ref{Channel: "D0CUSTOMER1", Message: "1700000000.000009"}, bot.Message{Text: "You rated 5 out of 5."})
	if err != nil {
		t.Fatal(err)
	}
	up := api.updates[0]
	if got, want := up.Values.Get("ts"), "1700000000.000009"; got != want {
		t.Errorf("ts: got %q, want %q", got, want)
	}
	if got, want := up.Values.Get("text"), "You rated 5 out of 5."; got != want {
		t.Errorf("text: got %q, want %q", got, want)
	}
	api.failNext("chat.update", slackgo.SlackErrorResponse{Err: "message_not_found"})
	if err := a.Update(context.Background(), bot.Ref{Channel: "D0CUSTOMER1", Message: "1"}, bot.Message{Text: "x"}); !errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("update of a deleted message: got %v, want ErrUndeliverable", err)
	}
}

func TestPacerSpacesPostsPerChannel(t *testing.T) {
	p := newPacer(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.wait(ctx, "C1"); err != nil {
		t.Fatalf("first post: %v", err)
	}
	// the next token comes in an hour, beyond the deadline: Wait refuses at once
	if err := p.wait(ctx, "C1"); err == nil {
		t.Errorf("second post in the same channel: got no wait, want one")
	}
	if err := p.wait(ctx, "C2"); err != nil {
		t.Errorf("another channel: %v, want no wait", err)
	}
	if err := newPacer(0).wait(ctx, "C1"); err != nil {
		t.Errorf("pacing off: %v", err)
	}
}

// TestPacerTakesTurns: a post waits until the channel's previous post has
// ended, not only for the interval, and a 429's Retry-After rests the channel.
func TestPacerTakesTurns(t *testing.T) {
	p := newPacer(time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done, err := p.take(ctx, "C1")
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		d, err := p.take(ctx, "C1")
		if err == nil {
			d(time.Hour) // as after a 429 with Retry-After: 3600
		}
		second <- err
	}()
	if err := p.wait(ctx, "C2"); err != nil {
		t.Errorf("another channel while C1 posts: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-second:
		t.Fatalf("second post in C1 went before the first ended (err %v)", err)
	default:
	}
	done(0)
	if err := <-second; err != nil {
		t.Fatalf("second post in C1: %v", err)
	}
	if err := p.wait(ctx, "C1"); err == nil {
		t.Errorf("third post in C1 within the Retry-After: got no wait, want a refusal before the deadline")
	}
}

func TestResolveChannelNames(t *testing.T) {
	api := newStubAPI()
	mk := func(id, name string) slackgo.Channel {
		var c slackgo.Channel
		c.ID, c.Name = id, name
		return c
	}
	api.channels = []slackgo.Channel{mk("C0SUPPORT01", "support"), mk("G0STAFF0001", "staff-only")}
	ids, err := resolveChannels(context.Background(), api, []string{"#support", "G0STAFF0001", "staff-only"})
	if err != nil {
		t.Fatal(err)
	}
	if ids["#support"] != "C0SUPPORT01" || ids["staff-only"] != "G0STAFF0001" || ids["G0STAFF0001"] != "G0STAFF0001" {
		t.Errorf("resolved: got %v", ids)
	}
	if _, err := resolveChannels(context.Background(), api, []string{"nowhere"}); err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("unknown name: got %v, want an error naming it", err)
	}
	api.failNext("conversations.list", errors.New("must not be called"))
	if _, err := resolveChannels(context.Background(), api, []string{"C0SUPPORT01"}); err != nil {
		t.Errorf("IDs only: got %v, want no conversations.list call", err)
	}
}

func TestEventsKeyOrdersPerPersonAndThread(t *testing.T) {
	msg := func(user, thread string) slackevents.EventsAPIEvent {
		return slackevents.EventsAPIEvent{InnerEvent: slackevents.EventsAPIInnerEvent{
			Data: &slackevents.MessageEvent{Channel: "C1", User: user, ThreadTimeStamp: thread}}}
	}
	if eventsKey(msg("U1", "")) == eventsKey(msg("U2", "")) {
		t.Error("two people's questions in one channel share a key: they would wait for each other")
	}
	if eventsKey(msg("U1", "")) != eventsKey(msg("U1", "")) {
		t.Error("one person's messages in a channel have different keys: their order would be lost")
	}
	if eventsKey(msg("U1", "1.2")) != eventsKey(msg("U2", "1.2")) {
		t.Error("two replies in one thread have different keys: their order would be lost")
	}
	mention := slackevents.EventsAPIEvent{InnerEvent: slackevents.EventsAPIInnerEvent{
		Data: &slackevents.AppMentionEvent{Channel: "C1", User: "U1"}}}
	if eventsKey(mention) != eventsKey(msg("U1", "")) {
		t.Error("a person's mention and message in a channel have different keys")
	}
}

func TestInteractionKeyOrdersPerCase(t *testing.T) {
	click := func(channel, thread, message, user string) *slackgo.InteractionCallback {
		cb := &slackgo.InteractionCallback{}
		cb.Container.ChannelID, cb.Container.ThreadTs, cb.Container.MessageTs, cb.User.ID = channel, thread, message, user
		return cb
	}
	const staff = "G0STAFF0001"
	if interactionKey(click(staff, "1.1", "1.2", "U0SAM000001")) == interactionKey(click(staff, "2.1", "2.2", "U0SAM000001")) {
		t.Error("staff clicks on two cases' controls share a key: each waits for the other's commit")
	}
	if interactionKey(click(staff, "1.1", "1.2", "U0SAM000001")) != eventsKey(slackevents.EventsAPIEvent{InnerEvent: slackevents.EventsAPIInnerEvent{
		Data: &slackevents.MessageEvent{Channel: staff, User: "U0SAM000001", ThreadTimeStamp: "1.1"}}}) {
		t.Error("a click on a case's controls and a reply in its thread have different keys: their order would be lost")
	}
	if interactionKey(click("D0ADA000001", "", "3.1", "U0ADA000001")) != eventsKey(slackevents.EventsAPIEvent{InnerEvent: slackevents.EventsAPIInnerEvent{
		Data: &slackevents.MessageEvent{Channel: "D0ADA000001", User: "U0ADA000001"}}}) {
		t.Error("a customer's click and message in their DM have different keys")
	}
	if interactionKey(click("", "", "", "U0ADA000001")) != "user:U0ADA000001" {
		t.Error("a submission is not keyed by its person")
	}
}
