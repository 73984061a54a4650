package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The testimonial wall: a public page of testimonials whose customers chose,
// in the preview, to show them on the website too. The choice is off unless
// the customer makes it, recorded on the offer (Offer.Wall, WallName) and as
// a wall_consent event, and undone by withdrawing the post, by "Don't ask me
// again" and by advocate forget.

// Modal field IDs of the wall choice.
const (
	fieldWall     = "wall"
	fieldWallName = "name"
)

// maxWallName bounds the name a customer may choose for the wall.
const maxWallName = 50

// wallInModal reports whether the case's platform can ask the wall question
// inside the preview modal (a check box); elsewhere the prompt carries a
// button that turns it on and off before the customer posts.
func (t *txn) wallInModal(cs *Case) bool {
	a, ok := t.adapter(cs.Platform).(CheckModals)
	return ok && a.CheckModals()
}

// wallFields are the preview's questions about the wall, when it is on: the
// consent check box, unticked, where the platform's modals can hold one, and
// the name to show. Where the choice is a button, the name is asked only
// once the customer turned it on.
func (t *txn) wallFields(cs *Case, o *Offer) []Field {
	if !t.cfg.Wall.Enabled || o.Kind != TargetCommunityPost {
		return nil
	}
	name := Field{ID: fieldWallName, Label: t.say("WallName", cs, TextData{}), MaxLen: maxWallName}
	if !t.wallInModal(cs) {
		if !o.Wall {
			return nil
		}
		return []Field{name}
	}
	return []Field{{ID: fieldWall, Label: t.say("WallCheck", cs, TextData{}), Check: true}, name}
}

// wallButton is the prompt's button that turns the wall choice of a
// community post on or off, on a platform whose modals hold no check box;
// ok is false where the prompt needs none.
func (t *txn) wallButton(cs *Case, o *Offer) (b Button, ok bool) {
	if !t.cfg.Wall.Enabled || o.Kind != TargetCommunityPost || t.wallInModal(cs) {
		return Button{}, false
	}
	label := "WallOff"
	if o.Wall {
		label = "WallOn"
	}
	return t.button(cs, verbWall, strconv.FormatInt(o.ID, 10), t.say(label, cs, TextData{})), true
}

// toggleWall turns the wall choice of an offer not yet posted on or off, and
// shows the prompt with the button saying which.
func (t *txn) toggleWall(cs *Case, o *Offer, r *Reply) error {
	if !t.cfg.Wall.Enabled || o.Kind != TargetCommunityPost || (o.State != OfferOffered && o.State != OfferClicked) {
		r.Ephemeral = t.say("ShareNotNow", cs, TextData{})
		return nil
	}
	o.Wall = !o.Wall
	if err := t.tx.UpdateOffer(t.ctx, o); err != nil {
		return fmt.Errorf("update offer: %w", err)
	}
	text, err := t.roundPromptText(cs, o)
	if err != nil {
		return err
	}
	prompt, err := t.promptMessage(cs, o.Round, text)
	if err != nil {
		return err
	}
	return t.update(cs, promptKey(o.Round), prompt)
}

// roundPromptText is the text of the prompt o was offered in, as it was
// sent: the review prompt after a rating that was not satisfied, else the
// share prompt in the words of o's experiment variant.
func (t *txn) roundPromptText(cs *Case, o *Offer) (string, error) {
	ratings, err := t.tx.Ratings(t.ctx, cs.ID)
	if err != nil {
		return "", fmt.Errorf("ratings: %w", err)
	}
	rating := &Rating{Satisfied: true}
	for i := range ratings {
		if ratings[i].Round == o.Round {
			rating = &ratings[i]
		}
	}
	a := assignment{Experiment: o.Experiment, Variant: t.cfg.Share.Experiment(o.Experiment).Variant(o.Variant)}
	return t.promptText(cs, rating, a)
}

// chooseWall records the wall choice the customer made in the preview, with
// the post: ticked in the modal, or turned on with the prompt's button, and
// the name they typed ("" shows "a customer"). With the wall off, no choice
// was offered and none is recorded.
func (t *txn) chooseWall(cs *Case, o *Offer, fields map[string]string) error {
	if !t.cfg.Wall.Enabled || o.Kind != TargetCommunityPost {
		o.Wall, o.WallName = false, ""
		return nil
	}
	via := "button"
	if t.wallInModal(cs) {
		via, o.Wall = "modal", fields[fieldWall] == FieldChecked
	}
	o.WallName = ""
	if o.Wall {
		o.WallName = cleanWallName(fields[fieldWallName])
	}
	return t.record(cs, KindWallConsent, cs.Customer.ID,
		map[string]any{"offer": o.ID, "wall": o.Wall, "name": o.WallName, "via": via})
}

// cleanWallName is the name as the wall shows it: one line of printable
// characters, spaces collapsed, at most maxWallName characters.
func cleanWallName(s string) string {
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxWallName {
		s = strings.TrimSpace(string(r[:maxWallName]))
	}
	return s
}

// onWall puts a testimonial whose post is now live on the wall, if the
// customer chose it.
func (t *txn) onWall(o *Offer) {
	if o.Wall && o.WallAt.IsZero() {
		o.WallAt = t.tx.Now()
	}
}

// sharedText names the text that tells the customer their post is live.
func sharedText(o *Offer) string {
	if o.Wall {
		return "SharedWall"
	}
	return "Shared"
}

// offWall takes every testimonial of the case's customer, on each identity
// linked with theirs, off the wall: they asked never to be asked again, and
// the website shows only those who still agree. Each leaves with a
// wall_removed event on its case.
func (t *txn) offWall(cs *Case, reason string) error {
	return t.eachCaseOfCustomer(cs, func(c *Case) error { return t.offWallCase(c, reason) })
}

// offWallCase takes the case's shared testimonials off the wall.
func (t *txn) offWallCase(cs *Case, reason string) error {
	offers, err := t.tx.Offers(t.ctx, cs.ID)
	if err != nil {
		return fmt.Errorf("offers: %w", err)
	}
	for _, o := range offers {
		if !o.Wall || o.State != OfferShared { // a withdrawn post left the wall already
			continue
		}
		o.Wall, o.WallAt = false, time.Time{}
		if err := t.tx.UpdateOffer(t.ctx, o); err != nil {
			return fmt.Errorf("update offer: %w", err)
		}
		if err := t.record(cs, KindWallRemoved, "", map[string]any{"offer": o.ID, "reason": reason}); err != nil {
			return err
		}
	}
	return nil
}
