package slack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/bot"
)

// testClock is a settable clock shared by the fake and the adapter's look-ups.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// runHTTPAdapter runs an HTTP mode adapter against fake (no socket needed to
// post) and waits until it can deliver.
func runHTTPAdapter(t *testing.T, fake *slackfake.Server, historyRate int) *Adapter {
	t.Helper()
	a, err := New(Options{
		BotToken: fake.BotToken(), SigningSecret: fake.SigningSecret(), Mode: ModeHTTP, APIURL: fake.APIURL(),
		StaffChannel: testStaff, PostInterval: time.Nanosecond, HistoryRate: historyRate,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, refuseAll{t}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if err := a.awaitReady(testContext(t)); err != nil {
		t.Fatal(err)
	}
	return a
}

func staffPost(nonce string, since time.Time) bot.Message {
	return bot.Message{Text: "post " + nonce, Nonce: nonce, PostedSince: since}
}

// After a restart under Slack's limit for non-Marketplace apps (one history
// call a minute, 15 messages), a backlog of 20 posts that the previous
// process made unrecorded, and one it did not make, costs two history calls:
// one read serves every action it covers, the action beyond it waits for the
// next minute instead of being posted, and nothing is posted twice. Slack is
// never called faster than its limit.
func TestLookUpsRespectHistoryLimit(t *testing.T) {
	clock := &testClock{now: time.Now()}
	fake := slackfake.New(t, slackfake.WithClock(clock.Now), slackfake.WithHistoryLimit(time.Minute, 15))
	fake.AddChannel(testStaff, "staff", false)
	ctx := testContext(t)
	since := clock.Now()

	before := runHTTPAdapter(t, fake, 0) // the process that crashed
	want := map[string]string{}
	for i := 1; i <= 20; i++ {
		nonce := fmt.Sprint("adv", i)
		ref, err := before.Send(ctx, bot.Ref{Channel: bot.StaffChannel}, staffPost(nonce, time.Time{}))
		if err != nil {
			t.Fatal(err)
		}
		want[nonce] = ref.Message
		clock.Advance(time.Millisecond)
	}
	posted := fake.Calls("chat.postMessage")

	after := runHTTPAdapter(t, fake, 1) // restarted: each action may have been posted
	after.posts.now = clock.Now
	for i := 20; i >= 6; i-- { // the first read, the newest 15, answers all these
		nonce := fmt.Sprint("adv", i)
		ref, err := after.Send(ctx, bot.Ref{Channel: bot.StaffChannel}, staffPost(nonce, since))
		if err != nil || ref.Message != want[nonce] {
			t.Fatalf("%s: got %q, %v; want the earlier post %q", nonce, ref.Message, err, want[nonce])
		}
	}
	_, err := after.Send(ctx, bot.Ref{Channel: bot.StaffChannel}, staffPost("adv5", since))
	var ra *bot.RetryAfterError
	if !errors.As(err, &ra) || ra.After < 30*time.Second {
		t.Fatalf("adv5 within the minute: got %v, want a RetryAfterError of about a minute", err)
	}
	clock.Advance(time.Minute)
	for i := 5; i >= 1; i-- {
		nonce := fmt.Sprint("adv", i)
		ref, err := after.Send(ctx, bot.Ref{Channel: bot.StaffChannel}, staffPost(nonce, since))
		if err != nil || ref.Message != want[nonce] {
			t.Fatalf("%s after a minute: got %q, %v; want the earlier post %q", nonce, ref.Message, err, want[nonce])
		}
	}
	if _, err := after.Send(ctx, bot.Ref{Channel: bot.StaffChannel}, staffPost("adv21", since)); err != nil {
		t.Fatalf("an action the previous process did not post: %v", err)
	}
	if got, want := fake.Calls("conversations.history"), 2; got != want {
		t.Errorf("history calls: got %d, want %d", got, want)
	}
	if got := fake.RateLimited(); got != 0 {
		t.Errorf("429s: got %d, want 0 (the adapter kept to the limit)", got)
	}
	if got, want := fake.Calls("chat.postMessage"), posted+1; got != want {
		t.Errorf("posts: got %d, want %d (adv21 only)", got, want)
	}
}

// Within one process, an attempt Slack refused posted nothing and a retry
// posts without looking; one that got no answer is looked for by a read
// made after it; a post made is answered from its stored ts. A 429 on the
// history pauses the look-ups for its Retry-After.
func TestLookUpsOnlyWhenAnAttemptMayHavePosted(t *testing.T) {
	clock := &testClock{now: time.Now()}
	fake := slackfake.New(t, slackfake.WithClock(clock.Now), slackfake.WithHistoryLimit(time.Minute, 15))
	fake.AddChannel(testStaff, "staff", false)
	ctx := testContext(t)
	a := runHTTPAdapter(t, fake, 50) // more than the fake allows: Slack's 429 must pause it
	a.posts.now, a.posts.started = clock.Now, clock.Now()
	clock.Advance(time.Millisecond) // every attempt below is this process's
	to := bot.Ref{Channel: bot.StaffChannel}

	fake.RateLimitChannel(testStaff, 1, time.Second)
	if _, err := a.Send(ctx, to, staffPost("adv1", time.Time{})); err == nil {
		t.Fatal("the refused post: got no error")
	}
	if _, err := a.Send(ctx, to, staffPost("adv1", clock.Now())); err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls("conversations.history"); got != 0 {
		t.Errorf("history calls after a refused attempt: got %d, want 0", got)
	}

	first, err := a.Send(ctx, to, staffPost("adv2", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.Send(ctx, to, staffPost("adv2", clock.Now()))
	if err != nil || again.Message != first.Message {
		t.Errorf("a post this process made: got %q, %v; want its stored ts %q", again.Message, err, first.Message)
	}

	fake.LoseResponse("chat.postMessage", 1, 502) // posted, but the answer is lost
	if _, err := a.Send(ctx, to, staffPost("adv3", time.Time{})); err == nil {
		t.Fatal("the post whose answer was lost: got no error")
	}
	if _, err := a.Send(ctx, to, staffPost("adv3", clock.Now())); err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls("conversations.history"); got != 1 {
		t.Errorf("history calls after an attempt without an answer: got %d, want 1", got)
	}
	n := 0
	for _, m := range fake.Messages(testStaff) {
		if m.Text == "post adv3" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("posts of adv3: got %d, want 1 (found, not posted again)", n)
	}

	// Slack's 429: this look-up and the next wait, without calling again
	fake.Fail("chat.postMessage", 2, 503)
	for _, nonce := range []string{"adv4", "adv5"} {
		if _, err := a.Send(ctx, to, staffPost(nonce, time.Time{})); err == nil {
			t.Fatalf("%s: got no error", nonce)
		}
	}
	var ra *bot.RetryAfterError
	for _, nonce := range []string{"adv4", "adv5"} {
		if _, err := a.Send(ctx, to, staffPost(nonce, clock.Now())); !errors.As(err, &ra) {
			t.Errorf("%s within Slack's minute: got %v, want a RetryAfterError", nonce, err)
		}
	}
	if got, want := fake.Calls("conversations.history"), 2; got != want {
		t.Errorf("history calls: got %d, want %d (one 429, then paused)", got, want)
	}
	clock.Advance(time.Minute)
	if _, err := a.Send(ctx, to, staffPost("adv4", clock.Now())); err != nil {
		t.Errorf("adv4 after the pause: %v", err)
	}
}
