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

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/cmd/advocate-load/sim"
)

// relayParallel is how many outbox actions the bot delivers at once
// (bot/relay.go): the most that a crash can interrupt between a post and the
// commit that marks it delivered.
const relayParallel = 8

// role is what a simulated customer does with their case.
type role int

const (
	unanswered role = iota // asks; staff never answer: the SLA nudge must fire
	unrated                // resolved, never rates: the survey reminder must fire
	declines               // rates 4, answers the share prompt with "No thanks"
	neutral                // rates 3 (offered the review link only), leaves the prompt
	shares                 // rates 5 and posts a testimonial through the preview
)

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
//   - the outbox drains: nothing pending, nothing dead.
//
// What is not guaranteed: Slack's chat.postMessage has no idempotency key, so
// a crash after a post reached Slack and before the bot committed it as
// delivered posts that message again after the restart. The same holds for
// the Slack adapter's OpenPrivate, which posts the DM intro, then waits for
// the staff channel's pace to post the case's root, and keeps its progress in
// memory only. The test reports such duplicates and bounds them: a crash can
// interrupt at most relayParallel deliveries, each posting at most two
// messages. Interactive envelopes (clicks, submissions) are not redelivered by
// Slack: a click on a dead app fails for the person, who clicks again; the
// test does that and counts it.
//
// ADVOCATE_E2E_CONVERSATIONS (30) and ADVOCATE_E2E_KILLS (5) scale it. The
// bot paces its posts to Slack's one message per second per channel, and each
// conversation posts three or four times in the one staff channel, so 30
// conversations take about two minutes.
func TestCrashLosesNothing(t *testing.T) {
	n := envInt(t, "ADVOCATE_E2E_CONVERSATIONS", 30)
	kills := envInt(t, "ADVOCATE_E2E_KILLS", 5)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ADVOCATE_E2E_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ADVOCATE_E2E_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("%d conversations, %d kills, ADVOCATE_E2E_SEED=%d", n, kills, seed)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n)*10*time.Second+2*time.Minute)
	defer cancel()

	const sla, remind = 3 * time.Second, 3 * time.Second
	e := newEnv(t, ctx, sim.Config{SLA: sla, RemindAfter: remind, ExpireAfter: time.Hour}, sim.SlackOptions{})
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
		sem := make(chan struct{}, 8)
		for i, c := range convs {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				errs[i] = play(ctx, c, roleOf(i))
			})
		}
		wg.Wait()
	}()

	// the crashes: at random moments spread over the expected run (about
	// three seconds a conversation at the bot's pace in the one staff
	// channel); a third of them wait for a person's envelope to be queued
	// (the commit-before-ack window) and a third for a post to reach Slack
	// (the window between a post and the commit that marks it delivered)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	span := max(time.Duration(n)*3*time.Second, 20*time.Second)
	killAt := make([]time.Duration, kills)
	for i := range killAt {
		killAt[i] = 2*time.Second + time.Duration(rng.Int64N(int64(span)))
	}
	slices.Sort(killAt)
	var killedAt []string
	var startErr error
	for len(killedAt) < kills {
		tm := time.NewTimer(max(0, killAt[len(killedAt)]-time.Since(start)))
		select {
		case <-played:
			tm.Stop()
		case <-tm.C:
		}
		how := []string{"random", "after an envelope", "after a post"}[len(killedAt)%3]
		switch how {
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
		killedAt = append(killedAt, fmt.Sprintf("%s (%s)", time.Since(start).Round(time.Millisecond), how))
		if startErr = e.restart(); startErr != nil {
			break
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
	t.Logf("%d conversations, %d kills, %d starts, %d envelopes, %d clicks repeated after a crash, %d duplicated posts; %s",
		n, len(killedAt), e.starts, len(e.slack.Fake.Envelopes()), e.slack.Rec.Resends(), dups, time.Since(start).Round(time.Second))
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
// were due, and bounds the duplicates a crash can cause. It returns how many
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
	// a crash interrupts at most relayParallel deliveries; OpenPrivate posts twice
	if bound := kills * relayParallel * 2; dups > bound {
		t.Errorf("duplicated posts: got %d, want at most %d (%d kills × %d deliveries in flight × 2 posts)", dups, bound, kills, relayParallel)
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
