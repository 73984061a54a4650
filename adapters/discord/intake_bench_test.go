package discord

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// BenchmarkIntake measures the end-to-end path of a question on Discord: a
// new member's question, dispatched by the loopback Discord over the
// gateway, through the real discordgo client, the adapter's lanes, the core
// and group commit on a SQLite file, while the relay delivers the cases'
// threads and posts at the pace Discord's limits allow. One op is one
// question whose case is committed. "at once" is how many members ask at the
// same time, each asking again as soon as answered.
//
// A Discord message has no acknowledgement: via=message reports
// intake-p50-ms and intake-p99-ms, question → case committed (the core's
// Handle returned). via=command asks with /support, an interaction, and
// reports ack-p50-ms and ack-p99-ms, command → its answer received by
// Discord, which follows the commit. Every question must open a case.
//
//	go test -run '^$' -bench Intake -benchtime 2000x ./adapters/discord/
func BenchmarkIntake(b *testing.B) {
	for _, via := range []string{"message", "command"} {
		for _, atOnce := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("via=%s/at_once=%d", via, atOnce), func(b *testing.B) {
				benchIntake(b, via, atOnce)
			})
		}
	}
}

func benchIntake(b *testing.B, via string, atOnce int) {
	st := startIntakeStack(b)
	ask := st.askMessage
	metric := "intake"
	if via == "command" {
		ask, metric = st.askCommand, "ack"
	}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	var wg sync.WaitGroup
	for range atOnce {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				d, err := ask(b.Context(), i)
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if b.Failed() {
		return
	}
	if got := st.cases(b); got != b.N {
		b.Fatalf("%d questions opened %d cases", b.N, got)
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), metric+"-p50-ms")
	b.ReportMetric(at(0.99), metric+"-p99-ms")
}

// intakeStack is the loopback Discord, the store, the core and the adapter.
type intakeStack struct {
	fake    *discordfake.Server
	db      *sqlite.DB
	commits *commits
}

// startIntakeStack runs the stack until b ends and returns it once the
// gateway is ready and the commands are registered.
func startIntakeStack(b *testing.B) *intakeStack {
	b.Helper()
	f := discordfake.New(discordfake.Options{BotPermissions: Permissions})
	b.Cleanup(f.Close)
	f.AddGuild(guildID, "Acme")
	f.AddChannel(guildID, supportID, "support")
	f.AddChannel(guildID, staffChID, "staff")
	f.RestrictChannel(staffChID, staffRole, f.BotUserID())
	f.AddChannel(guildID, showcaseID, "showcase")
	f.AddRole(guildID, staffRole, "staff", discordfake.PermManageThreads)
	f.AddMember(guildID, staffID, "Sam", staffRole)

	db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "advocate.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cfg := bottest.Config()
	cfg.Staff.Set(bot.Discord, bot.StaffIDs{Roles: []string{staffRole}})
	core, err := bot.New(bot.Options{Store: db, Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	a, err := New(Options{
		Token: f.Token(), ApplicationID: f.ApplicationID(), APIURL: f.URL() + "/",
		Guilds: []string{guildID}, SupportChannels: []string{supportID},
		StaffRole: staffRole, StaffChannel: staffChID, ShowcaseChannel: showcaseID,
	})
	if err != nil {
		b.Fatal(err)
	}
	a.session.LogLevel = -1
	core.Register(a)
	st := &intakeStack{fake: f, db: db, commits: newCommits()}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = core.Run(ctx) })
	wg.Go(func() { _ = a.Run(ctx, committed{core, st.commits}) })
	b.Cleanup(func() {
		stop()
		wg.Wait()
		_ = db.Close()
	})
	wctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	if err := f.WaitUntil(wctx, func() bool { return f.ReadySessions() > 0 && len(f.Commands(guildID)) > 0 }); err != nil {
		b.Fatalf("the bot never connected and registered its commands: %v", err)
	}
	return st
}

// member adds member number i, a new customer.
func (st *intakeStack) member(i int64) string {
	user := fmt.Sprintf("7300%014d", i)
	st.fake.AddMember(guildID, user, fmt.Sprintf("Bench%d", i))
	return user
}

// askMessage posts member i's question in the support channel and returns
// the time until its case was committed.
func (st *intakeStack) askMessage(ctx context.Context, i int64) (time.Duration, error) {
	user := st.member(i)
	start := time.Now()
	m, err := st.fake.PostAsUser(supportID, user, "My widget does not start")
	if err != nil {
		return 0, err
	}
	at, err := st.commits.await(ctx, m.ID)
	return at.Sub(start), err
}

// askCommand has member i ask with /support and returns the time until
// Discord received the bot's answer.
func (st *intakeStack) askCommand(ctx context.Context, i int64) (time.Duration, error) {
	user := st.member(i)
	start := time.Now()
	in, err := st.fake.SlashCommand(user, supportID, cmdSupport,
		discordfake.CommandOption{Name: "description", Value: "My widget does not start"})
	if err != nil {
		return 0, err
	}
	var resp discordfake.InteractionResponse
	err = st.fake.WaitUntil(ctx, func() bool {
		rs := st.fake.InteractionResponses(in.ID)
		if len(rs) > 0 {
			resp = rs[0]
		}
		return len(rs) > 0
	})
	if err != nil {
		return 0, fmt.Errorf("waiting for the answer to /support: %w", err)
	}
	if resp.Status < 200 || resp.Status > 299 || resp.Content == tryAgainText {
		return 0, fmt.Errorf("/support answered %d %q", resp.Status, resp.Content)
	}
	return resp.At.Sub(start), nil
}

// cases counts the cases in the store.
func (st *intakeStack) cases(b *testing.B) int {
	var n int
	err := st.db.View(b.Context(), func(tx bot.Tx) error {
		var err error
		_, n, err = tx.FindCases(b.Context(), bot.CaseFilter{Platform: bot.Discord, Limit: 1})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// committed is the core as the adapter's handler, noting when each event's
// Handle returned without error: its transaction is committed.
type committed struct {
	bot.Handler
	commits *commits
}

func (c committed) Handle(ctx context.Context, ev bot.Event) (bot.Reply, error) {
	r, err := c.Handler.Handle(ctx, ev)
	if err == nil {
		c.commits.done(ev.ID)
	}
	return r, err
}

// commits are the times events were committed, by event ID, and the waiters
// for those not yet.
type commits struct {
	mu   sync.Mutex
	at   map[string]time.Time
	wait map[string]chan struct{}
}

func newCommits() *commits {
	return &commits{at: map[string]time.Time{}, wait: map[string]chan struct{}{}}
}

func (c *commits) done(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := c.at[id]; seen {
		return
	}
	c.at[id] = time.Now()
	if ch := c.wait[id]; ch != nil {
		close(ch)
		delete(c.wait, id)
	}
}

// await returns when event id was committed.
func (c *commits) await(ctx context.Context, id string) (time.Time, error) {
	c.mu.Lock()
	if at, ok := c.at[id]; ok {
		c.mu.Unlock()
		return at, nil
	}
	ch := c.wait[id]
	if ch == nil {
		ch = make(chan struct{})
		c.wait[id] = ch
	}
	c.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("waiting for the commit of %s: %w", id, ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at[id], nil
}
