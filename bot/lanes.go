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
}

// NewLanes returns Lanes running at most limit fns at once.
func NewLanes(limit int) *Lanes {
	return &Lanes{tails: map[string]chan struct{}{}, sem: make(chan struct{}, limit)}
}

// Run queues fn behind the work already queued under key and returns.
func (l *Lanes) Run(key string, fn func()) {
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
		fn()
		<-l.sem
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
