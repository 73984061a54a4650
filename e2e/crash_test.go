package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/cmd/advocate-load/sim"
)

// The bot's pace per channel (slack.post_interval), 25 posts a second
// instead of Slack's one, and the limit the fake enforces with 429s: the
// same. The bot counts the interval from the end of a post, so it keeps the
// fake's limit however long the fake takes to serve a post; after a restart
// its first post in a channel may come too soon, draw a 429 and wait for the
// Retry-After. The test logs how many posts were refused.
const (
	botPostInterval = 40 * time.Millisecond
	fakePostPacing  = botPostInterval
)

// inConversation is how many customers talk to the bot at once.
const inConversation = 32

// killGap is how many steps the people take between a restart and the next
// crash at the least (fewer in a short run), so that the bot works between
// two crashes: a crash loop faster than Slack's redeliveries (here 3 s apart,
// three times) loses events on any app.
const killGap = 20

// withPostInterval sets slack.post_interval.
func withPostInterval(d time.Duration) envOption {
	return func(_ *env, cfg *sim.Config) { cfg.Slack.PostInterval = d }
}

// role is what a simulated customer does with their case.
type role int

const (
	unanswered role = iota // asks; staff never answer: the SLA nudge must fire
	unrated                // resolved, never rates: the survey reminder must fire
	declines               // rates 4, answers the share prompt with "No thanks"
	neutral                // rates 3 (offered the review link only), leaves the prompt
	shares                 // rates 5 and posts a testimonial through the preview
)

// steps is how many envelopes a role's conversation sends when no click has
// to be repeated: the moments of the run the crashes are spread over.
func (r role) steps() int {
	switch r {
	case unanswered:
		return 1 // ask
	case unrated:
		return 3 // ask, staff reply, resolve
	case declines:
		return 5 // … rate, decline
	case neutral:
		return 4 // … rate
	}
	return 6 // … rate, share, submit
}

func roleOf(i int) role {
	switch i % 10 {
	case 0:
		return unanswered
	case 1:
		return unrated
	case 2:
		return declines
	case 3:
		return neutral
	}
	return shares
}

// customer is one simulated customer's conversation, on either platform.
type customer struct {
	i    int
	name string
	// slack or discord is the conversation.
	slack   *sim.Conversation
	discord *sim.DiscordConversation

	ask, awaitStaff, staffReply, resolve, decline, share, awaitReminder, awaitNudge func(context.Context) error
	rate                                                                            func(context.Context, int) error
}

func slackCustomer(i int, c *sim.Conversation) *customer {
	return &customer{i: i, name: c.Name, slack: c,
		ask: c.Ask, awaitStaff: c.AwaitStaff, staffReply: c.StaffReply, resolve: c.Resolve, decline: c.Decline,
		share: c.Share, awaitReminder: c.AwaitReminder, awaitNudge: c.AwaitNudge,
		rate: func(ctx context.Context, score int) error { return c.Rate(ctx, score, true) }}
}

func discordCustomer(i int, c *sim.DiscordConversation) *customer {
	return &customer{i: i, name: c.Name, discord: c,
		ask: c.Ask, awaitStaff: c.AwaitStaff, staffReply: c.StaffReply, resolve: c.Resolve, decline: c.Decline,
		share: c.Share, awaitReminder: c.AwaitReminder, awaitNudge: c.AwaitNudge, rate: c.Rate}
}

func (c *customer) user() string {
	if c.slack != nil {
		return c.slack.User
	}
	return c.discord.User
}

func (c *customer) caseID() int64 {
	if c.slack != nil {
		return c.slack.CaseID
	}
	return c.discord.CaseID
}

func (c *customer) steps() []sim.Sent {
	if c.slack != nil {
		return c.slack.Steps
	}
	return c.discord.Steps
}

func (c *customer) testimonial() string {
	if c.slack != nil {
		return c.slack.Testimonial()
	}
	return c.discord.Testimonial()
}

// play runs one customer's conversation to its end for the role.
func play(ctx context.Context, c *customer, r role) error {
	if err := c.ask(ctx); err != nil {
		return err
	}
	if r == unanswered {
		return c.awaitNudge(ctx)
	}
	for _, step := range []func(context.Context) error{c.awaitStaff, c.staffReply, c.resolve} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	switch r {
	case unrated:
		return c.awaitReminder(ctx)
	case declines:
		if err := c.rate(ctx, 4); err != nil {
			return err
		}
		return c.decline(ctx)
	case neutral:
		return c.rate(ctx, 3)
	}
	if err := c.rate(ctx, 5); err != nil {
		return err
	}
	return c.share(ctx)
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}

// crashPath is one way the platforms reach the bot.
type crashPath struct {
	name    string
	opts    []envOption
	discord bool
}

// crashPaths are the four ways in: Slack's Socket Mode and signed HTTP
// deliveries (Events API and interactivity), Discord's gateway with its
// interactions over the gateway or as signed HTTP requests.
var crashPaths = []crashPath{
	{name: "slack-socket"},
	{name: "slack-http", opts: []envOption{withSlackHTTP}},
	{name: "discord-gateway", opts: []envOption{withDiscord}, discord: true},
	{name: "discord-http", opts: []envOption{withDiscordHTTP}, discord: true},
}

// slackRetries is Slack's schedule of Events API redeliveries over HTTP (at
// once, after 1 and after 5 minutes), compressed.
var slackRetries = []time.Duration{0, 3 * time.Second, 15 * time.Second}

// TestCrashLosesNothing plays conversations through the real binary on each
// of the four ways in (crashPaths, in parallel) while it is killed with
// SIGKILL at random moments and restarted on the same database, then checks
// the fakes' records against the database.
//
// What is guaranteed, and checked:
//   - every step the bot acknowledged (a Socket Mode ack, a 2xx to an HTTP
//     delivery, an accepted initial interaction response) has its effect in
//     the database (commit before ack), exactly once (dedupe on the event
//     ID, and the case's state refuses a second rating, resolution or
//     testimonial);
//   - every Slack Events API event is acknowledged in the end: the ones a
//     crash left unacknowledged are redelivered by Slack (in HTTP mode after
//     a failed or timed-out delivery, with X-Slack-Retry-Num) and committed
//     once;
//   - every due timer fires once, after a restart too (timers are rows);
//   - the outbox drains: nothing pending, nothing dead;
//   - every outward effect the fakes saw (posts, ephemerals, response_url
//     posts, chat.update, views; Discord messages, threads, thread members,
//     interaction responses, follow-ups and edits) happened at most once,
//     and each effect a step or timer owes its customer exactly once
//     (checkSlackEffects, checkDiscordEffects). Slack's chat.postMessage has
//     no idempotency key: every post carries its outbox nonce as message
//     metadata, and the adapter looks for it before posting again
//     (adapters/slack/posted.go); Discord's messages carry it as an enforced
//     nonce.
//
// What no platform redelivers, the simulated people do again, as people do:
// a click Slack gave up on (the app was down), a Discord interaction that
// failed, a Discord question the bot never saw (Discord sends a message
// once, to the sessions connected then). The test counts these.
//
// ADVOCATE_E2E_CONVERSATIONS (75) and ADVOCATE_E2E_KILLS (4) are per way in;
// ADVOCATE_E2E_SEED replays the choice of crash moments (each way in adds
// its index). 32 customers talk at once on each, and the bot posts at most
// once per 40 ms in a Slack channel (slack.post_interval; Slack's own limit
// is one a second, far too slow for hundreds of conversations in one staff
// channel), which the fake enforces. The four runs together take about a
// minute on two cores under -race.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test of the binary: skipped under -short")
	}
	n := envInt(t, "ADVOCATE_E2E_CONVERSATIONS", 75)
	kills := envInt(t, "ADVOCATE_E2E_KILLS", 4)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ADVOCATE_E2E_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ADVOCATE_E2E_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("%d conversations and %d kills on each way in, ADVOCATE_E2E_SEED=%d", n, kills, seed)
	for i, p := range crashPaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			crashRun(t, p, n, kills, seed+uint64(i))
		})
	}
}

// platform is what the crash run reads of the fake a way in uses.
type platform struct {
	// queued counts the people's steps so far; posts the bot's new messages.
	queued func() int64
	posts  func() int
	// waitUntil waits for cond, checked after every change of the fake.
	waitUntil func(ctx context.Context, cond func() bool) error
	// acked reports whether the bot acknowledged any delivery of a step.
	acked func(sim.Sent) bool
	// resends counts steps the people repeated.
	resends func() int
}

func crashRun(t *testing.T, p crashPath, n, kills int, seed uint64) {
	t.Logf("%s: %d conversations, %d kills, seed %d", p.name, n, kills, seed)
	// a bound for a hung run, not a measure: go test's own limit is 10 minutes
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute+time.Duration(n)*2*time.Second)
	defer cancel()

	const sla, remind = 3 * time.Second, 3 * time.Second
	fake := []slackfake.Option{slackfake.WithPostPacing(fakePostPacing), slackfake.WithDelivery(3*time.Second, slackRetries...)}
	e, ctx := newEnv(t, ctx, sim.Config{SLA: sla, RemindAfter: remind, ExpireAfter: time.Hour},
		sim.SlackOptions{Fake: fake}, append([]envOption{withPostInterval(botPostInterval)}, p.opts...)...)
	start := time.Now()

	custs := make([]*customer, n)
	var pl platform
	if p.discord {
		for i := range custs {
			custs[i] = discordCustomer(i, e.discord.Conversation(i))
		}
		pl = discordPlatform(e)
	} else {
		for i := range custs {
			custs[i] = slackCustomer(i, e.slack.Conversation(i))
		}
		pl = slackPlatform(e)
	}
	played := make(chan struct{})
	errs := make([]error, n)
	go func() {
		defer close(played)
		var wg sync.WaitGroup
		sem := make(chan struct{}, inConversation)
		for i, c := range custs {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				errs[i] = play(ctx, c, roleOf(i))
			})
		}
		wg.Wait()
	}()

	killedAt, startErr := crashes(ctx, e, pl, played, n, kills, seed, start)
	if startErr != nil {
		cancel()
		<-played
		t.Fatalf("restart after kill %d: %v", len(killedAt), startErr)
	}
	<-played
	t.Logf("killed at %q; people done after %s", killedAt, time.Since(start).Round(time.Millisecond))
	for i, err := range errs {
		if err != nil {
			t.Errorf("conversation %d (role %d): %v", i, roleOf(i), err)
		}
	}
	if t.Failed() {
		// what was made twice often says why a person waited in vain
		if p.discord {
			discordRepeats(t, e.discord.Fake.Effects())
		} else {
			slackRepeats(t, e.slack.Fake.Effects())
		}
		t.FailNow()
	}
	if len(killedAt) < min(kills, 3) {
		t.Errorf("kills: got %d during the conversations, want at least %d", len(killedAt), min(kills, 3))
	}

	waitDrained(t, ctx, e.db)
	e.stop()
	db := e.openStore()
	logs := cases(t, ctx, db)

	checkAckedEffects(t, custs, logs, pl.acked)
	checkTimers(t, custs, logs)
	var effects, replays int
	if p.discord {
		effects, replays = checkDiscordEffects(t, e, custs)
	} else {
		checkEnvelopes(t, e)
		effects, replays = checkSlackEffects(t, e, custs)
	}
	if pending, dead := outbox(t, ctx, db); pending != 0 || dead != 0 {
		t.Errorf("outbox after the run: got %d pending and %d dead, want none", pending, dead)
	}
	t.Logf("%s: %d conversations, %d kills, %d starts, %d steps, %d repeated by the people after a crash, %d effects (%d idempotent replays); %s",
		p.name, n, len(killedAt), e.starts, pl.queued(), pl.resends(), effects, replays, time.Since(start).Round(time.Second))
}

func slackPlatform(e *env) platform {
	return platform{
		queued:    e.slack.Queued,
		posts:     func() int { return e.slack.Fake.CountEffects("chat.postMessage") },
		waitUntil: e.slack.Fake.WaitUntil,
		acked: func(st sim.Sent) bool {
			for _, id := range st.Envelopes {
				if env, ok := e.slack.Fake.Envelope(id); ok && env.Acked {
					return true
				}
			}
			return false
		},
		resends: e.slack.Rec.Resends,
	}
}

func discordPlatform(e *env) platform {
	return platform{
		queued:    e.discord.Queued,
		posts:     func() int { return e.discord.Fake.CountEffects(discordfake.RouteCreateMessage) },
		waitUntil: e.discord.Fake.WaitUntil,
		acked: func(st sim.Sent) bool {
			for _, id := range st.Envelopes {
				for _, r := range e.discord.Fake.InteractionResponses(id) {
					if r.Status >= 200 && r.Status < 300 {
						return true
					}
				}
			}
			return false
		},
		resends: e.discord.Rec.Resends,
	}
}

// crashes kills and restarts the bot at random moments spread over the run,
// which is measured in the people's steps rather than in seconds (a loaded
// machine plays the same conversations slower): each crash waits for a
// random step in the first nine tenths of the run, then a third of them wait
// a random while more, a third wait for a person's step (the
// commit-before-ack window) and a third for a post to reach the platform
// (the window between a post and the commit that marks it delivered).
func crashes(ctx context.Context, e *env, pl platform, played <-chan struct{}, n, kills int, seed uint64, start time.Time) ([]string, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	total := 0
	for i := range n {
		total += roleOf(i).steps()
	}
	killAt := make([]int64, kills)
	for i := range killAt {
		killAt[i] = 1 + rng.Int64N(int64(max(1, total*9/10)))
	}
	slices.Sort(killAt)
	gap := int64(min(killGap, total/(2*max(kills, 1))))
	var killedAt []string
	for len(killedAt) < kills {
		at := killAt[len(killedAt)]
		_ = pl.waitUntil(ctx, func() bool { return pl.queued() >= at || isClosed(played) })
		how := []string{"random", "after a step", "after a post"}[len(killedAt)%3]
		switch how {
		case "random":
			tm := time.NewTimer(time.Duration(rng.Int64N(int64(time.Second))))
			select {
			case <-played:
				tm.Stop()
			case <-tm.C:
			}
		case "after a step":
			n0 := pl.queued()
			_ = pl.waitUntil(ctx, func() bool { return pl.queued() > n0 || isClosed(played) })
			time.Sleep(time.Duration(rng.IntN(10_000)) * time.Microsecond)
		case "after a post":
			n0 := pl.posts()
			_ = pl.waitUntil(ctx, func() bool { return pl.posts() > n0 || isClosed(played) })
			time.Sleep(time.Duration(rng.IntN(5_000)) * time.Microsecond)
		}
		if isClosed(played) || ctx.Err() != nil {
			break
		}
		e.kill()
		killedAt = append(killedAt, fmt.Sprintf("%s at step %d (%s)", time.Since(start).Round(time.Millisecond), pl.queued(), how))
		if err := e.restart(); err != nil {
			return killedAt, err
		}
		if next := len(killedAt); next < kills {
			killAt[next] = max(killAt[next], pl.queued()+gap)
		}
	}
	return killedAt, nil
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// waitDrained waits until the running bot's outbox has nothing pending,
// reading the database through a read-only connection.
func waitDrained(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for {
		var pending int
		err := ro.QueryRowContext(ctx, "SELECT count(*) FROM outbox WHERE state = 'pending'").Scan(&pending)
		if err == nil && pending == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the outbox never drained: %d pending (%v)", pending, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// checkAckedEffects requires one case per customer, opened once, and the
// database effect of every step the bot acknowledged (or superseded by
// committing an earlier click), once.
func checkAckedEffects(t *testing.T, custs []*customer, logs map[int64]caseLog, acked func(sim.Sent) bool) {
	t.Helper()
	byCustomer := map[string][]caseLog{}
	for _, l := range logs {
		byCustomer[l.c.Customer.ID] = append(byCustomer[l.c.Customer.ID], l)
	}
	checked := 0
	for _, c := range custs {
		mine := byCustomer[c.user()]
		if len(mine) != 1 {
			t.Errorf("%s: got %d cases, want 1", c.name, len(mine))
			continue
		}
		l := mine[0]
		if got, want := l.c.ID, c.caseID(); got != want {
			t.Errorf("%s: case %d in the database, the private conversation names case %d", c.name, got, want)
		}
		for _, st := range c.steps() {
			if !acked(st) && !st.Superseded {
				continue
			}
			checked++
			want := map[string]string{
				"ask": bot.KindAskedPublic, "staff_reply": bot.KindFirstStaffResponse, "resolve": bot.KindResolved,
				"rate": bot.KindRated, "share": bot.KindShareClicked, "submit": bot.KindShared, "decline": bot.KindShareDeclined,
			}[st.Kind]
			if want == "" {
				t.Errorf("%s: step %q has no expected effect", c.name, st.Kind)
				continue
			}
			if got := l.count(want); got != 1 {
				t.Errorf("%s: %s acknowledged (deliveries %v), case %d has %d %s events, want 1", c.name, st.Kind, st.Envelopes, l.c.ID, got, want)
			}
		}
		for _, kind := range []string{bot.KindAskedPublic, bot.KindTakenPrivate} {
			if got := l.count(kind); got != 1 {
				t.Errorf("case %d: %d %s events, want 1", l.c.ID, got, kind)
			}
		}
	}
	t.Logf("%d acknowledged steps checked against the database", checked)
}

// checkEnvelopes requires every Events API envelope, the bot's own echoes
// included, to be acknowledged in the end.
func checkEnvelopes(t *testing.T, e *env) {
	t.Helper()
	var lost, redelivered, late, expiredClicks int
	for _, env := range e.slack.Fake.Envelopes() {
		switch {
		case env.Type == "events_api" && !env.Acked:
			lost++
		case !env.Acked && env.Expired:
			expiredClicks++
		}
		if env.Deliveries > 1 {
			redelivered++
		}
		if env.Late {
			late++
		}
	}
	if lost != 0 {
		t.Errorf("Events API envelopes never acknowledged: got %d, want 0", lost)
	}
	t.Logf("envelopes: %d redelivered, %d acknowledged late, %d interactive expired unacknowledged (clicked again)", redelivered, late, expiredClicks)
}

// checkTimers requires the SLA nudge and the survey reminder to have fired
// exactly once where they were due, and never twice anywhere.
func checkTimers(t *testing.T, custs []*customer, logs map[int64]caseLog) {
	t.Helper()
	for _, c := range custs {
		l, ok := logs[c.caseID()]
		if !ok {
			continue // reported by checkAckedEffects
		}
		sla, reminded := l.count(bot.KindSLABreached), l.count(bot.KindSurveyReminded)
		if sla > 1 || reminded > 1 {
			t.Errorf("case %d: %d sla_breached and %d survey_reminded, want at most one each", l.c.ID, sla, reminded)
		}
		switch roleOf(c.i) {
		case unanswered:
			if sla != 1 {
				t.Errorf("unanswered case %d: %d sla_breached, want 1", l.c.ID, sla)
			}
		case unrated:
			if reminded != 1 {
				t.Errorf("unrated case %d: %d survey_reminded, want 1", l.c.ID, reminded)
			}
		}
		// Decided after the first response, a breach would be a lie. A case's
		// events are written while its row is locked, so their IDs give the
		// order of the decisions; their times are when each transaction began,
		// which on PostgreSQL can be earlier than a lock it waited for.
		if first, ok := l.first(bot.KindFirstStaffResponse); ok && sla == 1 {
			if breach, _ := l.first(bot.KindSLABreached); breach.ID > first.ID {
				t.Errorf("case %d: SLA breach (event %d) recorded after the first response (event %d)", l.c.ID, breach.ID, first.ID)
			}
		}
	}
}
