package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// The store benchmarks of the SQLite package (store/sqlite/bench_test.go),
// the same conversation events, on PostgreSQL: one instance (one pool), or
// two (two pools on one database, the conversations split between them). See
// BENCHMARKS.md.

type benchConv struct {
	n      int
	caseID int64
}

// event does what the SQLite benchmark's does: dedupe, open the case or log
// an event on it, queue one reply.
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

// openInstances opens n stores on one new schema, as n instances would.
func openInstances(b *testing.B, n int) []*DB {
	b.Helper()
	url := testURL(b)
	var dbs []*DB
	for range n {
		db, err := Open(context.Background(), url, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	return dbs
}

// BenchmarkGroupCommit is the SQLite benchmark's throughput run: events
// committed per second with 1, 16 and 256 conversations at once.
func BenchmarkGroupCommit(b *testing.B) {
	for _, convs := range []int{1, 16, 256} {
		for _, inst := range []int{1, 2} {
			if inst > convs {
				continue
			}
			b.Run(fmt.Sprintf("conversations=%d/instances=%d", convs, inst), func(b *testing.B) {
				benchThroughput(b, convs, openInstances(b, inst))
			})
		}
	}
}

func benchThroughput(b *testing.B, convs int, dbs []*DB) {
	ctx := b.Context()
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	b.ResetTimer()
	for n := range convs {
		wg.Go(func() {
			c, db := &benchConv{n: n}, dbs[n%len(dbs)]
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
}

// BenchmarkGroupCommitLatency is the SQLite benchmark's latency run: 1,000
// events a second (open loop) over 256 open conversations, time from the
// scheduled arrival to the commit; and at 250 a second.
func BenchmarkGroupCommitLatency(b *testing.B) {
	for _, rate := range []int{250, 1000} {
		for _, inst := range []int{1, 2} {
			b.Run(fmt.Sprintf("rate=%d/instances=%d", rate, inst), func(b *testing.B) {
				benchLatency(b, rate, 256, openInstances(b, inst))
			})
		}
	}
}

func benchLatency(b *testing.B, rate, convs int, dbs []*DB) {
	ctx := b.Context()
	open := make([]*benchConv, convs)
	for n := range open {
		open[n] = &benchConv{n: n}
		if err := open[n].handle(ctx, dbs[n%len(dbs)], fmt.Sprint("open-", n)); err != nil {
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
			n := i % convs
			errs[i] = open[n].handle(ctx, dbs[n%len(dbs)], fmt.Sprint("E", i))
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
	b.ReportMetric(ms(lat[(len(lat)*99+99)/100-1]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
