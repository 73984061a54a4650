package slackfake

import "context"

// hold keeps calls of one Web API method waiting until it is released.
type hold struct {
	arrived chan struct{}
	release chan struct{}
}

// Hold makes calls of a Web API method wait, unanswered, until release is
// called: a platform that is slow to answer. Each held call sends once on
// arrived when it starts waiting. Calls made after release are answered at
// once; release may be called more than once.
func (s *Server) Hold(method string) (arrived <-chan struct{}, release func()) {
	h := &hold{arrived: make(chan struct{}, 1024), release: make(chan struct{})}
	s.mu.Lock()
	s.holds[method] = h
	s.mu.Unlock()
	var once bool
	return h.arrived, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.holds[method] == h {
			delete(s.holds, method)
		}
		if !once {
			once = true
			close(h.release)
		}
	}
}

// wait blocks a call of method while it is held; it reports false when the
// request was abandoned first.
func (s *Server) wait(ctx context.Context, method string) bool {
	s.mu.Lock()
	h := s.holds[method]
	s.mu.Unlock()
	if h == nil {
		return true
	}
	select {
	case h.arrived <- struct{}{}:
	default:
	}
	select {
	case <-h.release:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}
