package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
)

// IDs of the simulated Slack workspace.
const (
	SupportChannel  = "C0SUPPORT01"
	StaffChannel    = "G0STAFF0001" // private, as a staff channel is
	ShowcaseChannel = "C0SHOWCASE1"
	StaffUser       = "U0STAFF0001"
	StaffName       = "Sam"
)

// SlackOptions configure NewSlack.
type SlackOptions struct {
	// Fake are the loopback Slack's options (pacing, ack timeout…).
	Fake []slackfake.Option
	// Pulse is how long the watcher gathers the fake's changes before it wakes
	// the simulated people to look (20 ms when zero). Longer pulses cost less
	// CPU with thousands of people waiting; measured lags do not depend on it,
	// they come from message timestamps.
	Pulse time.Duration
	// Recorder receives measurements; a new one when nil.
	Recorder *Recorder
}

// Slack is a loopback Slack workspace (slackfake) with a support, a staff and
// a showcase channel and one staff member, and an index of what the bot
// posted there, which simulated people wait on.
type Slack struct {
	// Fake is the loopback Slack the bot talks to.
	Fake *slackfake.Server
	// Rec receives what the simulated people measure.
	Rec *Recorder

	pulseEvery time.Duration
	ackTimeout time.Duration
	stop       context.CancelFunc
	wg         sync.WaitGroup
	queued     atomic.Int64

	mu        sync.Mutex
	pulse     chan struct{}
	seen      map[string]int
	roots     map[int64][]slackfake.Message
	controls  map[int64]slackfake.Message
	nudges    map[int64]int
	replies   map[string][]slackfake.Message // support channel: bot replies by parent ts
	showcase  []slackfake.Message
	viewsSeen int
	views     map[int64][]slackfake.View // preview modals by case
}

// NewSlack starts the fake Slack and its watcher. Close stops both.
func NewSlack(opts SlackOptions) *Slack {
	fake := slackfake.New(nil, opts.Fake...)
	fake.AddChannel(SupportChannel, "support", true)
	fake.AddChannel(StaffChannel, "staff", false)
	fake.AddChannel(ShowcaseChannel, "showcase", true)
	fake.AddUser(StaffUser, StaffName)
	fake.AddMembers(StaffChannel, StaffUser)
	s := &Slack{
		Fake:       fake,
		Rec:        opts.Recorder,
		pulseEvery: opts.Pulse,
		ackTimeout: fake.Config().AckTimeout,
		pulse:      make(chan struct{}),
		seen:       map[string]int{},
		roots:      map[int64][]slackfake.Message{},
		controls:   map[int64]slackfake.Message{},
		nudges:     map[int64]int{},
		replies:    map[string][]slackfake.Message{},
		views:      map[int64][]slackfake.View{},
	}
	if s.Rec == nil {
		s.Rec = NewRecorder()
	}
	if s.pulseEvery <= 0 {
		s.pulseEvery = 20 * time.Millisecond
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.wg.Add(1)
	go s.watch(ctx)
	return s
}

// Close stops the watcher and the fake.
func (s *Slack) Close() {
	s.stop()
	s.wg.Wait()
	s.Fake.Close()
}

// BotConfig is the slack section that points the bot at this workspace.
func (s *Slack) BotConfig() *SlackConfig {
	return &SlackConfig{
		BotToken: s.Fake.BotToken(), AppToken: s.Fake.AppToken(), APIURL: s.Fake.APIURL(),
		SigningSecret: s.Fake.SigningSecret(),
		Support:       SupportChannel, Staff: StaffChannel, Showcase: ShowcaseChannel,
		StaffUsers: []string{StaffUser},
	}
}

// WaitConnected waits until the bot has a Socket Mode connection open.
func (s *Slack) WaitConnected(ctx context.Context) error {
	if err := s.Fake.WaitUntil(ctx, func() bool { return s.Fake.ActiveConnections() > 0 }); err != nil {
		return fmt.Errorf("sim: the bot never connected: %w", err)
	}
	return nil
}

// Queued counts the envelopes the simulated people have queued so far.
func (s *Slack) Queued() int64 { return s.queued.Load() }

// watch refreshes the index after the fake changes, at most once a pulse, and
// wakes the waiters. A periodic wake-up covers changes that raced a refresh.
func (s *Slack) watch(ctx context.Context) {
	defer s.wg.Done()
	for ctx.Err() == nil {
		n := 0
		wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_ = s.Fake.WaitUntil(wctx, func() bool { n++; return n > 1 })
		cancel()
		t := time.NewTimer(s.pulseEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		s.refresh()
	}
}

// refresh indexes what is new in the shared channels and the views.
func (s *Slack) refresh() {
	staff := s.Fake.Messages(StaffChannel)
	support := s.Fake.Messages(SupportChannel)
	showcase := s.Fake.Messages(ShowcaseChannel)
	views := s.Fake.Views()

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range newMessages(staff, s.seen, StaffChannel) {
		if m.BotID == "" {
			continue
		}
		id := caseOfText(m.Text)
		switch {
		case m.ThreadTS == "" && id > 0 && strings.HasPrefix(m.Text, "Case #"):
			s.roots[id] = append(s.roots[id], m)
		case strings.Contains(m.Text, "has had no staff response") && id > 0:
			s.nudges[id]++
		}
		if b, ok := Buttons(m)["Resolve"]; ok {
			s.controls[CaseOfActionID(b)] = m
		}
	}
	for _, m := range newMessages(support, s.seen, SupportChannel) {
		if m.BotID != "" && m.ThreadTS != "" {
			s.replies[m.ThreadTS] = append(s.replies[m.ThreadTS], m)
		}
	}
	for _, m := range newMessages(showcase, s.seen, ShowcaseChannel) {
		if m.BotID != "" {
			s.showcase = append(s.showcase, m)
		}
	}
	if len(views) >= s.viewsSeen {
		for _, v := range views[s.viewsSeen:] {
			if id := CaseOfActionID(v.PrivateMetadata); id > 0 {
				s.views[id] = append(s.views[id], v)
			}
		}
		s.viewsSeen = len(views)
	}
	close(s.pulse)
	s.pulse = make(chan struct{})
}

// newMessages returns the messages of a channel not indexed yet. The shared
// channels only grow in these scenarios (no testimonial is withdrawn).
func newMessages(all []slackfake.Message, seen map[string]int, channel string) []slackfake.Message {
	n := seen[channel]
	if n > len(all) {
		n = len(all)
	}
	seen[channel] = len(all)
	return all[n:]
}

// waitFor blocks until cond holds, checking it after every pulse.
func (s *Slack) waitFor(ctx context.Context, what string, cond func() bool) error {
	for {
		s.mu.Lock()
		p := s.pulse
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-p:
		case <-ctx.Done():
			return fmt.Errorf("sim: waiting for %s: %w", what, ctx.Err())
		}
	}
}

// Sent is one step a simulated person took — a message, a click, a form
// submitted — with the envelopes that carried it.
type Sent struct {
	// Kind names the step: ask, staff_reply, resolve, rate, share, submit, decline.
	Kind string
	// User is who took it; CaseID the case it belongs to (0 before it is known).
	User   string
	CaseID int64
	// Envelopes are the Socket Mode envelopes sent for it: more than one when
	// Slack gave up on an unacknowledged click and the person clicked again.
	Envelopes []string
	// Queued is when the first envelope was queued, Acked when the last was
	// acknowledged (zero when none was: see Superseded).
	Queued, Acked time.Time
	// Superseded is set when a click was not acknowledged and its button is
	// gone: the bot had committed an earlier click (and crashed before its ack).
	Superseded bool
}

// maxTries bounds how often a person clicks again on an unresponsive app.
const maxTries = 5

// send takes a step: fn queues one envelope and returns its ID. Interactive
// envelopes that Slack gives up on (nobody acknowledged them in time, the bot
// was down) are sent again while still is true, as a person clicks again;
// Events API envelopes are redelivered by Slack itself, and one it gives up on
// is an error.
func (s *Slack) send(ctx context.Context, kind, user string, caseID int64, fn func() (string, error), still func() bool) (Sent, error) {
	st := Sent{Kind: kind, User: user, CaseID: caseID}
	for {
		start := time.Now()
		id, err := fn()
		if err != nil {
			return st, fmt.Errorf("sim: %s by %s: %w", kind, user, err)
		}
		if st.Queued.IsZero() {
			st.Queued = start
		}
		st.Envelopes = append(st.Envelopes, id)
		s.queued.Add(1)
		acked, err := s.awaitAck(ctx, id)
		if err != nil {
			return st, fmt.Errorf("sim: %s by %s: %w", kind, user, err)
		}
		if acked {
			st.Acked = time.Now()
			s.Rec.sentStep(st)
			return st, nil
		}
		if still != nil && !still() {
			st.Superseded = true
			return st, nil
		}
		if len(st.Envelopes) >= maxTries {
			return st, fmt.Errorf("sim: %s by %s: no acknowledgement after %d tries", kind, user, maxTries)
		}
	}
}

// awaitAck waits for an envelope's acknowledgement. It returns false when
// Slack gave up on an interactive envelope, and an error when it gave up on an
// Events API one (Slack drops the event: something the bot must never cause).
func (s *Slack) awaitAck(ctx context.Context, id string) (bool, error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		_, err := s.Fake.WaitAck(actx, id)
		got <- err
	}()
	check := time.NewTimer(s.ackTimeout + 50*time.Millisecond)
	defer check.Stop()
	for {
		select {
		case err := <-got:
			if err != nil {
				return false, err
			}
			return true, nil
		case <-check.C:
			e, ok := s.Fake.Envelope(id)
			if ok && e.Expired && !e.Acked {
				if e.Type == "events_api" {
					return false, fmt.Errorf("slack gave up on events_api envelope %s after %d deliveries", id, e.Deliveries)
				}
				return false, nil
			}
			check.Reset(250 * time.Millisecond)
		}
	}
}

// Buttons maps the button labels of a stored message to their action IDs.
func Buttons(m slackfake.Message) map[string]string {
	out := map[string]string{}
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Text     struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	if json.Unmarshal(m.Blocks, &blocks) != nil {
		return out
	}
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, el := range b.Elements {
			if el.Type == "button" {
				out[el.Text.Text] = el.ActionID
			}
		}
	}
	return out
}

// CaseOfActionID reads the case ID from a signed action ID
// ("a1.<case>.<round>.<verb>.<arg>.<mac>"); 0 when there is none.
func CaseOfActionID(id string) int64 {
	parts := strings.Split(id, ".")
	if len(parts) != 6 || parts[0] != "a1" {
		return 0
	}
	n, _ := strconv.ParseInt(parts[1], 10, 64)
	return n
}

// caseOfText reads N from the first "Case #N" in a text; 0 when there is none.
func caseOfText(text string) int64 {
	_, rest, ok := strings.Cut(text, "Case #")
	if !ok {
		return 0
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, _ := strconv.ParseInt(rest[:end], 10, 64)
	return n
}

// TSTime converts a Slack ts ("1700000000.000100") to a time. The fake makes
// ts from its clock, so a message's ts says when it was posted.
func TSTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	frac = (frac + "000000")[:6]
	us, _ := strconv.ParseInt(frac, 10, 64)
	return time.Unix(s, us*1000)
}
