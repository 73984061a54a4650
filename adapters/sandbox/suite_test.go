package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// TestConversationSuite runs the conversation suite on the sandbox through
// its HTTP API, as the page does: the real core and store, and each person
// acting and reading as their persona.
func TestConversationSuite(t *testing.T) {
	bottest.RunSuite(t, newSuiteDriver)
}

// suiteDriver plays the suite's people as sandbox personas over HTTP.
type suiteDriver struct {
	w     *world
	base  string // the server's address, without /sandbox/
	ids   map[string]string
	forms map[string]*modalJSON // person -> their open form
}

func newSuiteDriver(t *testing.T) bottest.Driver {
	w := newWorldWith(t, bottest.SuiteConfig(), []string{bottest.Ada, bottest.Ben}, []string{bottest.Sam, bottest.Lee})
	return &suiteDriver{w: w, base: strings.TrimSuffix(w.url, "/sandbox/"), forms: map[string]*modalJSON{}, ids: map[string]string{
		bottest.Ada: "c-ada", bottest.Ben: "c-ben", bottest.Sam: "s-sam", bottest.Lee: "s-lee",
	}}
}

// UserID says which persona plays a person, so the suite finds their cases.
func (d *suiteDriver) UserID(who string) (string, bool) {
	id, ok := d.ids[who]
	return id, ok
}

func (d *suiteDriver) id(who string) (string, error) {
	id, ok := d.ids[who]
	if !ok {
		return "", fmt.Errorf("no persona %q", who)
	}
	return id, nil
}

// call posts v to an API endpoint as JSON and decodes the answer into out.
func (d *suiteDriver) call(ctx context.Context, method, path string, v, out any) error {
	var body io.Reader
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, body)
	if err != nil {
		return err
	}
	if v != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// state is what a persona's page loads.
func (d *suiteDriver) state(ctx context.Context, who string) (stateJSON, error) {
	id, err := d.id(who)
	if err != nil {
		return stateJSON{}, err
	}
	var st stateJSON
	err = d.call(ctx, http.MethodGet, "/sandbox/api/state?as="+url.QueryEscape(id), nil, &st)
	return st, err
}

// place resolves a Where to a channel and, for the staff side, its thread.
func (d *suiteDriver) place(ctx context.Context, at bottest.Where) (channel, thread string, err error) {
	switch at.Place {
	case bottest.InPublic:
		return SupportChannel, "", nil
	case bottest.InStaffChannel:
		return StaffChannel, "", nil
	case bottest.InShowcase:
		return ShowcaseChannel, "", nil
	}
	var cs *bot.Case
	err = d.w.db.View(ctx, func(tx bot.Tx) (err error) {
		id, _ := d.UserID(at.Customer)
		cs, err = bottest.CaseOfUser(ctx, tx, id)
		return err
	})
	switch {
	case err != nil:
		return "", "", err
	case at.Place == bottest.InStaffSide:
		if cs.Staff.IsZero() {
			return "", "", fmt.Errorf("case %d has no staff side: %w", cs.ID, bottest.ErrNotYet)
		}
		return cs.Staff.Channel, cs.Staff.Thread, nil
	case cs.Private.IsZero():
		return "", "", fmt.Errorf("case %d has no private channel: %w", cs.ID, bottest.ErrNotYet)
	}
	return cs.Private.Channel, "", nil
}

// messagesAt are the messages who's page shows at a place: a channel with its
// threads, a staff thread, or the staff channel's top level.
func (d *suiteDriver) messagesAt(ctx context.Context, who string, at bottest.Where) ([]messageJSON, string, error) {
	channel, thread, err := d.place(ctx, at)
	if err != nil {
		return nil, "", err
	}
	st, err := d.state(ctx, who)
	if err != nil {
		return nil, "", err
	}
	var out []messageJSON
	for _, c := range st.Channels {
		if c.Name != channel {
			continue
		}
		for _, m := range c.Messages {
			switch {
			case thread != "" && m.ID != thread && m.Thread != thread:
			case at.Place == bottest.InStaffChannel && m.Thread != "":
			default:
				out = append(out, m)
			}
		}
	}
	return out, channel, nil
}

func (d *suiteDriver) Ask(ctx context.Context, who, text string) error {
	id, err := d.id(who)
	if err != nil {
		return err
	}
	var r replyJSON
	return d.call(ctx, http.MethodPost, "/sandbox/api/say", sayRequest{As: id, Channel: SupportChannel, Text: text}, &r)
}

func (d *suiteDriver) Say(ctx context.Context, who string, at bottest.Where, text string) error {
	_, err := d.say(ctx, who, at, text)
	return err
}

func (d *suiteDriver) say(ctx context.Context, who string, at bottest.Where, text string) (replyJSON, error) {
	id, err := d.id(who)
	if err != nil {
		return replyJSON{}, err
	}
	channel, thread, err := d.place(ctx, at)
	if err != nil {
		return replyJSON{}, err
	}
	var r replyJSON
	err = d.call(ctx, http.MethodPost, "/sandbox/api/say", sayRequest{As: id, Channel: channel, Thread: thread, Text: text}, &r)
	return r, err
}

func (d *suiteDriver) Command(ctx context.Context, who string, at bottest.Where, command, text string) (bottest.Answer, error) {
	line := strings.TrimSpace("/" + command + " " + text)
	r, err := d.say(ctx, who, at, line)
	if err != nil {
		return bottest.Answer{}, err
	}
	return d.answer(who, r), nil
}

func (d *suiteDriver) Click(ctx context.Context, who string, at bottest.Where, label string) (bottest.Answer, error) {
	id, err := d.id(who)
	if err != nil {
		return bottest.Answer{}, err
	}
	msgs, _, err := d.messagesAt(ctx, who, at)
	if err != nil {
		return bottest.Answer{}, err
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, b := range msgs[i].Buttons {
			if b.Label != label || b.Href != "" {
				continue
			}
			var r replyJSON
			err := d.call(ctx, http.MethodPost, "/sandbox/api/click", clickRequest{As: id, Message: msgs[i].ID, ActionID: b.ActionID}, &r)
			if err != nil {
				return bottest.Answer{}, err
			}
			return d.answer(who, r), nil
		}
	}
	return bottest.Answer{}, bottest.ErrNoButton
}

func (d *suiteDriver) Submit(ctx context.Context, who string, values map[string]string) (bottest.Answer, error) {
	id, err := d.id(who)
	if err != nil {
		return bottest.Answer{}, err
	}
	form := d.forms[who]
	if form == nil {
		return bottest.Answer{}, bottest.ErrNoForm
	}
	delete(d.forms, who)
	fields := map[string]string{}
	for _, f := range form.Fields {
		fields[f.ID] = f.Value
	}
	for k, v := range values {
		fields[k] = v
	}
	var r replyJSON
	if err := d.call(ctx, http.MethodPost, "/sandbox/api/submit", submitRequest{As: id, View: form.View, Fields: fields}, &r); err != nil {
		return bottest.Answer{}, err
	}
	return d.answer(who, r), nil
}

// answer is what the page shows the person from the core's reply.
func (d *suiteDriver) answer(who string, r replyJSON) bottest.Answer {
	a := bottest.Answer{Ephemeral: r.Ephemeral}
	if r.Modal != nil {
		d.forms[who] = r.Modal
		a.Form = &bottest.Form{Title: r.Modal.Title}
		for _, f := range r.Modal.Fields {
			a.Form.Fields = append(a.Form.Fields, bottest.FormField{ID: f.ID, Label: f.Label, Value: f.Value, Check: f.Check})
		}
	}
	return a
}

func (d *suiteDriver) View(ctx context.Context, who string, at bottest.Where) ([]bottest.Seen, error) {
	msgs, _, err := d.messagesAt(ctx, who, at)
	if err != nil {
		return nil, err
	}
	return seen(msgs), nil
}

func (d *suiteDriver) Everything(ctx context.Context, who string) ([]bottest.Seen, error) {
	st, err := d.state(ctx, who)
	if err != nil {
		return nil, err
	}
	var out []bottest.Seen
	for _, c := range st.Channels {
		out = append(out, seen(c.Messages)...)
	}
	return out, nil
}

// seen renders messages as the suite reads them; a deleted message kept for
// its replies shows no text.
func seen(msgs []messageJSON) []bottest.Seen {
	var out []bottest.Seen
	for _, m := range msgs {
		s := bottest.Seen{Text: m.Text}
		for _, b := range m.Buttons {
			s.Buttons = append(s.Buttons, b.Label)
		}
		s.Enabled = slices.Clone(s.Buttons)
		out = append(out, s)
	}
	return out
}

// Settle waits until the outbox is empty: the page's requests are handled
// before they are answered, so only the relay's deliveries can be left.
func (d *suiteDriver) Settle(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		var pending int
		err := d.w.db.View(ctx, func(tx bot.Tx) (err error) {
			pending, _, err = tx.OutboxStats(ctx)
			return err
		})
		if err != nil || pending == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (d *suiteDriver) Store() bot.Store { return d.w.db }
