package discordfake

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway opcodes.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opPresenceUpdate = 3
	opVoiceState     = 4
	opResume         = 6
	opReconnect      = 7
	opRequestMembers = 8
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatAck   = 11
)

// Gateway close codes the fake sends.
const (
	closeUnknownOpcode    = 4001
	closeDecodeError      = 4002
	closeNotAuthenticated = 4003
	closeAuthFailed       = 4004
	closeAlreadyAuthed    = 4005
	closeInvalidSeq       = 4007
	closeInvalidShard     = 4010
	closeInvalidVersion   = 4012
	closeInvalidIntents   = 4013
	closeDisallowedIntent = 4014
)

// payload is a gateway frame; S and T are null except in dispatches.
type payload struct {
	Op int     `json:"op"`
	D  any     `json:"d"`
	S  *int64  `json:"s"`
	T  *string `json:"t"`
}

// session is a gateway session: it outlives connections so that a client can
// RESUME it and receive the dispatches it missed.
type session struct {
	id      string
	intents int
	shard   [2]int
	seq     int64
	log     []loggedEvent
	conn    *conn // nil while detached
}

type loggedEvent struct {
	seq   int64
	frame []byte
}

// sees reports whether the session's shard receives a guild's events (DMs,
// guildID "", go to shard 0), by Discord's (guild_id >> 22) % num_shards.
func (sess *session) sees(guildID string) bool {
	if sess.shard[1] <= 1 {
		return true
	}
	if guildID == "" {
		return sess.shard[0] == 0
	}
	n, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil {
		return sess.shard[0] == 0
	}
	return int((n>>22)%uint64(sess.shard[1])) == sess.shard[0]
}

// conn is one websocket connection. Frames go out through an unbounded queue
// written by one goroutine, so that state changes made under Server.mu are
// sent in order without blocking on the network.
type conn struct {
	id   int
	ws   *websocket.Conn
	out  outbox
	done chan struct{}

	sess *session // guarded by Server.mu
}

type outItem struct {
	data      []byte
	closeCode int
	closeText string
}

type outbox struct {
	mu     sync.Mutex
	items  []outItem
	wake   chan struct{}
	closed bool
}

func (o *outbox) push(it outItem) {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.items = append(o.items, it)
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) pop(done <-chan struct{}) ([]outItem, bool) {
	for {
		o.mu.Lock()
		if len(o.items) > 0 {
			items := o.items
			o.items = nil
			o.mu.Unlock()
			return items, true
		}
		o.mu.Unlock()
		select {
		case <-o.wake:
		case <-done:
			return nil, false
		}
	}
}

func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
}

func (c *conn) send(op int, d any) {
	b, _ := json.Marshal(payload{Op: op, D: d})
	c.out.push(outItem{data: b})
}

// closeWith sends a close frame with a gateway close code, then closes.
func (c *conn) closeWith(code int, text string) {
	c.out.push(outItem{closeCode: code, closeText: text})
	c.out.close()
}

func (c *conn) writeLoop() {
	for {
		items, ok := c.out.pop(c.done)
		if !ok {
			return
		}
		for _, it := range items {
			if it.closeCode != 0 {
				_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(it.closeCode, it.closeText), time.Now().Add(5*time.Second))
				c.ws.Close()
				return
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, it.data); err != nil {
				c.ws.Close()
				return
			}
		}
	}
}

// serveGateway upgrades to a websocket and runs the gateway protocol.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		http.Error(w, "discordfake: the gateway expects a websocket upgrade", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws, done: make(chan struct{}), out: outbox{wake: make(chan struct{}, 1)}}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.nextConn++
	c.id = s.nextConn
	s.conns[c] = true
	s.connections++
	s.notify()
	s.mu.Unlock()
	s.opts.Logf("discordfake: gateway connection %d from %s (%s)", c.id, r.RemoteAddr, r.URL.RawQuery)

	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		c.writeLoop()
	}()

	q := r.URL.Query()
	if v := q.Get("v"); v != "9" && v != "10" {
		c.closeWith(closeInvalidVersion, "Invalid API version.")
	} else if enc := q.Get("encoding"); enc != "" && enc != "json" {
		c.closeWith(closeDecodeError, "Error while decoding payload.")
	} else {
		c.send(opHello, map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds(), "_trace": []string{"discordfake"}})
	}

	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			break
		}
		s.handleFrame(c, mt, data)
	}

	s.mu.Lock()
	if c.sess != nil && c.sess.conn == c {
		c.sess.conn = nil // detached: resumable
	}
	c.sess = nil
	delete(s.conns, c)
	s.notify()
	s.mu.Unlock()
	c.out.close()
	close(c.done)
	ws.Close()
	writer.Wait()
	s.opts.Logf("discordfake: gateway connection %d closed", c.id)
}

func (s *Server) handleFrame(c *conn, mt int, data []byte) {
	if mt != websocket.TextMessage {
		c.closeWith(closeDecodeError, "Error while decoding payload.")
		return
	}
	var p struct {
		Op *int            `json:"op"`
		D  json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(data, &p); err != nil || p.Op == nil {
		c.closeWith(closeDecodeError, "Error while decoding payload.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	switch *p.Op {
	case opHeartbeat:
		s.heartbeats++
		c.send(opHeartbeatAck, nil)
	case opIdentify:
		s.identify(c, p.D)
	case opResume:
		s.resume(c, p.D)
	case opPresenceUpdate, opVoiceState, opRequestMembers:
		if c.sess == nil {
			c.closeWith(closeNotAuthenticated, "Not authenticated.")
		}
	default:
		c.closeWith(closeUnknownOpcode, "Unknown opcode.")
	}
}

// tokenOK accepts the token with or without the "Bot " prefix discordgo sends.
func (s *Server) tokenOK(tok string) bool {
	return strings.TrimPrefix(tok, "Bot ") == s.opts.Token
}

// identify handles op 2. Callers hold s.mu.
func (s *Server) identify(c *conn, d json.RawMessage) {
	var id struct {
		Token   string  `json:"token"`
		Intents *int    `json:"intents"`
		Shard   *[2]int `json:"shard"`
	}
	if err := json.Unmarshal(d, &id); err != nil {
		c.closeWith(closeDecodeError, "Error while decoding payload.")
		return
	}
	if c.sess != nil {
		c.closeWith(closeAlreadyAuthed, "Already authenticated.")
		return
	}
	if !s.tokenOK(id.Token) {
		s.opts.Logf("discordfake: IDENTIFY with a bad token on connection %d", c.id)
		c.closeWith(closeAuthFailed, "Authentication failed.")
		return
	}
	if id.Intents == nil || *id.Intents&^knownIntents != 0 {
		c.closeWith(closeInvalidIntents, "Invalid intent(s).")
		return
	}
	if *id.Intents&privilegedIntents&s.opts.DisallowedIntents != 0 {
		c.closeWith(closeDisallowedIntent, "Disallowed intent(s).")
		return
	}
	shard := [2]int{0, 1}
	if id.Shard != nil {
		shard = *id.Shard
		if shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1] {
			c.closeWith(closeInvalidShard, "Invalid shard.")
			return
		}
	}
	// A new IDENTIFY abandons detached sessions of the same shard: no client
	// will resume them, and buffering for them would only grow.
	for sid, old := range s.sessions {
		if old.conn == nil && old.shard == shard {
			delete(s.sessions, sid)
		}
	}
	sess := &session{id: randomHex(16), intents: *id.Intents, shard: shard, conn: c}
	s.sessions[sess.id] = sess
	c.sess = sess
	s.identifies++
	s.lastIntents = *id.Intents

	guilds := []any{}
	for _, gid := range s.guildIDs {
		if sess.sees(gid) {
			guilds = append(guilds, map[string]any{"id": gid, "unavailable": true})
		}
	}
	ready := map[string]any{
		"v":                  9,
		"user":               s.botUserWire(),
		"guilds":             guilds,
		"session_id":         sess.id,
		"resume_gateway_url": s.wsURL,
		"session_type":       "normal",
		"application":        map[string]any{"id": s.opts.ApplicationID, "flags": 0},
		"private_channels":   []any{},
		"relationships":      []any{},
		"presences":          []any{},
		"_trace":             []string{"discordfake"},
	}
	if id.Shard != nil {
		ready["shard"] = shard
	}
	s.sendTo(sess, "READY", ready)
	if sess.intents&IntentGuilds != 0 {
		for _, gid := range s.guildIDs {
			if sess.sees(gid) {
				s.sendTo(sess, "GUILD_CREATE", s.wireGuild(s.guilds[gid]))
			}
		}
	}
}

func (s *Server) botUserWire() map[string]any {
	w := s.wireUser(s.opts.BotUserID)
	w["verified"] = true
	w["mfa_enabled"] = false
	w["flags"] = 0
	return w
}

// resume handles op 6: the session's dispatches after seq are replayed in
// order, followed by RESUMED. Callers hold s.mu.
func (s *Server) resume(c *conn, d json.RawMessage) {
	var r struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(d, &r); err != nil {
		c.closeWith(closeDecodeError, "Error while decoding payload.")
		return
	}
	if c.sess != nil {
		c.closeWith(closeAlreadyAuthed, "Already authenticated.")
		return
	}
	if !s.tokenOK(r.Token) {
		c.closeWith(closeAuthFailed, "Authentication failed.")
		return
	}
	sess := s.sessions[r.SessionID]
	if sess == nil {
		c.send(opInvalidSession, false)
		return
	}
	if r.Seq > sess.seq || r.Seq < 0 {
		c.closeWith(closeInvalidSeq, "Invalid seq.")
		return
	}
	if old := sess.conn; old != nil && old != c {
		old.sess = nil
	}
	sess.conn = c
	c.sess = sess
	s.resumes++
	for _, ev := range sess.log {
		if ev.seq > r.Seq {
			c.out.push(outItem{data: ev.frame})
		}
	}
	s.sendTo(sess, "RESUMED", map[string]any{"_trace": []string{"discordfake"}})
}

// sendTo dispatches an event to one session: it takes the session's next
// sequence number, is logged for RESUME and is sent if a connection is
// attached. Callers hold s.mu.
func (s *Server) sendTo(sess *session, t string, d any) {
	sess.seq++
	seq := sess.seq
	frame, err := json.Marshal(payload{Op: opDispatch, D: d, S: &seq, T: &t})
	if err != nil {
		panic("discordfake: encoding " + t + ": " + err.Error())
	}
	sess.log = append(sess.log, loggedEvent{seq: seq, frame: frame})
	s.dispatched[t]++
	if sess.conn != nil {
		sess.conn.out.push(outItem{data: frame})
	}
}

// broadcastGuild dispatches to every live session that sees the guild and has
// one of the intents (0: no intent needed). render may return nil to skip a
// session. It returns the number of sessions dispatched to. Callers hold s.mu.
func (s *Server) broadcastGuild(t, guildID string, intents int, render func(*session) any) int {
	n := 0
	for _, sess := range s.sortedSessions() {
		if !sess.sees(guildID) || (intents != 0 && sess.intents&intents == 0) {
			continue
		}
		d := render(sess)
		if d == nil {
			continue
		}
		s.sendTo(sess, t, d)
		n++
	}
	return n
}

// sortedSessions returns the sessions in a stable order.
func (s *Server) sortedSessions() []*session {
	out := slices.Collect(maps.Values(s.sessions))
	slices.SortFunc(out, func(a, b *session) int { return strings.Compare(a.id, b.id) })
	return out
}

// RequestReconnect sends op 7 RECONNECT on every identified connection, as
// Discord does when it moves a session; the client is expected to close,
// reconnect and RESUME. Dispatches meanwhile are kept for the replay. It
// returns how many connections were asked.
func (s *Server) RequestReconnect() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.sess != nil {
			c.send(opReconnect, nil)
			n++
		}
	}
	return n
}

// InvalidSession sends op 9 on every identified connection. With resumable
// false the session is discarded (dispatches until the next IDENTIFY are lost,
// as on Discord); with true it stays available for a RESUME. Either way the
// connection stays open and accepts a new IDENTIFY, which is what discordgo
// sends on the same connection.
func (s *Server) InvalidSession(resumable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		sess := c.sess
		if sess == nil {
			continue
		}
		c.send(opInvalidSession, resumable)
		c.sess = nil
		sess.conn = nil
		if !resumable {
			delete(s.sessions, sess.id)
		}
	}
	s.notify()
}

// DropConnections closes every gateway connection abruptly (no close frame),
// as a network failure would, and returns how many. Sessions stay resumable.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.ws.Close()
	}
	return len(s.conns)
}

// Identifies counts accepted IDENTIFYs.
func (s *Server) Identifies() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identifies
}

// Resumes counts accepted RESUMEs.
func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumes
}

// LastIntents returns the intents of the last accepted IDENTIFY.
func (s *Server) LastIntents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastIntents
}

// Connections counts gateway connections accepted since the start.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// Heartbeats counts heartbeats received (each was ACKed).
func (s *Server) Heartbeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heartbeats
}

// Dispatches counts dispatches of an event type (READY, MESSAGE_CREATE, …)
// over all sessions, replays excluded.
func (s *Server) Dispatches(eventType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dispatched[eventType]
}

// ActiveConnections counts open gateway connections.
func (s *Server) ActiveConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// ReadySessions counts sessions attached to a connection.
func (s *Server) ReadySessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sess := range s.sessions {
		if sess.conn != nil {
			n++
		}
	}
	return n
}

// WaitReady blocks until at least one session is attached to a connection
// (after READY or RESUMED was queued), or ctx ends.
func (s *Server) WaitReady(ctx context.Context) error {
	return s.WaitUntil(ctx, func() bool { return s.ReadySessions() > 0 })
}
