package bot

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

func promptKey(round int) string     { return PurposePrompt.key(int64(round)) }
func postKey(offer int64) string     { return PurposeTestimonial.key(offer) }
func withdrawKey(offer int64) string { return "withdraw:" + strconv.FormatInt(offer, 10) }

// offer sends the share prompt with every target the rating qualifies for, unless
// the customer opted out or was prompted within the cooldown, on any identity
// linked with theirs. Each offer is recorded with its target, gating policy,
// exact text and experiment variant (a's targets, order and wording).
func (t *txn) offer(cs *Case, rating *Rating, a assignment) error {
	p, err := personOf(t.ctx, t.tx, cs.Platform, cs.Customer.ID)
	if err != nil {
		return fmt.Errorf("person: %w", err)
	}
	now := t.tx.Now()
	switch {
	case p.OptedOut:
		return t.record(cs, KindShareSuppressed, "", map[string]any{"reason": "opted_out"})
	case within(now, p.LastPromptAt, t.cfg.Share.Cooldown.D()):
		return t.record(cs, KindShareSuppressed, "", map[string]any{"reason": "cooldown"})
	}
	// The new prompt replaces any the case still has open (an earlier round's).
	if err := t.closePrompts(cs, "ShareNotNow"); err != nil {
		return err
	}
	offered := 0
	for _, target := range a.targets(t.cfg.Share, rating) {
		if err := t.offerTarget(cs, target, target.EffectivePolicy(), a); err != nil {
			return err
		}
		offered++
	}
	if offered == 0 {
		return nil
	}
	text, err := t.promptText(cs, rating, a)
	if err != nil {
		return err
	}
	prompt, err := t.promptMessage(cs, cs.Round, text)
	if err != nil {
		return err
	}
	if err := t.sendAbout(cs, PlacePrivate, prompt, PurposePrompt, int64(cs.Round)); err != nil {
		return err
	}
	p.LastPromptAt = now
	if err := t.tx.PutPerson(t.ctx, p); err != nil {
		return fmt.Errorf("put person: %w", err)
	}
	if d := t.cfg.Share.PromptExpireAfter.D(); d > 0 {
		tm := Timer{CaseID: cs.ID, Kind: TimerPromptExpire, Round: cs.Round, DueAt: now.Add(d)}
		if err := t.tx.SetTimer(t.ctx, tm); err != nil {
			return fmt.Errorf("set prompt timer: %w", err)
		}
	}
	return nil
}

// offerTarget records one offer with its exact text, gating policy and
// experiment variant.
func (t *txn) offerTarget(cs *Case, target ShareTarget, policy string, a assignment) error {
	text, err := t.targetText(cs, target)
	if err != nil {
		return err
	}
	o := &Offer{CaseID: cs.ID, Round: cs.Round, Target: target.Name, Kind: target.Kind, Policy: policy,
		Text: text, State: OfferOffered, At: t.tx.Now(), Experiment: a.Experiment, Variant: a.name()}
	switch target.Kind {
	case TargetXPost:
		// a link leaves the platform: no adapter fills a placeholder there
		o.URL = "https://x.com/intent/post?text=" + url.QueryEscape(FillNames(text, noName))
	case TargetReviewLink:
		o.URL = target.URL
	}
	if err := t.tx.CreateOffer(t.ctx, o); err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	detail := map[string]any{"offer": o.ID, "target": o.Target, "kind": o.Kind, "policy": policy, "text": text, "url": o.URL}
	a.describe(detail)
	return t.record(cs, KindShareOffered, "", detail)
}

// promptMessage renders the round's share prompt with a button for every offer
// still open, and "No thanks" and "Don't ask me again" until the customer
// shared something; with none open, just done.
func (t *txn) promptMessage(cs *Case, round int, text string) (Message, error) {
	offers, err := t.tx.Offers(t.ctx, cs.ID)
	if err != nil {
		return Message{}, fmt.Errorf("offers: %w", err)
	}
	labels := map[string]string{}
	for _, target := range t.cfg.Share.Targets {
		labels[target.Name] = target.Label
	}
	m := Message{Text: text}
	shared := false
	for _, o := range offers {
		shared = shared || (o.Round == round && o.State == OfferShared)
		if o.Round != round || (o.State != OfferOffered && o.State != OfferClicked) {
			continue
		}
		label, arg := labels[o.Target], strconv.FormatInt(o.ID, 10)
		if label == "" {
			label = o.Target
		}
		if o.Kind == TargetCommunityPost {
			m.Buttons = append(m.Buttons, t.button(cs, verbShare, arg, label))
			if b, ok := t.wallButton(cs, o); ok {
				m.Buttons = append(m.Buttons, b)
			}
			continue
		}
		b := t.button(cs, verbGo, arg, label)
		b.URL = o.URL
		m.Buttons = append(m.Buttons, b)
	}
	if len(m.Buttons) == 0 {
		return Message{Text: t.say("ShareDone", cs, TextData{})}, nil
	}
	if shared {
		return m, nil
	}
	m.Buttons = append(m.Buttons,
		t.button(cs, verbDecline, "", t.say("ShareNoThanks", cs, TextData{})),
		t.button(cs, verbNever, "", t.say("ShareNever", cs, TextData{})))
	return m, nil
}

func (t *txn) targetText(cs *Case, target ShareTarget) (string, error) {
	if target.Text == "" {
		return "", nil
	}
	tpl, err := template.New(target.Name).Parse(target.Text)
	if err != nil {
		return "", fmt.Errorf("share target %s text: %w", target.Name, err)
	}
	var b strings.Builder
	d := TextData{Brand: t.cfg.Brand, Customer: NameOf(cs.Customer), Case: cs.ID}
	if err := tpl.Execute(&b, d); err != nil {
		return "", fmt.Errorf("share target %s text: %w", target.Name, err)
	}
	return b.String(), nil
}

// loadOffer finds the offer an action names, checking it belongs to the case.
func (t *txn) loadOffer(cs *Case, arg string) (*Offer, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		return nil, ErrNotFound
	}
	o, err := t.tx.Offer(t.ctx, id)
	if err != nil {
		return nil, err
	}
	if o.CaseID != cs.ID {
		return nil, ErrNotFound
	}
	return o, nil
}

// clicked records the first click on an offer.
func (t *txn) clicked(cs *Case, o *Offer, who string) error {
	if o.State != OfferOffered {
		return nil
	}
	o.State = OfferClicked
	if err := t.tx.UpdateOffer(t.ctx, o); err != nil {
		return fmt.Errorf("update offer: %w", err)
	}
	return t.record(cs, KindShareClicked, who, map[string]any{"offer": o.ID, "target": o.Target, "kind": o.Kind})
}

// shareLink counts a click on an X or review link and returns where to go.
func (t *txn) shareLink(cs *Case, o *Offer, who Person, r *Reply) error {
	if o.State == OfferOffered {
		if err := t.clicked(cs, o, who.ID); err != nil {
			return err
		}
	}
	r.URL = o.URL
	return nil
}

// preview opens the testimonial preview: the exact text, editable.
func (t *txn) preview(cs *Case, o *Offer, who Person, r *Reply) error {
	if o.State != OfferOffered && o.State != OfferClicked {
		r.Ephemeral = t.say("ShareNotNow", cs, TextData{})
		return nil
	}
	if err := t.clicked(cs, o, who.ID); err != nil {
		return err
	}
	id := actionID{Case: cs.ID, Round: o.Round, Verb: verbPost, Arg: strconv.FormatInt(o.ID, 10)}
	r.Modal = &Modal{
		ActionID: id.sign(t.secret),
		Title:    t.say("PreviewTitle", cs, TextData{}),
		Fields:   []Field{{ID: "text", Label: t.say("PreviewLabel", cs, TextData{}), Value: o.Text, Multiline: true, Required: true, MaxLen: 1000}},
		Submit:   t.say("PreviewSubmit", cs, TextData{}),
	}
	r.Modal.Fields = append(r.Modal.Fields, t.wallFields(cs, o)...)
	return nil
}

// post queues the testimonial the customer confirmed. The consent record (exact
// text, target, time, public message) is completed when the post is delivered.
func (t *txn) post(cs *Case, o *Offer, fields map[string]string, r *Reply) error {
	text := strings.TrimSpace(fields["text"])
	if o.State != OfferOffered && o.State != OfferClicked {
		r.Ephemeral = t.say("ShareNotNow", cs, TextData{})
		return nil
	}
	if text == "" {
		text = o.Text
	}
	o.Text = text
	o.State = OfferShared
	o.SharedAt = t.tx.Now()
	if err := t.chooseWall(cs, o, fields); err != nil {
		return err
	}
	if err := t.tx.UpdateOffer(t.ctx, o); err != nil {
		return fmt.Errorf("update offer: %w", err)
	}
	post := Message{Text: t.say("Testimonial", cs, TextData{Text: text})}
	if err := t.enqueue(&Action{CaseID: cs.ID, Platform: cs.Platform, Kind: ActSend, Place: PlaceRef,
		To: Ref{Platform: cs.Platform, Channel: ShowcaseChannel}, Msg: post, Key: postKey(o.ID), Purpose: PurposeTestimonial, Subject: o.ID}); err != nil {
		return err
	}
	prompt, err := t.promptMessage(cs, o.Round, t.say("ShareDone", cs, TextData{}))
	if err != nil {
		return err
	}
	return t.update(cs, promptKey(o.Round), prompt)
}

// shared completes the consent record once the testimonial is public.
func (t *txn) shared(cs *Case, o *Offer, post Ref) error {
	o.Post = post
	t.onWall(o)
	if err := t.tx.UpdateOffer(t.ctx, o); err != nil {
		return fmt.Errorf("update offer: %w", err)
	}
	detail := map[string]any{"offer": o.ID, "target": o.Target, "kind": o.Kind, "text": o.Text,
		"channel": post.Channel, "message": post.Message, "consented_at": o.SharedAt}
	if err := t.record(cs, KindShared, cs.Customer.ID, detail); err != nil {
		return err
	}
	m := Message{Text: t.say(sharedText(o), cs, TextData{}), Buttons: []Button{
		t.button(cs, verbWithdraw, strconv.FormatInt(o.ID, 10), t.say("WithdrawButton", cs, TextData{})),
	}}
	return t.send(cs, PlacePrivate, m, withdrawKey(o.ID))
}

// withdraw deletes a shared testimonial at the customer's request.
func (t *txn) withdraw(cs *Case, o *Offer, who Person, r *Reply) error {
	if o.State != OfferShared {
		r.Ephemeral = t.say("ShareNotNow", cs, TextData{})
		return nil
	}
	o.State, o.WallAt = OfferWithdrawn, time.Time{}
	if err := t.tx.UpdateOffer(t.ctx, o); err != nil {
		return fmt.Errorf("update offer: %w", err)
	}
	if err := t.enqueue(&Action{CaseID: cs.ID, Platform: cs.Platform, Kind: ActDelete, Key: postKey(o.ID)}); err != nil {
		return err
	}
	if err := t.record(cs, KindShareWithdrawn, who.ID, map[string]any{"offer": o.ID, "target": o.Target}); err != nil {
		return err
	}
	return t.update(cs, withdrawKey(o.ID), Message{Text: t.say("Withdrawn", cs, TextData{})})
}

// decline closes the round's prompt; optOut also stops every future prompt
// and closes every prompt the customer still has open, on each identity
// linked with theirs. "No thanks" on a prompt with nothing open any more
// records nothing; "Don't ask me again" is honoured from any prompt.
func (t *txn) decline(cs *Case, round int, who Person, optOut bool, r *Reply) error {
	offers, err := t.tx.Offers(t.ctx, cs.ID)
	if err != nil {
		return fmt.Errorf("offers: %w", err)
	}
	open := false
	for _, o := range offers {
		if o.Round != round || (o.State != OfferOffered && o.State != OfferClicked) {
			continue
		}
		open = true
		if o.State == OfferOffered {
			o.State = OfferDeclined
			if err := t.tx.UpdateOffer(t.ctx, o); err != nil {
				return fmt.Errorf("update offer: %w", err)
			}
		}
	}
	if !open && !optOut {
		r.Ephemeral = t.say("ShareNotNow", cs, TextData{})
		return nil
	}
	kind, text := KindShareDeclined, "Declined"
	if optOut {
		kind, text = KindOptedOut, "OptedOut"
		p, err := t.tx.Person(t.ctx, cs.Platform, cs.Customer.ID)
		if err != nil {
			return fmt.Errorf("person: %w", err)
		}
		p.OptedOut = true
		if err := t.tx.PutPerson(t.ctx, p); err != nil {
			return fmt.Errorf("put person: %w", err)
		}
		if err := t.offWall(cs, "opted_out"); err != nil {
			return err
		}
	}
	if err := t.record(cs, kind, who.ID, map[string]any{"round": round}); err != nil {
		return err
	}
	if err := t.tx.CancelTimer(t.ctx, cs.ID, TimerPromptExpire); err != nil {
		return fmt.Errorf("cancel prompt timer: %w", err)
	}
	if err := t.update(cs, promptKey(round), Message{Text: t.say(text, cs, TextData{})}); err != nil {
		return err
	}
	if !optOut {
		return nil
	}
	return t.eachCaseOfCustomer(cs, func(c *Case) error { return t.closePrompts(c, "OptedOut") })
}

// eachCaseOfCustomer calls fn with every case of the customer of cs, on
// each identity linked with theirs.
func (t *txn) eachCaseOfCustomer(cs *Case, fn func(*Case) error) error {
	ids, err := t.tx.Identities(t.ctx, Identity{Platform: cs.Platform, ID: cs.Customer.ID})
	if err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	for _, id := range ids {
		cases, _, err := t.tx.FindCases(t.ctx, CaseFilter{Platform: id.Platform, CustomerID: id.ID})
		if err != nil {
			return fmt.Errorf("cases of %s: %w", id, err)
		}
		for _, c := range cases {
			if err := fn(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// closePrompts withdraws the case's share offers that are still open, when
// the case is reopened (a testimonial about a case back in staff's hands
// would say what is no longer true), when a new prompt replaces them, and
// when the customer opts out. Each prompt with an open offer loses its
// buttons and says text, or, where the customer shared something, that they
// answered; a testimonial already posted stays, and can still be withdrawn.
func (t *txn) closePrompts(cs *Case, text string) error {
	offers, err := t.tx.Offers(t.ctx, cs.ID)
	if err != nil {
		return fmt.Errorf("offers: %w", err)
	}
	var closed []int // rounds, in the order of their offers
	shared := map[int]bool{}
	for _, o := range offers {
		shared[o.Round] = shared[o.Round] || o.State == OfferShared || o.State == OfferWithdrawn
		if o.State != OfferOffered && o.State != OfferClicked {
			continue
		}
		o.State = OfferExpired
		if err := t.tx.UpdateOffer(t.ctx, o); err != nil {
			return fmt.Errorf("update offer: %w", err)
		}
		if !slices.Contains(closed, o.Round) {
			closed = append(closed, o.Round)
		}
	}
	if len(closed) == 0 {
		return nil
	}
	if err := t.tx.CancelTimer(t.ctx, cs.ID, TimerPromptExpire); err != nil {
		return fmt.Errorf("cancel prompt timer: %w", err)
	}
	for _, round := range closed {
		say := text
		if shared[round] {
			say = "ShareDone"
		}
		if err := t.update(cs, promptKey(round), Message{Text: t.say(say, cs, TextData{})}); err != nil {
			return err
		}
	}
	return nil
}

// expirePrompt closes a prompt nobody answered.
func (t *txn) expirePrompt(cs *Case, tm Timer) error {
	offers, err := t.tx.Offers(t.ctx, cs.ID)
	if err != nil {
		return fmt.Errorf("offers: %w", err)
	}
	for _, o := range offers {
		if o.Round == tm.Round && (o.State == OfferOffered || o.State == OfferClicked) && o.Kind == TargetCommunityPost {
			o.State = OfferExpired
			if err := t.tx.UpdateOffer(t.ctx, o); err != nil {
				return fmt.Errorf("update offer: %w", err)
			}
		}
	}
	return t.update(cs, promptKey(tm.Round), Message{Text: t.say("PromptExpired", cs, TextData{})})
}
