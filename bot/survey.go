package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

func surveyKey(round int) string   { return PurposeSurvey.key(int64(round)) }
func reminderKey(round int) string { return PurposeReminder.key(int64(round)) }

// surveyMessage is the one-click survey: a button per score and "not fixed".
func (t *txn) surveyMessage(cs *Case, text string) Message {
	_, _, lo, hi := t.cfg.Survey.Thresholds()
	m := Message{Text: text}
	for s := lo; s <= hi; s++ {
		m.Buttons = append(m.Buttons, t.button(cs, verbRate, strconv.Itoa(s), strconv.Itoa(s)))
	}
	m.Buttons = append(m.Buttons, t.button(cs, verbNotFixed, "", t.say("NotFixedButton", cs, TextData{})))
	return m
}

func (t *txn) surveyQuestion(cs *Case) string {
	switch t.cfg.Survey.Scale {
	case CES:
		return t.say("SurveyCES", cs, TextData{})
	case NPS:
		return t.say("SurveyNPS", cs, TextData{})
	}
	return t.say("SurveyCSAT", cs, TextData{})
}

// sendSurvey queues the survey and its reminder and expiry timers. survey_sent is
// recorded when it is delivered.
func (t *txn) sendSurvey(cs *Case) error {
	text := t.say("ResolvedPrivate", cs, TextData{}) + "\n" + t.surveyQuestion(cs)
	if err := t.sendAbout(cs, PlacePrivate, t.surveyMessage(cs, text), PurposeSurvey, int64(cs.Round), PlacePublic); err != nil {
		return err
	}
	now := t.tx.Now()
	timers := []Timer{
		{CaseID: cs.ID, Kind: TimerRemind, Round: cs.Round, DueAt: now.Add(t.cfg.Survey.RemindAfter.D())},
		{CaseID: cs.ID, Kind: TimerExpire, Round: cs.Round, DueAt: now.Add(t.cfg.Survey.ExpireAfter.D())},
	}
	for _, tm := range timers {
		if tm.DueAt.Equal(now) {
			continue // zero duration: disabled
		}
		if err := t.tx.SetTimer(t.ctx, tm); err != nil {
			return fmt.Errorf("set %s timer: %w", tm.Kind, err)
		}
	}
	return nil
}

// closeSurvey replaces the round's survey with m and its reminder with m's text,
// so no score can be pressed again, and stops the round's timers.
func (t *txn) closeSurvey(cs *Case, m Message) error {
	for _, kind := range []string{TimerRemind, TimerExpire} {
		if err := t.tx.CancelTimer(t.ctx, cs.ID, kind); err != nil {
			return fmt.Errorf("cancel %s timer: %w", kind, err)
		}
	}
	if err := t.update(cs, surveyKey(cs.Round), m); err != nil {
		return err
	}
	return t.update(cs, reminderKey(cs.Round), Message{Text: m.Text})
}

// rate records the customer's score for the current round and follows up: thanks
// and a share offer, or, for an unhappy score, an apology and a reopened case.
func (t *txn) rate(cs *Case, id actionID, who Person, r *Reply) error {
	score, err := strconv.Atoi(id.Arg)
	_, _, lo, hi := t.cfg.Survey.Thresholds()
	if err != nil || score < lo || score > hi {
		return t.refuse(r, cs, "InvalidButton", "score out of range")
	}
	if id.Round != cs.Round || cs.Status != StatusResolved {
		r.Ephemeral = t.say("AlreadyRated", cs, TextData{})
		return nil
	}
	rating, err := t.newRating(cs, score)
	if err != nil {
		return err
	}
	if err := t.tx.PutRating(t.ctx, rating); errors.Is(err, ErrConflict) {
		r.Ephemeral = t.say("AlreadyRated", cs, TextData{})
		return nil
	} else if err != nil {
		return fmt.Errorf("put rating: %w", err)
	}
	detail := map[string]any{"score": score, "scale": string(rating.Scale), "satisfied": rating.Satisfied,
		"unhappy": rating.Unhappy, "recovery": rating.Recovery, "round": cs.Round}
	if err := t.record(cs, KindRated, who.ID, detail); err != nil {
		return err
	}
	d := TextData{Score: score, Max: hi}
	done := Message{Text: t.say("SurveyDone", cs, d)}
	// A rating that reopens the case ends the round at once: the customer
	// talks to staff again, and a comment button would outlive its round.
	reopens := rating.Unhappy && t.cfg.Unhappy.Action == "reopen"
	if t.cfg.Survey.Comment && !reopens {
		done.Buttons = []Button{t.button(cs, verbComment, "", t.say("CommentButton", cs, d))}
	}
	if err := t.closeSurvey(cs, done); err != nil {
		return err
	}
	if rating.Unhappy {
		err = t.unhappy(cs, who, d)
	} else {
		err = t.content(cs, rating, d)
	}
	if err != nil {
		return err
	}
	return t.promptAfter(cs, rating)
}

func (t *txn) newRating(cs *Case, score int) (*Rating, error) {
	sat, unhappy, _, _ := t.cfg.Survey.Thresholds()
	r := &Rating{CaseID: cs.ID, Round: cs.Round, Scale: t.cfg.Survey.Scale, Score: score,
		Satisfied: score >= sat, Unhappy: score <= unhappy, At: t.tx.Now()}
	if r.Satisfied {
		prior, err := t.tx.Ratings(t.ctx, cs.ID)
		if err != nil {
			return nil, fmt.Errorf("ratings: %w", err)
		}
		for _, p := range prior {
			r.Recovery = r.Recovery || p.Unhappy
		}
	}
	return r, nil
}

// unhappy apologises, reopens (or only escalates) and tells staff.
func (t *txn) unhappy(cs *Case, who Person, d TextData) error {
	if err := t.send(cs, PlacePrivate, Message{Text: t.say("UnhappyReply", cs, d)}, ""); err != nil {
		return err
	}
	// Staff read no score in chat (the staff member who handled the case
	// would be judged, and judge, by it): the dashboard has the scores.
	alert := Message{Text: t.say("UnhappyStaff", cs, TextData{})}
	if err := t.alertStaff(cs, alert); err != nil {
		return err
	}
	if t.cfg.Unhappy.Action != "reopen" {
		return nil
	}
	return t.reopen(cs, who, "rating")
}

// content thanks a satisfied or neutral customer and closes the case.
func (t *txn) content(cs *Case, rating *Rating, d TextData) error {
	thanks := "ThanksNeutral"
	if rating.Satisfied {
		thanks = "ThanksSatisfied"
	}
	if err := t.send(cs, PlacePrivate, Message{Text: t.say(thanks, cs, d)}, ""); err != nil {
		return err
	}
	if rating.Recovery {
		if err := t.alertStaff(cs, Message{Text: t.say("StaffRecovered", cs, TextData{})}); err != nil {
			return err
		}
	}
	return t.close(cs, "rated")
}

func (t *txn) close(cs *Case, reason string) error {
	cs.Status = StatusClosed
	cs.ClosedAt = t.tx.Now()
	if err := t.tx.UpdateCase(t.ctx, cs); err != nil {
		return fmt.Errorf("update case: %w", err)
	}
	if err := t.record(cs, KindClosed, "", map[string]any{"reason": reason}); err != nil {
		return err
	}
	return t.updateControls(cs, "")
}

// notFixed reopens a resolved case at the customer's word.
func (t *txn) notFixed(cs *Case, id actionID, who Person, r *Reply) error {
	if id.Round != cs.Round || cs.Status != StatusResolved {
		r.Ephemeral = t.say("AlreadyRated", cs, TextData{})
		return nil
	}
	if err := t.reopen(cs, who, "not_fixed"); err != nil {
		return err
	}
	return t.alertStaff(cs, Message{Text: t.say("CustomerReopenedBy", cs, TextData{})})
}

// comment opens the optional comment form, while the round it is about is
// the case's latest and the case is not back in staff's hands.
func (t *txn) comment(cs *Case, round int, r *Reply) {
	if round != cs.Round || cs.Status.Active() {
		r.Ephemeral = t.say("ShareNotNow", cs, TextData{})
		return
	}
	id := actionID{Case: cs.ID, Round: round, Verb: verbCommented}
	r.Modal = &Modal{
		ActionID: id.sign(t.secret),
		Title:    t.say("CommentTitle", cs, TextData{}),
		Fields:   []Field{{ID: "comment", Label: t.say("CommentLabel", cs, TextData{}), Multiline: true, MaxLen: 1000}},
		Submit:   "OK",
	}
}

// commented stores the comment (when texts are kept) and makes it the draft of
// the round's community post offers, so the preview shows the customer's words.
func (t *txn) commented(cs *Case, round int, comment string, who Person, r *Reply) error {
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return nil
	}
	stored := ""
	if t.cfg.KeepText {
		stored = comment
	}
	if err := t.tx.UpdateRatingComment(t.ctx, cs.ID, round, stored); err != nil {
		return fmt.Errorf("store comment: %w", err)
	}
	offers, err := t.tx.Offers(t.ctx, cs.ID)
	if err != nil {
		return fmt.Errorf("offers: %w", err)
	}
	for _, o := range offers {
		if o.Round == round && o.Kind == TargetCommunityPost && o.State == OfferOffered {
			o.Text = comment
			if err := t.tx.UpdateOffer(t.ctx, o); err != nil {
				return fmt.Errorf("update offer: %w", err)
			}
		}
	}
	r.Ephemeral = t.say("CommentThanks", cs, TextData{})
	if err := t.record(cs, KindCommented, who.ID, map[string]any{"round": round, "length": len([]rune(comment))}); err != nil {
		return err
	}
	// the used "Add a comment" button comes off the round's survey
	done, rated, err := t.surveyOver(cs, round)
	if err != nil || !rated {
		return err
	}
	return t.update(cs, surveyKey(round), done)
}

// surveyOver is the round's survey once nothing can be pressed on it: the
// score the customer gave, without buttons, and whether there was one; else
// that the survey has closed.
func (t *txn) surveyOver(cs *Case, round int) (Message, bool, error) {
	ratings, err := t.tx.Ratings(t.ctx, cs.ID)
	if err != nil {
		return Message{}, false, fmt.Errorf("ratings: %w", err)
	}
	_, _, _, hi := t.cfg.Survey.Thresholds()
	for _, rt := range ratings {
		if rt.Round == round {
			return Message{Text: t.say("SurveyDone", cs, TextData{Score: rt.Score, Max: hi})}, true, nil
		}
	}
	return Message{Text: t.say("SurveyExpired", cs, TextData{})}, false, nil
}

// remind sends the one survey reminder if the round is still unanswered.
func (t *txn) remind(cs *Case, tm Timer) error {
	if cs.Round != tm.Round || cs.Status != StatusResolved {
		return nil
	}
	text := t.say("SurveyReminder", cs, TextData{}) + "\n" + t.surveyQuestion(cs)
	return t.sendAbout(cs, PlacePrivate, t.surveyMessage(cs, text), PurposeReminder, int64(cs.Round))
}

// expire closes an unanswered survey and its case.
func (t *txn) expire(cs *Case, tm Timer) error {
	if cs.Round != tm.Round || cs.Status != StatusResolved {
		return nil
	}
	if err := t.record(cs, KindSurveyExpired, "", map[string]any{"round": cs.Round}); err != nil {
		return err
	}
	if err := t.closeSurvey(cs, Message{Text: t.say("SurveyExpired", cs, TextData{})}); err != nil {
		return err
	}
	return t.close(cs, "survey_expired")
}

// within reports whether now is less than d after from.
func within(now, from time.Time, d time.Duration) bool { return !from.IsZero() && now.Sub(from) < d }
