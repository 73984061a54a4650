package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/store/storetest"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func TestConformanceNoGroupCommit(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bot.Store { return openTest(t, Options{NoGroupCommit: true}) })
}

// holdWriter keeps db's writer busy in an Update of its own until the
// returned function is called; that function then waits for the Update.
func holdWriter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	running, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.Update(context.Background(), func(bot.Tx) error {
			close(running)
			<-unblock
			return nil
		})
	}()
	<-running
	return func() {
		t.Helper()
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("Update holding the writer: %v", err)
		}
	}
}

// waitQueued waits until n Updates wait in g's queue.
func waitQueued(g *groupCommit, n int) {
	for len(g.queue) < n {
		time.Sleep(100 * time.Microsecond)
	}
}

// waitTaken waits until at most n Updates wait in g's queue.
func waitTaken(g *groupCommit, n int) {
	for len(g.queue) > n {
		time.Sleep(100 * time.Microsecond)
	}
}

// inOneBatch runs fns as concurrent Updates, queued in order while the
// writer is held, so that the writer takes them as one batch. It returns
// their errors and how many transactions the writer began for them.
func inOneBatch(t *testing.T, db *DB, fns ...func(ctx context.Context, tx bot.Tx) error) ([]error, int64) {
	t.Helper()
	release := holdWriter(t, db)
	before := db.gc.batches.Load()
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			ctx := t.Context()
			errs[i] = db.Update(ctx, func(tx bot.Tx) error { return fn(ctx, tx) })
		})
		waitQueued(db.gc, i+1)
	}
	release()
	wg.Wait()
	return errs, db.gc.batches.Load() - before
}

// createFor returns an fn that stores a case of customer and records eventID.
func createFor(customer, eventID string) func(ctx context.Context, tx bot.Tx) error {
	return func(ctx context.Context, tx bot.Tx) error {
		if _, err := tx.Seen(ctx, eventID); err != nil {
			return err
		}
		c := bot.Case{Platform: bot.Slack, Customer: bot.Person{Platform: bot.Slack, ID: customer}}
		return tx.CreateCase(ctx, &c)
	}
}

// withCtx adapts fn to Update, passing it ctx.
func withCtx(ctx context.Context, fn func(ctx context.Context, tx bot.Tx) error) func(bot.Tx) error {
	return func(tx bot.Tx) error { return fn(ctx, tx) }
}

// customers lists the customers of the stored cases, sorted.
func customers(t *testing.T, db *DB) string {
	t.Helper()
	var names []string
	err := db.View(t.Context(), func(tx bot.Tx) error {
		cases, _, err := tx.FindCases(t.Context(), bot.CaseFilter{})
		for _, c := range cases {
			names = append(names, c.Customer.ID)
		}
		return err
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}

// seen reports whether eventID is recorded, without recording it.
func seen(t *testing.T, db *DB, eventID string) bool {
	t.Helper()
	var n int
	if err := db.read.QueryRowContext(t.Context(), `SELECT count(*) FROM processed_events WHERE id = ?`, eventID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// checkWriterAlive fails t unless db still commits Updates.
func checkWriterAlive(t *testing.T, db *DB) {
	t.Helper()
	if err := db.Update(t.Context(), withCtx(t.Context(), createFor("after", "e-after"))); err != nil {
		t.Fatalf("Update after the batch: %v", err)
	}
	if !seen(t, db, "e-after") {
		t.Errorf("Update after the batch: its event is not stored")
	}
}

func TestGroupCommitConcurrent(t *testing.T) {
	db := openTest(t, Options{})
	const workers, each = 32, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				errs <- db.Update(t.Context(), func(tx bot.Tx) error {
					ctx := t.Context()
					if _, err := tx.Seen(ctx, fmt.Sprintf("e-%d-%d", w, i)); err != nil {
						return err
					}
					c := bot.Case{Platform: bot.Slack, Customer: bot.Person{ID: fmt.Sprint("u", w)}}
					if err := tx.CreateCase(ctx, &c); err != nil {
						return err
					}
					return tx.Enqueue(ctx, &bot.Action{CaseID: c.ID, Platform: bot.Slack, Lane: fmt.Sprint(w), Kind: bot.ActSend})
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	err := db.View(t.Context(), func(tx bot.Tx) error {
		_, total, err := tx.FindCases(t.Context(), bot.CaseFilter{})
		if err != nil {
			return err
		}
		pending, _, err := tx.OutboxStats(t.Context())
		if got, want := total, workers*each; got != want {
			t.Errorf("cases: got %d, want %d", got, want)
		}
		if got, want := pending, workers*each; got != want {
			t.Errorf("pending actions: got %d, want %d", got, want)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := db.gc.items.Load(), int64(workers*each); got != want {
		t.Errorf("fns run: got %d, want %d", got, want)
	}
}

func TestGroupCommitFailingFn(t *testing.T) {
	db := openTest(t, Options{})
	boom := errors.New("boom")
	errs, txs := inOneBatch(t, db,
		createFor("ann", "e-ann"),
		func(ctx context.Context, tx bot.Tx) error {
			if err := createFor("bob", "e-bob")(ctx, tx); err != nil {
				return err
			}
			return boom
		},
		createFor("cid", "e-cid"),
	)
	if txs != 1 {
		t.Errorf("transactions for the batch: got %d, want 1", txs)
	}
	for i, want := range []error{nil, boom, nil} {
		if got := errs[i]; got != want {
			t.Errorf("Update %d: got error %v, want %v", i, got, want)
		}
	}
	if got, want := customers(t, db), "ann cid"; got != want {
		t.Errorf("customers stored: got %q, want %q", got, want)
	}
	if seen(t, db, "e-bob") {
		t.Errorf("event of the failed fn: stored, want rolled back")
	}
	checkWriterAlive(t, db)
}

func TestGroupCommitSeenInOneBatch(t *testing.T) {
	db := openTest(t, Options{})
	const callers = 6
	dups := make([]bool, callers)
	fns := make([]func(context.Context, bot.Tx) error, callers)
	for i := range fns {
		fns[i] = func(ctx context.Context, tx bot.Tx) (err error) {
			dups[i], err = tx.Seen(ctx, "same-event")
			return err
		}
	}
	errs, txs := inOneBatch(t, db, fns...)
	if txs != 1 {
		t.Errorf("transactions for the batch: got %d, want 1", txs)
	}
	fresh := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("Update %d: %v", i, err)
		}
		if !dups[i] {
			fresh++
		}
	}
	if got, want := fresh, 1; got != want {
		t.Errorf("callers told the event is new: got %d, want %d (dup flags %v)", got, want, dups)
	}
}

func TestGroupCommitCommitFailure(t *testing.T) {
	db := openTest(t, Options{})
	errs, txs := inOneBatch(t, db,
		createFor("ann", "e-ann"),
		func(ctx context.Context, t bot.Tx) error {
			// A foreign key checked only at COMMIT: the statement succeeds and
			// the whole transaction fails to commit.
			if _, err := t.(*tx).tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
				return err
			}
			if err := createFor("bob", "e-bob")(ctx, t); err != nil {
				return err
			}
			return t.Record(ctx, bot.CaseEvent{CaseID: 999, Kind: bot.KindNote})
		},
		createFor("cid", "e-cid"),
	)
	if txs != 1 {
		t.Errorf("transactions for the batch: got %d, want 1", txs)
	}
	for i, err := range errs {
		var e *sqlitedrv.Error
		if !errors.As(err, &e) || e.Code() != sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
			t.Errorf("Update %d: got error %v, want the COMMIT's foreign key error", i, err)
		}
	}
	if got := customers(t, db); got != "" {
		t.Errorf("customers stored after a failed commit: got %q, want none", got)
	}
	for _, id := range []string{"e-ann", "e-bob", "e-cid"} {
		if seen(t, db, id) {
			t.Errorf("event %s: stored after a failed commit", id)
		}
	}
	checkWriterAlive(t, db)
}

func TestGroupCommitPanic(t *testing.T) {
	db := openTest(t, Options{})
	boom := errors.New("boom")
	errs, txs := inOneBatch(t, db,
		createFor("ann", "e-ann"),
		func(ctx context.Context, tx bot.Tx) error {
			if err := createFor("bob", "e-bob")(ctx, tx); err != nil {
				return err
			}
			panic(boom)
		},
		func(ctx context.Context, tx bot.Tx) error {
			if err := createFor("cid", "e-cid")(ctx, tx); err != nil {
				return err
			}
			panic("not an error")
		},
		createFor("dan", "e-dan"),
	)
	if txs != 1 {
		t.Errorf("transactions for the batch: got %d, want 1", txs)
	}
	if errs[0] != nil || errs[3] != nil {
		t.Errorf("Updates around the panics: got %v and %v, want no error", errs[0], errs[3])
	}
	if !errors.Is(errs[1], boom) || !strings.Contains(fmt.Sprint(errs[1]), "panicked") {
		t.Errorf("Update that panicked with an error: got %v, want a panic error wrapping %v", errs[1], boom)
	}
	if err := errs[2]; err == nil || !strings.Contains(err.Error(), "not an error") {
		t.Errorf("Update that panicked with a string: got %v, want an error with the panic value", err)
	}
	if got, want := customers(t, db), "ann dan"; got != want {
		t.Errorf("customers stored: got %q, want %q", got, want)
	}
	checkWriterAlive(t, db)
}

func TestGroupCommitGoexit(t *testing.T) {
	db := openTest(t, Options{})
	errs, _ := inOneBatch(t, db,
		createFor("ann", "e-ann"),
		func(ctx context.Context, tx bot.Tx) error {
			if err := createFor("bob", "e-bob")(ctx, tx); err != nil {
				return err
			}
			runtime.Goexit() // what t.FailNow does, called off the test goroutine
			return nil
		},
		createFor("cid", "e-cid"),
	)
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("Updates around the Goexit: got %v and %v, want no error", errs[0], errs[2])
	}
	if err := errs[1]; err == nil || !strings.Contains(err.Error(), "Goexit") {
		t.Errorf("Update that called Goexit: got %v, want an error saying so", err)
	}
	if got, want := customers(t, db), "ann cid"; got != want {
		t.Errorf("customers stored: got %q, want %q", got, want)
	}
	checkWriterAlive(t, db)
}

func TestGroupCommitCanceledWhileQueued(t *testing.T) {
	db := openTest(t, Options{})
	release := holdWriter(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	var called atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- db.Update(ctx, func(bot.Tx) error { called.Store(true); return nil })
	}()
	waitQueued(db.gc, 1)
	cancel()
	// The writer is still held: the caller is answered without it.
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Update canceled in the queue: got %v, want %v", err, context.Canceled)
	}
	release()
	checkWriterAlive(t, db) // runs after the canceled item was taken
	if called.Load() {
		t.Errorf("fn of an Update canceled in the queue: called, want dropped")
	}
}

func TestGroupCommitCanceledWhileRunning(t *testing.T) {
	db := openTest(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := db.Update(ctx, func(tx bot.Tx) error {
		if err := createFor("ann", "e-ann")(ctx, tx); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if err != nil {
		t.Errorf("Update canceled after its fn ran: got %v, want the commit's outcome (nil)", err)
	}
	if got, want := customers(t, db), "ann"; got != want {
		t.Errorf("customers stored: got %q, want %q", got, want)
	}
}

// An INSERT interrupted by its context's end makes SQLite roll back the whole
// transaction, the other fns' writes included: the writer must notice and
// run them again rather than report them committed.
func TestGroupCommitInterruptedStatement(t *testing.T) {
	db := openTest(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errs, txs := inOneBatch(t, db,
		createFor("ann", "e-ann"),
		func(_ context.Context, t bot.Tx) error {
			if err := createFor("bob", "e-bob")(ctx, t); err != nil {
				return err
			}
			go func() {
				time.Sleep(10 * time.Millisecond) // any time: the INSERT never ends by itself
				cancel()
			}()
			_, err := t.(*tx).tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n)
				INSERT INTO processed_events (id, at) SELECT 'filler-' || i, 0 FROM n`)
			return err
		},
		createFor("cid", "e-cid"),
	)
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("Updates around the interrupted one: got %v and %v, want no error", errs[0], errs[2])
	}
	if errs[1] == nil {
		t.Errorf("interrupted Update: got no error, want one")
	}
	// The batch's transaction, then one each for ann and cid run again.
	if got, want := txs, int64(3); got != want {
		t.Errorf("transactions: got %d, want %d", got, want)
	}
	if got, want := customers(t, db), "ann cid"; got != want {
		t.Errorf("customers stored: got %q, want %q", got, want)
	}
	if seen(t, db, "filler-0") || seen(t, db, "e-bob") {
		t.Errorf("writes of the interrupted Update: stored, want rolled back")
	}
	checkWriterAlive(t, db)
}

func TestGroupCommitCloseDrains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "advocate.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, db)
	const queuedUpdates = 3
	errs := make(chan error, queuedUpdates)
	for i := range queuedUpdates {
		go func() {
			errs <- db.Update(t.Context(), withCtx(t.Context(), createFor(fmt.Sprint("c", i), fmt.Sprint("e", i))))
		}()
		waitQueued(db.gc, i+1)
	}
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	for {
		db.gc.mu.RLock()
		refusing := db.gc.closed
		db.gc.mu.RUnlock()
		if refusing {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	release()
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	for range queuedUpdates {
		if err := <-errs; err != nil {
			t.Errorf("Update queued before Close: %v", err)
		}
	}
	called := false
	if err := db.Update(t.Context(), func(bot.Tx) error { called = true; return nil }); err == nil || called {
		t.Errorf("Update after Close: got %v (fn called: %v), want an error before fn", err, called)
	}

	db = openPath(t, path, Options{})
	if got, want := customers(t, db), "c0 c1 c2"; got != want {
		t.Errorf("customers after reopening: got %q, want %q", got, want)
	}
}

// TestGroupCommitLockedDatabase holds SQLite's write lock from another
// connection: the writer's BEGIN fails after busy_timeout, and every Update
// queued behind it fails with that one BEGIN instead of waiting for a
// busy_timeout of its own.
func TestGroupCommitLockedDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "advocate.db")
	db := openPath(t, path, Options{})
	ctx := t.Context()
	if _, err := db.write.ExecContext(ctx, "PRAGMA busy_timeout = 2000"); err != nil {
		t.Fatal(err)
	}
	locker, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	conn, err := locker.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("take the write lock: %v", err)
	}

	const n = 6
	items := make([]*work, n)
	for i := range items {
		items[i] = &work{ctx: ctx, fn: withCtx(ctx, createFor(fmt.Sprint("c", i), fmt.Sprint("e", i))), result: make(chan error, 1)}
	}
	db.gc.queue <- items[0]
	waitTaken(db.gc, 0) // the writer has taken it and waits in BEGIN
	for _, w := range items[1:] {
		db.gc.queue <- w
	}
	queuedInTime := len(items[0].result) == 0 // else the machine stalled for busy_timeout
	errs := make([]error, n)
	for i, w := range items {
		errs[i] = <-w.result
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}

	for i, err := range errs {
		var e *sqlitedrv.Error
		if !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY {
			t.Errorf("Update %d: got %v, want SQLITE_BUSY", i, err)
		}
	}
	refused := db.gc.refused.Load()
	if queuedInTime && refused > 2 {
		t.Errorf("failed BEGINs: got %d, want at most 2 (the first Update's, then one for the %d queued behind it)", refused, n-1)
	}
	if refused > n {
		t.Errorf("failed BEGINs: got %d for %d Updates", refused, n)
	}
	if got := customers(t, db); got != "" {
		t.Errorf("customers stored while locked: %q", got)
	}
	checkWriterAlive(t, db)
}

// An event's Update (a platform waits on its commit) queued behind a burst of
// the relay's runs in the next batch, not after the burst.
func TestGroupCommitEventsFirst(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	running, release := make(chan struct{}), make(chan struct{})
	var order atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { // holds the writer
		_ = db.Update(ctx, func(bot.Tx) error {
			close(running)
			<-release
			return nil
		})
	})
	<-running
	const burst = 300
	for range burst {
		wg.Go(func() {
			if err := db.Update(ctx, func(bot.Tx) error { order.Add(1); return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	waitFor(t, func() bool { return len(db.gc.queue) == burst })
	var eventAt int64
	wg.Go(func() {
		err := db.Update(bot.AckContext(ctx), func(bot.Tx) error { eventAt = order.Add(1); return nil })
		if err != nil {
			t.Error(err)
		}
	})
	waitFor(t, func() bool { return len(db.gc.queue)+len(db.gc.events) == burst+1 })
	close(release)
	wg.Wait()
	if eventAt != 1 {
		t.Errorf("the event's fn ran as number %d after the writer was free, want 1 (before the %d queued first)", eventAt, burst)
	}
}

// waitFor polls cond until it holds, failing t after a generous deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(time.Millisecond)
	}
}
