package bottest

import (
	"context"
	"errors"

	"github.com/advocate-bot/advocate/bot"
)

// The conversation suite (RunSuite) is one set of scripts that every platform
// runs: the bottest fake, the sandbox, the Slack fake and the Discord fake. A
// script acts and reads as the people of a small community, through a Driver
// that plays them on one platform.
//
// Writing a driver:
//
//  1. newDriver(t) starts a fresh world for one script: the real core
//     (bot.New) on a real store, configured with SuiteConfig() plus your
//     platform's staff (cfg.Staff.Set(platform, ids) with Sam's and Lee's
//     user IDs), your adapter against its loopback fake, and core.Run and the
//     adapter's Run going until t ends.
//  2. The people are Ada and Ben (customers) and Sam and Lee (staff), with
//     exactly these display names: scripts look for "Case #1 from Ada".
//  3. Each method does what the person would do on the platform: post through
//     the fake as that user, press the button through the platform's
//     interaction path, read what that user's client would show. Never
//     reach into the core for a shortcut; the point is the platform's
//     behaviour.
//  4. A case is named by its customer (Where.Customer): the customer's newest
//     case. Resolve it to the platform's conversations through the case row
//     (bot.Case.Private and Staff, from the store; CaseOfUser finds it).
//     Implement UserIDs too, so the suite finds cases by user ID.
//  5. A place that does not exist yet (the case is being opened) is
//     ErrNotYet, wrapped or not; waiting steps keep waiting.
//  6. Where the platform cannot do a thing at all (staff cannot write in a
//     Slack DM), return ErrUnsupported: the script skips that step.
//  7. Reads return what the person can see now. Delivery is asynchronous:
//     scripts poll for what should appear, and call Settle before checking
//     that something does not.
//
// Then, in a _test file of your package:
//
//	func TestConversationSuite(t *testing.T) { bottest.RunSuite(t, newSuiteDriver) }

// The suite's people. A driver maps each to a user of its platform.
const (
	Ada = "Ada" // a customer
	Ben = "Ben" // another customer
	Sam = "Sam" // staff
	Lee = "Lee" // staff
)

// Place is where in the community something is said or read.
type Place string

// Places of the suite.
const (
	// InPublic is the public support channel, thread replies included.
	InPublic Place = "public"
	// InPrivate is a case's customer side: the DM, private thread or private
	// channel shared with the customer.
	InPrivate Place = "private"
	// InStaffSide is a case's staff side: the staff-only thread of the case.
	InStaffSide Place = "staff-side"
	// InStaffChannel is the top level of the staff channel: alerts and nudges.
	InStaffChannel Place = "staff-channel"
	// InShowcase is the channel where testimonials are posted.
	InShowcase Place = "showcase"
)

// Where is a place; for InPrivate and InStaffSide, of the newest case of the
// customer named.
type Where struct {
	Place    Place
	Customer string
}

// Public, StaffChannel and Showcase are the places that belong to no case.
var (
	Public       = Where{Place: InPublic}
	StaffChannel = Where{Place: InStaffChannel}
	Showcase     = Where{Place: InShowcase}
)

// Private is the customer's side of the customer's newest case.
func Private(customer string) Where { return Where{Place: InPrivate, Customer: customer} }

// StaffSide is the staff side of the customer's newest case.
func StaffSide(customer string) Where { return Where{Place: InStaffSide, Customer: customer} }

// Seen is one message as a person sees it.
type Seen struct {
	Text string
	// Buttons are the labels of the buttons the person is shown, enabled or
	// not; Enabled those that can still be pressed.
	Buttons []string
	Enabled []string
}

// Answer is what the person who pressed a button, submitted a form or ran a
// command was shown straight back, seen by nobody else.
type Answer struct {
	Ephemeral string
	Form      *Form // a form (modal) opened for the person
}

// Form is a modal: its title and fields.
type Form struct {
	Title  string
	Fields []FormField
}

// FormField is one input of a Form, with the value it was opened with.
// A check box (Check) is submitted as bot.FieldChecked when ticked, "" when
// not.
type FormField struct {
	ID    string // bot.Field.ID
	Label string
	Value string
	Check bool
}

// Driver errors.
var (
	// ErrUnsupported: the platform has no way to do this.
	ErrUnsupported = errors.New("not possible on this platform")
	// ErrNoButton: the person sees no button of that label there.
	ErrNoButton = errors.New("no such button")
	// ErrNoForm: the person has no form open.
	ErrNoForm = errors.New("no form open")
	// ErrNotYet: the place does not exist yet (the case, or one of its
	// conversations, is still being opened). Waiting steps keep waiting.
	ErrNotYet = errors.New("not there yet")
)

// Driver plays the suite's people on one platform. See the package
// documentation of the suite above for how to write one. Methods are called
// from one goroutine.
type Driver interface {
	// Ask posts text as who, a new message in the public support channel.
	Ask(ctx context.Context, who, text string) error
	// Say posts text as who at a place of a case (InPrivate or InStaffSide).
	Say(ctx context.Context, who string, at Where, text string) error
	// Command runs a command as who at a place: bot.CmdClaim, CmdResolve,
	// CmdReopen or CmdNote (text is the note), the way the platform runs it
	// (a slash command, the sandbox's composer).
	Command(ctx context.Context, who string, at Where, command, text string) (Answer, error)
	// Click presses the newest enabled button labelled label that who sees
	// at a place (ErrNoButton if there is none).
	Click(ctx context.Context, who string, at Where, label string) (Answer, error)
	// Submit submits the form who has open (the last Answer.Form), with
	// values by field ID; fields left out keep their value.
	Submit(ctx context.Context, who string, values map[string]string) (Answer, error)
	// View lists the messages who sees at a place, oldest first, thread
	// replies included.
	View(ctx context.Context, who string, at Where) ([]Seen, error)
	// Everything lists every message who can see anywhere on the platform.
	Everything(ctx context.Context, who string) ([]Seen, error)
	// Settle returns once the bot has handled every event the people caused
	// and delivered everything it decided.
	Settle(ctx context.Context) error
	// Store is the bot's store, for checks of what a case recorded.
	Store() bot.Store
}
