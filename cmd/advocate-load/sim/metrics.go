package sim

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// Dist summarises a set of durations.
type Dist struct {
	N             int
	P50, P99, Max time.Duration
}

// Summarize computes a Dist; the percentiles are nearest-rank.
func Summarize(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Dist{N: len(s), P50: rank(0.50), P99: rank(0.99), Max: s[len(s)-1]}
}

// String prints "p50 4ms, p99 31ms, max 55ms (n=600)".
func (d Dist) String() string {
	if d.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s, p99 %s, max %s (n=%d)", round(d.P50), round(d.P99), round(d.Max), d.N)
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	default:
		return d.Round(10 * time.Microsecond)
	}
}

// Recorder collects what the simulated people measure. It is safe for
// concurrent use.
type Recorder struct {
	mu      sync.Mutex
	acks    []time.Duration
	lags    map[string][]time.Duration
	steps   map[string]int
	resends int
	sent    []Sent
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{lags: map[string][]time.Duration{}, steps: map[string]int{}}
}

// sentStep records one acknowledged step.
func (r *Recorder) sentStep(s Sent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acks = append(r.acks, s.Acked.Sub(s.Queued))
	r.steps[s.Kind]++
	r.resends += len(s.Envelopes) - 1
	r.sent = append(r.sent, s)
}

// lag records how long after its trigger was acknowledged a bot message
// appeared.
func (r *Recorder) lag(kind string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lags[kind] = append(r.lags[kind], d)
}

// Acks summarises the acknowledgement latency of every step: from the
// envelope's queueing in the fake to its acknowledgement, redeliveries
// included.
func (r *Recorder) Acks() Dist {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Summarize(r.acks)
}

// AcksByKind summarises the acknowledgement latency per kind of step (ask,
// resolve, rate…): a burst of asks and a trickle of clicks queue alike but
// not equally long.
func (r *Recorder) AcksByKind() map[string]Dist {
	r.mu.Lock()
	defer r.mu.Unlock()
	byKind := map[string][]time.Duration{}
	for _, s := range r.sent {
		byKind[s.Kind] = append(byKind[s.Kind], s.Acked.Sub(s.Queued))
	}
	out := map[string]Dist{}
	for k, v := range byKind {
		out[k] = Summarize(v)
	}
	return out
}

// Lags summarises the outbox lag per kind of bot message.
func (r *Recorder) Lags() map[string]Dist {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]Dist{}
	for k, v := range r.lags {
		out[k] = Summarize(v)
	}
	return out
}

// AllLags summarises every outbox lag together.
func (r *Recorder) AllLags() Dist {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []time.Duration
	for _, v := range r.lags {
		all = append(all, v...)
	}
	return Summarize(all)
}

// LagKinds lists the recorded lag kinds in a stable order.
func (r *Recorder) LagKinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ks []string
	for k := range r.lags {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Steps counts acknowledged steps by kind.
func (r *Recorder) Steps() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.steps {
		out[k] = v
	}
	return out
}

// Resends counts envelopes the simulated people sent again because Slack gave
// up on an unacknowledged one (a click on a dead app is clicked again).
func (r *Recorder) Resends() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resends
}

// Sent lists every acknowledged step, in the order they were acknowledged.
func (r *Recorder) Sent() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}
