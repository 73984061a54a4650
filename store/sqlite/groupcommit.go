package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/advocate-bot/advocate/bot"
)

// Group commit: one writer goroutine runs the fns of concurrent Update calls
// one after another in a shared transaction and commits them together, so a
// burst of events costs one COMMIT (one set of WAL page writes) instead of one
// each. Each fn runs inside its own SAVEPOINT: an fn that fails (or panics) is
// rolled back to it, alone, and the others in the batch still commit. Every
// caller is answered only when the outcome of its writes is known: after the
// COMMIT for an fn that succeeded, at once for one that failed. If the COMMIT
// fails, every caller of the batch gets its error. If SQLite rolls back the
// whole transaction under the batch (it does when a write statement is
// interrupted, as modernc.org/sqlite does when the statement's context ends;
// the tx methods' statements are not interrupted, see uninterrupted in
// tx.go), the fns whose writes were lost run again, each in a transaction of
// its own: bot.Store allows an fn to be retried.
//
// Batching is natural: the writer takes whatever is queued when it becomes
// free, up to maxBatch, and never waits for more. A lone caller therefore gets
// a transaction of its own, as without group commit, and a burst gets batches
// as large as the time one commit takes lets them grow.
//
// Events come first: an Update whose context says a platform is waiting for
// its commit (bot.AwaitsAck: an event's, to be acknowledged within 3 s) is
// queued apart, and a batch takes those before the rest (the relay's records
// of its deliveries, timers), which keep a quarter of each batch so they are
// not starved by a sustained intake. Without it, an event queued behind the
// relay's burst of records of hundreds of deliveries waited for all of them.
//
// Each fn gets its own Tx, whose Now is read from the clock when the fn
// starts (not once per batch): Options.Now behaves as without group commit.

const (
	// maxBatch bounds the fns committed together, and so how long the first
	// caller of a batch waits for the others' fns.
	maxBatch = 128
	// queueLen is how many Updates may wait for the writer before callers
	// block in Update (they still honour their context there).
	queueLen = 4 * maxBatch
	// The statements of the savepoint around each fn; fns cannot nest
	// transactions, so one name serves. They are prepared (stmts.go).
	savepointSQL  = "SAVEPOINT group_update"
	releaseSQL    = "RELEASE group_update"
	rollbackToSQL = "ROLLBACK TO group_update"
)

// The states of a work item. The writer moves it from queued to running
// before running its fn; its caller, giving up, from queued to canceled.
const (
	queued int32 = iota
	running
	canceled
)

// work is one Update call waiting for, or in, a batch.
type work struct {
	ctx    context.Context
	fn     func(bot.Tx) error
	state  atomic.Int32
	result chan error // buffered: the writer never waits for the caller
}

// start claims w for running. It is false when the caller has given up; an
// item that ran in a transaction that was then lost is run again.
func (w *work) start() bool {
	return w.state.CompareAndSwap(queued, running) || w.state.Load() == running
}

// finish answers the caller. It is called once per item that started.
func (w *work) finish(err error) { w.result <- err }

// groupCommit is the writer goroutine and its queue.
type groupCommit struct {
	db     *DB
	queue  chan *work   // Updates nobody acknowledges on
	events chan *work   // Updates a platform waits on (bot.AwaitsAck)
	mu     sync.RWMutex // shared while sending to the queues; exclusive to close them
	closed bool
	exited chan struct{} // closed when the writer has answered everything

	batches atomic.Int64 // transactions begun, for tests and benchmarks
	items   atomic.Int64 // fns started, for tests and benchmarks
	refused atomic.Int64 // transactions that could not begin, for tests
}

// batch is the writer's state. It lives outside the writer's stack so that a
// replacement writer can carry on with it when an fn ends the goroutine.
type batch struct {
	todo     []*work // taken from the queue; todo[next:] have not run yet
	next     int
	tx       *sql.Tx // open transaction, or nil
	ran      []*work // ran without error in tx: answered at its commit
	cur      *work   // whose fn is running
	isolated bool    // after a lost transaction: one fn per transaction
	goexit   bool    // cur's fn called runtime.Goexit
}

// startGroupCommit starts db's writer goroutine.
func startGroupCommit(db *DB) *groupCommit {
	g := &groupCommit{db: db, queue: make(chan *work, queueLen), events: make(chan *work, queueLen), exited: make(chan struct{})}
	go g.run(&batch{})
	return g
}

// update queues fn and waits for its outcome. If ctx ends before fn has
// started, fn is dropped and ctx's error returned; once fn has started, update
// waits for the commit, because fn's writes may be committed with the batch.
func (g *groupCommit) update(ctx context.Context, fn func(bot.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &work{ctx: ctx, fn: fn, result: make(chan error, 1)}
	queue := g.queue
	if bot.AwaitsAck(ctx) {
		queue = g.events
	}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return errors.New("store: update on a closed store")
	}
	select {
	case queue <- w:
		g.mu.RUnlock()
	case <-ctx.Done():
		g.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-w.result:
		return err
	case <-ctx.Done():
		if w.state.CompareAndSwap(queued, canceled) {
			return ctx.Err()
		}
		return <-w.result
	}
}

// close refuses new Updates, lets the writer run and commit every Update
// already queued, and returns when it has.
func (g *groupCommit) close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.queue)
		close(g.events)
	}
	g.mu.Unlock()
	<-g.exited
}

// run is the writer: it takes batches from the queue until close. If an fn
// ends the goroutine (runtime.Goexit, as t.FailNow does), the deferred call
// fails that fn alone and starts a new writer that carries on with b.
func (g *groupCommit) run(b *batch) {
	defer func() {
		if !b.goexit {
			return // returned, or a panic of the writer's own: let it crash
		}
		b.goexit = false
		w := b.cur
		b.cur = nil
		g.undo(b, w, errors.New("store: update fn called runtime.Goexit (t.FailNow off the test goroutine?)"))
		go g.run(b)
	}()
	for {
		if b.next == len(b.todo) && b.tx == nil && !g.take(b) {
			close(g.exited)
			return
		}
		g.process(b)
	}
}

// take fills b with what is queued, waiting only for the first item: events
// first, up to three quarters of maxBatch, then the rest, then events again.
// It is false when the queues are closed and empty.
func (g *groupCommit) take(b *batch) bool {
	w, ok := g.first()
	if !ok {
		return false
	}
	clear(b.todo)
	b.todo, b.next, b.isolated = append(b.todo[:0], w), 0, false
	drain(&b.todo, g.events, maxBatch*3/4)
	drain(&b.todo, g.queue, maxBatch)
	drain(&b.todo, g.events, maxBatch)
	return true
}

// first waits for an Update on either queue, an event's if both have one.
// It is false once both are closed and empty.
func (g *groupCommit) first() (*work, bool) {
	select {
	case w, ok := <-g.events:
		if ok {
			return w, true
		}
	default:
	}
	events, rest := g.events, g.queue
	for events != nil || rest != nil {
		select {
		case w, ok := <-events:
			if ok {
				return w, true
			}
			events = nil
		case w, ok := <-rest:
			if ok {
				return w, true
			}
			rest = nil
		}
	}
	return nil, false
}

// drain appends what q holds without waiting, until todo has n items.
func drain(todo *[]*work, q chan *work, n int) {
	for len(*todo) < n {
		select {
		case w, ok := <-q:
			if !ok {
				return
			}
			*todo = append(*todo, w)
		default:
			return
		}
	}
}

// process runs the rest of b's fns, each in a savepoint of the batch
// transaction, and commits.
func (g *groupCommit) process(b *batch) {
	for b.next < len(b.todo) {
		w := b.todo[b.next]
		b.next++
		if !w.start() {
			continue // its caller gave up before it ran
		}
		if err := w.ctx.Err(); err != nil {
			w.finish(err)
			continue
		}
		if b.tx == nil {
			t, err := g.db.write.BeginTx(context.Background(), nil)
			if err != nil {
				g.refuse(b, w, fmt.Errorf("store: begin: %w", err))
				return
			}
			b.tx = t
			g.batches.Add(1)
		}
		if err := g.exec(b, savepointSQL); err != nil {
			g.lost(b, err, w)
			continue
		}
		g.items.Add(1)
		b.cur = w
		err := g.call(b, w)
		b.cur = nil
		if err != nil {
			g.undo(b, w, err)
		} else if err := g.exec(b, releaseSQL); err != nil {
			// The transaction is gone (an interrupted statement rolls it
			// back): w's writes with it. Run w again with the others.
			g.lost(b, err, w)
		} else {
			b.ran = append(b.ran, w)
		}
		if b.isolated && b.tx != nil {
			g.commit(b)
		}
	}
	if b.tx != nil {
		g.commit(b)
	}
}

// refuse answers w and the rest of b with err when no transaction can begin
// (another process holds the write lock beyond busy_timeout): they all waited
// for that begin, and trying again for each would make the last wait for all.
func (g *groupCommit) refuse(b *batch, w *work, err error) {
	g.refused.Add(1)
	w.finish(err)
	for b.next < len(b.todo) {
		w := b.todo[b.next]
		b.next++
		if w.start() {
			w.finish(err)
		}
	}
}

// call runs w's fn in b's transaction, turning a panic into an error.
func (g *groupCommit) call(b *batch, w *work) (err error) {
	returned := false
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		} else if !returned {
			b.goexit = true
		}
	}()
	err = w.fn(g.db.newTx(b.tx, g.db.writeStmts))
	returned = true
	return err
}

// panicError describes a recovered panic of an fn, with its stack.
func panicError(r any) error {
	if e, ok := r.(error); ok {
		return fmt.Errorf("store: update fn panicked: %w\n%s", e, debug.Stack())
	}
	return fmt.Errorf("store: update fn panicked: %v\n%s", r, debug.Stack())
}

// undo rolls back the savepoint of w, whose fn failed with err, and answers
// w with err.
func (g *groupCommit) undo(b *batch, w *work, err error) {
	rerr := g.exec(b, rollbackToSQL)
	if rerr == nil {
		rerr = g.exec(b, releaseSQL)
	}
	if rerr != nil {
		g.lost(b, rerr, nil)
	}
	w.finish(err)
}

// exec runs a savepoint statement in b's transaction.
func (g *groupCommit) exec(b *batch, stmt string) error {
	_, err := g.db.writeStmts.exec(context.Background(), b.tx, stmt)
	return err
}

// lost handles a transaction that can no longer be committed as a whole
// (SQLite rolled it back, or a savepoint failed): it rolls it back and runs
// again, one per transaction, the fns whose writes it lost (and again, if
// not nil), before the rest of the batch. A transaction of one fn that is
// lost fails that fn's caller instead.
func (g *groupCommit) lost(b *batch, cause error, again *work) {
	_ = b.tx.Rollback() // it may be gone already: the point is that it is
	b.tx = nil
	redo := b.ran
	if again != nil {
		redo = append(redo, again)
	}
	b.ran = nil
	if b.isolated {
		for _, w := range redo {
			w.finish(fmt.Errorf("store: transaction lost: %w", cause))
		}
		return
	}
	b.isolated = true
	b.todo = append(redo, b.todo[b.next:]...)
	b.next = 0
}

// commit commits b's transaction and answers the fns that ran in it.
func (g *groupCommit) commit(b *batch) {
	err := b.tx.Commit()
	b.tx = nil
	if err != nil {
		err = fmt.Errorf("store: commit: %w", err)
	}
	for _, w := range b.ran {
		w.finish(err)
	}
	clear(b.ran)
	b.ran = b.ran[:0]
}
