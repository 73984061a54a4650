//go:build unix

package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// Benchmarks of the write path as the core uses it: one Update per inbound
// event, with group commit and without (the baseline: a transaction per
// event), on the same file settings, in the same run. See BENCHMARKS.md.

// benchConv is one support conversation: its first event opens a case, the
// next ones add to it.
type benchConv struct {
	n      int
	caseID int64 // 0 until the opening event has committed
}

// event does roughly what Core.Handle does with an inbound message: dedupe
// its ID, open the case or log a funnel event on it, and queue one reply. It
// returns the ID of the case it created, if any.
func (c *benchConv) event(ctx context.Context, tx bot.Tx, eventID string) (created int64, err error) {
	if dup, err := tx.Seen(ctx, eventID); err != nil || dup {
		return 0, err
	}
	id := c.caseID
	if id == 0 {
		cs := bot.Case{Platform: bot.Slack, Status: bot.StatusAwaitingStaff,
			Customer: bot.Person{Platform: bot.Slack, ID: fmt.Sprint("U", c.n), Name: "Customer"},
			Public:   bot.Ref{Platform: bot.Slack, Space: "T1", Channel: "C-help", Message: fmt.Sprint(c.n, ".1")},
			Question: "my login fails since this morning", Round: 1}
		if err := tx.CreateCase(ctx, &cs); err != nil {
			return 0, err
		}
		id, created = cs.ID, cs.ID
		err = tx.Record(ctx, bot.CaseEvent{CaseID: id, Kind: bot.KindAskedPublic, Actor: cs.Customer.ID, Platform: bot.Slack})
	} else {
		err = tx.Record(ctx, bot.CaseEvent{CaseID: id, Kind: bot.KindNote, Actor: "S1", Platform: bot.Slack})
	}
	if err != nil {
		return 0, err
	}
	return created, tx.Enqueue(ctx, &bot.Action{CaseID: id, Platform: bot.Slack, Lane: fmt.Sprint("conv-", c.n),
		Kind: bot.ActSend, To: bot.Ref{Platform: bot.Slack, Channel: "D1"},
		Msg: bot.Message{Text: "Thanks, a member of staff will answer here shortly."}})
}

// handle commits one event of c and, once committed, remembers its case.
func (c *benchConv) handle(ctx context.Context, db *DB, eventID string) error {
	var created int64
	err := db.Update(ctx, func(tx bot.Tx) (err error) {
		created, err = c.event(ctx, tx, eventID)
		return err
	})
	if err == nil && created != 0 {
		c.caseID = created
	}
	return err
}

func openBench(b *testing.B, opts Options) *DB {
	b.Helper()
	db, err := Open(b.Context(), filepath.Join(b.TempDir(), "advocate.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := db.Close(); err != nil {
			b.Error(err)
		}
	})
	return db
}

// cpuTime is the CPU time the process has used so far, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per event since start: on a shared
// machine it moves less with the load of other processes than events/s does.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/event")
}

// reportBatches reports the mean number of events per committed transaction.
func reportBatches(b *testing.B, db *DB) {
	if db.gc != nil && db.gc.batches.Load() > 0 {
		b.ReportMetric(float64(db.gc.items.Load())/float64(db.gc.batches.Load()), "events/tx")
	} else {
		b.ReportMetric(1, "events/tx")
	}
}

// BenchmarkGroupCommit measures inbound events committed per second with 1,
// 16 and 256 conversations handled concurrently (each conversation's events
// one after the other, as a platform delivers them), group commit against
// the baseline.
func BenchmarkGroupCommit(b *testing.B) {
	for _, convs := range []int{1, 16, 256} {
		for _, mode := range commitModes() {
			b.Run(fmt.Sprintf("conversations=%d/%s", convs, mode.name), func(b *testing.B) {
				benchThroughput(b, convs, mode.opts)
			})
		}
	}
}

func benchThroughput(b *testing.B, convs int, opts Options) {
	db := openBench(b, opts)
	ctx := b.Context()
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu := cpuTime(b)
	for n := range convs {
		wg.Go(func() {
			c := &benchConv{n: n}
			for {
				i := next.Add(1)
				if i > int64(b.N) || failed.Load() != nil {
					return
				}
				if err := c.handle(ctx, db, fmt.Sprint("E", i)); err != nil {
					failed.Store(&err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	reportCPU(b, cpu)
	reportBatches(b, db)
}

// BenchmarkGroupCommitLatency measures the time from an event's arrival to
// its commit when events arrive at a steady 1,000 per second (open loop: each
// event is handled on its own goroutine at its scheduled time, whether or not
// the earlier ones have committed), spread over 256 open conversations. The
// latency counts from the scheduled time, so a late start counts against it.
// b.N is the number of events: -benchtime=5000x runs for 5 s.
func BenchmarkGroupCommitLatency(b *testing.B) {
	for _, mode := range commitModes() {
		b.Run("rate=1000/"+mode.name, func(b *testing.B) { benchLatency(b, 1000, 256, mode.opts) })
	}
}

func benchLatency(b *testing.B, rate, convs int, opts Options) {
	db := openBench(b, opts)
	ctx := b.Context()
	open := make([]*benchConv, convs)
	for n := range open {
		open[n] = &benchConv{n: n}
		if err := open[n].handle(ctx, db, fmt.Sprint("open-", n)); err != nil {
			b.Fatal(err)
		}
	}
	interval := time.Second / time.Duration(rate)
	lat := make([]time.Duration, b.N)
	errs := make([]error, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		at := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(at))
		wg.Go(func() {
			errs[i] = open[i%convs].handle(ctx, db, fmt.Sprint("E", i))
			lat[i] = time.Since(at)
		})
	}
	wg.Wait()
	b.StopTimer()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[(len(lat)*99+99)/100-1]), "p99-ms") // nearest rank
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	reportBatches(b, db)
}
