package slack_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack"
	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// BenchmarkIntake measures the end-to-end path of a question: a new
// customer's message in the support channel, sent by the loopback Slack over
// Socket Mode, through the real slack-go client, the adapter, the core and
// group commit on a SQLite file, to its acknowledgement, while the relay
// delivers the cases' posts. One op is one question acknowledged and decided
// (the timer stops once every question's case is committed, since a message
// is acknowledged before its decision); ack-p50-ms and ack-p99-ms are the
// envelope-to-ack latencies. "at once" is how many
// customers ask at the same time, each asking again as soon as answered.
//
//	go test -run '^$' -bench Intake -benchtime 2000x ./adapters/slack/
func BenchmarkIntake(b *testing.B) {
	for _, atOnce := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("at_once=%d", atOnce), func(b *testing.B) {
			fake, db := startIntakeStack(b)
			var next atomic.Int64
			var mu sync.Mutex
			var acks []time.Duration
			ctx := b.Context()
			b.ResetTimer()
			var wg sync.WaitGroup
			for range atOnce {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						user := fmt.Sprintf("U0B%08d", i)
						fake.AddUser(user, fmt.Sprintf("Bench%d", i))
						start := time.Now()
						p, err := fake.UserSays(user, supportID, "My widget does not start")
						if err != nil {
							b.Error(err)
							return
						}
						if _, err := fake.WaitAck(ctx, p.EnvelopeID); err != nil {
							b.Error(err)
							return
						}
						d := time.Since(start)
						mu.Lock()
						acks = append(acks, d)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			waitCases(b, db, b.N)
			b.StopTimer()
			slices.Sort(acks)
			if len(acks) > 0 {
				at := func(p float64) float64 {
					return float64(acks[min(len(acks)-1, int(p*float64(len(acks))))].Microseconds()) / 1000
				}
				b.ReportMetric(at(0.50), "ack-p50-ms")
				b.ReportMetric(at(0.99), "ack-p99-ms")
			}
		})
	}
}

// waitCases waits until the store holds n cases.
func waitCases(b *testing.B, db *sqlite.DB, n int) {
	b.Helper()
	for {
		var got int
		err := db.View(b.Context(), func(tx bot.Tx) error {
			var err error
			_, got, err = tx.FindCases(b.Context(), bot.CaseFilter{Limit: 1})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if got >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// startIntakeStack runs the fake Slack, the store, the core and the Socket
// Mode adapter until b ends, and returns the fake once the bot is connected,
// and the store.
func startIntakeStack(b *testing.B) (*slackfake.Server, *sqlite.DB) {
	b.Helper()
	fake := slackfake.New(b, slackfake.WithAckTimeout(10*time.Second))
	fake.AddChannel(supportID, "support", true)
	fake.AddChannel(staffID, "staff", false)
	fake.AddChannel(showcaseID, "showcase", true)
	fake.AddUser(samID, "Sam")
	db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "advocate.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cfg := bottest.Config()
	cfg.Staff.Set(bot.Slack, bot.StaffIDs{Users: []string{samID}})
	core, err := bot.New(bot.Options{Store: db, Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	adapter, err := slack.New(slack.Options{
		BotToken: fake.BotToken(), AppToken: fake.AppToken(), APIURL: fake.APIURL(),
		SupportChannels: []string{supportID}, StaffChannel: staffID, ShowcaseChannel: showcaseID,
		PostInterval: time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	core.Register(adapter)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = core.Run(ctx) })
	wg.Go(func() { _ = adapter.Run(ctx, core) })
	b.Cleanup(func() {
		stop()
		wg.Wait()
		_ = db.Close()
	})
	for deadline := time.Now().Add(30 * time.Second); adapter.Connected() != nil; {
		if time.Now().After(deadline) {
			b.Fatalf("the bot never connected: %v", adapter.Connected())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fake, db
}
