package bottest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// patience bounds every wait of the suite: room for a loaded machine, not a
// speed assertion.
const patience = 30 * time.Second

// SuiteConfig is the core configuration every driver starts from: Config()
// without staff (the driver adds its platform's Sam and Lee), and no share
// cooldown, so that a script may be offered to share twice.
func SuiteConfig() bot.Config {
	cfg := Config()
	cfg.Staff.ByPlatform = nil
	cfg.Share.Cooldown = 0
	return cfg
}

// Script is one conversation of the suite.
type Script struct {
	Name string
	Run  func(s *S)
}

// Scripts are the suite's conversations, run in this order by RunSuite.
var Scripts = []Script{
	{"TheCustomerNeverSeesTheStaffSide", scriptStaffSideIsPrivate},
	{"HappyPathToACommunityPost", scriptHappyPath},
	{"UnhappyRatingReopensAndAlertsStaff", scriptUnhappy},
	{"NoteTypedOnTheCustomerSideIsTakenAway", scriptNoteOnCustomerSide},
	{"StaffMayAnswerOnTheCustomerSide", scriptStaffAnswersDirectly},
	{"ClaimIsIdempotent", scriptClaimTwice},
	{"FirstAnswerAssignsTheCase", scriptAnswerAssigns},
	{"AskingAgainInPublicReachesStaff", scriptAskAgain},
	{"ReopenUpdatesThePublicLine", scriptReopenPublicLine},
	{"StaleControlsAreUpdated", scriptStaleControls},
	{"OnlyTheNewestSharePromptIsOpen", scriptOnePromptOpen},
	{"LowRatingApologyThenANeutralReviewOffer", scriptLowRating},
	{"WallConsentAndWithdrawal", scriptWallConsent},
	{"WallIsOffByDefault", scriptWallOffByDefault},
	{"StaffNeverSeeTheScore", scriptStaffSeeNoScore},
}

// RunSuite runs every script as a subtest, each on a fresh driver, and after
// each one checks that no customer can see anything of the staff side.
func RunSuite(t *testing.T, newDriver func(t *testing.T) Driver) {
	for _, sc := range Scripts {
		t.Run(sc.Name, func(t *testing.T) {
			s := &S{T: t, D: newDriver(t), ctx: t.Context()}
			sc.Run(s)
			s.CustomersSeeNoStaffSide()
		})
	}
}

// S is a running script: the test, the driver, and helpers that wait for
// state (never for time) and fail the test with what was seen.
type S struct {
	*testing.T
	D     Driver
	ctx   context.Context
	notes []string // texts of staff notes, which no customer may ever see
}

// Ask posts a question in public as who.
func (s *S) Ask(who, text string) {
	s.Helper()
	if err := s.D.Ask(s.ctx, who, text); err != nil {
		s.Fatalf("%s asks %q: %v", who, text, err)
	}
}

// Say posts text as who at a place. It reports false, and logs, when the
// platform has no way to do it.
func (s *S) Say(who string, at Where, text string) bool {
	s.Helper()
	err := s.D.Say(s.ctx, who, at, text)
	if errors.Is(err, ErrUnsupported) {
		s.Logf("skipped: %s cannot say anything %s on this platform", who, at)
		return false
	}
	if err != nil {
		s.Fatalf("%s says %q %s: %v", who, text, at, err)
	}
	return true
}

// Note has staff write an internal note with the platform's note prefix at a
// place, and remembers its text as one no customer may see.
func (s *S) Note(who string, at Where, text string) bool {
	s.Helper()
	s.notes = append(s.notes, text)
	return s.Say(who, at, "!note "+text)
}

// Command runs a command as who at a place.
func (s *S) Command(who string, at Where, command, text string) Answer {
	s.Helper()
	a, err := s.D.Command(s.ctx, who, at, command, text)
	if err != nil {
		s.Fatalf("%s runs %s %s: %v", who, command, at, err)
	}
	if command == bot.CmdNote {
		s.notes = append(s.notes, text)
	}
	return a
}

// TryCommand is Command where the platform has a way to run it: ok is false,
// and the step logged as skipped, where it has none.
func (s *S) TryCommand(who string, at Where, command, text string) (Answer, bool) {
	s.Helper()
	a, err := s.D.Command(s.ctx, who, at, command, text)
	if errors.Is(err, ErrUnsupported) {
		s.Logf("skipped: %s cannot run %s %s on this platform", who, command, at)
		return Answer{}, false
	}
	if err != nil {
		s.Fatalf("%s runs %s %s: %v", who, command, at, err)
	}
	return a, true
}

// Click waits until who sees an enabled button labelled label at a place and
// presses it.
func (s *S) Click(who string, at Where, label string) Answer {
	s.Helper()
	var a Answer
	s.wait(fmt.Sprintf("%s to see a button %q %s", who, label, at), func() (bool, error) {
		var err error
		a, err = s.D.Click(s.ctx, who, at, label)
		if errors.Is(err, ErrNoButton) || errors.Is(err, ErrNotYet) {
			return false, nil
		}
		return err == nil, err
	}, func() string { return s.describe(who, at) })
	return a
}

// Submit submits who's open form.
func (s *S) Submit(who string, values map[string]string) Answer {
	s.Helper()
	a, err := s.D.Submit(s.ctx, who, values)
	if err != nil {
		s.Fatalf("%s submits %v: %v", who, values, err)
	}
	return a
}

// Sees waits until who sees a message containing text at a place, and
// returns it.
func (s *S) Sees(who string, at Where, text string) Seen {
	s.Helper()
	var found Seen
	s.wait(fmt.Sprintf("%s to see %q %s", who, text, at), func() (bool, error) {
		seen, err := s.D.View(s.ctx, who, at)
		for _, m := range seen {
			if strings.Contains(m.Text, text) {
				found = m
				return true, nil
			}
		}
		return false, err
	}, func() string { return s.describe(who, at) })
	return found
}

// SeesButton waits until who sees an enabled button labelled label at a
// place, and returns its message.
func (s *S) SeesButton(who string, at Where, label string) Seen {
	s.Helper()
	var found Seen
	s.wait(fmt.Sprintf("%s to see a button %q %s", who, label, at), func() (bool, error) {
		seen, err := s.D.View(s.ctx, who, at)
		for _, m := range seen {
			if slices.Contains(m.Enabled, label) {
				found = m
				return true, nil
			}
		}
		return false, err
	}, func() string { return s.describe(who, at) })
	return found
}

// Settle waits until the bot has done everything it decided.
func (s *S) Settle() {
	s.Helper()
	if err := s.D.Settle(s.ctx); err != nil {
		s.Fatalf("settle: %v", err)
	}
}

// View is what who sees at a place now.
func (s *S) View(who string, at Where) []Seen {
	s.Helper()
	seen, err := s.D.View(s.ctx, who, at)
	if err != nil {
		s.Fatalf("view of %s %s: %v", who, at, err)
	}
	return seen
}

// Count settles, then counts the messages containing text that who sees at
// a place.
func (s *S) Count(who string, at Where, text string) int {
	s.Helper()
	s.Settle()
	n := 0
	for _, m := range s.View(who, at) {
		if strings.Contains(m.Text, text) {
			n++
		}
	}
	return n
}

// NeverSees settles, then fails if who sees a message containing any of texts
// anywhere.
func (s *S) NeverSees(who string, texts ...string) {
	s.Helper()
	s.Settle()
	seen, err := s.D.Everything(s.ctx, who)
	if err != nil {
		s.Fatalf("everything %s sees: %v", who, err)
	}
	for _, m := range seen {
		for _, text := range texts {
			if strings.Contains(m.Text, text) {
				s.Errorf("%s sees %q, which contains %q", who, m.Text, text)
			}
		}
	}
}

// NoButton settles, then fails if who can press a button labelled label at a
// place: a control that no longer means anything must be updated or removed.
func (s *S) NoButton(who string, at Where, label string) {
	s.Helper()
	s.Settle()
	for _, m := range s.View(who, at) {
		if slices.Contains(m.Enabled, label) {
			s.Errorf("%s can still press %q on %q %s", who, label, m.Text, at)
		}
	}
}

// Enabled settles and counts the messages on which who can press a button
// labelled label at a place.
func (s *S) Enabled(who string, at Where, label string) int {
	s.Helper()
	s.Settle()
	n := 0
	for _, m := range s.View(who, at) {
		if slices.Contains(m.Enabled, label) {
			n++
		}
	}
	return n
}

// Buttons settles and returns the enabled buttons of the newest message
// containing text that who sees at a place.
func (s *S) Buttons(who string, at Where, text string) []string {
	s.Helper()
	s.Settle()
	seen := s.View(who, at)
	for i := len(seen) - 1; i >= 0; i-- {
		if strings.Contains(seen[i].Text, text) {
			return seen[i].Enabled
		}
	}
	s.Fatalf("%s sees no message containing %q %s; %s", who, text, at, s.describe(who, at))
	return nil
}

// staffLabels are the labels of the staff controls, in the default texts.
var staffLabels = []string{"Claim", "Resolve", "Reopen"}

// CustomersSeeNoStaffSide fails if Ada or Ben can see a staff intro, a staff
// control or any note the script wrote.
func (s *S) CustomersSeeNoStaffSide() {
	s.Helper()
	s.Settle()
	for _, who := range []string{Ada, Ben} {
		seen, err := s.D.Everything(s.ctx, who)
		if err != nil {
			s.Fatalf("everything %s sees: %v", who, err)
		}
		for _, m := range seen {
			if isStaffIntro(m.Text) {
				s.Errorf("%s sees the staff intro %q", who, m.Text)
			}
			for _, b := range m.Buttons {
				if slices.Contains(staffLabels, b) {
					s.Errorf("%s sees the staff button %q on %q", who, b, m.Text)
				}
			}
			for _, n := range s.notes {
				if strings.Contains(m.Text, n) {
					s.Errorf("%s sees the note %q in %q", who, n, m.Text)
				}
			}
		}
	}
}

// isStaffIntro recognises the default staff intro, "Case #1 from Ada in …".
func isStaffIntro(text string) bool {
	rest, ok := strings.CutPrefix(text, "Case #")
	if !ok {
		return false
	}
	_, after, ok := strings.Cut(rest, " from ")
	return ok && after != ""
}

// Events lists the funnel events of one kind of the customer's newest case.
func (s *S) Events(customer, kind string) []bot.CaseEvent {
	s.Helper()
	var out []bot.CaseEvent
	for _, e := range s.allEvents(customer) {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// FunnelHas fails unless the customer's newest case recorded the funnel
// kinds in this order (other kinds may come between).
func (s *S) FunnelHas(customer string, kinds ...string) {
	s.Helper()
	var got []string
	for _, e := range s.allEvents(customer) {
		got = append(got, e.Kind)
	}
	if !HasKinds(got, kinds...) {
		s.Errorf("funnel of %s's case: got %v, want %v in this order", customer, got, kinds)
	}
}

// allEvents lists the funnel events of the customer's newest case.
func (s *S) allEvents(customer string) []bot.CaseEvent {
	s.Helper()
	var evs []bot.CaseEvent
	err := s.D.Store().View(s.ctx, func(tx bot.Tx) error {
		cs, err := s.caseOf(tx, customer)
		if err != nil {
			return err
		}
		evs, err = tx.CaseEvents(s.ctx, cs.ID)
		return err
	})
	if err != nil {
		s.Fatalf("events of %s's case: %v", customer, err)
	}
	return evs
}

// Cases counts the cases in the store.
func (s *S) Cases() int {
	s.Helper()
	var n int
	err := s.D.Store().View(s.ctx, func(tx bot.Tx) (err error) {
		_, n, err = tx.FindCases(s.ctx, bot.CaseFilter{})
		return err
	})
	if err != nil {
		s.Fatalf("count cases: %v", err)
	}
	return n
}

// Case loads the customer's newest case.
func (s *S) Case(customer string) *bot.Case {
	s.Helper()
	var cs *bot.Case
	err := s.D.Store().View(s.ctx, func(tx bot.Tx) (err error) {
		cs, err = s.caseOf(tx, customer)
		return err
	})
	if err != nil {
		s.Fatalf("case of %s: %v", customer, err)
	}
	return cs
}

// WaitStatus waits until the customer's newest case has status st.
func (s *S) WaitStatus(customer string, st bot.Status) {
	s.Helper()
	var got bot.Status
	s.wait(fmt.Sprintf("%s's case to be %s", customer, st), func() (bool, error) {
		err := s.D.Store().View(s.ctx, func(tx bot.Tx) error {
			cs, err := s.caseOf(tx, customer)
			if err == nil {
				got = cs.Status
			}
			return err
		})
		return got == st, err
	}, func() string { return "status " + string(got) })
}

func (s *S) caseOf(tx bot.Tx, customer string) (*bot.Case, error) {
	if ids, ok := s.D.(UserIDs); ok {
		if id, ok := ids.UserID(customer); ok {
			return CaseOfUser(s.ctx, tx, id)
		}
	}
	return CaseOf(s.ctx, tx, customer)
}

// UserIDs is a driver that says which platform user plays a person. The
// suite then finds a person's case by user ID; without it, by display name,
// which fails where the platform names people only later (Slack names a
// person it has not seen after the event is committed).
type UserIDs interface {
	UserID(person string) (id string, ok bool)
}

// CaseOf finds the newest case whose customer has the display name customer
// (ErrNotYet when there is none).
func CaseOf(ctx context.Context, tx bot.Tx, customer string) (*bot.Case, error) {
	return newestCase(ctx, tx, customer, func(cs *bot.Case) bool { return cs.Customer.Name == customer })
}

// CaseOfUser finds the newest case of the customer with user ID id, for
// drivers resolving a Where (ErrNotYet when there is none).
func CaseOfUser(ctx context.Context, tx bot.Tx, id string) (*bot.Case, error) {
	return newestCase(ctx, tx, id, func(cs *bot.Case) bool { return cs.Customer.ID == id })
}

func newestCase(ctx context.Context, tx bot.Tx, who string, match func(*bot.Case) bool) (*bot.Case, error) {
	cases, _, err := tx.FindCases(ctx, bot.CaseFilter{})
	if err != nil {
		return nil, err
	}
	for _, cs := range cases { // newest first
		if match(cs) {
			return cs, nil
		}
	}
	return nil, fmt.Errorf("no case of %s: %w", who, ErrNotYet)
}

// wait polls cond until it holds, failing with what describe says after
// patience runs out.
func (s *S) wait(what string, cond func() (bool, error), describe func() string) {
	s.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, patience)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if errors.Is(err, ErrNotYet) {
			ok, err = false, nil
		}
		if err != nil {
			s.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			s.Fatalf("gave up waiting for %s; %s", what, describe())
		case <-tick.C:
		}
	}
}

// describe lists what who sees at a place, for failure messages.
func (s *S) describe(who string, at Where) string {
	seen, err := s.D.View(s.ctx, who, at)
	if err != nil {
		return fmt.Sprintf("%s's view %s: %v", who, at, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s sees %s:", who, at)
	for _, m := range seen {
		fmt.Fprintf(&b, "\n  %q %v", m.Text, m.Buttons)
	}
	return b.String()
}

// String names a place for messages.
func (w Where) String() string {
	if w.Customer == "" {
		return "in " + string(w.Place)
	}
	return fmt.Sprintf("in %s (%s's case)", w.Place, w.Customer)
}
