package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/cmd/advocate-load/sim"
	"github.com/advocate-bot/advocate/internal/testkit"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// env is the advocate binary running against a loopback Slack, with the
// database file it uses and the log it writes.
type env struct {
	t *testing.T
	// ctx is the test's context, cancelled with an errExited cause when a
	// process the env started exits without the test asking (kill, stop):
	// every wait on it then ends at once instead of at its deadline.
	ctx    context.Context
	cancel context.CancelCauseFunc
	// ending holds the processes the test asked to end.
	mu     sync.Mutex
	ending map[*sim.Process]bool
	slack  *sim.Slack
	// discord is set when the test asked for a Discord community too.
	discord *sim.Discord
	// slackHTTP and discordHTTP are set when Slack delivers over HTTP (slack.mode
	// http) and Discord sends interactions over HTTP (discord.interactions http):
	// the fakes are pointed at the bot's address after every start.
	slackHTTP, discordHTTP bool
	bin                    string
	cfg                    string // configuration file
	db                     string // database file
	logs                   *testkit.LogBuffer
	cred                   *syscall.Credential // run the bot as this user; nil: as the test
	proc                   *sim.Process
	// starts counts processes started, restarts included.
	starts int
}

// envOption adjusts the bot's configuration once the fake Slack runs.
type envOption func(e *env, cfg *sim.Config)

// newEnv starts a loopback Slack, writes the bot's configuration (cfg's
// StorePath and Slack are filled in) and starts the binary. Everything stops
// when the test ends; ctx bounds the whole test. The context returned is ctx,
// also ended when the bot exits unexpectedly: wait on it.
func newEnv(t *testing.T, ctx context.Context, cfg sim.Config, opts sim.SlackOptions, more ...envOption) (*env, context.Context) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test of the binary: skipped under -short")
	}
	bin := os.Getenv(binaryEnv)
	if bin == "" {
		t.Fatalf("%s is not set: run through TestMain", binaryEnv)
	}
	dir := t.TempDir()
	e := &env{t: t, bin: bin, logs: &testkit.LogBuffer{}, ending: map[*sim.Process]bool{},
		cfg: filepath.Join(dir, "advocate.yaml"), db: filepath.Join(dir, "advocate.db")}
	e.ctx, e.cancel = context.WithCancelCause(ctx)
	e.slack = sim.NewSlack(opts)
	cfg.Slack = e.slack.BotConfig()
	for _, o := range more {
		o(e, &cfg)
	}
	cfg.StorePath = e.db
	if err := sim.WriteConfig(e.cfg, cfg); err != nil {
		t.Fatal(err)
	}
	if e.cred != nil {
		if err := os.Chown(e.cfg, int(e.cred.Uid), int(e.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if e.proc != nil {
			e.expectExit(e.proc)
			e.proc.Kill()
		}
		if cause := context.Cause(e.ctx); errors.Is(cause, errExited) {
			t.Log(cause)
		}
		e.cancel(nil)
		e.slack.Close()
		if e.discord != nil {
			e.discord.Close()
		}
		if t.Failed() {
			t.Logf("advocate's log (last 16 KB):\n%s", e.logs.Tail(16<<10))
		}
	})
	e.start()
	return e, e.ctx
}

// errExited is the cause of the env's context when the bot exits unexpectedly.
var errExited = errors.New("advocate exited while the test was waiting on it")

// launch starts the binary and watches it: an exit the test did not ask for
// ends e.ctx, with the exit status as its cause.
func (e *env) launch() (*sim.Process, error) {
	p, err := sim.StartAs(e.bin, e.cfg, e.logs, e.cred)
	if err != nil {
		return nil, err
	}
	go func() {
		select {
		case <-p.Done():
		case <-e.ctx.Done():
			return
		}
		e.mu.Lock()
		asked := e.ending[p]
		e.mu.Unlock()
		if !asked {
			e.cancel(fmt.Errorf("%w: pid %d: %v", errExited, p.PID(), p.Err()))
		}
	}()
	return p, nil
}

// expectExit tells the watcher of launch that p is ending at the test's
// request: call it before killing or stopping p.
func (e *env) expectExit(p *sim.Process) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ending[p] = true
}

// start runs the binary and waits until it is connected.
func (e *env) start() {
	e.t.Helper()
	if err := e.restart(); err != nil {
		e.t.Fatal(err)
	}
}

// restart runs the binary (again, after a kill) and waits until it is
// connected: its Socket Mode connection, its web server (HTTP modes: the
// fakes then deliver to its new address), its Discord gateway session. Unlike
// start it reports instead of failing the test.
func (e *env) restart() error {
	sockets, running := e.slack.Fake.Connections(), e.logs.Count(`"msg":"advocate running"`)
	identified := 0
	if e.discord != nil {
		identified = e.discord.Fake.Identifies()
	}
	p, err := e.launch()
	if err != nil {
		return err
	}
	e.proc = p
	e.starts++
	if e.slackHTTP || e.discordHTTP {
		err = e.waitLogCount(`"msg":"advocate running"`, running+1, p)
		if err == nil {
			e.pointFakes()
		}
	} else {
		err = e.slack.Fake.WaitUntil(e.ctx, func() bool {
			return e.slack.Fake.Connections() > sockets && e.slack.Fake.ActiveConnections() > 0 || isClosed(p.Done())
		})
	}
	if err == nil && e.discord != nil {
		err = e.discord.Fake.WaitUntil(e.ctx, func() bool {
			return e.discord.Fake.Identifies() > identified && e.discord.Fake.ReadySessions() > 0 || isClosed(p.Done())
		})
	}
	select {
	case <-p.Done():
		return fmt.Errorf("advocate exited at start: %w", p.Err())
	default:
	}
	if err != nil {
		return fmt.Errorf("advocate never connected: %w", err)
	}
	return nil
}

// waitLogCount waits until the log has n lines containing s, or p exits.
func (e *env) waitLogCount(s string, n int, p *sim.Process) error {
	for e.logs.Count(s) < n {
		select {
		case <-e.ctx.Done():
			return fmt.Errorf("waiting for log line %s: %w", s, e.ctx.Err())
		case <-p.Done():
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// pointFakes points the fakes' HTTP deliveries at the running bot.
func (e *env) pointFakes() {
	base := e.baseURL()
	if e.slackHTTP {
		e.slack.Fake.DeliverOverHTTP(base)
	}
	if e.discordHTTP {
		e.discord.Fake.DeliverInteractionsOverHTTP(base + "/discord/interactions")
	}
}

// baseURL is the bot's web server, from its latest "advocate running" log line.
func (e *env) baseURL() string {
	e.t.Helper()
	lines := strings.Split(e.logs.String(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var l struct {
			Msg    string `json:"msg"`
			Listen string `json:"listen"`
		}
		if json.Unmarshal([]byte(lines[i]), &l) == nil && l.Msg == "advocate running" && l.Listen != "" {
			return "http://" + l.Listen
		}
	}
	e.t.Fatal("no \"advocate running\" line in the log")
	return ""
}

// withDiscord adds a loopback Discord community the bot serves too.
func withDiscord(e *env, cfg *sim.Config) {
	e.discord = sim.NewDiscord(sim.DiscordOptions{})
	cfg.Discord = e.discord.BotConfig()
}

// withSlackHTTP has Slack deliver events and interactivity over signed HTTP
// (slack.mode: http) instead of Socket Mode.
func withSlackHTTP(e *env, cfg *sim.Config) {
	e.slackHTTP = true
	cfg.Slack.Mode = "http"
}

// withDiscordHTTP adds a loopback Discord community whose interactions come
// as signed HTTP requests (discord.interactions: http); messages still come
// over the gateway.
func withDiscordHTTP(e *env, cfg *sim.Config) {
	withDiscord(e, cfg)
	e.discordHTTP = true
	cfg.Discord.Interactions = "http"
	cfg.Discord.PublicKey = e.discord.Fake.InteractionsPublicKey()
}

// kill crashes the bot with SIGKILL.
func (e *env) kill() {
	e.expectExit(e.proc)
	e.proc.Kill()
}

// stop shuts the bot down cleanly and requires a clean exit.
func (e *env) stop() {
	e.t.Helper()
	e.expectExit(e.proc)
	if err := e.proc.Stop(15 * time.Second); err != nil {
		e.t.Errorf("advocate's shutdown: %v", err)
	}
	e.proc = nil
}

// openStore opens the database after the bot has stopped.
func (e *env) openStore() *sqlite.DB {
	e.t.Helper()
	db, err := sqlite.Open(e.ctx, e.db, sqlite.Options{})
	if err != nil {
		e.t.Fatalf("open the bot's database: %v", err)
	}
	e.t.Cleanup(func() {
		if err := db.Close(); err != nil {
			e.t.Errorf("close store: %v", err)
		}
	})
	return db
}

// caseLog is a case with its funnel log.
type caseLog struct {
	c      *bot.Case
	events []bot.CaseEvent
}

func (l caseLog) count(kind string) int {
	n := 0
	for _, e := range l.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func (l caseLog) first(kind string) (bot.CaseEvent, bool) {
	for _, e := range l.events {
		if e.Kind == kind {
			return e, true
		}
	}
	return bot.CaseEvent{}, false
}

// cases reads every case and its log, by case ID.
func cases(t *testing.T, ctx context.Context, db bot.Store) map[int64]caseLog {
	t.Helper()
	out := map[int64]caseLog{}
	err := db.View(ctx, func(tx bot.Tx) error {
		cs, _, err := tx.FindCases(ctx, bot.CaseFilter{})
		if err != nil {
			return err
		}
		for _, c := range cs {
			evs, err := tx.CaseEvents(ctx, c.ID)
			if err != nil {
				return err
			}
			out[c.ID] = caseLog{c: c, events: evs}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read cases: %v", err)
	}
	return out
}

// outbox counts the actions still pending and the dead ones.
func outbox(t *testing.T, ctx context.Context, db bot.Store) (pending, dead int) {
	t.Helper()
	err := db.View(ctx, func(tx bot.Tx) (err error) {
		pending, dead, err = tx.OutboxStats(ctx)
		return err
	})
	if err != nil {
		t.Fatalf("outbox stats: %v", err)
	}
	return pending, dead
}

// post is one message the bot posted, as Slack echoed it back.
type post struct {
	Channel, Thread, Text string
}

// botPosts reads every message the bot posted, in order, from the fake's
// effects: the original text, before any chat.update.
func botPosts(t *testing.T, e *env) []post {
	t.Helper()
	var out []post
	for _, ef := range e.slack.Fake.Effects() {
		if ef.Kind == "chat.postMessage" {
			out = append(out, post{Channel: ef.Channel, Thread: ef.Thread, Text: ef.Text})
		}
	}
	return out
}

// postCounts counts how many times each message was posted.
func postCounts(t *testing.T, e *env) map[post]int {
	t.Helper()
	counts := map[post]int{}
	for _, p := range botPosts(t, e) {
		counts[p]++
	}
	return counts
}

// TestWaitsEndWhenTheBotExits: when the bot dies without the test asking,
// a wait on the env's context ends at once, with the exit as its cause,
// instead of at the test's deadline.
func TestWaitsEndWhenTheBotExits(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e, ctx := newEnv(t, ctx, sim.Config{}, sim.SlackOptions{})
	if err := syscall.Kill(e.proc.PID(), syscall.SIGKILL); err != nil { // not through e.kill: a crash
		t.Fatal(err)
	}
	err := e.slack.Conversation(1).Ask(ctx)
	if err == nil {
		t.Fatal("a question to a dead bot was answered")
	}
	if cause := context.Cause(ctx); !errors.Is(cause, errExited) || !strings.Contains(cause.Error(), "killed") {
		t.Errorf("the wait ended with %v, cause %v; want the bot's exit (signal: killed)", err, cause)
	}
	e.proc = nil // gone
}
