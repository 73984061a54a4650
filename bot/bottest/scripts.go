package bottest

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/advocate-bot/advocate/bot"
)

// The suite's scripts. Each starts on a fresh platform; RunSuite checks after
// each that no customer sees the staff side.

// openCase has Ada ask and waits until both sides of her case are there.
func openCase(s *S, question string) {
	s.Helper()
	s.Ask(Ada, question)
	s.Sees(Ada, Public, "private conversation")
	s.Sees(Ada, Private(Ada), "private conversation with the Acme support team")
	s.Sees(Sam, StaffSide(Ada), "Case #1 from Ada")
}

// resolve has Sam answer and resolve Ada's case, and waits for the survey.
func resolve(s *S) {
	s.Helper()
	s.Say(Sam, StaffSide(Ada), "Fixed, please check again")
	s.Sees(Ada, Private(Ada), "Sam: Fixed, please check again")
	s.Click(Sam, StaffSide(Ada), "Resolve")
	s.Sees(Ada, Private(Ada), "How satisfied are you")
}

// scriptStaffSideIsPrivate: the staff intro, the staff controls and notes
// live on the staff side; replies cross the boundary attributed.
func scriptStaffSideIsPrivate(s *S) {
	openCase(s, "My card was charged twice")
	intro := s.Sees(Ada, Private(Ada), "private conversation")
	if !strings.Contains(strings.Join(intro.Buttons, ","), "My problem is solved") {
		s.Errorf("the customer's intro has buttons %v, want My problem is solved", intro.Buttons)
	}
	controls := s.Sees(Sam, StaffSide(Ada), "Case #1 is open")
	if got, want := strings.Join(controls.Enabled, ","), "Claim,Resolve"; got != want {
		s.Errorf("the staff controls of an open case have buttons %s, want %s", got, want)
	}
	s.Say(Ada, Private(Ada), "It was order 1234")
	s.Sees(Sam, StaffSide(Ada), "Ada: It was order 1234")
	s.Note(Sam, StaffSide(Ada), "refund already requested")
	s.Say(Sam, StaffSide(Ada), "Refunded, sorry about that!")
	s.Sees(Ada, Private(Ada), "Sam: Refunded, sorry about that!")
	if n := len(s.Events(Ada, bot.KindNote)); n != 1 {
		s.Errorf("notes recorded: got %d, want 1", n)
	}
	if n := len(s.Events(Ada, bot.KindFirstStaffResponse)); n != 1 {
		s.Errorf("first_staff_response: got %d, want 1 (a note is not a response)", n)
	}
	s.NeverSees(Ben, "order 1234", "Refunded") // the question itself was public
}

// scriptHappyPath: resolve, rate, comment, preview, post, withdraw.
func scriptHappyPath(s *S) {
	openCase(s, "My invoice shows the wrong amount")
	resolve(s)
	s.Sees(Ada, Public, "Resolved privately")
	s.Click(Ada, Private(Ada), "5")
	s.Sees(Ada, Private(Ada), "Your answer is recorded")
	if got := s.Case(Ada).Status; got != bot.StatusClosed {
		s.Errorf("status after a top rating: got %s, want %s", got, bot.StatusClosed)
	}
	a := s.Click(Ada, Private(Ada), "Add a comment")
	if a.Form == nil {
		s.Fatalf("Add a comment opened no form: %+v", a)
	}
	s.Submit(Ada, map[string]string{"comment": "Sam fixed my invoice in minutes"})
	s.Sees(Ada, Private(Ada), "Would you like to share")
	a = s.Click(Ada, Private(Ada), "Post in #showcase")
	if a.Form == nil || len(a.Form.Fields) == 0 || a.Form.Fields[0].Value != "Sam fixed my invoice in minutes" {
		s.Fatalf("preview: got %+v, want the comment prefilled", a.Form)
	}
	s.Submit(Ada, map[string]string{"text": "Sam fixed my invoice in minutes!"})
	s.Sees(Ben, Showcase, "Sam fixed my invoice in minutes!")
	s.Sees(Ada, Private(Ada), "Your post is live")
	shared := s.Events(Ada, bot.KindShared)
	if len(shared) != 1 {
		s.Fatalf("shared events: got %d, want 1", len(shared))
	}
	var consent map[string]any
	_ = json.Unmarshal(shared[0].Detail, &consent)
	if consent["text"] != "Sam fixed my invoice in minutes!" || consent["target"] != "showcase" || consent["message"] == "" {
		s.Errorf("consent record: got %v, want the exact text, the target and the public message", consent)
	}
	s.Click(Ada, Private(Ada), "Withdraw my post")
	s.Sees(Ada, Private(Ada), "Your post has been removed")
	if n := s.Count(Ben, Showcase, "Sam fixed my invoice"); n != 0 {
		s.Errorf("showcase after withdrawal: %d posts, want 0", n)
	}
	if n := len(s.Events(Ada, bot.KindShareWithdrawn)); n != 1 {
		s.Errorf("share_withdrawn: got %d, want 1", n)
	}
	s.FunnelHas(Ada, bot.KindAskedPublic, bot.KindTakenPrivate, bot.KindFirstStaffResponse, bot.KindResolved,
		bot.KindSurveySent, bot.KindRated, bot.KindShareOffered, bot.KindShareClicked, bot.KindShared)
}

// scriptUnhappy: a low rating reopens the case and alerts staff.
func scriptUnhappy(s *S) {
	openCase(s, "I cannot log in")
	resolve(s)
	s.Click(Ada, Private(Ada), "1")
	s.Sees(Ada, Private(Ada), "Your answer is recorded")
	s.Sees(Ada, Private(Ada), "We're sorry")
	s.Sees(Sam, StaffChannel, "Case #1: Ada was not satisfied with the help")
	s.WaitStatus(Ada, bot.StatusReopened)
}

// scriptNoteOnCustomerSide: a note typed where the customer reads is deleted
// there and copied to the staff side; /note goes to the staff side too.
func scriptNoteOnCustomerSide(s *S) {
	openCase(s, "Where is my parcel?")
	if !s.Note(Sam, Private(Ada), "customer is a reseller, check the contract") {
		return
	}
	s.Sees(Sam, StaffSide(Ada), "Internal note on case #1 by Sam: customer is a reseller, check the contract")
	s.Command(Sam, Private(Ada), bot.CmdNote, "second note by command")
	s.Sees(Sam, StaffSide(Ada), "Internal note on case #1 by Sam: second note by command")
	if n := s.Count(Sam, Private(Ada), "reseller"); n != 0 {
		s.Errorf("the note typed on the customer's side is still there (%d)", n)
	}
	if n := len(s.Events(Ada, bot.KindNote)); n != 2 {
		s.Errorf("notes recorded: got %d, want 2", n)
	}
}

// scriptStaffAnswersDirectly: staff may answer on the customer's side; the
// staff side gets a copy, so it holds the whole conversation.
func scriptStaffAnswersDirectly(s *S) {
	openCase(s, "How do I export my data?")
	if !s.Say(Sam, Private(Ada), "Settings, then Export") {
		return
	}
	s.Sees(Ada, Private(Ada), "Settings, then Export")
	s.Sees(Lee, StaffSide(Ada), "Sam: Settings, then Export")
	if n := len(s.Events(Ada, bot.KindFirstStaffResponse)); n != 1 {
		s.Errorf("first_staff_response: got %d, want 1", n)
	}
	if n := s.Count(Ada, Private(Ada), "Settings, then Export"); n != 1 {
		s.Errorf("the customer sees the answer %d times, want once", n)
	}
}

// scriptClaimTwice: once the case is claimed its controls offer no Claim;
// a second claim (a command, or a button a client still showed) by the same
// person says nothing new, and another staff member is told who has the case.
func scriptClaimTwice(s *S) {
	openCase(s, "My account is locked")
	s.Click(Sam, StaffSide(Ada), "Claim")
	s.Sees(Lee, StaffSide(Ada), "Sam is handling case #1")
	s.Sees(Sam, StaffSide(Ada), "Case #1 is open: Sam is handling it")
	if got, want := strings.Join(s.Buttons(Lee, StaffSide(Ada), "Case #1 is open"), ","), "Resolve"; got != want {
		s.Errorf("the staff controls of a claimed case have buttons %s, want %s", got, want)
	}
	if again, ok := s.TryCommand(Sam, StaffSide(Ada), bot.CmdClaim, ""); ok && !strings.Contains(again.Ephemeral, "already handling case #1") {
		s.Errorf("Sam claiming again was told %q, want that he already has it", again.Ephemeral)
	}
	if other, ok := s.TryCommand(Lee, StaffSide(Ada), bot.CmdClaim, ""); ok && !strings.Contains(other.Ephemeral, "Sam is already handling case #1") {
		s.Errorf("Lee claiming was told %q, want who has the case", other.Ephemeral)
	}
	if n := s.Count(Sam, StaffSide(Ada), "is handling case #1"); n != 1 {
		s.Errorf("claim notices on the staff side: got %d, want 1", n)
	}
	if n := len(s.Events(Ada, bot.KindClaimed)); n != 1 {
		s.Errorf("claimed events: got %d, want 1", n)
	}
	if a := s.Case(Ada).Assignee; a == "" {
		s.Error("the case has no assignee after the claim")
	}
	s.NeverSees(Ada, "is handling")
}

// scriptAnswerAssigns: the first staff answer assigns an unclaimed case, and
// its controls offer no Claim from then on.
func scriptAnswerAssigns(s *S) {
	openCase(s, "Two-factor codes never arrive")
	s.Say(Lee, StaffSide(Ada), "Looking into it now")
	s.Sees(Sam, StaffSide(Ada), "Case #1 is open: Lee is handling it")
	s.NoButton(Sam, StaffSide(Ada), "Claim")
	s.SeesButton(Sam, StaffSide(Ada), "Resolve")
}

// scriptAskAgain: a customer with an open case who asks again in public is
// pointed to the case, and the new text reaches staff and the transcript.
func scriptAskAgain(s *S) {
	openCase(s, "The app crashes on start")
	s.Ask(Ada, "Hello?? Still crashing")
	s.Sees(Ada, Public, "you already have an open case (#1)")
	s.Sees(Sam, StaffSide(Ada), "Ada asked again in")
	s.Sees(Sam, StaffSide(Ada), "Hello?? Still crashing")
	found := false
	for _, e := range s.Events(Ada, bot.KindMessage) {
		found = found || strings.Contains(string(e.Detail), "Hello?? Still crashing")
	}
	if !found {
		s.Error("the question asked again is not in the case's transcript")
	}
	if n := len(s.Events(Ada, bot.KindAskedPublic)); n != 1 {
		s.Errorf("asked_public: got %d, want 1 (one case)", n)
	}
	s.Ask(Sam, "Staff chatting in the support channel")
	s.Settle()
	if n := s.Cases(); n != 1 {
		s.Errorf("cases after Ada asked again and Sam chatted in public: got %d, want 1", n)
	}
}

// scriptReopenPublicLine: the public status line follows the case.
func scriptReopenPublicLine(s *S) {
	openCase(s, "Payment failed")
	resolve(s)
	s.Sees(Ben, Public, "Resolved privately")
	s.Click(Sam, StaffSide(Ada), "Reopen")
	s.Sees(Ben, Public, "Reopened — we're on it")
	if n := s.Count(Ben, Public, "Resolved privately"); n != 0 {
		s.Errorf("a reopened case still shows %d 'Resolved privately' line(s)", n)
	}
	s.Click(Sam, StaffSide(Ada), "Resolve")
	s.Sees(Ben, Public, "Resolved privately")
	if n := s.Count(Ben, Public, "Reopened"); n != 0 {
		s.Errorf("a case resolved again still shows %d 'Reopened' line(s)", n)
	}
	if n := s.Count(Ben, Public, "Resolved privately"); n != 1 {
		s.Errorf("'Resolved privately' lines: got %d, want 1", n)
	}
}

// scriptStaleControls: every control that no longer means anything is
// updated or removed.
func scriptStaleControls(s *S) {
	openCase(s, "Cannot change my email")
	s.Click(Ada, Private(Ada), "My problem is solved")
	s.Sees(Ada, Private(Ada), "How satisfied are you")
	s.NoButton(Ada, Private(Ada), "My problem is solved")
	if got, want := strings.Join(s.Buttons(Sam, StaffSide(Ada), "Case #1 is resolved"), ","), "Reopen"; got != want {
		s.Errorf("staff controls of a resolved case: got %s, want %s", got, want)
	}
	s.NoButton(Sam, StaffSide(Ada), "Claim")
	s.NoButton(Sam, StaffSide(Ada), "Resolve")

	s.Click(Sam, StaffSide(Ada), "Reopen")
	s.Sees(Ada, Private(Ada), "has been reopened")
	s.Settle()
	if n := s.Count(Ada, Private(Ada), "has been reopened"); n != 1 {
		s.Errorf("the customer is told %d times that the case was reopened, want once", n)
	}
	if got, want := strings.Join(s.Buttons(Sam, StaffSide(Ada), "Case #1 is open"), ","), "Claim,Resolve"; got != want {
		s.Errorf("staff controls of a reopened case: got %s, want %s", got, want)
	}
	s.NoButton(Sam, StaffSide(Ada), "Reopen")
	if got := s.Buttons(Ada, Private(Ada), "private conversation with"); !slices.Contains(got, "My problem is solved") {
		s.Errorf("the intro of a reopened case has buttons %v, want My problem is solved", got)
	}
	s.NoButton(Ada, Private(Ada), "5") // the survey of the first round

	resolve(s)
	s.Click(Ada, Private(Ada), "5")
	s.Sees(Ada, Private(Ada), "Your answer is recorded")
	s.Click(Ada, Private(Ada), "Add a comment")
	s.Submit(Ada, map[string]string{"comment": "Quick help"})
	s.NoButton(Ada, Private(Ada), "Add a comment")
	s.Click(Ada, Private(Ada), "Post in #showcase")
	s.Submit(Ada, map[string]string{})
	s.Sees(Ada, Private(Ada), "Your post is live")
	s.NoButton(Ada, Private(Ada), "No thanks")
	s.NoButton(Ada, Private(Ada), "Don't ask me again")
	s.NoButton(Ada, Private(Ada), "Post in #showcase")
	if got, want := strings.Join(s.Buttons(Sam, StaffSide(Ada), "Case #1 is closed"), ","), "Reopen"; got != want {
		s.Errorf("staff controls of a closed case: got %s, want %s", got, want)
	}

	// Reopened after a rating: the round is over. Its survey still says how
	// the customer rated; its share offers are withdrawn; the testimonial
	// posted can still be withdrawn.
	s.Click(Sam, StaffSide(Ada), "Reopen")
	s.Sees(Sam, StaffSide(Ada), "Case #1 is open")
	s.Settle()
	if n := s.Count(Ada, Private(Ada), "Your answer is recorded"); n != 1 {
		s.Errorf("after the reopen the customer sees her rating %d times, want once", n)
	}
	for _, label := range []string{"Post on X", "Review us on Trustpilot"} {
		s.NoButton(Ada, Private(Ada), label)
	}
	s.SeesButton(Ada, Private(Ada), "Withdraw my post")

	// An unhappy rating reopens the case at once: no comment button is left
	// on the survey of the round it ended.
	resolve(s)
	s.Click(Ada, Private(Ada), "1")
	s.Sees(Ada, Private(Ada), "We're sorry")
	s.WaitStatus(Ada, bot.StatusReopened)
	if n := s.Count(Ada, Private(Ada), "Your answer is recorded"); n != 2 {
		s.Errorf("after the unhappy rating the customer sees %d surveys answered, want 2 (one per round)", n)
	}
	s.NoButton(Ada, Private(Ada), "Add a comment")
	s.NoButton(Ada, Private(Ada), "Not fixed yet")
	s.SeesButton(Ada, Private(Ada), "My problem is solved") // the case is open again
}

// scriptLowRating: after a low rating the apology comes first, on its own,
// and the review sites are offered after it in a separate, neutral message
// (every respondent is offered them: no review gating).
func scriptLowRating(s *S) {
	openCase(s, "I was charged for a cancelled plan")
	resolve(s)
	s.Click(Ada, Private(Ada), "1")
	s.SeesButton(Ada, Private(Ada), "Review us on Trustpilot")
	s.Settle()
	seen := s.View(Ada, Private(Ada))
	apology, offer := -1, -1
	for i, m := range seen {
		if strings.Contains(m.Text, "sorry") {
			apology = i
			if len(m.Buttons) != 0 {
				s.Errorf("the apology carries buttons %v", m.Buttons)
			}
		}
		if slices.Contains(m.Buttons, "Review us on Trustpilot") {
			offer = i
			if strings.Contains(strings.ToLower(m.Text), "sorry") || strings.Contains(m.Text, "share your experience") {
				s.Errorf("the review offer reads as a reply to the rating: %q", m.Text)
			}
			if slices.Contains(m.Buttons, "Post in #showcase") || slices.Contains(m.Buttons, "Post on X") {
				s.Errorf("an unhappy customer was offered a satisfied-only target: %v", m.Buttons)
			}
		}
	}
	if apology < 0 || offer < 0 || offer < apology {
		s.Errorf("want the apology (at %d) before the review offer (at %d)", apology, offer)
	}
}

// scorePattern matches a score written out: "1/5", "5 out of 5", "rated 4",
// "(2/5)", "9 of 10".
var scorePattern = regexp.MustCompile(`\b\d+ ?(/|out of|of) ?(5|7|10)\b|\brated \d`)

// scriptStaffSeeNoScore: staff learn that a customer was not satisfied, and
// later that they are, but no message any staff member can read anywhere
// (staff side, staff channel, the customer's side where staff may read it)
// holds the score; the scores are for the dashboard.
func scriptStaffSeeNoScore(s *S) {
	openCase(s, "My export is empty")
	resolve(s)
	s.Click(Ada, Private(Ada), "1")
	s.Sees(Sam, StaffChannel, "Ada was not satisfied")
	s.WaitStatus(Ada, bot.StatusReopened)
	s.Click(Sam, StaffSide(Ada), "Resolve")
	s.Click(Ada, Private(Ada), "5")
	s.Sees(Sam, StaffChannel, "Ada is now satisfied")
	s.Settle()
	for _, who := range []string{Sam, Lee} {
		seen, err := s.D.Everything(s.ctx, who)
		if err != nil {
			s.Fatalf("everything %s sees: %v", who, err)
		}
		for _, m := range seen {
			if scorePattern.MatchString(m.Text) {
				s.Errorf("%s sees a score: %q", who, m.Text)
			}
		}
	}
}

// scriptOnePromptOpen: a new share prompt takes the buttons off the one
// before it, and "Don't ask me again" off the one pressed, so no offer the
// customer can press outlives what she said.
func scriptOnePromptOpen(s *S) {
	openCase(s, "My export is empty")
	resolve(s)
	s.Click(Ada, Private(Ada), "1") // reopens; the review sites are offered
	s.SeesButton(Ada, Private(Ada), "Review us on Trustpilot")
	resolve(s)
	s.Click(Ada, Private(Ada), "5")
	s.SeesButton(Ada, Private(Ada), "Post in #showcase")
	s.Settle()
	for _, label := range []string{"Review us on Trustpilot", "No thanks", "Don't ask me again"} {
		if n := s.Enabled(Ada, Private(Ada), label); n != 1 {
			s.Errorf("Ada can press %q on %d prompts, want 1 (the newest)", label, n)
		}
	}
	s.Click(Ada, Private(Ada), "Don't ask me again")
	s.Sees(Ada, Private(Ada), "we won't ask you to share again")
	for _, label := range []string{"Post in #showcase", "Post on X", "Review us on Trustpilot", "No thanks", "Don't ask me again"} {
		s.NoButton(Ada, Private(Ada), label)
	}
	if n := len(s.Events(Ada, bot.KindOptedOut)); n != 1 {
		s.Errorf("opted_out: got %d, want 1", n)
	}
}
