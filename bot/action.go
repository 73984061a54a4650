package bot

import (
	"errors"
	"fmt"
)

// onAction handles a button click or modal submit: the signed ID must verify,
// name an existing case, and the clicker must be that case's customer (or staff
// for staff controls). Refusals are logged and explained, never errors.
func (t *txn) onAction(ev Event, r *Reply) error {
	id, err := parseActionID(t.secret, ev.ActionID)
	if err != nil {
		t.log.Warn("action refused", "reason", err, "platform", ev.Where.Platform, "user", ev.Author.ID)
		r.Ephemeral = t.say("InvalidButton", nil, TextData{})
		return nil
	}
	if id.Verb == verbAsk {
		ev.Where = Ref{Platform: ev.Where.Platform, Space: ev.Where.Space, Channel: id.Arg}
		return t.commandIntake(ev, ev.Fields["text"], r)
	}
	cs, err := t.tx.Case(t.ctx, id.Case)
	if errors.Is(err, ErrNotFound) {
		return t.refuse(r, nil, "InvalidButton", "unknown case")
	}
	if err != nil {
		return fmt.Errorf("load case: %w", err)
	}
	if cs.Platform != ev.Where.Platform && ev.Where.Platform != "" {
		return t.refuse(r, cs, "InvalidButton", "case of another platform")
	}
	if refusal := t.allowed(cs, id, ev.Author); refusal != "" {
		return t.refuse(r, cs, refusal, "clicker not allowed")
	}
	return t.act(cs, id, ev, r)
}

// allowed names the refusal text for a clicker who may not use the button, or "".
func (t *txn) allowed(cs *Case, id actionID, who Person) string {
	switch {
	case staffVerbs[id.Verb]:
		if !t.isStaff(who) {
			return "OnlyStaff"
		}
	case id.Verb == verbGo && who.ID == "":
		// a tracked link opened in a browser: the signed ID is the credential
	case who.ID != cs.Customer.ID:
		return "OnlyCustomer"
	}
	return ""
}

func (t *txn) refuse(r *Reply, cs *Case, text, reason string) error {
	var caseID int64
	if cs != nil {
		caseID = cs.ID
	}
	t.log.Warn("action refused", "reason", reason, "case", caseID)
	r.Ephemeral = t.say(text, cs, TextData{})
	return nil
}

// act carries out a verified action.
func (t *txn) act(cs *Case, id actionID, ev Event, r *Reply) error {
	who := ev.Author
	switch id.Verb {
	case verbSolved:
		return t.resolve(cs, who, "customer", r)
	case verbClaim:
		return t.claim(cs, who, r)
	case verbResolve:
		return t.resolve(cs, who, "staff", r)
	case verbReopen:
		return t.staffReopen(cs, who, r)
	case verbRate:
		return t.rate(cs, id, who, r)
	case verbNotFixed:
		return t.notFixed(cs, id, who, r)
	case verbComment:
		t.comment(cs, id.Round, r)
		return nil
	case verbCommented:
		return t.commented(cs, id.Round, ev.Fields["comment"], who, r)
	case verbDecline, verbNever:
		return t.decline(cs, id.Round, who, id.Verb == verbNever, r)
	case verbShare, verbGo, verbPost, verbWithdraw, verbWall:
		return t.offerAction(cs, id, ev, r)
	}
	return t.refuse(r, cs, "InvalidButton", "unknown verb")
}

func (t *txn) offerAction(cs *Case, id actionID, ev Event, r *Reply) error {
	o, err := t.loadOffer(cs, id.Arg)
	if errors.Is(err, ErrNotFound) {
		return t.refuse(r, cs, "InvalidButton", "unknown offer")
	}
	if err != nil {
		return fmt.Errorf("load offer: %w", err)
	}
	switch id.Verb {
	case verbShare:
		return t.preview(cs, o, ev.Author, r)
	case verbGo:
		return t.shareLink(cs, o, ev.Author, r)
	case verbPost:
		return t.post(cs, o, ev.Fields, r)
	case verbWall:
		return t.toggleWall(cs, o, r)
	default:
		return t.withdraw(cs, o, ev.Author, r)
	}
}
