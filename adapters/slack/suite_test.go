package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// TestConversationSuite runs the conversation suite every platform runs, on
// the real adapter and slack-go against the fake Slack, in Socket Mode and in
// HTTP mode, reading what each person can see.
func TestConversationSuite(t *testing.T) {
	modes(t, func(t *testing.T, mode string) {
		bottest.RunSuite(t, func(t *testing.T) bottest.Driver { return newSuiteDriver(t, mode) })
	})
}

// suiteDriver plays the suite's people on the fake Slack: Ada and Ben are
// members, Sam and Lee staff in the private staff channel.
type suiteDriver struct {
	e       *env
	people  map[string]string // suite name -> user ID
	replies *replies
	forms   map[string]openView // person -> the modal they have open
}

// openView is a modal a person has open, with its fields as opened.
type openView struct {
	id   string
	form *bottest.Form
}

func newSuiteDriver(t *testing.T, mode string) *suiteDriver {
	r := &replies{byUser: map[string][]bot.Reply{}}
	e := newEnv(t, mode, withHandler(r.wrap), withCore(func(c *bot.Config) { c.Share = bottest.SuiteConfig().Share }))
	return &suiteDriver{
		e:       e,
		people:  map[string]string{bottest.Ada: adaID, bottest.Ben: benID, bottest.Sam: samID, bottest.Lee: leeID},
		replies: r,
		forms:   map[string]openView{},
	}
}

// replies records what the core answered each person's clicks and
// submissions, so that the driver knows which ephemeral message or modal to
// wait for on the fake.
type replies struct {
	mu     sync.Mutex
	byUser map[string][]bot.Reply
}

func (r *replies) wrap(next bot.Handler) bot.Handler {
	return handlerFunc(func(ctx context.Context, ev bot.Event) (bot.Reply, error) {
		reply, err := next.Handle(ctx, ev)
		if err == nil && (ev.Kind == bot.EventAction || ev.Kind == bot.EventSubmit) {
			r.mu.Lock()
			r.byUser[ev.Author.ID] = append(r.byUser[ev.Author.ID], reply)
			r.mu.Unlock()
		}
		return reply, err
	})
}

func (r *replies) count(user string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byUser[user])
}

func (r *replies) nth(user string, i int) (bot.Reply, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.byUser[user]) <= i {
		return bot.Reply{}, false
	}
	return r.byUser[user][i], true
}

type handlerFunc func(ctx context.Context, ev bot.Event) (bot.Reply, error)

func (f handlerFunc) Handle(ctx context.Context, ev bot.Event) (bot.Reply, error) { return f(ctx, ev) }

// UserID says which user plays a person, so the suite finds their cases.
func (d *suiteDriver) UserID(name string) (string, bool) {
	id, ok := d.people[name]
	return id, ok
}

func (d *suiteDriver) user(name string) (string, error) {
	id, ok := d.people[name]
	if !ok {
		return "", fmt.Errorf("no person %q", name)
	}
	return id, nil
}

// place is a Slack conversation: a channel, and for a case's staff side the
// thread of its root message in the staff channel. ok is false while the
// case or its side does not exist yet.
type place struct {
	channel, thread string
	topLevel        bool // the staff channel without its threads
}

func (d *suiteDriver) place(ctx context.Context, at bottest.Where) (place, bool, error) {
	switch at.Place {
	case bottest.InPublic:
		return place{channel: supportID}, true, nil
	case bottest.InStaffChannel:
		return place{channel: staffID, topLevel: true}, true, nil
	case bottest.InShowcase:
		return place{channel: showcaseID}, true, nil
	}
	var cs *bot.Case
	err := d.e.db.View(ctx, func(tx bot.Tx) (err error) {
		id, _ := d.UserID(at.Customer)
		cs, err = bottest.CaseOfUser(ctx, tx, id)
		return err
	})
	if errors.Is(err, bottest.ErrNotYet) {
		return place{}, false, nil
	}
	if err != nil {
		return place{}, false, err
	}
	ref := cs.Private
	if at.Place == bottest.InStaffSide {
		ref = cs.Staff
	}
	return place{channel: ref.Channel, thread: ref.Thread}, ref.Channel != "", nil
}

func (d *suiteDriver) Ask(_ context.Context, who, text string) error {
	u, err := d.user(who)
	if err != nil {
		return err
	}
	d.e.say(u, supportID, text)
	return nil
}

// Say posts where who is: a DM message, or a reply in the staff thread. Staff
// cannot write in a customer's DM with the bot.
func (d *suiteDriver) Say(ctx context.Context, who string, at bottest.Where, text string) error {
	u, err := d.user(who)
	if err != nil {
		return err
	}
	p, ok, err := d.place(ctx, at)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s has no conversation yet", at)
	}
	if !d.e.fake.CanView(u, p.channel) {
		return fmt.Errorf("%s cannot see %s: %w", who, at, bottest.ErrUnsupported)
	}
	d.e.post(u, p.channel, p.thread, text)
	return nil
}

// Command: Slack's slash commands carry no thread, so staff run case
// commands with the buttons and !note instead.
func (d *suiteDriver) Command(context.Context, string, bottest.Where, string, string) (bottest.Answer, error) {
	return bottest.Answer{}, fmt.Errorf("case commands on Slack: %w", bottest.ErrUnsupported)
}

// Click presses the newest button labelled label that who sees at a place,
// as Slack delivers it (a link button opens its page and reports the click
// too).
func (d *suiteDriver) Click(ctx context.Context, who string, at bottest.Where, label string) (bottest.Answer, error) {
	u, err := d.user(who)
	if err != nil {
		return bottest.Answer{}, err
	}
	msgs, err := d.messages(ctx, u, at)
	if err != nil {
		return bottest.Answer{}, err
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if !hasButton(msgs[i].Message, label) {
			continue
		}
		return d.answer(ctx, who, u, func() { d.e.click(u, msgs[i].Message, label) })
	}
	return bottest.Answer{}, bottest.ErrNoButton
}

// Submit submits the modal who has open, keeping the values of fields left
// out.
func (d *suiteDriver) Submit(ctx context.Context, who string, values map[string]string) (bottest.Answer, error) {
	u, err := d.user(who)
	if err != nil {
		return bottest.Answer{}, err
	}
	v, ok := d.forms[who]
	if !ok {
		return bottest.Answer{}, bottest.ErrNoForm
	}
	delete(d.forms, who)
	all := map[string]string{}
	for _, f := range v.form.Fields {
		all[f.ID] = f.Value
	}
	for k, val := range values {
		if _, ok := all[k]; !ok {
			return bottest.Answer{}, fmt.Errorf("the form has no field %q", k)
		}
		all[k] = val
	}
	return d.answer(ctx, who, u, func() { d.e.submit(v.id, all) })
}

// answer does act (acknowledged by the adapter once the core committed it),
// then waits for what the core answered to appear on the fake: a modal
// opened for user, or an ephemeral message shown to them.
func (d *suiteDriver) answer(ctx context.Context, who, user string, act func()) (bottest.Answer, error) {
	n := d.replies.count(user)
	views := d.viewsOf(user)
	ephemerals := d.ephemeralsOf(user)
	act()
	var r bot.Reply
	if err := poll(ctx, func() bool {
		var ok bool
		r, ok = d.replies.nth(user, n)
		return ok
	}); err != nil {
		return bottest.Answer{}, fmt.Errorf("the core never answered %s: %w", who, err)
	}
	var a bottest.Answer
	if r.Modal != nil {
		var v slackfake.View
		err := d.e.fake.WaitUntil(ctx, func() bool {
			vs := d.viewsOf(user)
			if len(vs) > len(views) {
				v = vs[len(views)]
			}
			return len(vs) > len(views)
		})
		if err != nil {
			return bottest.Answer{}, fmt.Errorf("no modal opened for %s: %w", who, err)
		}
		f, err := viewForm(v)
		if err != nil {
			return bottest.Answer{}, err
		}
		d.forms[who] = openView{id: v.ID, form: f}
		a.Form = f
	}
	if r.Ephemeral != "" {
		err := d.e.fake.WaitUntil(ctx, func() bool {
			es := d.ephemeralsOf(user)
			if len(es) > len(ephemerals) {
				a.Ephemeral = html.UnescapeString(es[len(ephemerals)].Text)
			}
			return len(es) > len(ephemerals)
		})
		if err != nil {
			return bottest.Answer{}, fmt.Errorf("no answer shown to %s: %w", who, err)
		}
	}
	return a, nil
}

func (d *suiteDriver) viewsOf(user string) []slackfake.View {
	var out []slackfake.View
	for _, v := range d.e.fake.Views() {
		if v.UserID == user {
			out = append(out, v)
		}
	}
	return out
}

func (d *suiteDriver) ephemeralsOf(user string) []slackfake.Shown {
	var out []slackfake.Shown
	for _, m := range d.e.fake.VisibleTo(user) {
		if m.Ephemeral {
			out = append(out, m)
		}
	}
	return out
}

// viewForm reads a modal's title and inputs (text inputs and check boxes)
// with their initial values.
func viewForm(v slackfake.View) (*bottest.Form, error) {
	var blocks []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Label   struct {
			Text string `json:"text"`
		} `json:"label"`
		Element struct {
			Type           string `json:"type"`
			ActionID       string `json:"action_id"`
			InitialValue   string `json:"initial_value"`
			InitialOptions []struct {
				Value string `json:"value"`
			} `json:"initial_options"`
		} `json:"element"`
	}
	if err := json.Unmarshal(v.Blocks, &blocks); err != nil {
		return nil, fmt.Errorf("view blocks: %w", err)
	}
	f := &bottest.Form{Title: v.Title}
	for _, b := range blocks {
		if b.Type != "input" {
			continue
		}
		ff := bottest.FormField{ID: b.Element.ActionID, Label: b.Label.Text, Value: b.Element.InitialValue}
		if b.Element.Type == "checkboxes" {
			ff.Check = true
			for _, o := range b.Element.InitialOptions {
				ff.Value = o.Value
			}
		}
		f.Fields = append(f.Fields, ff)
	}
	return f, nil
}

// messages are the messages user sees at a place, oldest first, without the
// ephemeral answers (Answer carries those).
func (d *suiteDriver) messages(ctx context.Context, user string, at bottest.Where) ([]slackfake.Shown, error) {
	p, ok, err := d.place(ctx, at)
	if err != nil || !ok {
		return nil, err
	}
	var out []slackfake.Shown
	for _, m := range d.e.fake.VisibleTo(user) {
		switch {
		case m.Ephemeral, m.Channel != p.channel:
		case p.topLevel && m.ThreadTS != "":
		case p.thread != "" && m.TS != p.thread && m.ThreadTS != p.thread:
		default:
			out = append(out, m)
		}
	}
	return out, nil
}

func (d *suiteDriver) View(ctx context.Context, who string, at bottest.Where) ([]bottest.Seen, error) {
	u, err := d.user(who)
	if err != nil {
		return nil, err
	}
	msgs, err := d.messages(ctx, u, at)
	return render(msgs), err
}

// Everything is every message who can read in the workspace, the ephemeral
// ones shown to them included.
func (d *suiteDriver) Everything(_ context.Context, who string) ([]bottest.Seen, error) {
	u, err := d.user(who)
	if err != nil {
		return nil, err
	}
	return render(d.e.fake.VisibleTo(u)), nil
}

// render shows messages as the client does: text unescaped, the buttons'
// labels in order (Slack has no disabled buttons: used ones are removed).
func render(msgs []slackfake.Shown) []bottest.Seen {
	out := make([]bottest.Seen, 0, len(msgs))
	for _, m := range msgs {
		s := bottest.Seen{Text: html.UnescapeString(m.Text)}
		s.Buttons = buttonLabels(m.Message)
		s.Enabled = s.Buttons
		out = append(out, s)
	}
	return out
}

// buttonLabels lists a message's button labels in the order shown.
func buttonLabels(m slackfake.Message) []string {
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	if json.Unmarshal(m.Blocks, &blocks) != nil {
		return nil
	}
	var out []string
	for _, b := range blocks {
		for _, el := range b.Elements {
			if b.Type == "actions" && el.Type == "button" {
				out = append(out, el.Text.Text)
			}
		}
	}
	return out
}

// Settle: every event the people caused was acknowledged, so committed,
// before the driver returned; what is left is the outbox.
func (d *suiteDriver) Settle(context.Context) error {
	d.e.settled()
	return nil
}

func (d *suiteDriver) Store() bot.Store { return d.e.db }

// poll checks cond until it holds or ctx ends, for state outside the fake.
func poll(ctx context.Context, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
