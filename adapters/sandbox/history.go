package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// channel is a place messages are posted to.
type channel struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// For a case channel: its customer's persona ID and name, and the case.
	Customer     string `json:"customer,omitempty"`
	CustomerName string `json:"customer_name,omitempty"`
	Case         int64  `json:"case,omitempty"`

	posts []*post // oldest first, thread replies included
}

// author is who wrote a message.
type author struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Bot   bool   `json:"bot,omitempty"`
	Staff bool   `json:"staff,omitempty"`
}

// post is a message on the simulated platform.
type post struct {
	ID      string       `json:"id"`
	Channel string       `json:"channel"`
	Thread  string       `json:"thread,omitempty"` // the parent's ID for a thread reply
	Author  author       `json:"author"`
	Text    string       `json:"text"`
	Buttons []bot.Button `json:"buttons,omitempty"`
	At      time.Time    `json:"at"`
	Edited  bool         `json:"edited,omitempty"`
	Deleted bool         `json:"deleted,omitempty"`
	// Held is a staff persona's message on a customer's side while the core
	// decides what it is: shown to staff only, until released (a reply) or
	// deleted (a note, which the customer must never see).
	Held bool `json:"held,omitempty"`
}

func (p *post) edit(m bot.Message) {
	p.Text, p.Buttons, p.Edited = m.Text, m.Buttons, true
}

func (p *post) ref() bot.Ref {
	return bot.Ref{Platform: bot.Sandbox, Channel: p.Channel, Thread: p.Thread, Message: p.ID}
}

// button finds the post's button with the given action ID.
func (p *post) button(actionID string) (bot.Button, bool) {
	i := slices.IndexFunc(p.Buttons, func(b bot.Button) bool { return b.ActionID == actionID })
	if i < 0 {
		return bot.Button{}, false
	}
	return p.Buttons[i], true
}

// History operations, one JSON line each.
const (
	opChannel = "channel" // a channel was created
	opRename  = "rename"  // a channel was renamed (ID → To)
	opPost    = "post"    // a message was posted
	opEdit    = "edit"    // a message was replaced (ID, Msg)
	opDelete  = "delete"  // a message was deleted (ID)
	opRelease = "release" // a held message was shown to everyone (ID)
)

// record is one line of the history file.
type record struct {
	Op      string       `json:"op"`
	At      time.Time    `json:"at"`
	Channel *channel     `json:"channel,omitempty"`
	Post    *post        `json:"post,omitempty"`
	ID      string       `json:"id,omitempty"`
	To      string       `json:"to,omitempty"`
	Msg     *bot.Message `json:"msg,omitempty"`
}

// maxLine bounds one history line: a bot message with its buttons.
const maxLine = 1 << 20

// replay rebuilds the platform from the history file. A line that does not
// parse (a write cut short by a crash) is skipped with a warning.
func (s *Sandbox) replay() error {
	if s.path == "" {
		return nil
	}
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: open history: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	n, skipped := 0, 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil || !s.apply(r) {
			skipped++
			s.log.Warn("sandbox history line skipped", "path", s.path, "line", n)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("sandbox: read history %s line %d: %w", s.path, n+1, err)
	}
	s.log.Info("sandbox history replayed", "path", s.path, "lines", n, "skipped", skipped, "messages", len(s.posts))
	return nil
}

// apply replays one record and reports whether it made sense.
func (s *Sandbox) apply(r record) bool {
	switch r.Op {
	case opChannel:
		if r.Channel == nil || r.Channel.Kind != kindCase || r.Channel.Name == "" || s.channels[r.Channel.Name] != nil {
			return false
		}
		s.addChannel(r.Channel)
	case opRename:
		ch := s.channels[r.ID]
		if ch == nil || r.To == "" || s.channels[r.To] != nil {
			return false
		}
		s.rename(ch, r.To)
	case opPost:
		p := r.Post
		if p == nil || s.channels[p.Channel] == nil || s.posts[p.ID] != nil {
			return false
		}
		n, ok := messageNumber(p.ID)
		if !ok {
			return false
		}
		s.lastID = max(s.lastID, n)
		s.addPost(p)
	case opEdit:
		p := s.posts[r.ID]
		if p == nil || r.Msg == nil {
			return false
		}
		p.edit(*r.Msg)
	case opDelete:
		p := s.posts[r.ID]
		if p == nil {
			return false
		}
		p.Deleted = true
	case opRelease:
		p := s.posts[r.ID]
		if p == nil {
			return false
		}
		p.Held = false
	default:
		return false
	}
	s.version++
	return true
}

// write appends one record to the history file before the change is made, so
// what the page shows is what a restart replays.
func (s *Sandbox) write(r record) error {
	if s.path == "" {
		return nil
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("sandbox: encode history: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("sandbox: open history: %w", err)
	}
	// A line cut short by a crash must not swallow this one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		} else if err != nil && !errors.Is(err, io.EOF) {
			return errors.Join(fmt.Errorf("sandbox: read history: %w", err), f.Close())
		}
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return errors.Join(fmt.Errorf("sandbox: write history: %w", err), f.Close())
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sandbox: close history: %w", err)
	}
	return nil
}

func (s *Sandbox) addChannel(ch *channel) {
	s.channels[ch.Name] = ch
	s.order = append(s.order, ch.Name)
}

// rename moves a channel and its messages to a new name.
func (s *Sandbox) rename(ch *channel, to string) {
	from := ch.Name
	delete(s.channels, from)
	ch.Name = to
	s.channels[to] = ch
	s.order[slices.Index(s.order, from)] = to
	for _, p := range ch.posts {
		p.Channel = to
	}
}

func (s *Sandbox) addPost(p *post) {
	s.posts[p.ID] = p
	ch := s.channels[p.Channel]
	ch.posts = append(ch.posts, p)
}

// nextID returns a message ID that sorts after every earlier one, across
// restarts: the time in microseconds, or one more than the last ID.
func (s *Sandbox) nextID() string {
	n := max(s.lastID+1, s.now().UnixMicro())
	s.lastID = n
	return "m" + strconv.FormatInt(n, 10)
}

func messageNumber(id string) (int64, bool) {
	digits, ok := strings.CutPrefix(id, "m")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	return n, err == nil && n > 0
}

// postLocked posts m to a channel or thread and records it. s.mu is held.
func (s *Sandbox) postLocked(to bot.Ref, by author, m bot.Message, held bool) (bot.Ref, error) {
	ch := s.channels[to.Channel]
	if ch == nil {
		return bot.Ref{}, fmt.Errorf("sandbox: no channel %q: %w", to.Channel, bot.ErrUndeliverable)
	}
	thread := to.Thread
	if thread != "" {
		parent := s.posts[thread]
		if parent == nil || parent.Channel != ch.Name {
			return bot.Ref{}, fmt.Errorf("sandbox: no message %q to reply to in %s: %w", thread, ch.Name, bot.ErrUndeliverable)
		}
		if parent.Thread != "" {
			thread = parent.Thread // a reply to a reply joins the same thread
		}
	}
	p := &post{ID: s.nextID(), Channel: ch.Name, Thread: thread, Author: by, Text: m.Text, Buttons: m.Buttons, At: s.now().UTC(), Held: held}
	if err := s.write(record{Op: opPost, Post: p, At: p.At}); err != nil {
		return bot.Ref{}, err
	}
	s.addPost(p)
	ref := p.ref()
	if m.Nonce != "" {
		s.nonces[m.Nonce] = ref
	}
	return ref, nil
}
