package slackfake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// maxAckSize is where Slack silently drops a Socket Mode response.
const maxAckSize = 20 * 1024

// writeTimeout bounds every websocket write so a stuck client cannot wedge the fake.
const writeTimeout = 5 * time.Second

type envState int

const (
	envPending envState = iota // waiting for a connection
	envSent                    // on a socket, ack deadline running
	envDone                    // acked, or given up on
)

type envelope struct {
	id           string
	typ          string
	payload      []byte
	accepts      bool
	retryAttempt int
	retryReason  string
	deliveries   int
	state        envState
	deadline     time.Time
	acked        bool
	late         bool
	expired      bool
	acks         int
	ackPayload   []byte
	ackedCh      chan struct{}
	// onAck applies what Slack does with a timely ack's payload; s.mu is held.
	onAck func(payload []byte)
	// http is set when the envelope goes over HTTP (DeliverOverHTTP), which
	// keeps its own deadlines and retries.
	http bool
}

// Envelope is a snapshot of one Socket Mode envelope and what became of it.
type Envelope struct {
	ID                     string
	Type                   string // events_api, interactive, slash_commands
	Payload                json.RawMessage
	AcceptsResponsePayload bool
	// RetryAttempt and RetryReason are what the latest delivery carried.
	RetryAttempt int
	RetryReason  string
	// Deliveries counts how many times the envelope was written to a socket.
	Deliveries int
	Acked      bool
	// Late is set when the first ack came after the delivery's ack deadline;
	// Slack ignores a late ack's payload, and so does the fake.
	Late bool
	// Expired is set when Slack gave up: the deadline passed with no ack and no
	// redelivery is left (interactive and slash command envelopes get none).
	Expired    bool
	AckPayload json.RawMessage
	// Acks counts every ack received for the envelope, duplicates included.
	Acks int
}

type socketState struct {
	tickets     map[string]bool
	conns       []*wsConn
	total       int
	next        int
	envs        map[string]*envelope
	order       []*envelope
	pending     []*envelope
	wake        chan struct{}
	pingsPaused bool
	pongs       int
	dropped     int
}

func newSocketState() socketState {
	return socketState{
		tickets: map[string]bool{},
		envs:    map[string]*envelope{},
		wake:    make(chan struct{}, 1),
	}
}

type wsConn struct {
	id   int
	ws   *websocket.Conn
	wmu  sync.Mutex
	done chan struct{}
	once sync.Once
}

func (c *wsConn) writeJSON(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, encodeJSON(v))
}

func (c *wsConn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

func (s *Server) connectionsOpen(args) (map[string]any, string, []string) {
	ticket := randomHex(16)
	s.socket.tickets[ticket] = true
	url := fmt.Sprintf("ws://%s/link/?ticket=%s&app_id=%s", s.srv.Listener.Addr().String(), ticket, s.cfg.AppID)
	return map[string]any{"url": url}, "", nil
}

// handleLink is the Socket Mode websocket endpoint apps.connections.open points at.
func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	ok := s.socket.tickets[ticket] && !s.closed
	delete(s.socket.tickets, ticket)
	s.mu.Unlock()
	if !ok {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &wsConn{ws: ws, done: make(chan struct{})}

	// Hold the connection's write lock from registration until hello is out, so
	// the dispatcher cannot put an envelope on the socket before hello.
	c.wmu.Lock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.wmu.Unlock()
		c.close()
		return
	}
	s.socket.total++
	c.id = s.socket.total
	s.socket.conns = append(s.socket.conns, c)
	n := len(s.socket.conns)
	s.wg.Add(2)
	s.wakeLocked()
	s.notifyLocked()
	s.mu.Unlock()

	hello := map[string]any{
		"type":            "hello",
		"num_connections": n,
		"debug_info": map[string]any{
			"host":                        "applink-fake",
			"build_number":                1,
			"approximate_connection_time": 18060,
		},
		"connection_info": map[string]any{"app_id": s.cfg.AppID},
	}
	err = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err == nil {
		err = ws.WriteMessage(websocket.TextMessage, encodeJSON(hello))
	}
	c.wmu.Unlock()
	if err == nil {
		err = ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(writeTimeout))
	}
	if err != nil {
		c.close() // readLoop sees the closed socket and unregisters it
	}
	s.log.Debug("socket connected", "conn", c.id)

	go s.readLoop(c)
	go s.pingLoop(c)
}

// readLoop records acks until the connection ends.
func (s *Server) readLoop(c *wsConn) {
	defer s.wg.Done()
	defer s.dropConn(c)
	c.ws.SetPongHandler(func(string) error {
		s.mu.Lock()
		s.socket.pongs++
		s.mu.Unlock()
		return nil
	})
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if typ != websocket.TextMessage {
			continue
		}
		if len(data) >= maxAckSize {
			s.mu.Lock()
			s.socket.dropped++
			s.mu.Unlock()
			continue
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			s.mu.Lock()
			s.socket.dropped++
			s.mu.Unlock()
			continue
		}
		s.ack(ack.EnvelopeID, ack.Payload)
	}
}

func (s *Server) pingLoop(c *wsConn) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-s.done:
			return
		case <-t.C:
			s.mu.Lock()
			paused := s.socket.pingsPaused
			s.mu.Unlock()
			if paused {
				continue
			}
			if err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(writeTimeout)); err != nil {
				c.close()
				return
			}
		}
	}
}

func (s *Server) dropConn(c *wsConn) {
	c.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, o := range s.socket.conns {
		if o == c {
			s.socket.conns = append(s.socket.conns[:i], s.socket.conns[i+1:]...)
			break
		}
	}
	s.notifyLocked()
	s.log.Debug("socket closed", "conn", c.id)
}

// ack records an acknowledgement from the client.
func (s *Server) ack(id string, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.socket.envs[id]
	if e == nil {
		s.socket.dropped++
		return
	}
	e.acks++
	if e.acked {
		s.notifyLocked()
		return
	}
	e.acked = true
	e.late = e.expired || e.state != envSent || time.Now().After(e.deadline)
	if len(payload) > 0 && string(payload) != "null" {
		e.ackPayload = cloneBytes(payload)
	}
	if e.state == envPending {
		for i, p := range s.socket.pending {
			if p == e {
				s.socket.pending = append(s.socket.pending[:i], s.socket.pending[i+1:]...)
				break
			}
		}
	}
	e.state = envDone
	close(e.ackedCh)
	if !e.late && e.onAck != nil {
		s.recordAckEffectLocked(e.id, e.ackPayload)
		e.onAck(e.ackPayload)
	}
	s.notifyLocked()
}

func (s *Server) wakeLocked() {
	select {
	case s.socket.wake <- struct{}{}:
	default:
	}
}

// sendEnvelopeLocked queues an envelope for the next live connection.
func (s *Server) sendEnvelopeLocked(typ string, payload []byte, accepts bool, onAck func([]byte)) string {
	e := &envelope{
		id:      randomUUID(),
		typ:     typ,
		payload: payload,
		accepts: accepts,
		ackedCh: make(chan struct{}),
		onAck:   onAck,
	}
	s.socket.envs[e.id] = e
	s.socket.order = append(s.socket.order, e)
	s.socket.pending = append(s.socket.pending, e)
	s.wakeLocked()
	s.notifyLocked()
	return e.id
}

// wire renders the envelope as this delivery puts it on the socket.
func (e *envelope) wire() map[string]any {
	m := map[string]any{
		"envelope_id":              e.id,
		"payload":                  json.RawMessage(e.payload),
		"type":                     e.typ,
		"accepts_response_payload": e.accepts,
	}
	if e.typ == "events_api" {
		m["retry_attempt"] = e.retryAttempt
		m["retry_reason"] = e.retryReason
	}
	return m
}

type outgoing struct {
	conn *wsConn
	env  *envelope
	msg  map[string]any
}

// dispatch delivers queued envelopes and enforces ack deadlines until Close.
func (s *Server) dispatch() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		sends, next := s.dispatchStep()
		for _, o := range sends {
			if err := o.conn.writeJSON(o.msg); err != nil {
				s.writeFailed(o)
			}
		}
		var fire <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			fire = timer.C
		}
		select {
		case <-s.done:
			return
		case <-s.socket.wake:
		case <-fire:
		}
	}
}

// dispatchStep expires overdue deliveries, requeues events for redelivery, and
// assigns pending envelopes to live connections round-robin. It returns what to
// write and the next deadline.
func (s *Server) dispatchStep() ([]outgoing, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	var next time.Time
	for _, e := range s.socket.order {
		if e.state != envSent || e.http {
			continue
		}
		if now.Before(e.deadline) {
			if next.IsZero() || e.deadline.Before(next) {
				next = e.deadline
			}
			continue
		}
		if e.typ == "events_api" && e.retryAttempt < s.cfg.MaxEventRetries {
			e.retryAttempt++
			e.retryReason = "timeout"
			e.state = envPending
			s.socket.pending = append(s.socket.pending, e)
			continue
		}
		e.state = envDone
		e.expired = true
		s.notifyLocked()
	}
	if s.httpDispatchLocked() || len(s.socket.conns) == 0 || len(s.socket.pending) == 0 {
		return nil, next
	}
	var out []outgoing
	for _, e := range s.socket.pending {
		c := s.socket.conns[s.socket.next%len(s.socket.conns)]
		s.socket.next++
		e.state = envSent
		e.deliveries++
		e.deadline = now.Add(s.cfg.AckTimeout)
		if next.IsZero() || e.deadline.Before(next) {
			next = e.deadline
		}
		out = append(out, outgoing{conn: c, env: e, msg: e.wire()})
	}
	s.socket.pending = nil
	s.notifyLocked()
	return out, next
}

// writeFailed puts an envelope that never reached the client back in the queue.
func (s *Server) writeFailed(o outgoing) {
	o.conn.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.env.state == envSent && !o.env.acked {
		o.env.state = envPending
		o.env.deliveries--
		s.socket.pending = append([]*envelope{o.env}, s.socket.pending...)
		s.wakeLocked()
	}
}

// WaitAck blocks until the client acknowledges the envelope (on any delivery,
// even late) and returns the ack's payload, nil when it carried none. It fails
// when ctx ends first or the server never sent envelopeID.
func (s *Server) WaitAck(ctx context.Context, envelopeID string) (json.RawMessage, error) {
	s.mu.Lock()
	e := s.socket.envs[envelopeID]
	s.mu.Unlock()
	if e == nil {
		return nil, fmt.Errorf("slackfake: unknown envelope %q", envelopeID)
	}
	select {
	case <-e.ackedCh:
		s.mu.Lock()
		defer s.mu.Unlock()
		return cloneBytes(e.ackPayload), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("slackfake: envelope %s not acked: %w", envelopeID, ctx.Err())
	}
}

// Envelope returns a snapshot of one envelope.
func (s *Server) Envelope(id string) (Envelope, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.socket.envs[id]
	if e == nil {
		return Envelope{}, false
	}
	return e.snapshot(), true
}

// Envelopes returns every envelope sent so far, in order.
func (s *Server) Envelopes() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Envelope, 0, len(s.socket.order))
	for _, e := range s.socket.order {
		out = append(out, e.snapshot())
	}
	return out
}

func (e *envelope) snapshot() Envelope {
	return Envelope{
		ID:                     e.id,
		Type:                   e.typ,
		Payload:                cloneBytes(e.payload),
		AcceptsResponsePayload: e.accepts,
		RetryAttempt:           e.retryAttempt,
		RetryReason:            e.retryReason,
		Deliveries:             e.deliveries,
		Acked:                  e.acked,
		Late:                   e.late,
		Expired:                e.expired,
		AckPayload:             cloneBytes(e.ackPayload),
		Acks:                   e.acks,
	}
}

// SendEnvelope queues a raw envelope of any type; the helpers (UserSays,
// ClickButton, SubmitView, SlashCommand) build realistic payloads for it.
func (s *Server) SendEnvelope(typ string, payload json.RawMessage, acceptsResponsePayload bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sendEnvelopeLocked(typ, cloneBytes(payload), acceptsResponsePayload, nil)
}

// Disconnect sends a disconnect envelope with reason ("refresh_requested",
// "warning", "link_disabled") on every live socket and closes it, as Slack does
// when it rotates connections. slack-go reconnects through apps.connections.open.
// It returns how many sockets were told.
func (s *Server) Disconnect(reason string) int {
	s.mu.Lock()
	conns := append([]*wsConn(nil), s.socket.conns...)
	s.mu.Unlock()
	msg := map[string]any{
		"type":       "disconnect",
		"reason":     reason,
		"debug_info": map[string]any{"host": "applink-fake"},
	}
	for _, c := range conns {
		_ = c.writeJSON(msg)
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, reason), time.Now().Add(writeTimeout))
		s.closeSoon(c)
	}
	return len(conns)
}

// closeSoon gives the client a moment to answer the close frame, then drops the
// connection either way.
func (s *Server) closeSoon(c *wsConn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-c.done:
		case <-t.C:
		case <-s.done:
		}
		c.close()
	}()
}

// RequestReconnect asks every live socket to reconnect, as Slack does when
// it rotates connections: Disconnect with reason "refresh_requested". It
// returns how many sockets were asked.
func (s *Server) RequestReconnect() int { return s.Disconnect("refresh_requested") }

// DropConnections drops every socket without a disconnect envelope or close
// frame, like a network failure; the client notices and reconnects. It returns
// how many sockets were dropped.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	conns := append([]*wsConn(nil), s.socket.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	return len(conns)
}

// PausePings stops (true) or resumes (false) WebSocket PING frames, to test the
// client's dead-connection detection.
func (s *Server) PausePings(paused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.socket.pingsPaused = paused
}

// Connections returns how many Socket Mode connections were established so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.socket.total
}

// ActiveConnections returns how many sockets are open now.
func (s *Server) ActiveConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.socket.conns)
}

// Pongs returns how many PONG frames clients sent back.
func (s *Server) Pongs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.socket.pongs
}

// DroppedFrames counts client frames the server ignored: acks of 20 KB or more
// (Slack drops them silently), acks for unknown envelopes, and non-ack frames.
func (s *Server) DroppedFrames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.socket.dropped
}
