package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/cmd/advocate-load/sim"
	"github.com/advocate-bot/advocate/internal/testkit"
	"github.com/advocate-bot/advocate/store/postgres"
	"github.com/advocate-bot/advocate/store/postgres/pgtest"
)

// onPostgres points the bot at a PostgreSQL database instead of its file.
func onPostgres(url string) envOption {
	return func(_ *env, cfg *sim.Config) { cfg.StoreURL = url }
}

// instance is one of several advocate processes on one database.
type instance struct {
	proc *sim.Process
	logs *testkit.LogBuffer
}

// TestTwoInstancesOnPostgres runs two advocate processes on one PostgreSQL
// database against one loopback Slack, plays a few hundred conversations,
// and kills one process with SIGKILL in the middle (then the other),
// restarting each: every acknowledged event has its effect once, no outward
// effect is made twice, every due timer fires once, both processes did work,
// and the outbox drains. In HTTP mode the fake posts its deliveries to a load
// balancer in front of both processes, which passes a request on to the
// other process when one does not answer; in Socket Mode the fake hands its
// envelopes to the two connections in turn.
//
// ADVOCATE_E2E_INSTANCE_CONVERSATIONS (200) scales it. The database comes
// from ADVOCATE_TEST_POSTGRES (see pgtest).
func TestTwoInstancesOnPostgres(t *testing.T) {
	for _, mode := range []string{"http", "socket"} {
		t.Run(mode, func(t *testing.T) { twoInstances(t, mode == "http") })
	}
}

func twoInstances(t *testing.T, httpMode bool) {
	url := pgtest.URL(t)
	n := envInt(t, "ADVOCATE_E2E_INSTANCE_CONVERSATIONS", 200)
	// a bound for a hung run, not a measure
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute+time.Duration(n)*500*time.Millisecond)
	defer cancel()
	const sla, remind = 3 * time.Second, 3 * time.Second
	opts := []envOption{withPostInterval(botPostInterval), onPostgres(url)}
	if httpMode {
		opts = append(opts, withSlackHTTP)
	}
	e, ctx := newEnv(t, ctx, sim.Config{SLA: sla, RemindAfter: remind, ExpireAfter: time.Hour},
		sim.SlackOptions{Fake: []slackfake.Option{slackfake.WithPostPacing(fakePostPacing)}}, opts...)
	start := time.Now()
	lb := &balancer{}
	front := httptest.NewServer(lb)
	defer front.Close()
	if httpMode {
		lb.add(e.baseURL())
		e.slack.Fake.DeliverOverHTTP(front.URL)
	}

	// e runs the first process; the second joins it on the same database.
	insts := []*instance{{proc: e.proc, logs: e.logs}, {logs: &testkit.LogBuffer{}}}
	startInstance := func(i int) {
		t.Helper()
		before := e.slack.Fake.Connections() // a killed one may still count as active a while
		p, err := sim.Start(e.bin, e.cfg, insts[i].logs)
		if err != nil {
			t.Fatal(err)
		}
		insts[i].proc = p
		e.starts++
		if httpMode {
			base, err := waitReady(ctx, insts[i].logs, p)
			if err != nil {
				t.Fatalf("instance %d: %v: %s", i, err, insts[i].logs.Tail(4<<10))
			}
			lb.add(base)
			return
		}
		err = e.slack.Fake.WaitUntil(ctx, func() bool {
			return (e.slack.Fake.Connections() > before && e.slack.Fake.ActiveConnections() > 0) || isClosed(p.Done())
		})
		if err != nil || isClosed(p.Done()) {
			t.Fatalf("instance %d never connected (%v): %s", i, err, insts[i].logs.Tail(4<<10))
		}
	}
	startInstance(1)
	t.Cleanup(func() {
		for i, in := range insts {
			if in.proc != nil {
				e.expectExit(in.proc)
				in.proc.Kill()
			}
			if t.Failed() {
				t.Logf("instance %d's log (last 8 KB):\n%s", i, in.logs.Tail(8<<10))
			}
		}
		e.proc = nil // killed above
	})

	convs := make([]*customer, n)
	for i := range convs {
		convs[i] = slackCustomer(i, e.slack.Conversation(i))
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

	total := int64(0)
	for i := range n {
		total += int64(roleOf(i).steps())
	}
	var killed []string
	for k, at := range []int64{total / 3, 2 * total / 3} {
		_ = e.slack.Fake.WaitUntil(ctx, func() bool { return e.slack.Queued() >= at || isClosed(played) })
		if isClosed(played) || ctx.Err() != nil {
			break
		}
		i := k % 2
		e.expectExit(insts[i].proc)
		insts[i].proc.Kill()
		killed = append(killed, fmt.Sprintf("instance %d at step %d after %s", i, e.slack.Queued(), time.Since(start).Round(time.Millisecond)))
		startInstance(i)
	}
	<-played
	t.Logf("killed %q; people done after %s", killed, time.Since(start).Round(time.Millisecond))
	for i, err := range errs {
		if err != nil {
			t.Errorf("conversation %d (role %d): %v", i, roleOf(i), err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if len(killed) != 2 {
		t.Errorf("kills during the conversations: got %d, want 2", len(killed))
	}

	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitStoreDrained(t, ctx, db)
	for i, in := range insts {
		e.expectExit(in.proc)
		if err := in.proc.Stop(15 * time.Second); err != nil {
			t.Errorf("instance %d's shutdown: %v", i, err)
		}
		in.proc = nil
	}
	logs := cases(t, ctx, db)
	checkAckedEffects(t, convs, logs, slackPlatform(e).acked)
	checkEnvelopes(t, e)
	checkTimers(t, convs, logs)
	effects, replays := checkSlackEffects(t, e, convs)
	if pending, dead := outbox(t, ctx, db); pending != 0 || dead != 0 {
		t.Errorf("outbox after the run: got %d pending and %d dead, want none", pending, dead)
	}
	for i, in := range insts {
		opened := strings.Count(in.logs.String(), `"msg":"case opened"`)
		if opened == 0 {
			t.Errorf("instance %d opened no case: the deliveries did not reach both", i)
		}
		t.Logf("instance %d: %d cases opened, %d destinations taken over", i, opened,
			strings.Count(in.logs.String(), `"msg":"destination taken over from a stopped instance"`))
	}
	t.Logf("%d conversations, %d kills, %d starts, %d envelopes, %d requests passed on by the balancer, %d clicks repeated, %d effects (%d idempotent replays); %s",
		n, len(killed), e.starts, len(e.slack.Fake.Envelopes()), lb.passedOn.Load(), e.slack.Rec.Resends(), effects, replays,
		time.Since(start).Round(time.Second))
}

// waitStoreDrained waits until the outbox has nothing pending.
func waitStoreDrained(t *testing.T, ctx context.Context, db bot.Store) {
	t.Helper()
	for {
		var pending int
		err := db.View(ctx, func(tx bot.Tx) (err error) {
			pending, _, err = tx.OutboxStats(ctx)
			return err
		})
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

// waitReady waits for a starting instance's "advocate running" line and its
// /readyz, and returns its base URL.
func waitReady(ctx context.Context, logs *testkit.LogBuffer, p *sim.Process) (string, error) {
	for {
		if isClosed(p.Done()) {
			return "", fmt.Errorf("exited at start: %v", p.Err())
		}
		for _, line := range strings.Split(logs.String(), "\n") {
			var l struct {
				Msg    string `json:"msg"`
				Listen string `json:"listen"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "advocate running" && l.Listen != "" {
				if base := "http://" + l.Listen; readyz(ctx, base) == http.StatusOK {
					return base, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("never ready: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// balancer is the load balancer in front of the instances: each request goes
// to the next instance in turn; one that does not answer is dropped and the
// request goes on to the next, as a balancer's health check would do.
type balancer struct {
	mu       sync.Mutex
	backends []string
	next     int
	passedOn atomic.Int64
}

func (b *balancer) add(base string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append(b.backends, base)
}

func (b *balancer) pick() (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.backends) == 0 {
		return "", false
	}
	b.next++
	return b.backends[b.next%len(b.backends)], true
}

func (b *balancer) drop(base string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = slices.DeleteFunc(b.backends, func(s string) bool { return s == base })
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for range 3 {
		base, ok := b.pick()
		if !ok {
			break
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			break
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			if r.Context().Err() != nil {
				return
			}
			b.drop(base)
			b.passedOn.Add(1)
			continue
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}
	http.Error(w, "no instance answered", http.StatusBadGateway)
}
