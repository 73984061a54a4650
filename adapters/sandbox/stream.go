package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// heartbeat keeps idle event streams open through proxies.
const heartbeat = 25 * time.Second

// subscriber is one open event stream of the page.
type subscriber struct {
	p  persona
	ch chan change
}

// change says that a channel changed; the page reloads its state.
type change struct {
	Version int64  `json:"version"`
	Channel string `json:"channel"`
}

// changedLocked counts a change to the named channels and tells the streams of
// the personas who can see them. s.mu is held.
func (s *Sandbox) changedLocked(names ...string) {
	s.version++
	for sub := range s.subs {
		for _, name := range names {
			ch := s.channels[name]
			if ch == nil || !canSee(sub.p, ch) {
				continue
			}
			select {
			case sub.ch <- change{Version: s.version, Channel: name}:
			default: // the page already has a change to fetch
			}
		}
	}
}

// subscribe opens a stream for p; stop is nil when the sandbox is not running
// or its streams were closed.
func (s *Sandbox) subscribe(p persona) (sub *subscriber, stop <-chan struct{}, version int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop == nil {
		return nil, nil, s.version
	}
	sub = &subscriber{p: p, ch: make(chan change, 16)}
	s.subs[sub] = struct{}{}
	return sub, s.stop, s.version
}

func (s *Sandbox) unsubscribe(sub *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, sub)
}

// serveEvents streams changes the persona can see as Server-Sent Events,
// until the page goes away or the streams are closed (CloseStreams).
func (s *Sandbox) serveEvents(w http.ResponseWriter, r *http.Request) {
	p, ok := s.personaParam(w, r)
	if !ok {
		return
	}
	sub, stop, version := s.subscribe(p)
	if sub == nil {
		s.refuse(w, r, http.StatusServiceUnavailable, "the sandbox is not running")
		return
	}
	defer s.unsubscribe(sub)
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return
	}
	if err := send("hello", change{Version: version}); err != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-stop:
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		case c := <-sub.ch:
			if err := send("change", c); err != nil {
				return
			}
		}
	}
}
