package bot

import (
	"fmt"
	"strings"
)

// converse handles a message in a case's private conversation: it attributes it,
// relays it to the other side where the sides differ, and notes the first staff
// response.
func (t *txn) converse(cs *Case, ev Event) error {
	who := ev.Author
	inStaffSide := sameConversation(ev.Where, cs.Staff) && !sameConversation(cs.Staff, cs.Private)
	switch {
	case who.ID == cs.Customer.ID && !inStaffSide:
		return t.customerSays(cs, ev)
	case t.isStaff(who):
		return t.staffSays(cs, ev, inStaffSide)
	}
	return nil
}

func (t *txn) customerSays(cs *Case, ev Event) error {
	if cs.Status == StatusAwaitingCustomer {
		cs.Status = StatusAwaitingStaff
		if err := t.tx.UpdateCase(t.ctx, cs); err != nil {
			return fmt.Errorf("update case: %w", err)
		}
	}
	if err := t.transcript(cs, "customer", ev); err != nil {
		return err
	}
	if sameConversation(cs.Staff, cs.Private) {
		return nil
	}
	text := t.say("CustomerSays", cs, TextData{Text: ev.Text})
	return t.send(cs, PlaceStaff, Message{Text: text}, "")
}

func (t *txn) staffSays(cs *Case, ev Event, inStaffSide bool) error {
	if note, ok := strings.CutPrefix(ev.Text, t.cfg.Staff.NotePrefix); ok && t.cfg.Staff.NotePrefix != "" {
		return t.note(cs, ev.Author, strings.TrimSpace(note))
	}
	if cs.FirstResponseAt.IsZero() {
		now := t.tx.Now()
		cs.FirstResponseAt = now
		wait := now.Sub(cs.OpenedAt).Seconds()
		if err := t.record(cs, KindFirstStaffResponse, ev.Author.ID, map[string]any{"seconds": wait, "name": ev.Author.Name}); err != nil {
			return err
		}
		if err := t.tx.CancelTimer(t.ctx, cs.ID, TimerSLA); err != nil {
			return fmt.Errorf("cancel SLA timer: %w", err)
		}
		if cs.Assignee == "" {
			cs.Assignee = ev.Author.ID
		}
	}
	if cs.Status.Active() {
		cs.Status = StatusAwaitingCustomer
	}
	if err := t.tx.UpdateCase(t.ctx, cs); err != nil {
		return fmt.Errorf("update case: %w", err)
	}
	if err := t.transcript(cs, "staff", ev); err != nil {
		return err
	}
	if !inStaffSide {
		return nil
	}
	text := t.say("StaffSays", cs, TextData{Staff: displayName(ev.Author), Text: ev.Text})
	return t.send(cs, PlacePrivate, Message{Text: text}, "")
}

// note records a staff-internal note; the customer never sees it.
func (t *txn) note(cs *Case, staff Person, text string) error {
	detail := map[string]any{}
	if t.cfg.KeepText {
		detail["text"] = text
	}
	return t.record(cs, KindNote, staff.ID, detail)
}

// transcript keeps the message text when the operator enabled it.
func (t *txn) transcript(cs *Case, role string, ev Event) error {
	if !t.cfg.KeepText {
		return nil
	}
	return t.record(cs, KindMessage, ev.Author.ID, map[string]any{"role": role, "name": ev.Author.Name, "text": ev.Text})
}

// sameConversation compares two refs as conversations.
func sameConversation(a, b Ref) bool {
	return a.Platform == b.Platform && a.Channel == b.Channel && a.Thread == b.Thread
}
