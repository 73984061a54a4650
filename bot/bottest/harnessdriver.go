package bottest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/advocate-bot/advocate/bot"
)

// harnessDriver plays the suite on the harness's fake platform.
type harnessDriver struct {
	h      *Harness
	people map[string]bot.Person
	forms  map[string]openForm // person -> the form they have open
}

// openForm is a modal waiting for its submission, and where it was opened.
type openForm struct {
	modal *bot.Modal
	where bot.Ref
}

// NewDriver starts a harness for one script of the suite (with opts, such as
// DMs) and returns its driver.
func NewDriver(t *testing.T, opts ...Option) Driver {
	suite := Configure(func(c *bot.Config) { c.Share = SuiteConfig().Share })
	h := New(t, append([]Option{suite}, opts...)...)
	d := &harnessDriver{h: h, forms: map[string]openForm{}, people: map[string]bot.Person{
		Ada: h.Person("u-ada", Ada),
		Ben: h.Person("u-ben", Ben),
		Sam: h.Person("staff1", Sam),
		Lee: h.Person("staff2", Lee),
	}}
	return d
}

// UserID says which user plays a person, so the suite finds their cases.
func (d *harnessDriver) UserID(name string) (string, bool) {
	p, ok := d.people[name]
	return p.ID, ok
}

func (d *harnessDriver) person(name string) (bot.Person, error) {
	p, ok := d.people[name]
	if !ok {
		return bot.Person{}, fmt.Errorf("no person %q", name)
	}
	return p, nil
}

// place resolves a Where to a conversation of the fake platform.
func (d *harnessDriver) place(ctx context.Context, at Where) (bot.Ref, error) {
	switch at.Place {
	case InPublic:
		return bot.Ref{Channel: supportChannel}, nil
	case InStaffChannel:
		return bot.Ref{Channel: staffChannel}, nil
	case InShowcase:
		return bot.Ref{Channel: showcaseChannel}, nil
	}
	var cs *bot.Case
	err := d.h.Store.View(ctx, func(tx bot.Tx) (err error) {
		cs, err = CaseOfUser(ctx, tx, d.people[at.Customer].ID)
		return err
	})
	if err != nil {
		return bot.Ref{}, err
	}
	ref := cs.Private
	if at.Place == InStaffSide {
		ref = cs.Staff
	}
	if ref.IsZero() {
		return bot.Ref{}, fmt.Errorf("case %d has no %s conversation: %w", cs.ID, at.Place, ErrNotYet)
	}
	return ref, nil
}

// posts are the live posts who can read at a place, oldest first. The public
// channel includes its threads; the staff channel is its top level.
func (d *harnessDriver) posts(ctx context.Context, who bot.Person, at Where) ([]*Post, error) {
	ref, err := d.place(ctx, at)
	if err != nil {
		return nil, err
	}
	var out []*Post
	for _, p := range d.h.Platform.Visible(who.ID) {
		switch {
		case p.Ref.Channel != ref.Channel:
		case at.Place == InStaffChannel && p.Ref.Thread != "":
		case ref.Thread != "" && p.Ref.Thread != ref.Thread && p.Ref.Message != ref.Thread:
		default:
			out = append(out, p)
		}
	}
	return out, nil
}

func (d *harnessDriver) Ask(_ context.Context, who, text string) error {
	p, err := d.person(who)
	if err != nil {
		return err
	}
	d.h.Ask(p, text)
	return nil
}

func (d *harnessDriver) Say(ctx context.Context, who string, at Where, text string) error {
	p, err := d.person(who)
	if err != nil {
		return err
	}
	ref, err := d.place(ctx, at)
	if err != nil {
		return err
	}
	if !d.h.Platform.CanRead(p.ID, ref.Channel) {
		return fmt.Errorf("%s cannot write in %s: %w", who, ref.Channel, ErrUnsupported)
	}
	d.h.Say(p, ref, text)
	return nil
}

func (d *harnessDriver) Command(ctx context.Context, who string, at Where, command, text string) (Answer, error) {
	p, err := d.person(who)
	if err != nil {
		return Answer{}, err
	}
	ref, err := d.place(ctx, at)
	if err != nil {
		return Answer{}, err
	}
	r := d.h.Handle(bot.Event{Kind: bot.EventCommand, Command: command, Where: ref, Author: p, Text: text})
	return d.answer(who, ref, r), nil
}

func (d *harnessDriver) Click(ctx context.Context, who string, at Where, label string) (Answer, error) {
	p, err := d.person(who)
	if err != nil {
		return Answer{}, err
	}
	posts, err := d.posts(ctx, p, at)
	if err != nil {
		return Answer{}, err
	}
	for i := len(posts) - 1; i >= 0; i-- {
		if b := posts[i].Button(label); b != nil {
			r := d.h.Handle(bot.Event{Kind: bot.EventAction, Where: posts[i].Ref, Author: p, ActionID: b.ActionID})
			return d.answer(who, posts[i].Ref.Conversation(), r), nil
		}
	}
	return Answer{}, ErrNoButton
}

func (d *harnessDriver) Submit(_ context.Context, who string, values map[string]string) (Answer, error) {
	p, err := d.person(who)
	if err != nil {
		return Answer{}, err
	}
	f, ok := d.forms[who]
	if !ok {
		return Answer{}, ErrNoForm
	}
	delete(d.forms, who)
	fields := map[string]string{}
	for _, fl := range f.modal.Fields {
		fields[fl.ID] = fl.Value
	}
	for k, v := range values {
		if !slices.ContainsFunc(f.modal.Fields, func(fl bot.Field) bool { return fl.ID == k }) {
			return Answer{}, fmt.Errorf("the form has no field %q", k)
		}
		fields[k] = v
	}
	r := d.h.Handle(bot.Event{Kind: bot.EventSubmit, Where: f.where, Author: p, ActionID: f.modal.ActionID, Fields: fields})
	return d.answer(who, f.where, r), nil
}

// answer turns the core's reply into what who is shown, keeping a form open.
func (d *harnessDriver) answer(who string, where bot.Ref, r bot.Reply) Answer {
	a := Answer{Ephemeral: r.Ephemeral}
	if r.Modal != nil {
		d.forms[who] = openForm{modal: r.Modal, where: where}
		a.Form = &Form{Title: r.Modal.Title}
		for _, f := range r.Modal.Fields {
			a.Form.Fields = append(a.Form.Fields, FormField{ID: f.ID, Label: f.Label, Value: f.Value, Check: f.Check})
		}
	}
	return a
}

func (d *harnessDriver) View(ctx context.Context, who string, at Where) ([]Seen, error) {
	p, err := d.person(who)
	if err != nil {
		return nil, err
	}
	posts, err := d.posts(ctx, p, at)
	if err != nil {
		return nil, err
	}
	return seen(posts), nil
}

func (d *harnessDriver) Everything(_ context.Context, who string) ([]Seen, error) {
	p, err := d.person(who)
	if err != nil {
		return nil, err
	}
	return seen(d.h.Platform.Visible(p.ID)), nil
}

// seen renders posts as the suite reads them: every button on the fake can
// be pressed.
func seen(posts []*Post) []Seen {
	out := make([]Seen, 0, len(posts))
	for _, p := range posts {
		m := Seen{Text: p.Msg.Text}
		for _, b := range p.Msg.Buttons {
			m.Buttons = append(m.Buttons, b.Label)
		}
		m.Enabled = m.Buttons
		out = append(out, m)
	}
	return out
}

func (d *harnessDriver) Settle(context.Context) error {
	d.h.Settle()
	return nil
}

func (d *harnessDriver) Store() bot.Store { return d.h.Store }
