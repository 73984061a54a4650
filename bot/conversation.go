package bot

import (
	"fmt"
	"strings"
)

// Every case has two sides: the customer's (PlacePrivate) and the staff's
// (PlaceStaff). A message crosses the boundary only as the core relays it:
// customer messages to the staff side, staff replies to the customer's side,
// attributed. Notes, the staff intro and the staff controls stay on the staff
// side.

// converse handles a message in one of a case's conversations.
func (t *txn) converse(cs *Case, ev Event, r *Reply) error {
	who := ev.Author
	staffSide := t.onStaffSide(cs, ev.Where)
	switch {
	case who.ID == cs.Customer.ID && !staffSide:
		return t.customerSays(cs, ev)
	case t.isStaff(who):
		return t.staffSays(cs, ev, staffSide, r)
	}
	return nil
}

// onStaffSide reports whether where is the case's staff side.
func (t *txn) onStaffSide(cs *Case, where Ref) bool {
	return sameConversation(where, cs.Staff)
}

func (t *txn) customerSays(cs *Case, ev Event) error {
	if err := t.customerWaits(cs); err != nil {
		return err
	}
	if err := t.transcript(cs, "customer", ev, ""); err != nil {
		return err
	}
	return t.toStaffSide(cs, Message{Text: t.say("CustomerSays", cs, TextData{Text: ev.Text})})
}

// customerWaits notes that the customer is waiting for staff again.
func (t *txn) customerWaits(cs *Case) error {
	if cs.Status != StatusAwaitingCustomer {
		return nil
	}
	cs.Status = StatusAwaitingStaff
	if err := t.tx.UpdateCase(t.ctx, cs); err != nil {
		return fmt.Errorf("update case: %w", err)
	}
	return nil
}

// staffSays handles a staff message on either side. A note is kept on the
// staff side; a reply on the staff side is relayed to the customer, and one
// written on the customer's side is copied to the staff side, so the staff
// thread holds the whole conversation.
func (t *txn) staffSays(cs *Case, ev Event, staffSide bool, r *Reply) error {
	if note, ok := t.notePrefixed(ev.Text); ok {
		if staffSide {
			return t.note(cs, ev.Author, note, false)
		}
		// Typed where the customer reads: take it away, keep it for staff.
		del := &Action{CaseID: cs.ID, Platform: cs.Platform, Kind: ActDelete, To: ev.Where}
		if err := t.enqueue(del); err != nil {
			return err
		}
		r.Hide = true
		return t.note(cs, ev.Author, note, true)
	}
	if err := t.staffResponded(cs, ev.Author); err != nil {
		return err
	}
	if err := t.transcript(cs, "staff", ev, ""); err != nil {
		return err
	}
	text := t.say("StaffSays", cs, TextData{Staff: NameOf(ev.Author), Text: ev.Text})
	if staffSide {
		return t.send(cs, PlacePrivate, Message{Text: text}, "")
	}
	return t.toStaffSide(cs, Message{Text: text})
}

// notePrefixed returns the note in text when it starts with the note prefix.
func (t *txn) notePrefixed(text string) (string, bool) {
	prefix := t.cfg.Staff.NotePrefix
	if prefix == "" {
		return "", false
	}
	note, ok := strings.CutPrefix(strings.TrimSpace(text), prefix)
	return strings.TrimSpace(note), ok
}

// staffResponded records the first staff response, which stops the SLA clock
// and assigns the case when nobody claimed it, and marks the case as waiting
// for the customer.
func (t *txn) staffResponded(cs *Case, staff Person) error {
	assigned := false
	if cs.FirstResponseAt.IsZero() {
		now := t.tx.Now()
		cs.FirstResponseAt = now
		wait := now.Sub(cs.OpenedAt).Seconds()
		if err := t.record(cs, KindFirstStaffResponse, staff.ID, map[string]any{"seconds": wait, "name": staff.Name}); err != nil {
			return err
		}
		if err := t.tx.CancelTimer(t.ctx, cs.ID, TimerSLA); err != nil {
			return fmt.Errorf("cancel SLA timer: %w", err)
		}
		if cs.Assignee == "" {
			cs.Assignee, assigned = staff.ID, true
		}
	}
	if cs.Status.Active() {
		cs.Status = StatusAwaitingCustomer
	}
	if err := t.tx.UpdateCase(t.ctx, cs); err != nil {
		return fmt.Errorf("update case: %w", err)
	}
	if assigned {
		return t.updateControls(cs, NameOf(staff))
	}
	return nil
}

// note records a staff-internal note; the customer never sees it. The note
// is posted on the staff side when it was not written there (a command, or a
// note typed on the customer's side).
func (t *txn) note(cs *Case, staff Person, text string, copyToStaff bool) error {
	detail := map[string]any{}
	if t.cfg.KeepText {
		detail["text"] = text
	}
	if err := t.record(cs, KindNote, staff.ID, detail); err != nil {
		return err
	}
	if !copyToStaff {
		return nil
	}
	m := Message{Text: t.say("NoteRecorded", cs, TextData{Staff: NameOf(staff), Text: text})}
	return t.toStaffSide(cs, m)
}

// toStaffSide posts m on the case's staff side.
func (t *txn) toStaffSide(cs *Case, m Message) error {
	return t.send(cs, PlaceStaff, m, "")
}

// transcript keeps the message text when the operator enabled it. via names
// where it was said when that is not the case's conversation.
func (t *txn) transcript(cs *Case, role string, ev Event, via string) error {
	if !t.cfg.KeepText {
		return nil
	}
	detail := map[string]any{"role": role, "name": ev.Author.Name, "text": ev.Text}
	if via != "" {
		detail["via"] = via
	}
	return t.record(cs, KindMessage, ev.Author.ID, detail)
}

// sameConversation compares two refs as conversations.
func sameConversation(a, b Ref) bool {
	return a.Platform == b.Platform && a.Channel == b.Channel && a.Thread == b.Thread
}
