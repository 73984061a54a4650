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
		return t.onMessage(ev)
	}
	t.log.Warn("event of unknown kind ignored", "kind", ev.Kind, "event", ev.ID)
	return nil
}

// onMessage relays a message in a case's conversation, or opens a case for a
// question in a watched channel, a mention, or a direct message with no case.
func (t *txn) onMessage(ev Event) error {
	cs, err := t.tx.CaseByConversation(t.ctx, ev.Where.Conversation())
	switch {
	case err == nil && cs.Status != StatusClosed:
		return t.converse(cs, ev)
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
		t.log.Info("question from a customer with an active case", "case", active.ID, "platform", who.Platform)
		if public.IsZero() {
			return nil, nil
		}
		msg := Message{Text: t.say("AlreadyOpen", active, TextData{Customer: displayName(who)})}
		return nil, t.sendTo(active, threadOf(public), msg)
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

// openPrivate queues the private conversation with its intro for the customer and
// the staff controls.
func (t *txn) openPrivate(cs *Case, question string) error {
	d := TextData{Question: oneLine(question), Channel: cs.Public.Channel}
	intro := Message{
		Text:    t.say("PrivateIntro", cs, d),
		Buttons: []Button{t.button(cs, verbSolved, "", t.say("SolvedButton", cs, d))},
	}
	if err := t.enqueue(&Action{CaseID: cs.ID, Platform: cs.Platform, Kind: ActOpenPrivate, Msg: intro}); err != nil {
		return err
	}
	return t.send(cs, PlaceStaff, t.staffControls(cs, t.say("StaffIntro", cs, d)), "controls")
}

// staffControls is a staff message with Claim, Resolve and Reopen buttons.
func (t *txn) staffControls(cs *Case, text string) Message {
	return Message{Text: text, Buttons: []Button{
		t.button(cs, verbClaim, "", t.say("ClaimButton", cs, TextData{})),
		t.button(cs, verbResolve, "", t.say("ResolveButton", cs, TextData{})),
		t.button(cs, verbReopen, "", t.say("ReopenButton", cs, TextData{})),
	}}
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
