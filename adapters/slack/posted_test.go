package slack_test

import (
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack"
	"github.com/advocate-bot/advocate/bot"
)

// TestRetriedPostIsFoundNotPostedAgain plays the relay retrying posts whose
// first attempt reached Slack but was never recorded (a crash, a lost
// response): with PostedSince set, the adapter finds its earlier post by the
// nonce in the message metadata and returns it instead of posting again, in
// a channel and in a thread; a post that was not made is made.
func TestRetriedPostIsFoundNotPostedAgain(t *testing.T) {
	e := newEnv(t, slack.ModeSocket)
	since := time.Now()
	channel := bot.Ref{Platform: bot.Slack, Channel: showcaseID}
	first, err := e.adapter.Send(e.ctx, channel, bot.Message{Text: "A testimonial", Nonce: "adv101"})
	if err != nil {
		t.Fatalf("first send: %v", err)
	}
	thread := bot.Ref{Platform: bot.Slack, Channel: showcaseID, Thread: first.Message}
	reply, err := e.adapter.Send(e.ctx, thread, bot.Message{Text: "A reply", Nonce: "adv102"})
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	posts := e.fake.Calls("chat.postMessage")

	for name, c := range map[string]struct {
		to   bot.Ref
		m    bot.Message
		want bot.Ref
	}{
		"in the channel": {channel, bot.Message{Text: "A testimonial", Nonce: "adv101", PostedSince: since}, first},
		"in the thread":  {thread, bot.Message{Text: "A reply", Nonce: "adv102", PostedSince: since}, reply},
	} {
		got, err := e.adapter.Send(e.ctx, c.to, c.m)
		if err != nil {
			t.Fatalf("%s: retry: %v", name, err)
		}
		if got.Message != c.want.Message {
			t.Errorf("%s: retry delivered ts %q, want the earlier post's %q", name, got.Message, c.want.Message)
		}
	}
	if got := e.fake.Calls("chat.postMessage"); got != posts {
		t.Errorf("chat.postMessage calls after the retries: got %d, want %d (nothing posted again)", got, posts)
	}
	if got := len(e.fake.Messages(showcaseID)); got != 2 {
		t.Errorf("messages in the channel: got %d, want 2", got)
	}

	// an action whose earlier attempt did not post, and one posted before
	// PostedSince (another action's nonce is never taken for this one's)
	if _, err := e.adapter.Send(e.ctx, channel, bot.Message{Text: "Not posted before", Nonce: "adv103", PostedSince: since}); err != nil {
		t.Fatalf("send after a failed attempt: %v", err)
	}
	if got := len(e.fake.Messages(showcaseID)); got != 3 {
		t.Errorf("messages in the channel after a post that was not made before: got %d, want 3", got)
	}
	for _, m := range e.fake.Messages(showcaseID) {
		if m.Metadata == nil {
			t.Errorf("post %s has no outbox metadata", m.TS)
		}
	}
}
