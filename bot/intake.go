package bot

import (
	"errors"
	"fmt"
	"strings"
)

// dispatch routes one event to what it means.
func (t *txn) dispatch(ev Event, r *Reply) error {
	switch ev.Kind {
	case EventAction, EventSubmit:
		return t.onAction(ev, r)
	case EventCommand:
		return t.onCommand(ev, r)
	case EventMessage, EventMention:
		return t.onMessage(ev, r)
	case EventNamed:
		return t.onNamed(ev.Author)
	}
	t.log.Warn("event of unknown kind ignored", "kind", ev.Kind, "event", ev.ID)
	return nil
}

// onMessage relays a message in a case's conversation, or opens a case for a
// question in a watched channel, a mention, or a direct message with no case.
func (t *txn) onMessage(ev Event, r *Reply) error {
	cs, err := t.tx.CaseByConversation(t.ctx, ev.Where.Conversation())
	switch {
	case err == nil && cs.Status != StatusClosed:
		return t.converse(cs, ev, r)
	case err != nil && !errors.Is(err, ErrNotFound):
		return fmt.Errorf("find case by conversation: %w", err)
	}
	if ev.Support || ev.Kind == EventMention || ev.Direct {
		_, err := t.intake(ev, ev.Text)
		return err
	}
	return nil
}

// intake opens a case for a non-staff person's question, or points someone with
// an active case to it. It returns the case, or nil when none was opened.
func (t *txn) intake(ev Event, question string) (*Case, error) {
	who := ev.Author
	if t.isStaff(who) || who.Bot || who.ID == "" {
		return nil, nil
	}
	public := ev.Where
	if ev.Direct {
		public = Ref{} // nothing public to close the loop on
	}
	active, err := t.tx.ActiveCaseFor(t.ctx, who.Platform, who.ID)
	switch {
	case err == nil:
		return nil, t.askedAgain(active, ev, question, public)
	case !errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("find active case: %w", err)
	}
	now := t.tx.Now()
	cs := &Case{Platform: who.Platform, Customer: who, Status: StatusOpen, Public: public, OpenedAt: now}
	if t.cfg.KeepText {
		cs.Question = question
	}
	if err := t.tx.CreateCase(t.ctx, cs); err != nil {
		return nil, fmt.Errorf("create case: %w", err)
	}
	via := string(ev.Kind)
	if ev.Kind == EventCommand || ev.Kind == EventSubmit {
		via = "command"
	}
	if err := t.record(cs, KindAskedPublic, who.ID, map[string]any{"channel": public.Channel, "via": via}); err != nil {
		return nil, err
	}
	if !public.IsZero() {
		if err := t.send(cs, PlacePublic, Message{Text: t.say("TakenPrivate", cs, TextData{})}, ""); err != nil {
			return nil, err
		}
	}
	if err := t.openPrivate(cs, question); err != nil {
		return nil, err
	}
	sla := t.cfg.SLA.FirstResponse.D()
	if sla > 0 {
		if err := t.tx.SetTimer(t.ctx, Timer{CaseID: cs.ID, Kind: TimerSLA, DueAt: now.Add(sla)}); err != nil {
			return nil, fmt.Errorf("set SLA timer: %w", err)
		}
	}
	t.log.Info("case opened", "case", cs.ID, "platform", cs.Platform, "via", via)
	return cs, nil
}

// askedAgain handles a new question from a customer whose case is still
// open: the text joins the case (its transcript, and the staff side), and a
// public question is answered with a pointer to the case.
func (t *txn) askedAgain(cs *Case, ev Event, question string, public Ref) error {
	t.log.Info("question from a customer with an active case", "case", cs.ID, "platform", cs.Platform)
	if err := t.customerWaits(cs); err != nil {
		return err
	}
	ev.Text = question
	if err := t.transcript(cs, "customer", ev, string(ev.Kind)); err != nil {
		return err
	}
	where := public.Channel
	if where == "" {
		where = string(ev.Kind)
	}
	relay := t.say("AskedAgain", cs, TextData{Text: question, Channel: where})
	if err := t.toStaffSide(cs, Message{Text: relay}); err != nil {
		return err
	}
	if public.IsZero() {
		return nil
	}
	msg := Message{Text: t.say("AlreadyOpen", cs, TextData{Customer: NameOf(ev.Author)})}
	return t.sendTo(cs, threadOf(public), msg)
}

// Keys of the messages the core changes as a case goes on.
const (
	introKey    = "intro"    // the customer's intro, with "My problem is solved"
	controlsKey = "controls" // the staff controls
	publicKey   = "public"   // the status line under the public question
)

// openPrivate queues the private conversation with its intro for the customer,
// and the staff intro and controls on the staff side.
func (t *txn) openPrivate(cs *Case, question string) error {
	intro := t.intro(cs, question)
	if err := t.enqueue(&Action{CaseID: cs.ID, Platform: cs.Platform, Kind: ActOpenPrivate, Msg: intro, Key: introKey}); err != nil {
		return err
	}
	d := TextData{Question: oneLine(question), Channel: cs.Public.Channel}
	if err := t.send(cs, PlaceStaff, Message{Text: t.say("StaffIntro", cs, d)}, ""); err != nil {
		return err
	}
	return t.send(cs, PlaceStaff, t.controls(cs, ""), controlsKey)
}

// intro is the customer's first message, with "My problem is solved" while
// the case is active. It quotes the question when it is given: when the
// intro is redrawn later, only if message text is kept.
func (t *txn) intro(cs *Case, question string) Message {
	d := TextData{Question: oneLine(question), Channel: cs.Public.Channel}
	m := Message{Text: t.say("PrivateIntro", cs, d)}
	if cs.Status.Active() {
		m.Buttons = []Button{t.button(cs, verbSolved, "", t.say("SolvedButton", cs, d))}
	}
	return m
}

// updateIntro redraws the customer's intro for the case's state.
func (t *txn) updateIntro(cs *Case) error {
	return t.update(cs, introKey, t.intro(cs, cs.Question))
}

// controls is the staff controls message for the case's state: Claim while
// nobody handles it, Resolve while it is active, Reopen once it is resolved.
// assignee is the display name of who handles it ("" when nobody does, or
// when unknown: then it is looked up).
func (t *txn) controls(cs *Case, assignee string) Message {
	if !cs.Status.Active() {
		name := "CaseResolved"
		if cs.Status == StatusClosed {
			name = "CaseClosed"
		}
		return Message{Text: t.say(name, cs, TextData{}), Buttons: []Button{
			t.button(cs, verbReopen, "", t.say("ReopenButton", cs, TextData{})),
		}}
	}
	m := Message{Text: t.say("CaseOpen", cs, TextData{Staff: assignee})}
	if cs.Assignee == "" {
		m.Buttons = append(m.Buttons, t.button(cs, verbClaim, "", t.say("ClaimButton", cs, TextData{})))
	}
	m.Buttons = append(m.Buttons, t.button(cs, verbResolve, "", t.say("ResolveButton", cs, TextData{})))
	return m
}

// updateControls redraws the staff controls for the case's state.
func (t *txn) updateControls(cs *Case, assignee string) error {
	if assignee == "" && cs.Assignee != "" {
		var err error
		if assignee, err = t.assigneeName(cs); err != nil {
			return err
		}
	}
	return t.update(cs, controlsKey, t.controls(cs, assignee))
}

// threadOf is the thread to reply in under a public message.
func threadOf(msg Ref) Ref {
	if msg.Thread == "" {
		msg.Thread = msg.Message
	}
	msg.Message = ""
	return msg
}

// oneLine keeps a quoted question on one quoted line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
