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
	then  chan struct{} // RunThen's second steps
	wg    sync.WaitGroup
}

// NewLanes returns Lanes running at most limit fns at once, and a quarter
// as many second steps of RunThen: under a flood, what a platform waits on
// goes first and the decisions follow as the store has room; with room to
// spare, both run at once.
func NewLanes(limit int) *Lanes {
	return &Lanes{tails: map[string]chan struct{}{}, sem: make(chan struct{}, limit), then: make(chan struct{}, max(1, limit/4))}
}

// Run queues fn behind the work already queued under key and returns.
func (l *Lanes) Run(key string, fn func()) {
	l.RunThen(key, func() func() { fn(); return nil })
}

// RunThen is Run for work in two steps, such as accepting an event and then
// deciding it (Accepter): what fn returns, when not nil, runs next in the
// lane, after fn's place among the limit is given back, under a limit of its
// own. The key's later work waits for it; other keys' work does not, so
// acknowledgements are not held up by decisions.
func (l *Lanes) RunThen(key string, fn func() func()) {
	done := make(chan struct{})
	l.mu.Lock()
	prev := l.tails[key]
	l.tails[key] = done
	l.mu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		if prev != nil {
			<-prev
		}
		l.sem <- struct{}{}
		then := fn()
		<-l.sem
		if then != nil {
			l.then <- struct{}{}
			then()
			<-l.then
		}
		close(done)
		l.mu.Lock()
		if l.tails[key] == done {
			delete(l.tails, key)
		}
		l.mu.Unlock()
	}()
}

// Wait blocks until every fn queued has run.
func (l *Lanes) Wait() { l.wg.Wait() }
