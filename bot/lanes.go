package bot

import "sync"

// Lanes is how an adapter hands inbound traffic to the core: in arrival order
// per key (a conversation, a person), in parallel across keys, at most limit
// at a time. Parallel work lets the store commit many events together; the
// limit keeps what waits for its commit bounded, so that what arrives in a
// flood waits here, where no deadline runs, rather than in the store's queue
// under a timeout.
type Lanes struct {
	mu    sync.Mutex
	tails map[string]chan struct{}
	sem   chan struct{}
	wg    sync.WaitGroup
	// later holds RunThen's second steps in the order their first steps
	// ended, for at most maxWorkers goroutines to run.
	later      []step
	workers    int
	maxWorkers int
}

// step is a second step and what ends its work in the lane.
type step struct{ run, finish func() }

// NewLanes returns Lanes running at most limit fns at once, and a quarter
// as many second steps of RunThen: under a flood, what a platform waits on
// goes first and the decisions follow as the store has room; with room to
// spare, both run at once.
func NewLanes(limit int) *Lanes {
	return &Lanes{tails: map[string]chan struct{}{}, sem: make(chan struct{}, limit), maxWorkers: max(1, limit/4)}
}

// Run queues fn behind the work already queued under key and returns.
func (l *Lanes) Run(key string, fn func()) {
	l.RunThen(key, func() func() { fn(); return nil })
}

// RunThen is Run for work in two steps, such as accepting an event and then
// deciding it (Accepter): what fn returns, when not nil, runs next in the
// lane, after fn's place among the limit is given back, under a limit of its
// own. The key's later work waits for it; other keys' work does not, so
// acknowledgements are not held up by decisions. A second step waiting for
// its turn holds no goroutine.
func (l *Lanes) RunThen(key string, fn func() func()) {
	done := make(chan struct{})
	l.mu.Lock()
	prev := l.tails[key]
	l.tails[key] = done
	l.mu.Unlock()
	l.wg.Add(1)
	finish := func() {
		close(done)
		l.mu.Lock()
		if l.tails[key] == done {
			delete(l.tails, key)
		}
		l.mu.Unlock()
		l.wg.Done()
	}
	go func() {
		if prev != nil {
			<-prev
		}
		l.sem <- struct{}{}
		then := fn()
		<-l.sem
		if then == nil {
			finish()
			return
		}
		l.queue(step{run: then, finish: finish})
	}()
}

// queue adds a second step, starting a worker if fewer than maxWorkers run.
func (l *Lanes) queue(s step) {
	l.mu.Lock()
	l.later = append(l.later, s)
	start := l.workers < l.maxWorkers
	if start {
		l.workers++
	}
	l.mu.Unlock()
	if start {
		go l.work()
	}
}

// work runs queued second steps until there are none.
func (l *Lanes) work() {
	for {
		l.mu.Lock()
		if len(l.later) == 0 {
			l.workers--
			l.mu.Unlock()
			return
		}
		s := l.later[0]
		l.later[0] = step{}
		l.later = l.later[1:]
		l.mu.Unlock()
		s.run()
		s.finish()
	}
}

// Wait blocks until every fn queued has run.
func (l *Lanes) Wait() { l.wg.Wait() }
