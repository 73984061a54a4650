package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack"
	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/internal/testkit"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// The fake workspace: channels and people.
const (
	supportID  = "C0SUPPORT01"
	staffID    = "G0STAFF0001" // a private channel
	showcaseID = "C0SHOWCASE1" // configured by name, resolved at start
	randomID   = "C0RANDOM001"
	adaID      = "U0ADA000001" // a customer
	bobID      = "U0BOB000001" // another community member
	benID      = "U0BEN000001" // another customer
	samID      = "U0SAM000001" // staff
	leeID      = "U0LEE000001" // staff
)

// modes runs a test in Socket Mode and in HTTP mode.
func modes(t *testing.T, fn func(t *testing.T, mode string)) {
	t.Helper()
	for _, mode := range []string{slack.ModeSocket, slack.ModeHTTP} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			fn(t, mode)
		})
	}
}

// env is the real core on a SQLite file, the real adapter and slack-go client,
// and a loopback fake Slack, driven from the users' side.
type env struct {
	t       *testing.T
	ctx     context.Context
	mode    string
	fake    *slackfake.Server
	adapter *slack.Adapter
	core    *bot.Core
	db      *sqlite.DB
	logs    *testkit.LogBuffer
	url     string // HTTP mode: the adapter's handler
}

// envConfig is what envOptions change before the env starts.
type envConfig struct {
	fake []slackfake.Option
	// handler wraps the core as the adapter's handler.
	handler func(bot.Handler) bot.Handler
	// core changes the core's configuration.
	core func(*bot.Config)
}

// envOption changes an env before it starts.
type envOption func(*envConfig)

func withFake(opts ...slackfake.Option) envOption {
	return func(c *envConfig) { c.fake = append(c.fake, opts...) }
}

func withHandler(wrap func(bot.Handler) bot.Handler) envOption {
	return func(c *envConfig) { c.handler = wrap }
}

func withCore(change func(*bot.Config)) envOption {
	return func(c *envConfig) { c.core = change }
}

func newEnv(t *testing.T, mode string, opts ...envOption) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	t.Cleanup(cancel)
	logs := &testkit.LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	conf := envConfig{fake: []slackfake.Option{
		slackfake.WithAckTimeout(10 * time.Second),
		// Slack retries an HTTP delivery at once, after 1 min and after 5 min;
		// the same three retries, compressed
		slackfake.WithDelivery(10*time.Second, 0, 10*time.Millisecond, 10*time.Millisecond),
	}}
	for _, o := range opts {
		o(&conf)
	}
	fake := slackfake.New(t, conf.fake...)
	fake.AddUser(adaID, "Ada")
	fake.AddUser(bobID, "Bob")
	fake.AddUser(benID, "Ben")
	fake.AddUser(samID, "Sam")
	fake.AddUser(leeID, "Lee")
	fake.AddChannel(supportID, "support", true)
	fake.AddChannel(staffID, "staff", false)
	fake.AddMembers(staffID, samID, leeID)
	fake.AddChannel(showcaseID, "showcase", true)
	fake.AddChannel(randomID, "random", true)

	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "advocate.db"), sqlite.Options{Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	cfg := bottest.Config()
	cfg.Staff.Set(bot.Slack, bot.StaffIDs{Users: []string{samID, leeID}})
	if conf.core != nil {
		conf.core(&cfg)
	}
	core, err := bot.New(bot.Options{Store: db, Config: cfg, Logger: log})
	if err != nil {
		t.Fatalf("new core: %v", err)
	}
	adapter, err := slack.New(slack.Options{
		BotToken:        fake.BotToken(),
		AppToken:        fake.AppToken(),
		SigningSecret:   fake.SigningSecret(),
		Mode:            mode,
		APIURL:          fake.APIURL(),
		SupportChannels: []string{supportID},
		StaffChannel:    staffID,
		ShowcaseChannel: "#showcase",
		Logger:          log,
		PostInterval:    time.Millisecond,
	})
	if err != nil {
		t.Fatalf("new adapter: %v", err)
	}
	core.Register(adapter)
	e := &env{t: t, ctx: ctx, mode: mode, fake: fake, adapter: adapter, core: core, db: db, logs: logs}
	if mode == slack.ModeHTTP {
		srv := httptest.NewServer(adapter.Handler())
		t.Cleanup(srv.Close)
		e.url = srv.URL
	}

	runCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := core.Run(runCtx); err != nil {
			t.Errorf("core.Run: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		var h bot.Handler = core
		if conf.handler != nil {
			h = conf.handler(core)
		}
		if err := adapter.Run(runCtx, h); err != nil {
			t.Errorf("adapter.Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		stop()
		wg.Wait()
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	if mode == slack.ModeSocket {
		e.waitFor("a socket mode connection", func() bool { return fake.ActiveConnections() > 0 })
	} else {
		e.waitFor("the adapter to resolve its channels", func() bool { return fake.Calls("conversations.list") > 0 })
		e.waitReady()
	}
	return e
}

// waitReady waits until the HTTP handler accepts events: a url_verification
// answers once signatures are checked, events once Run has started.
func (e *env) waitReady() {
	e.t.Helper()
	for {
		body, _, err := e.fake.EventCallbackBody(map[string]any{"type": "reaction_added", "user": bobID})
		if err != nil {
			e.t.Fatal(err)
		}
		d, _ := e.fake.Deliver(e.ctx, e.url+"/slack/events", body, slackfake.JSONContentType)
		if d.OK() {
			return
		}
		if e.ctx.Err() != nil {
			e.t.Fatalf("the adapter never accepted events: last status %d", d.Last().Status)
		}
	}
}

// waitFor blocks until cond holds, failing the test at the deadline.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	if err := e.fake.WaitUntil(e.ctx, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// say posts a top-level message as user and delivers its event.
func (e *env) say(user, channel, text string) slackfake.Message {
	e.t.Helper()
	return e.post(user, channel, "", text)
}

// reply posts a thread reply as user and delivers its event.
func (e *env) reply(user, channel, thread, text string) slackfake.Message {
	e.t.Helper()
	return e.post(user, channel, thread, text)
}

func (e *env) post(user, channel, thread, text string) slackfake.Message {
	e.t.Helper()
	if e.mode == slack.ModeSocket {
		var p slackfake.Posted
		var err error
		if thread == "" {
			p, err = e.fake.UserSays(user, channel, text)
		} else {
			p, err = e.fake.UserReplies(user, channel, thread, text)
		}
		if err != nil {
			e.t.Fatalf("post: %v", err)
		}
		e.waitAck(p.EnvelopeID)
		if p.MentionEnvelopeID != "" {
			e.waitAck(p.MentionEnvelopeID)
		}
		return p.Message
	}
	m, err := e.fake.PostAsUser(user, channel, thread, text)
	if err != nil {
		e.t.Fatalf("post: %v", err)
	}
	ev, err := e.fake.MessageEvent(m)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _, err := e.fake.EventCallbackBody(ev)
	if err != nil {
		e.t.Fatal(err)
	}
	e.deliver("/slack/events", body, slackfake.JSONContentType)
	return m
}

// deliver posts a signed body to the adapter's handler and requires a 2xx.
func (e *env) deliver(path string, body []byte, contentType string) []byte {
	e.t.Helper()
	d, err := e.fake.Deliver(e.ctx, e.url+path, body, contentType)
	if err != nil {
		e.t.Fatalf("deliver to %s: %v (attempts %+v)", path, err, d.Attempts)
	}
	return d.Last().Body
}

func (e *env) waitAck(envelopeID string) json.RawMessage {
	e.t.Helper()
	p, err := e.fake.WaitAck(e.ctx, envelopeID)
	if err != nil {
		e.t.Fatalf("ack: %v", err)
	}
	return p
}

// click presses the button labelled label on a message as user.
func (e *env) click(user string, m slackfake.Message, label string) {
	e.t.Helper()
	id := buttonID(e.t, m, label)
	if e.mode == slack.ModeSocket {
		env, err := e.fake.ClickButton(user, m.Channel, m.TS, id, "")
		if err != nil {
			e.t.Fatalf("click %q: %v", label, err)
		}
		e.waitAck(env)
		return
	}
	p, err := e.fake.ClickButtonPayload(user, m.Channel, m.TS, id, "")
	if err != nil {
		e.t.Fatalf("click %q: %v", label, err)
	}
	e.deliver("/slack/interactive", slackfake.InteractiveBody(p), slackfake.FormContentType)
}

// submit submits an open view with values keyed by action ID.
func (e *env) submit(viewID string, values map[string]string) {
	e.t.Helper()
	if e.mode == slack.ModeSocket {
		env, err := e.fake.SubmitView(viewID, values)
		if err != nil {
			e.t.Fatalf("submit: %v", err)
		}
		if ack := e.waitAck(env); len(ack) > 0 && string(ack) != "null" {
			e.t.Errorf("submission ack: got %s, want an empty ack that closes the modal", ack)
		}
		return
	}
	p, err := e.fake.SubmitViewPayload(viewID, values)
	if err != nil {
		e.t.Fatalf("submit: %v", err)
	}
	if body := e.deliver("/slack/interactive", slackfake.InteractiveBody(p), slackfake.FormContentType); len(bytes.TrimSpace(body)) > 0 {
		e.t.Errorf("submission response: got %s, want an empty 200 that closes the modal", body)
	}
}

// command runs a slash command as user and returns the immediate response.
func (e *env) command(user, channel, command, text string) []byte {
	e.t.Helper()
	if e.mode == slack.ModeSocket {
		env, err := e.fake.SlashCommand(user, channel, command, text)
		if err != nil {
			e.t.Fatalf("command: %v", err)
		}
		return e.waitAck(env)
	}
	form, err := e.fake.SlashCommandForm(user, channel, command, text)
	if err != nil {
		e.t.Fatalf("command: %v", err)
	}
	return e.deliver("/slack/commands", []byte(form.Encode()), slackfake.FormContentType)
}

// shortcut runs a message shortcut as user on a message.
func (e *env) shortcut(user string, m slackfake.Message, callbackID string) {
	e.t.Helper()
	if e.mode == slack.ModeSocket {
		env, err := e.fake.MessageShortcut(user, m.Channel, m.TS, callbackID)
		if err != nil {
			e.t.Fatalf("shortcut: %v", err)
		}
		e.waitAck(env)
		return
	}
	p, err := e.fake.MessageShortcutPayload(user, m.Channel, m.TS, callbackID)
	if err != nil {
		e.t.Fatalf("shortcut: %v", err)
	}
	e.deliver("/slack/interactive", slackfake.InteractiveBody(p), slackfake.FormContentType)
}

// openView waits until user has had n views opened and returns the newest.
func (e *env) openView(user string, n int) slackfake.View {
	e.t.Helper()
	var found slackfake.View
	e.waitFor(fmt.Sprintf("view %d for %s", n, user), func() bool {
		var mine []slackfake.View
		for _, v := range e.fake.Views() {
			if v.UserID == user {
				mine = append(mine, v)
			}
		}
		if len(mine) < n {
			return false
		}
		found = mine[n-1]
		return true
	})
	return found
}

// botMessage waits for the bot's message in a channel whose text contains s
// and returns the newest such.
func (e *env) botMessage(channel, s string) slackfake.Message {
	e.t.Helper()
	var found slackfake.Message
	e.waitFor(fmt.Sprintf("a bot message containing %q in %s", s, channel), func() bool {
		ms := e.fake.Messages(channel)
		for i := len(ms) - 1; i >= 0; i-- {
			if ms[i].BotID != "" && strings.Contains(ms[i].Text, s) {
				found = ms[i]
				return true
			}
		}
		return false
	})
	return found
}

// botMessages lists the bot's messages in a channel whose text contains s.
func (e *env) botMessages(channel, s string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range e.fake.Messages(channel) {
		if m.BotID != "" && strings.Contains(m.Text, s) {
			out = append(out, m)
		}
	}
	return out
}

// withButton waits for the bot's newest message in a channel with a button.
func (e *env) withButton(channel, label string) slackfake.Message {
	e.t.Helper()
	var found slackfake.Message
	e.waitFor(fmt.Sprintf("a message with a %q button in %s", label, channel), func() bool {
		ms := e.fake.Messages(channel)
		for i := len(ms) - 1; i >= 0; i-- {
			if hasButton(ms[i], label) {
				found = ms[i]
				return true
			}
		}
		return false
	})
	return found
}

// buttons lists the button labels of a stored message.
func buttons(m slackfake.Message) map[string]string {
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

func hasButton(m slackfake.Message, label string) bool {
	_, ok := buttons(m)[label]
	return ok
}

func buttonID(t *testing.T, m slackfake.Message, label string) string {
	t.Helper()
	bs := buttons(m)
	id, ok := bs[label]
	if !ok {
		t.Fatalf("no %q button on %q (buttons %v)", label, m.Text, bs)
	}
	return id
}

// staffThread waits for a case's root message in the staff channel and
// returns it.
func (e *env) staffRoot(caseID int64) slackfake.Message {
	e.t.Helper()
	root := e.botMessage(staffID, fmt.Sprintf("Case #%d:", caseID)) // the root, not the controls ("Case #N from")
	if root.ThreadTS != "" {
		e.t.Fatalf("the case root is a thread reply: %+v", root)
	}
	return root
}

// threadReplies lists the replies under a message, oldest first.
func (e *env) threadReplies(channel, ts string) []slackfake.Message {
	th := e.fake.Thread(channel, ts)
	if len(th) == 0 {
		return nil
	}
	return th[1:]
}

// kinds lists a case's funnel events.
func (e *env) kinds(caseID int64) []string {
	e.t.Helper()
	var out []string
	err := e.db.View(e.ctx, func(tx bot.Tx) error {
		evs, err := tx.CaseEvents(e.ctx, caseID)
		for _, ev := range evs {
			out = append(out, ev.Kind)
		}
		return err
	})
	if err != nil {
		e.t.Fatalf("case events: %v", err)
	}
	return out
}

// cases lists every case, newest first.
func (e *env) cases() []*bot.Case {
	e.t.Helper()
	var out []*bot.Case
	err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
		out, _, err = tx.FindCases(e.ctx, bot.CaseFilter{})
		return err
	})
	if err != nil {
		e.t.Fatalf("find cases: %v", err)
	}
	return out
}

// settled waits until the outbox has nothing left to deliver.
func (e *env) settled() {
	e.t.Helper()
	for {
		var pending int
		err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
			pending, _, err = tx.OutboxStats(e.ctx)
			return err
		})
		if err != nil {
			e.t.Fatalf("outbox stats: %v", err)
		}
		if pending == 0 {
			return
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("outbox never drained: %d pending", pending)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
