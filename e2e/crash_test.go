package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// play runs one customer's conversation to its end for the role.
func play(ctx context.Context, c *sim.Conversation, r role) error {
	if err := c.Ask(ctx); err != nil {
		return err
	}
	if r == unanswered {
		return c.AwaitNudge(ctx)
	}
	for _, step := range []func(context.Context) error{c.AwaitStaff, c.StaffReply, c.Resolve} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	switch r {
	case unrated:
		return c.AwaitReminder(ctx)
	case declines:
		if err := c.Rate(ctx, 4, true); err != nil {
			return err
		}
		return c.Decline(ctx)
	case neutral:
		return c.Rate(ctx, 3, true)
	}
	if err := c.Rate(ctx, 5, true); err != nil {
		return err
	}
	return c.Share(ctx)
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

// TestCrashLosesNothing plays conversations through the real binary while
// it is killed with SIGKILL at random moments and restarted on the same
// database, then checks the fake's records against the database.
//
// What is guaranteed, and checked:
//   - every envelope the bot acknowledged has its effect in the database
//     (commit before ack), exactly once (dedupe on the event ID, and the
//     case's state refuses a second rating, resolution or testimonial);
//   - every Events API envelope is acknowledged in the end: the ones a crash
//     left unacknowledged are redelivered by Slack and committed once;
//   - every due timer fires once, after a restart too (timers are rows);
//   - the outbox drains: nothing pending, nothing dead;
//   - no post is made twice: Slack's chat.postMessage has no idempotency
//     key, so every post carries its outbox nonce as message metadata, and
//     the relay marks an action that may have been posted unrecorded (queued
//     before the restart, or attempted before); the adapter looks for it in
//     the channel or thread before posting again (adapters/slack/posted.go).
//
// Interactive envelopes (clicks, submissions) are not redelivered by
// Slack: a click on a dead app fails for the person, who clicks again; the
// test does that and counts it.
//
// ADVOCATE_E2E_CONVERSATIONS (300) and ADVOCATE_E2E_KILLS (6) scale it;
// ADVOCATE_E2E_SEED replays the choice of crash moments. 32 customers talk
// at once, and the bot posts at most once per 40 ms in a channel
// (slack.post_interval; Slack's own limit is one a second, far too slow for
// hundreds of conversations in one staff channel), which the fake enforces.
// The staff channel, with three or four posts a conversation, sets the pace
// (the staff controls come 4–5 s after the question): 300 conversations and
// 6 crashes take one to one and a half minutes on two cores under -race, a
// little more while other packages' tests run alongside.
func TestCrashLosesNothing(t *testing.T) {
	n := envInt(t, "ADVOCATE_E2E_CONVERSATIONS", 300)
	kills := envInt(t, "ADVOCATE_E2E_KILLS", 6)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ADVOCATE_E2E_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ADVOCATE_E2E_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("%d conversations, %d kills, ADVOCATE_E2E_SEED=%d", n, kills, seed)
	// a bound for a hung run, not a measure: go test's own limit is 10 minutes
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute+time.Duration(n)*500*time.Millisecond)
	defer cancel()

	const sla, remind = 3 * time.Second, 3 * time.Second
	e := newEnv(t, ctx, sim.Config{SLA: sla, RemindAfter: remind, ExpireAfter: time.Hour},
		sim.SlackOptions{Fake: []slackfake.Option{slackfake.WithPostPacing(fakePostPacing)}}, withPostInterval(botPostInterval))
	start := time.Now()

	convs := make([]*sim.Conversation, n)
	for i := range convs {
		convs[i] = e.slack.Conversation(i)
	}
	played := make(chan struct{})
	errs := make([]error, n)
	go func() {
		defer close(played)
		var wg sync.WaitGroup
		sem := make(chan struct{}, inConversation)
		for i, c := range convs {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				errs[i] = play(ctx, c, roleOf(i))
			})
		}
		wg.Wait()
	}()

	// the crashes: at random moments spread over the run, which is measured
	// in the people's steps rather than in seconds (a loaded machine plays
	// the same conversations slower): each crash waits for a random step in
	// the first nine tenths of the run, then a third of them wait a random
	// while more, a third wait for a person's envelope to be queued (the
	// commit-before-ack window) and a third for a post to reach Slack (the
	// window between a post and the commit that marks it delivered)
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
	var startErr error
	for len(killedAt) < kills {
		at := killAt[len(killedAt)]
		_ = e.slack.Fake.WaitUntil(ctx, func() bool { return e.slack.Queued() >= at || isClosed(played) })
		how := []string{"random", "after an envelope", "after a post"}[len(killedAt)%3]
		switch how {
		case "random":
			tm := time.NewTimer(time.Duration(rng.Int64N(int64(time.Second))))
			select {
			case <-played:
				tm.Stop()
			case <-tm.C:
			}
		case "after an envelope":
			n0 := e.slack.Queued()
			_ = e.slack.Fake.WaitUntil(ctx, func() bool { return e.slack.Queued() > n0 || isClosed(played) })
			time.Sleep(time.Duration(rng.IntN(10_000)) * time.Microsecond)
		case "after a post":
			n0 := e.slack.Fake.Calls("chat.postMessage")
			_ = e.slack.Fake.WaitUntil(ctx, func() bool { return e.slack.Fake.Calls("chat.postMessage") > n0 || isClosed(played) })
			time.Sleep(time.Duration(rng.IntN(5_000)) * time.Microsecond)
		}
		if isClosed(played) || ctx.Err() != nil {
			break
		}
		e.kill()
		killedAt = append(killedAt, fmt.Sprintf("%s at step %d (%s)", time.Since(start).Round(time.Millisecond), e.slack.Queued(), how))
		if startErr = e.restart(); startErr != nil {
			break
		}
		if next := len(killedAt); next < kills {
			killAt[next] = max(killAt[next], e.slack.Queued()+gap)
		}
	}
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
		t.FailNow()
	}
	if len(killedAt) < min(kills, 3) {
		t.Errorf("kills: got %d during the conversations, want at least %d", len(killedAt), min(kills, 3))
	}

	waitDrained(t, ctx, e.db)
	e.stop()
	db := e.openStore()
	logs := cases(t, ctx, db)

	checkAckedEffects(t, convs, logs, e)
	checkEnvelopes(t, e)
	checkTimers(t, convs, logs)
	dups := checkDuplicates(t, convs, e, len(killedAt))
	if pending, dead := outbox(t, ctx, db); pending != 0 || dead != 0 {
		t.Errorf("outbox after the run: got %d pending and %d dead, want none", pending, dead)
	}
	for _, k := range e.slack.Rec.LagKinds() {
		t.Logf("lag %s: %s", k, e.slack.Rec.Lags()[k])
	}
	t.Logf("%d conversations, %d kills, %d starts, %d envelopes, %d clicks repeated after a crash, %d duplicated posts, %d of %d posts refused with 429; %s",
		n, len(killedAt), e.starts, len(e.slack.Fake.Envelopes()), e.slack.Rec.Resends(), dups,
		e.slack.Fake.RateLimitedCalls("chat.postMessage"), e.slack.Fake.Calls("chat.postMessage"), time.Since(start).Round(time.Second))
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

// checkAckedEffects requires the effect of every step the bot acknowledged
// (or superseded by committing an earlier click) in the database, once.
func checkAckedEffects(t *testing.T, convs []*sim.Conversation, logs map[int64]caseLog, e *env) {
	t.Helper()
	byCustomer := map[string][]caseLog{}
	for _, l := range logs {
		byCustomer[l.c.Customer.ID] = append(byCustomer[l.c.Customer.ID], l)
	}
	checked := 0
	for _, c := range convs {
		mine := byCustomer[c.User]
		if len(mine) != 1 {
			t.Errorf("%s: got %d cases, want 1", c.Name, len(mine))
			continue
		}
		l := mine[0]
		if got, want := l.c.ID, c.CaseID; got != want {
			t.Errorf("%s: case %d in the database, the DM intro names case %d", c.Name, got, want)
		}
		for _, st := range c.Steps {
			if !acked(e, st) && !st.Superseded {
				continue
			}
			checked++
			want := map[string]string{
				"ask": bot.KindAskedPublic, "staff_reply": bot.KindFirstStaffResponse, "resolve": bot.KindResolved,
				"rate": bot.KindRated, "share": bot.KindShareClicked, "submit": bot.KindShared, "decline": bot.KindShareDeclined,
			}[st.Kind]
			if want == "" {
				t.Errorf("%s: step %q has no expected effect", c.Name, st.Kind)
				continue
			}
			if got := l.count(want); got != 1 {
				t.Errorf("%s: %s acknowledged (envelopes %v), case %d has %d %s events, want 1", c.Name, st.Kind, st.Envelopes, l.c.ID, got, want)
			}
		}
		if got := l.count(bot.KindTakenPrivate); got != 1 {
			t.Errorf("case %d: %d taken_private events, want 1", l.c.ID, got)
		}
	}
	t.Logf("%d acknowledged steps checked against the database", checked)
}

// acked reports whether the fake saw any of the step's envelopes acknowledged.
func acked(e *env, st sim.Sent) bool {
	for _, id := range st.Envelopes {
		if env, ok := e.slack.Fake.Envelope(id); ok && env.Acked {
			return true
		}
	}
	return false
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
func checkTimers(t *testing.T, convs []*sim.Conversation, logs map[int64]caseLog) {
	t.Helper()
	for i, c := range convs {
		l, ok := logs[c.CaseID]
		if !ok {
			continue // reported by checkAckedEffects
		}
		sla, reminded := l.count(bot.KindSLABreached), l.count(bot.KindSurveyReminded)
		if sla > 1 || reminded > 1 {
			t.Errorf("case %d: %d sla_breached and %d survey_reminded, want at most one each", l.c.ID, sla, reminded)
		}
		switch roleOf(i) {
		case unanswered:
			if sla != 1 {
				t.Errorf("unanswered case %d: %d sla_breached, want 1", l.c.ID, sla)
			}
		case unrated:
			if reminded != 1 {
				t.Errorf("unrated case %d: %d survey_reminded, want 1", l.c.ID, reminded)
			}
		}
		if first, ok := l.first(bot.KindFirstStaffResponse); ok && sla == 1 {
			if breach, _ := l.first(bot.KindSLABreached); breach.At.After(first.At) {
				t.Errorf("case %d: SLA breach recorded at %s after the first response at %s", l.c.ID, breach.At, first.At)
			}
		}
	}
}

// checkDuplicates counts the posts made more than once (same channel, thread
// and text: every message of these conversations is unique there), requires
// the survey, reminder, share prompt, SLA nudge and testimonial posts that
// were due, and requires that none was posted twice. It returns how many
// duplicates there were.
func checkDuplicates(t *testing.T, convs []*sim.Conversation, e *env, kills int) int {
	t.Helper()
	counts := postCounts(t, e)
	kindOf := func(p post) string {
		switch {
		case strings.HasPrefix(p.Text, "This case has been marked as resolved.\n"):
			return "survey"
		case strings.HasPrefix(p.Text, "A quick reminder"):
			return "reminder"
		case strings.HasPrefix(p.Text, "Would you like to share"):
			return "share prompt"
		case p.Channel == sim.ShowcaseChannel:
			return "testimonial"
		case strings.Contains(p.Text, "has had no staff response"):
			return "SLA nudge"
		case strings.HasPrefix(p.Text, "Hi ") && strings.Contains(p.Text, "private conversation"):
			return "DM intro"
		case p.Channel == sim.StaffChannel && p.Thread == "" && strings.HasPrefix(p.Text, "Case #"):
			return "staff root"
		}
		return "other"
	}
	byKind := map[string]int{}
	var dupList []string
	dups := 0
	for p, n := range counts {
		if n > 1 {
			dups += n - 1
			byKind[kindOf(p)] += n - 1
			dupList = append(dupList, fmt.Sprintf("%d× %s in %s: %.60q", n, kindOf(p), p.Channel, p.Text))
		}
	}
	sort.Strings(dupList)
	if dups > 0 {
		t.Logf("duplicated posts by kind %v:\n  %s", byKind, strings.Join(dupList, "\n  "))
	}
	if dups > 0 {
		t.Errorf("duplicated posts: got %d after %d kills, want none", dups, kills)
	}

	// what was due was posted
	have := func(channel, prefix string) bool {
		for p := range counts {
			if p.Channel == channel && strings.HasPrefix(p.Text, prefix) {
				return true
			}
		}
		return false
	}
	for i, c := range convs {
		r := roleOf(i)
		if r != unanswered && !have(c.DM, "This case has been marked as resolved.\n") {
			t.Errorf("%s: no survey posted", c.Name)
		}
		if r == unrated && !have(c.DM, "A quick reminder") {
			t.Errorf("%s: no survey reminder posted", c.Name)
		}
		if (r == declines || r == neutral || r == shares) && !have(c.DM, "Would you like to share") {
			t.Errorf("%s: no share prompt posted", c.Name)
		}
		if r == shares && !have(sim.ShowcaseChannel, "💬 “"+c.Testimonial()) {
			t.Errorf("%s: no testimonial posted", c.Name)
		}
	}
	return dups
}
