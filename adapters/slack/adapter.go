// Package slack connects advocate's core to a Slack workspace. It turns Events
// API traffic, slash commands, the "Get help with this" message shortcut, button
// clicks and modal submissions, received over Socket Mode or as signed HTTP
// requests, into bot events, and delivers the core's messages with the Web API.
// It translates only; every decision is the core's.
//
// Slack is a two-sided platform for advocate: a case's customer talks to the bot
// in a DM, staff talk in a thread of the staff channel whose root message names
// the case, and the core relays between the two.
//
// What the adapter hands to the core:
//   - top-level messages in a support channel (Support); thread replies there are
//     left alone, so a community discussing a question under it does not open
//     cases or draw "you already have a case" replies;
//   - messages in a DM with the bot (Direct);
//   - replies in threads of the staff channel (a case's staff side);
//   - mentions of the bot anywhere else (EventMention), including in threads of a
//     support channel;
//   - /support [text], the get_help message shortcut, /advocate stats and
//     /advocate notice (EventCommand);
//   - block_actions clicks, link buttons included (EventAction), and submissions
//     of advocate's modals (EventSubmit).
//
// Every event is acknowledged only after the core committed it: a failed commit
// leaves it unacknowledged (Socket Mode) or answers 500 (HTTP), so Slack
// delivers it again and the core's dedupe on the event ID keeps it to one effect.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/advocate-bot/advocate/bot"
)

// Modes of receiving Slack traffic.
const (
	// ModeSocket receives over a Socket Mode websocket: no public URL needed.
	ModeSocket = "socket"
	// ModeHTTP receives signed Events API and interactivity requests on Handler.
	ModeHTTP = "http"
)

// DefaultAPIURL is Slack's Web API base.
const DefaultAPIURL = "https://slack.com/api/"

// defaultPostInterval paces chat.postMessage per channel: Slack allows about one
// message per second per channel and answers bursts with 429.
const defaultPostInterval = time.Second

// apiTimeout bounds one Web API call made outside the relay's own context.
const apiTimeout = 15 * time.Second

// Options are what an Adapter needs. cmd/advocate fills them from config.Slack.
type Options struct {
	// BotToken is the bot user OAuth token (xoxb-…).
	BotToken string
	// AppToken is the app-level token (xapp-…) with connections:write, for
	// Socket Mode.
	AppToken string
	// SigningSecret verifies HTTP mode requests.
	SigningSecret string
	// Mode is ModeSocket (the default when empty) or ModeHTTP.
	Mode string
	// APIURL is the Web API base, DefaultAPIURL when empty (GovSlack, a proxy or
	// a test server otherwise).
	APIURL string
	// SupportChannels are the watched public channels, by ID or name; names are
	// resolved when Run starts.
	SupportChannels []string
	// StaffChannel is where case threads and alerts go (ID or name); required.
	StaffChannel string
	// ShowcaseChannel is where testimonials are posted (ID or name); optional.
	ShowcaseChannel string
	// UserGroups are user-group IDs (S…) whose members are reported in
	// Person.Roles, so staff can be configured as a user group; optional.
	UserGroups []string
	// Logger receives the adapter's logs; it never gets message text or tokens.
	Logger *slog.Logger
	// PostInterval paces chat.postMessage per channel (default 1 s).
	PostInterval time.Duration
	// HistoryRate is how many conversations.history (and as many
	// conversations.replies) calls a minute the look-ups for earlier posts may
	// make: 50 (Slack's Tier 3) when zero; 1 for an app under Slack's 2025
	// limit for commercially distributed apps outside the Marketplace, which
	// also reads pages of 15 messages (see posted.go and the README).
	HistoryRate int
	// HTTPClient makes the Web API calls; a client with a 30 s timeout when nil.
	HTTPClient *http.Client
}

// Adapter is advocate's Slack adapter. Create it with New, mount Handler in HTTP
// mode, register it with the core and call Run.
type Adapter struct {
	opts   Options
	log    *slog.Logger
	client *slackgo.Client // also the base of the Socket Mode client
	api    webAPI
	people *directory
	pace   *pacer
	posts  *posts

	// ready is closed once Run has resolved the workspace and channels; the
	// fields below it are set before and read-only after.
	ready    chan struct{}
	readyErr error
	// connected is true while the socket-mode connection is up (after hello).
	connected atomic.Bool
	botUserID string
	teamID    string
	support   map[string]bool
	staff     string
	showcase  string

	mu      sync.Mutex
	started bool
	closing bool            // Run is returning: no new background work
	handler bot.Handler     // set by Run, for HTTP mode
	runCtx  context.Context // Run's context, for work after an HTTP response
	opening map[int64]*opening
	dms     map[string]string // user ID → DM channel ID

	work sync.WaitGroup // follow-ups and socket workers in flight
}

var (
	_ bot.Adapter     = (*Adapter)(nil)
	_ bot.CheckModals = (*Adapter)(nil)
)

// New checks opts and returns an Adapter. It makes no network calls: Run
// resolves channel names and checks the token.
func New(opts Options) (*Adapter, error) {
	if opts.Mode == "" {
		opts.Mode = ModeSocket
	}
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(opts.APIURL, "/") {
		opts.APIURL += "/"
	}
	if opts.PostInterval == 0 {
		opts.PostInterval = defaultPostInterval
	}
	var problems []string
	if opts.BotToken == "" {
		problems = append(problems, "a bot token (xoxb-…) is required")
	}
	switch opts.Mode {
	case ModeSocket:
		if opts.AppToken == "" {
			problems = append(problems, "socket mode needs an app-level token (xapp-…)")
		}
	case ModeHTTP:
		if opts.SigningSecret == "" {
			problems = append(problems, "http mode needs the signing secret")
		}
	default:
		problems = append(problems, fmt.Sprintf("mode %q is neither %q nor %q", opts.Mode, ModeSocket, ModeHTTP))
	}
	if strings.TrimSpace(opts.StaffChannel) == "" {
		problems = append(problems, "a staff channel is required")
	}
	if opts.PostInterval < 0 {
		problems = append(problems, "the post interval must not be negative")
	}
	if opts.HistoryRate < 0 {
		problems = append(problems, "the history rate must not be negative")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("slack: %s", strings.Join(problems, "; "))
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "slack")
	hc := opts.HTTPClient
	if hc == nil {
		// Keep a connection per call in flight: with net/http's default of
		// two idle connections per host, the relay's concurrent posts dialled
		// (and for https, shook hands) anew for most calls.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		hc = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	sdkLog := slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	client := slackgo.New(opts.BotToken,
		slackgo.OptionAPIURL(opts.APIURL),
		slackgo.OptionAppLevelToken(opts.AppToken),
		slackgo.OptionHTTPClient(hc),
		slackgo.OptionLog(sdkLog),
	)
	a := &Adapter{
		opts:    opts,
		log:     log,
		client:  client,
		api:     client,
		pace:    newPacer(opts.PostInterval),
		posts:   newPosts(opts.HistoryRate),
		ready:   make(chan struct{}),
		opening: map[int64]*opening{},
		dms:     map[string]string{},
	}
	a.people = newDirectory(a.api, opts.UserGroups, log, a.spawn)
	a.people.tell = a.tellName
	return a, nil
}

// tellName hands the core a name looked up after the person's first events
// (bot.EventNamed), so their case records it.
func (a *Adapter) tellName(ctx context.Context, p bot.Person) {
	a.mu.Lock()
	h := a.handler
	a.mu.Unlock()
	if h == nil {
		return
	}
	ev := bot.Event{Kind: bot.EventNamed, Where: bot.Ref{Platform: bot.Slack, Space: a.teamID}, Author: p, At: time.Now().UTC()}
	if _, err := h.Handle(ctx, ev); err != nil {
		a.log.Warn("a name looked up was not recorded", "user", p.ID, "err", err)
	}
}

// Platform names Slack.
func (a *Adapter) Platform() string { return bot.Slack }

// CheckModals reports that Slack modals hold check boxes (bot.CheckModals).
func (a *Adapter) CheckModals() bool { return true }

// Run checks the token, resolves the configured channels and receives Slack
// traffic for h until ctx is done: over Socket Mode, or through Handler in HTTP
// mode. It returns an error when the workspace cannot be reached at start or
// Socket Mode gives up (a revoked token, for example).
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	a.mu.Lock()
	if a.started {
		a.mu.Unlock()
		return errors.New("slack: Run called twice")
	}
	a.started = true
	a.handler, a.runCtx = h, ctx // HTTP requests answer 503 until start is done
	a.mu.Unlock()

	if err := a.start(ctx); err != nil {
		return err
	}
	a.log.Info("slack adapter running", "mode", a.opts.Mode, "team", a.teamID,
		"support_channels", len(a.support), "showcase", a.showcase != "")

	var err error
	if a.opts.Mode == ModeSocket {
		err = a.runSocket(ctx, h)
	} else {
		<-ctx.Done()
	}
	a.mu.Lock()
	a.closing = true
	a.mu.Unlock()
	a.work.Wait()
	return err
}

// start learns who the bot is and resolves channel names, then opens the
// delivery methods, which wait for it.
func (a *Adapter) start(ctx context.Context) (err error) {
	defer func() {
		a.readyErr = err
		close(a.ready)
	}()
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	auth, err := a.api.AuthTestContext(cctx)
	if err != nil {
		return fmt.Errorf("slack: auth.test: %w", err)
	}
	a.botUserID, a.teamID = auth.UserID, auth.TeamID

	ids, err := resolveChannels(ctx, a.api, a.wantedChannels())
	if err != nil {
		return err
	}
	a.support = map[string]bool{}
	for _, c := range a.opts.SupportChannels {
		a.support[ids[c]] = true
	}
	a.staff = ids[a.opts.StaffChannel]
	if a.opts.ShowcaseChannel != "" {
		a.showcase = ids[a.opts.ShowcaseChannel]
	}
	a.people.loadGroups(ctx)
	return nil
}

func (a *Adapter) wantedChannels() []string {
	out := append([]string(nil), a.opts.SupportChannels...)
	out = append(out, a.opts.StaffChannel)
	if a.opts.ShowcaseChannel != "" {
		out = append(out, a.opts.ShowcaseChannel)
	}
	return out
}

// awaitReady blocks delivery until Run has resolved the channels.
func (a *Adapter) awaitReady(ctx context.Context) error {
	select {
	case <-a.ready:
		if a.readyErr != nil {
			return fmt.Errorf("slack adapter did not start: %w", a.readyErr)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("slack adapter not started: %w", ctx.Err())
	}
}

// Connected reports whether the adapter can receive: in socket mode, whether
// the socket is up; in HTTP mode, whether Run resolved the workspace.
func (a *Adapter) Connected() error {
	switch {
	case !a.isReady():
		return errors.New("slack: not started")
	case a.opts.Mode != ModeHTTP && !a.connected.Load():
		return errors.New("slack: socket mode not connected")
	}
	return nil
}

// isReady reports whether the channels are resolved, without waiting.
func (a *Adapter) isReady() bool {
	select {
	case <-a.ready:
		return a.readyErr == nil
	default:
		return false
	}
}

// background runs fn after an event was acknowledged, bounded in time and
// tracked so Run returns only when it is done. It is false when Run is
// returning and fn will not run.
func (a *Adapter) background(ctx context.Context, fn func(context.Context)) bool {
	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
		return false
	}
	a.work.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.work.Done()
		cctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		fn(cctx)
	}()
	return true
}

// spawn is background under Run's context (a test's adapter that was never
// run: no deadline but apiTimeout).
func (a *Adapter) spawn(fn func(context.Context)) bool {
	a.mu.Lock()
	ctx := a.runCtx
	a.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	return a.background(ctx, fn)
}
