package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// TestConversationSuite runs the conversation suite every platform runs, on
// the real adapter and discordgo against the fake Discord, which shows each
// person only what Discord would.
func TestConversationSuite(t *testing.T) {
	t.Parallel()
	bottest.RunSuite(t, newSuiteDriver)
}

// suiteDriver plays the suite's people on the fake Discord: Ada and Ben are
// members, Sam and Lee have the staff role (which may see the staff channel
// and manage threads).
type suiteDriver struct {
	e      *env
	people map[string]string // suite name -> user ID
	seen   *handledEvents
	mu     sync.Mutex
	posted []string                 // IDs of the messages the people wrote
	forms  map[string]*bottest.Form // person -> the modal they have open
}

func newSuiteDriver(t *testing.T) bottest.Driver {
	seen := &handledEvents{ids: map[string]bool{}}
	e := newEnv(t, envConfig{handler: seen.wrap, core: func(c *bot.Config) { c.Share = bottest.SuiteConfig().Share }})
	return &suiteDriver{
		e:    e,
		seen: seen,
		people: map[string]string{
			bottest.Ada: customerID, bottest.Ben: benID, bottest.Sam: staffID, bottest.Lee: leeID,
		},
		forms: map[string]*bottest.Form{},
	}
}

// handledEvents records the IDs of the events the core has handled, so that
// Settle knows every message the people wrote went through.
type handledEvents struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (h *handledEvents) wrap(next bot.Handler) bot.Handler {
	return handlerFunc(func(ctx context.Context, ev bot.Event) (bot.Reply, error) {
		r, err := next.Handle(ctx, ev)
		h.mu.Lock()
		h.ids[ev.ID] = true
		h.mu.Unlock()
		return r, err
	})
}

func (h *handledEvents) has(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ids[id]
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

// channel resolves a place to a Discord channel, or "" when the case or its
// side does not exist yet.
func (d *suiteDriver) channel(ctx context.Context, at bottest.Where) (string, error) {
	switch at.Place {
	case bottest.InPublic:
		return supportID, nil
	case bottest.InStaffChannel:
		return staffChID, nil
	case bottest.InShowcase:
		return showcaseID, nil
	}
	var cs *bot.Case
	err := d.e.db.View(ctx, func(tx bot.Tx) (err error) {
		id, _ := d.UserID(at.Customer)
		cs, err = bottest.CaseOfUser(ctx, tx, id)
		return err
	})
	if errors.Is(err, bottest.ErrNotYet) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if at.Place == bottest.InStaffSide {
		return cs.Staff.Channel, nil
	}
	return cs.Private.Channel, nil
}

func (d *suiteDriver) write(channel, user, text string) error {
	m, err := d.e.fake.PostAsUser(channel, user, text)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.posted = append(d.posted, m.ID)
	d.mu.Unlock()
	return nil
}

func (d *suiteDriver) Ask(_ context.Context, who, text string) error {
	u, err := d.user(who)
	if err != nil {
		return err
	}
	return d.write(supportID, u, text)
}

func (d *suiteDriver) Say(ctx context.Context, who string, at bottest.Where, text string) error {
	u, err := d.user(who)
	if err != nil {
		return err
	}
	ch, err := d.channel(ctx, at)
	if err != nil {
		return err
	}
	if ch == "" {
		return fmt.Errorf("%s has no conversation yet", at)
	}
	if !d.e.fake.CanView(u, ch) {
		return fmt.Errorf("%s cannot see %s: %w", who, at, bottest.ErrUnsupported)
	}
	return d.write(ch, u, text)
}

// Command runs /case <command> [text] where who is.
func (d *suiteDriver) Command(ctx context.Context, who string, at bottest.Where, command, text string) (bottest.Answer, error) {
	u, err := d.user(who)
	if err != nil {
		return bottest.Answer{}, err
	}
	ch, err := d.channel(ctx, at)
	if err != nil || ch == "" {
		return bottest.Answer{}, fmt.Errorf("no conversation %s: %v", at, err)
	}
	sub := discordfake.CommandOption{Name: command}
	if command == bot.CmdNote {
		sub.Options = []discordfake.CommandOption{{Name: "text", Value: text}}
	}
	i, err := d.e.fake.SlashCommand(u, ch, cmdCase, sub)
	if err != nil {
		return bottest.Answer{}, err
	}
	return d.answer(ctx, who, i.ID)
}

// Click presses the newest enabled button labelled label that who sees at a
// place: a component interaction, or for a link button what the browser
// does, a GET of the tracking link.
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
		for _, b := range msgs[i].Buttons() {
			if b.Label != label || b.Disabled {
				continue
			}
			if b.URL != "" {
				return bottest.Answer{}, d.openLink(ctx, b.URL)
			}
			in, err := d.e.fake.ClickButton(u, msgs[i].ChannelID, msgs[i].ID, b.CustomID)
			if err != nil {
				return bottest.Answer{}, err
			}
			return d.answer(ctx, who, in.ID)
		}
	}
	return bottest.Answer{}, bottest.ErrNoButton
}

// openLink follows a link button as far as advocate's tracking redirect.
func (d *suiteDriver) openLink(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("link %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// Submit submits the modal who has open, keeping the values of fields left
// out.
func (d *suiteDriver) Submit(ctx context.Context, who string, values map[string]string) (bottest.Answer, error) {
	u, err := d.user(who)
	if err != nil {
		return bottest.Answer{}, err
	}
	form := d.forms[who]
	customID, inputs, ok := d.e.fake.OpenModal(u)
	if form == nil || !ok {
		return bottest.Answer{}, bottest.ErrNoForm
	}
	delete(d.forms, who)
	all := map[string]string{}
	for _, f := range form.Fields {
		all[f.ID] = f.Value
	}
	for k, v := range values {
		if !slices.Contains(inputs, k) {
			return bottest.Answer{}, fmt.Errorf("the form has no field %q", k)
		}
		all[k] = v
	}
	in, err := d.e.fake.SubmitModal(u, customID, all)
	if err != nil {
		return bottest.Answer{}, err
	}
	return d.answer(ctx, who, in.ID)
}

// answer waits for an interaction's initial response and turns it into what
// who was shown: an ephemeral message or a modal.
func (d *suiteDriver) answer(ctx context.Context, who, interaction string) (bottest.Answer, error) {
	var r discordfake.InteractionResponse
	err := d.e.fake.WaitUntil(ctx, func() bool {
		rs := d.e.fake.InteractionResponses(interaction)
		if len(rs) > 0 {
			r = rs[0]
		}
		return len(rs) > 0
	})
	if err != nil {
		return bottest.Answer{}, fmt.Errorf("no response to interaction %s: %w", interaction, err)
	}
	if r.Status >= 300 {
		return bottest.Answer{}, fmt.Errorf("interaction %s: response refused with %d (code %d)", interaction, r.Status, r.Code)
	}
	switch {
	case r.Type == 9:
		f, err := modalForm(r)
		if err != nil {
			return bottest.Answer{}, err
		}
		d.forms[who] = f
		return bottest.Answer{Form: f}, nil
	case r.Type == 4 && r.Ephemeral() && r.Content != ackText:
		return bottest.Answer{Ephemeral: r.Content}, nil
	}
	return bottest.Answer{}, nil
}

// modalForm reads a modal response's text inputs.
func modalForm(r discordfake.InteractionResponse) (*bottest.Form, error) {
	var rows []struct {
		Components []struct {
			CustomID string `json:"custom_id"`
			Label    string `json:"label"`
			Value    string `json:"value"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.Components, &rows); err != nil {
		return nil, fmt.Errorf("modal components: %w", err)
	}
	f := &bottest.Form{Title: r.Title}
	for _, row := range rows {
		for _, in := range row.Components {
			f.Fields = append(f.Fields, bottest.FormField{ID: in.CustomID, Label: in.Label, Value: in.Value})
		}
	}
	return f, nil
}

// messages are the messages user sees at a place, oldest first, without the
// ephemeral answers (Answer carries those).
func (d *suiteDriver) messages(ctx context.Context, user string, at bottest.Where) ([]discordfake.Message, error) {
	ch, err := d.channel(ctx, at)
	if err != nil || ch == "" {
		return nil, err
	}
	var out []discordfake.Message
	for _, m := range d.e.fake.VisibleTo(user) {
		if m.ChannelID == ch && !m.Ephemeral {
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
	return d.render(msgs), err
}

// Everything is every message who can read in the guild, the ephemeral ones
// shown to them included.
func (d *suiteDriver) Everything(_ context.Context, who string) ([]bottest.Seen, error) {
	u, err := d.user(who)
	if err != nil {
		return nil, err
	}
	return d.render(d.e.fake.VisibleTo(u)), nil
}

var userMention = regexp.MustCompile(`<@!?(\d+)>`)

// render shows messages as the client does: user mentions by name.
func (d *suiteDriver) render(msgs []discordfake.Message) []bottest.Seen {
	names := map[string]string{}
	for name, id := range d.people {
		names[id] = name
	}
	out := make([]bottest.Seen, 0, len(msgs))
	for _, m := range msgs {
		s := bottest.Seen{Text: userMention.ReplaceAllStringFunc(m.Content, func(mention string) string {
			if n, ok := names[userMention.FindStringSubmatch(mention)[1]]; ok {
				return "@" + n
			}
			return mention
		})}
		for _, b := range m.Buttons() {
			s.Buttons = append(s.Buttons, b.Label)
			if !b.Disabled {
				s.Enabled = append(s.Enabled, b.Label)
			}
		}
		out = append(out, s)
	}
	return out
}

// Settle waits until the core has handled every message the people wrote
// (clicks and commands are answered only after they are handled) and the
// outbox holds nothing to deliver.
func (d *suiteDriver) Settle(ctx context.Context) error {
	d.mu.Lock()
	posted := slices.Clone(d.posted)
	d.mu.Unlock()
	for _, id := range posted {
		if err := poll(ctx, func() bool { return d.seen.has(id) }); err != nil {
			return fmt.Errorf("message %s never reached the core: %w", id, err)
		}
	}
	d.e.settled()
	return nil
}

// poll checks cond until it holds or ctx ends, for state outside the fake.
func poll(ctx context.Context, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, waitFor)
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

func (d *suiteDriver) Store() bot.Store { return d.e.db }
