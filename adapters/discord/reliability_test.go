package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// TestDuplicateDispatchHasOneEffect: Discord may deliver a message or an
// interaction twice; the second delivery changes nothing.
func TestDuplicateDispatchHasOneEffect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	asked, thread, cs := e.openCase("I was charged twice")

	if err := e.fake.MessageCreate(discordfake.Message{ID: asked.ID}); err != nil {
		t.Fatalf("redeliver the question: %v", err)
	}
	// The gateway is read in order: once this later message is in the
	// transcript, the duplicate was queued too; then it was handled.
	e.post(thread.ID, customerID, "any news?")
	e.eventually("the later message handled", func() bool { return bottest.Count(e.kinds(cs.ID), bot.KindMessage) == 1 })
	e.adapter.messages.Wait()

	controls, _ := e.withButton(cs.Staff.Channel, "Resolve")
	click, _ := e.click(staffID, controls, "Resolve")
	if _, err := e.fake.InteractionCreate(discordfake.Interaction{ID: click.ID}); err != nil {
		t.Fatalf("redeliver the click: %v", err)
	}
	e.wait("the duplicate click answered", func() bool { return len(e.fake.InteractionResponses(click.ID)) == 2 })
	e.botMessage(supportID, "Resolved privately")
	e.settled()

	if n, s := len(e.fake.Threads(supportID)), len(e.fake.Threads(staffChID)); n != 1 || s != 1 {
		t.Errorf("%d private and %d staff threads, want 1 and 1", n, s)
	}
	var replies, resolved int
	for _, m := range e.botMessages(supportID) {
		switch {
		case strings.Contains(m.Content, "private conversation"):
			replies++
		case strings.Contains(m.Content, "Resolved privately"):
			resolved++
		}
	}
	if replies != 1 || resolved != 1 {
		t.Errorf("public replies: %d taken private, %d resolved; want 1 and 1", replies, resolved)
	}
	kinds := e.kinds(cs.ID)
	for _, k := range []string{bot.KindAskedPublic, bot.KindTakenPrivate, bot.KindResolved, bot.KindSurveySent} {
		if n := bottest.Count(kinds, k); n != 1 {
			t.Errorf("%s recorded %d times, want 1 (funnel %v)", k, n, kinds)
		}
	}
	var cases int
	err := e.db.View(context.Background(), func(tx bot.Tx) (err error) {
		_, cases, err = tx.FindCases(context.Background(), bot.CaseFilter{Platform: bot.Discord})
		return err
	})
	if err != nil || cases != 1 {
		t.Errorf("cases = %d (%v), want 1", cases, err)
	}
}

// TestGatewayReconnectAndResume: op 7 and a dropped connection are resumed
// without a new IDENTIFY, and what was said meanwhile reaches the core; op 9
// costs one IDENTIFY.
func TestGatewayReconnectAndResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	_, thread, cs := e.openCase("My account is locked")
	lines := func() int { return bottest.Count(e.kinds(cs.ID), bot.KindMessage) }

	e.fake.RequestReconnect()
	e.wait("a RESUME after op 7", func() bool { return e.fake.Resumes() == 1 && e.fake.ReadySessions() == 1 })
	e.post(thread.ID, customerID, "after op 7")
	e.eventually("the message after op 7", func() bool { return lines() == 1 })

	if err := e.adapter.Connected(); err != nil {
		t.Errorf("connected after RESUME: %v", err)
	}
	e.fake.DropConnections()
	e.wait("the session detached", func() bool { return e.fake.ReadySessions() == 0 })
	// Said while the bot is away: replayed on RESUME.
	e.post(thread.ID, customerID, "while disconnected")
	e.wait("a RESUME after the drop", func() bool { return e.fake.Resumes() == 2 && e.fake.ReadySessions() == 1 })
	e.eventually("the message said while disconnected", func() bool { return lines() == 2 })

	e.fake.InvalidSession(false)
	e.wait("a new IDENTIFY after op 9", func() bool { return e.fake.Identifies() == 2 && e.fake.ReadySessions() == 1 })
	e.post(thread.ID, customerID, "after op 9")
	e.eventually("the message after op 9", func() bool { return lines() == 3 })

	if got, want := e.fake.Identifies(), 2; got != want {
		t.Errorf("identifies = %d, want %d (one at start, one after op 9)", got, want)
	}
	if got, want := e.fake.LastIntents(), int(Intents); got != want {
		t.Errorf("intents = %b, want %b", got, want)
	}
	// Commands are registered once per Run, not per connection.
	if got := e.fake.Calls(discordfake.RouteOverwriteGuildCmds); got != 1 {
		t.Errorf("command overwrites = %d, want 1", got)
	}
}

// TestIdentifyStormIsThrottled: repeated op 9s draw IDENTIFYs from the budget;
// past it the gateway pauses instead of identifying again.
func TestIdentifyStormIsThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{policy: func(p *gatewayPolicy) {
		p.identifyBurst = 2
		p.identifyEvery = time.Hour
	}})
	e.fake.InvalidSession(false)
	e.wait("the second IDENTIFY", func() bool { return e.fake.Identifies() == 2 && e.fake.ReadySessions() == 1 })
	e.fake.InvalidSession(false)
	e.wait("the third IDENTIFY", func() bool { return e.fake.Identifies() == 3 })
	// The third READY is over budget: the adapter closes and pauses.
	e.eventually("the gateway paused", func() bool {
		return strings.Contains(e.adapterLogs(), "gateway disconnected, reconnecting") && e.fake.ReadySessions() == 0
	})
	if p := e.adapter.identifyPause(); p < 30*time.Minute {
		t.Errorf("pause = %v, want about the budget's refill time (1h)", p)
	}
	if got, want := e.fake.Connections(), 1; got != want {
		t.Errorf("connections = %d, want %d (no reconnection while paused)", got, want)
	}
	if got, want := e.fake.Identifies(), 3; got != want {
		t.Errorf("identifies = %d, want %d", got, want)
	}
}

// TestRateLimitedSendsPostOnce: 429s and a lost response on message creation
// are retried until delivered, and every message is posted exactly once.
func TestRateLimitedSendsPostOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.fake.RateLimit(discordfake.RouteCreateMessage, 2, 200*time.Millisecond)
	// Then a send that Discord commits but whose response is lost: discordgo
	// retries the 502 with the same nonce.
	e.fake.LoseResponse(discordfake.RouteCreateMessage, 1, 502)

	_, thread, cs := e.openCase("Checkout fails with a card error")
	e.botMessage(supportID, "private conversation")
	e.settled()

	if got := e.fake.RateLimited(); got < 2 {
		t.Errorf("429s served = %d, want at least 2", got)
	}
	if n := len(e.botMessages(supportID)); n != 1 {
		t.Errorf("support channel has %d bot messages, want 1", n)
	}
	var intros, controls int
	for _, m := range e.botMessages(thread.ID) {
		if strings.Contains(m.Content, "private conversation with the") {
			intros++
		}
	}
	for _, m := range e.botMessages(cs.Staff.Channel) {
		if len(m.Buttons()) > 0 {
			controls++
		}
	}
	if intros != 1 || controls != 1 {
		t.Errorf("%d intros and %d staff controls, want 1 and 1", intros, controls)
	}
	if n, s := len(e.fake.Threads(supportID)), len(e.fake.Threads(staffChID)); n != 1 || s != 1 {
		t.Errorf("%d private and %d staff threads, want 1 and 1", n, s)
	}
	if n := len(e.botMessages(staffChID)); n != 1 {
		t.Errorf("staff channel has %d bot messages, want the one staff thread starter", n)
	}
	if kinds := e.kinds(cs.ID); bottest.Count(kinds, bot.KindTakenPrivate) != 1 {
		t.Errorf("funnel %v, want taken_private once", kinds)
	}
}

// TestDisallowedIntentStopsRun: without the Message Content intent enabled in
// the Developer Portal, Run stops with an explanation instead of reconnecting
// forever.
func TestDisallowedIntentStopsRun(t *testing.T) {
	t.Parallel()
	f := discordfake.New(discordfake.Options{Logf: t.Logf, DisallowedIntents: discordfake.IntentMessageContent})
	t.Cleanup(f.Close)
	a, err := New(Options{Token: f.Token(), StaffChannel: staffChID, APIURL: f.URL()})
	if err != nil {
		t.Fatal(err)
	}
	a.session.LogLevel = -1
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	err = a.Run(ctx, failingCore{})
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Run = %v (context %v), want a fatal error before the deadline", err, ctx.Err())
	}
	if !strings.Contains(err.Error(), "Message Content") {
		t.Errorf("Run error %q does not name the Message Content intent", err)
	}
	if got := f.Connections(); got != 1 {
		t.Errorf("connections = %d, want 1 (no retry)", got)
	}
}
