package bot

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Survey fatigue controls: survey.sample surveys only some resolved cases,
// survey.cooldown at most one case per person in a period. A case left out
// is recorded as survey_skipped with its reason, so the funnel can tell a
// survey not sent from one not answered.

// Sample says which resolved cases get the survey. The zero value surveys
// every case.
type Sample struct {
	// Fraction surveys that share of cases (0 < Fraction <= 1), chosen by a
	// hash of the case's ID: the same case is always in or out.
	Fraction float64
	// Every surveys a person's first case and every Every-th after it (the
	// 1st, 4th, 7th … with 3), counting the cases of all their linked
	// identities. It is used instead of Fraction when set.
	Every int
}

// KindSurveySkipped is the funnel event of a resolution that got no survey
// (detail: reason, round).
const KindSurveySkipped = "survey_skipped"

// Reasons a survey is skipped, in survey_skipped's detail.
const (
	SkipSampledOut = "sampled_out"
	SkipCooldown   = "cooldown"
)

// UnmarshalText reads survey.sample: a fraction ("0.5"), a percentage
// ("50%"), or "every N" (a person's first case and every Nth after it).
func (s *Sample) UnmarshalText(b []byte) error {
	text := strings.TrimSpace(string(b))
	bad := fmt.Errorf("invalid sample %q: want a fraction of cases such as 0.5, a percentage such as 50%%, "+
		"or \"every 3\" (a person's first case and every 3rd after it)", text)
	if n, ok := strings.CutPrefix(text, "every "); ok {
		every, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || every < 1 {
			return bad
		}
		*s = Sample{Every: every}
		return nil
	}
	scale := 1.0
	if p, ok := strings.CutSuffix(text, "%"); ok {
		text, scale = strings.TrimSpace(p), 100
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f/scale <= 0 || f/scale > 1 {
		return bad
	}
	*s = Sample{Fraction: f / scale}
	return nil
}

// MarshalText writes the sample as UnmarshalText reads it.
func (s Sample) MarshalText() ([]byte, error) {
	if s.Every > 0 {
		return []byte("every " + strconv.Itoa(s.Every)), nil
	}
	if s.Fraction <= 0 {
		return []byte("1"), nil
	}
	return []byte(strconv.FormatFloat(s.Fraction, 'g', -1, 64)), nil
}

// All reports whether every case is surveyed.
func (s Sample) All() bool { return s.Every <= 1 && (s.Fraction <= 0 || s.Fraction >= 1) }

// Surveys reports whether case caseID, its person's nth case (1 for the
// first), is sampled in. The answer depends on nothing else, so it is the
// same every time it is asked.
func (s Sample) Surveys(caseID int64, nth int) bool {
	switch {
	case s.Every > 1:
		return (nth-1)%s.Every == 0
	case s.All():
		return true
	}
	return unitHash("advocate survey sample", caseID) < s.Fraction
}

// unitHash maps (label, id) to a number in [0, 1), uniformly.
func unitHash(label string, id int64) float64 {
	sum := sha256.Sum256([]byte(label + "\x00" + strconv.FormatInt(id, 10)))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// surveyOrSkip sends the resolution's survey, or, when survey.sample leaves
// the case out or survey.cooldown holds for its person, records
// survey_skipped with the reason, tells the customer the case is resolved
// and closes it: with no survey there is nothing left to wait for.
func (t *txn) surveyOrSkip(cs *Case) error {
	reason, err := t.skipReason(cs)
	if err != nil {
		return err
	}
	if reason == "" {
		if err := t.sendSurvey(cs); err != nil {
			return err
		}
		return t.surveyedNow(cs)
	}
	t.log.Info("survey skipped", "reason", reason, "case", cs.ID)
	if err := t.record(cs, KindSurveySkipped, "", map[string]any{"reason": reason, "round": cs.Round}); err != nil {
		return err
	}
	if err := t.send(cs, PlacePrivate, Message{Text: t.say("ResolvedPrivate", cs, TextData{})}, ""); err != nil {
		return err
	}
	return t.close(cs, KindSurveySkipped)
}

// skipReason says why the case's survey is skipped, or "" to send it.
func (t *txn) skipReason(cs *Case) (string, error) {
	s := t.cfg.Survey
	if !s.Sample.All() {
		nth := 0
		if s.Sample.Every > 1 {
			n, err := t.caseNumber(cs)
			if err != nil {
				return "", err
			}
			nth = n
		}
		if !s.Sample.Surveys(cs.ID, nth) {
			return SkipSampledOut, nil
		}
	}
	if s.Cooldown == 0 || cs.Round > 1 {
		return "", nil
	}
	p, err := personOf(t.ctx, t.tx, cs.Platform, cs.Customer.ID)
	if err != nil {
		return "", fmt.Errorf("person: %w", err)
	}
	if within(t.tx.Now(), p.LastSurveyAt, s.Cooldown.D()) {
		return SkipCooldown, nil
	}
	return "", nil
}

// caseNumber is the case's number among its person's cases, counting every
// identity linked with the customer's: 1 for their first.
func (t *txn) caseNumber(cs *Case) (int, error) {
	ids, err := t.tx.Identities(t.ctx, Identity{Platform: cs.Platform, ID: cs.Customer.ID})
	if err != nil {
		return 0, fmt.Errorf("identities: %w", err)
	}
	n := 1
	for _, i := range ids {
		_, before, err := t.tx.FindCases(t.ctx, CaseFilter{Platform: i.Platform, CustomerID: i.ID, Until: cs.OpenedAt, Limit: 1})
		if err != nil {
			return 0, fmt.Errorf("cases of the person: %w", err)
		}
		n += before
	}
	return n, nil
}

// surveyedNow remembers when the customer was last surveyed, for
// survey.cooldown.
func (t *txn) surveyedNow(cs *Case) error {
	p, err := t.tx.Person(t.ctx, cs.Platform, cs.Customer.ID)
	if err != nil {
		return fmt.Errorf("person: %w", err)
	}
	p.LastSurveyAt = t.tx.Now()
	if err := t.tx.PutPerson(t.ctx, p); err != nil {
		return fmt.Errorf("put person: %w", err)
	}
	return nil
}
