package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// onCommand handles slash commands and context-menu commands.
func (t *txn) onCommand(ev Event, r *Reply) error {
	switch ev.Command {
	case CmdSupport:
		if strings.TrimSpace(ev.Text) == "" {
			r.Modal = t.askModal(ev)
			return nil
		}
		return t.commandIntake(ev, ev.Text, r)
	case CmdNotice:
		return t.notice(ev, r)
	case CmdClaim, CmdResolve, CmdReopen, CmdNote:
		return t.caseCommand(ev, r)
	case CmdLink:
		return t.link(ev, r)
	}
	t.log.Warn("unknown command", "command", ev.Command, "platform", ev.Where.Platform)
	r.Ephemeral = t.say("InvalidButton", nil, TextData{})
	return nil
}

// commandIntake opens a case from /support or its modal and tells the person
// where the conversation went.
func (t *txn) commandIntake(ev Event, question string, r *Reply) error {
	cs, err := t.intake(ev, question)
	if err != nil {
		return err
	}
	if cs != nil {
		r.Ephemeral = t.say("TakenPrivate", cs, TextData{})
		return nil
	}
	if t.isStaff(ev.Author) {
		r.Ephemeral = t.say("Done", nil, TextData{})
		return nil
	}
	active, err := t.tx.ActiveCaseFor(t.ctx, ev.Author.Platform, ev.Author.ID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find active case: %w", err)
	}
	r.Ephemeral = t.say("AlreadyOpen", active, TextData{Customer: NameOf(ev.Author)})
	return nil
}

// askModal asks for the description of a /support run without one.
func (t *txn) askModal(ev Event) *Modal {
	id := actionID{Verb: verbAsk, Arg: safeArg(ev.Where.Channel)}
	return &Modal{
		ActionID: id.sign(t.secret),
		Title:    t.say("AskTitle", nil, TextData{}),
		Fields:   []Field{{ID: "text", Label: t.say("AskLabel", nil, TextData{}), Multiline: true, Required: true, MaxLen: 2000}},
		Submit:   "OK",
	}
}

// caseCommand runs a staff command in a case's conversation.
func (t *txn) caseCommand(ev Event, r *Reply) error {
	if !t.isStaff(ev.Author) {
		t.log.Warn("staff command refused", "command", ev.Command, "platform", ev.Where.Platform, "user", ev.Author.ID)
		r.Ephemeral = t.say("OnlyStaff", nil, TextData{})
		return nil
	}
	cs, err := t.tx.CaseByConversation(t.ctx, ev.Where.Conversation())
	if errors.Is(err, ErrNotFound) {
		r.Ephemeral = t.say("NoCaseHere", nil, TextData{})
		return nil
	}
	if err != nil {
		return fmt.Errorf("find case: %w", err)
	}
	switch ev.Command {
	case CmdClaim:
		return t.claim(cs, ev.Author, r)
	case CmdResolve:
		return t.resolve(cs, ev.Author, "staff", r)
	case CmdReopen:
		return t.staffReopen(cs, ev.Author, r)
	default:
		r.Ephemeral = t.say("Done", cs, TextData{})
		// A command leaves no message behind: the note is posted on the
		// staff side, wherever it was typed.
		return t.note(cs, ev.Author, strings.TrimSpace(ev.Text), true)
	}
}

// claim makes staff the case's assignee and tells the staff side. It is
// idempotent: the assignee claiming again changes nothing, and another staff
// member is told who has the case.
func (t *txn) claim(cs *Case, staff Person, r *Reply) error {
	switch {
	case !cs.Status.Active():
		r.Ephemeral = t.say("AlreadyResolved", cs, TextData{})
		return nil
	case cs.Assignee == staff.ID:
		r.Ephemeral = t.say("ClaimedByYou", cs, TextData{})
		return nil
	case cs.Assignee != "":
		name, err := t.assigneeName(cs)
		if err != nil {
			return err
		}
		r.Ephemeral = t.say("ClaimedByOther", cs, TextData{Staff: name})
		return nil
	}
	cs.Assignee = staff.ID
	if err := t.tx.UpdateCase(t.ctx, cs); err != nil {
		return fmt.Errorf("update case: %w", err)
	}
	if err := t.record(cs, KindClaimed, staff.ID, map[string]any{"assignee": staff.ID, "name": staff.Name}); err != nil {
		return err
	}
	r.Ephemeral = t.say("Done", cs, TextData{})
	if err := t.toStaffSide(cs, Message{Text: t.say("Claimed", cs, TextData{Staff: NameOf(staff)})}); err != nil {
		return err
	}
	return t.updateControls(cs, NameOf(staff))
}

// assigneeName is the display name of the case's assignee, as recorded when
// they claimed it or first answered, or their ID.
func (t *txn) assigneeName(cs *Case) (string, error) {
	evs, err := t.tx.CaseEvents(t.ctx, cs.ID)
	if err != nil {
		return "", fmt.Errorf("case events: %w", err)
	}
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.Actor != cs.Assignee || (e.Kind != KindClaimed && e.Kind != KindFirstStaffResponse) {
			continue
		}
		var d struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(e.Detail, &d) == nil && d.Name != "" {
			return d.Name, nil
		}
	}
	return NameOf(Person{ID: cs.Assignee}), nil
}

// resolve marks the case resolved, closes the public loop on the first
// resolution, and sends the survey (falling back to the public thread when the
// private conversation cannot be reached).
func (t *txn) resolve(cs *Case, who Person, role string, r *Reply) error {
	if !cs.Status.Active() {
		r.Ephemeral = t.say("AlreadyResolved", cs, TextData{})
		return nil
	}
	now := t.tx.Now()
	cs.Round++
	cs.Status = StatusResolved
	cs.ResolvedAt = now
	if err := t.tx.UpdateCase(t.ctx, cs); err != nil {
		return fmt.Errorf("update case: %w", err)
	}
	if err := t.record(cs, KindResolved, who.ID, map[string]any{"by": role, "round": cs.Round}); err != nil {
		return err
	}
	if err := t.tx.CancelTimer(t.ctx, cs.ID, TimerSLA); err != nil {
		return fmt.Errorf("cancel SLA timer: %w", err)
	}
	// The survey first: a case's actions are delivered in order, and the
	// notices go to the public and staff channels, which may be busy.
	if err := t.surveyOrSkip(cs); err != nil {
		return err
	}
	if err := t.publicStatus(cs, "ResolvedPublic"); err != nil {
		return err
	}
	if err := t.toStaffSide(cs, Message{Text: t.say("ResolvedStaff", cs, TextData{Staff: NameOf(who)})}); err != nil {
		return err
	}
	if err := t.updateControls(cs, ""); err != nil {
		return err
	}
	r.Ephemeral = t.say("Done", cs, TextData{})
	return t.updateIntro(cs)
}

// publicStatus sets the line under the public question: posted the first
// time, then edited, so the public channel shows where the case stands now.
func (t *txn) publicStatus(cs *Case, text string) error {
	if cs.Public.IsZero() {
		return nil
	}
	m := Message{Text: t.say(text, cs, TextData{})}
	if text == "ResolvedPublic" && cs.Round == 1 {
		return t.send(cs, PlacePublic, m, publicKey)
	}
	return t.update(cs, publicKey, m)
}

// staffReopen reopens a resolved case at a staff member's command.
func (t *txn) staffReopen(cs *Case, by Person, r *Reply) error {
	if cs.Status.Active() {
		r.Ephemeral = t.say("NotResolved", cs, TextData{})
		return nil
	}
	r.Ephemeral = t.say("Done", cs, TextData{})
	return t.reopen(cs, by, "staff")
}

// reopen puts a resolved case back in staff's hands: the staff controls, the
// customer's intro and the public status line follow.
func (t *txn) reopen(cs *Case, by Person, reason string) error {
	if cs.Status.Active() {
		return nil
	}
	cs.Status = StatusReopened
	cs.ClosedAt = time.Time{}
	if err := t.tx.UpdateCase(t.ctx, cs); err != nil {
		return fmt.Errorf("update case: %w", err)
	}
	if err := t.record(cs, KindReopened, by.ID, map[string]any{"reason": reason, "round": cs.Round}); err != nil {
		return err
	}
	// The round is over: nothing of it can be pressed any more.
	if err := t.closePrompts(cs, "ShareNotNow"); err != nil {
		return err
	}
	text := t.say("Reopened", cs, TextData{})
	if reason != "rating" { // a rating closed its survey, and the apology tells the customer
		// The survey says how it ended; the news comes once, below it.
		over, _, err := t.surveyOver(cs, cs.Round)
		if err != nil {
			return err
		}
		if err := t.closeSurvey(cs, over); err != nil {
			return err
		}
		if err := t.send(cs, PlacePrivate, Message{Text: text}, ""); err != nil {
			return err
		}
	}
	if err := t.toStaffSide(cs, Message{Text: text}); err != nil {
		return err
	}
	if err := t.updateControls(cs, ""); err != nil {
		return err
	}
	if err := t.updateIntro(cs); err != nil {
		return err
	}
	return t.publicStatus(cs, "ReopenedPublic")
}

// notice messages every customer with an active case from a channel: warn them
// of a known incident before they ask again.
func (t *txn) notice(ev Event, r *Reply) error {
	if !t.isStaff(ev.Author) {
		r.Ephemeral = t.say("OnlyStaff", nil, TextData{})
		return nil
	}
	channel := ev.Fields["channel"]
	cases, _, err := t.tx.FindCases(t.ctx, CaseFilter{
		Platform: ev.Where.Platform, Channel: channel,
		Statuses: []Status{StatusOpen, StatusAwaitingStaff, StatusAwaitingCustomer, StatusReopened},
	})
	if err != nil {
		return fmt.Errorf("find cases for notice: %w", err)
	}
	for _, cs := range cases {
		if err := t.send(cs, PlacePrivate, Message{Text: t.say("Notice", cs, TextData{Text: ev.Text})}, ""); err != nil {
			return err
		}
		if err := t.record(cs, KindNotice, ev.Author.ID, map[string]any{"channel": channel}); err != nil {
			return err
		}
	}
	r.Ephemeral = t.say("NoticeSent", nil, TextData{Score: len(cases), Channel: channel})
	return nil
}

// stats answers /advocate stats with the funnel of the last 7 or 30 days.
func (c *Core) stats(ctx context.Context, ev Event) (Reply, error) {
	if !c.isStaff(ev.Author) {
		return Reply{Ephemeral: c.texts.say("OnlyStaff", TextData{})}, nil
	}
	days := 7
	if strings.Contains(ev.Text, "30") {
		days = 30
	}
	now := c.now().UTC()
	rows, err := c.store.Funnel(ctx, FunnelQuery{Since: now.AddDate(0, 0, -days), Platform: ev.Where.Platform})
	if err != nil {
		return Reply{}, fmt.Errorf("stats: %w", err)
	}
	var b strings.Builder
	for _, row := range rows {
		for i, n := range row.Counts {
			fmt.Fprintf(&b, "%s: %d\n", Stages[i], n)
		}
	}
	text := c.texts.say("Stats", TextData{Brand: c.cfg.Brand, Text: fmt.Sprintf("last %d days", days), Stages: strings.TrimSpace(b.String())})
	return Reply{Ephemeral: text}, nil
}

// safeArg keeps an action ID argument free of the separator.
func safeArg(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r > 126 || r < 33 {
			return '_'
		}
		return r
	}, s)
}
