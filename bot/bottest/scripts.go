package bottest

import (
	"encoding/json"
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
	controls := s.Sees(Sam, StaffSide(Ada), "Case #1 from Ada")
	for _, l := range []string{"Claim", "Resolve"} {
		if !strings.Contains(strings.Join(controls.Enabled, ","), l) {
			s.Errorf("the staff intro has enabled buttons %v, want %s", controls.Enabled, l)
		}
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
	s.Sees(Ada, Private(Ada), "You rated 5 out of 5")
	a := s.Click(Ada, Private(Ada), "Add a comment")
	if a.Form == nil {
		s.Fatalf("Add a comment opened no form: %+v", a)
	}
	s.Submit(Ada, map[string]string{"comment": "Sam fixed my invoice in minutes"})
	s.Sees(Ada, Private(Ada), "Would you like to share")
	a = s.Click(Ada, Private(Ada), "Post in #showcase")
	if a.Form == nil || len(a.Form.Fields) != 1 || a.Form.Fields[0].Value != "Sam fixed my invoice in minutes" {
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
}

// scriptUnhappy: a low rating reopens the case and alerts staff.
func scriptUnhappy(s *S) {
	openCase(s, "I cannot log in")
	resolve(s)
	s.Click(Ada, Private(Ada), "1")
	s.Sees(Ada, Private(Ada), "You rated 1 out of 5")
	s.Sees(Ada, Private(Ada), "We're sorry")
	s.Sees(Sam, StaffChannel, "Case #1 was rated 1/5 by Ada")
	s.WaitStatus(Ada, bot.StatusReopened)
}
