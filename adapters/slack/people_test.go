package slack

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/advocate-bot/advocate/bot"
)

// hangDeadline is how long a test lets a call run before it calls it stuck.
// It only ends a test that would otherwise hang; nothing is timed with it.
const hangDeadline = 30 * time.Second

// A question from someone the adapter has not seen reaches the core without
// a call to Slack: the name is looked up after the commit.
func TestEventDoesNotWaitForUserLookup(t *testing.T) {
	a, api := newStubAdapter(t)
	api.names["U0ADA000001"] = "Ada"
	api.userInfoGate = make(chan struct{}) // users.info answers only when the test says
	msg := slackevents.MessageEvent{Channel: testSupport, ChannelType: "channel", User: "U0ADA000001", TimeStamp: "1700000100.000200", Text: "help"}
	got := make(chan bot.Event, 1)
	go func() {
		ev, _ := a.translate(context.Background(), delivery{events: ptr(callback("Ev1", &msg))})
		got <- ev
	}()
	var ev bot.Event
	select {
	case ev = <-got:
	case <-time.After(hangDeadline):
		close(api.userInfoGate)
		t.Fatal("the event waited for users.info")
	}
	if ev.Author.ID != "U0ADA000001" || ev.Author.Name != "" {
		t.Errorf("author before the look-up: got %+v, want the ID without a name", ev.Author)
	}
	close(api.userInfoGate)

	// the core wrote a placeholder where the name goes; the post waits for
	// the look-up and names her
	text := "Case #1 from " + bot.NameOf(ev.Author) + " in #support"
	if _, err := a.Send(context.Background(), bot.Ref{Channel: bot.StaffChannel}, bot.Message{Text: text}); err != nil {
		t.Fatal(err)
	}
	if got, want := api.posts[0].Values.Get("text"), "Case #1 from Ada in #support"; got != want {
		t.Errorf("posted: got %q, want %q", got, want)
	}
	if p := a.people.person("U0ADA000001"); p.Name != "Ada" {
		t.Errorf("author after the look-up: got %+v, want Ada", p)
	}
}

// Only the placeholders the core wrote are filled: an ID someone wrote is
// left as it was.
func TestNamedFillsOnlyPlaceholders(t *testing.T) {
	a, api := newStubAdapter(t)
	api.names["U0ADA000001"] = "Ada"
	api.names["U0BOB000001"] = "Bob"
	ada := bot.NameOf(bot.Person{ID: "U0ADA000001"})
	ctx := context.Background()
	for text, want := range map[string]string{
		"Thanks " + ada + "!":                  "Thanks Ada!",
		ada + ": my ID is U0ADA000001":         "Ada: my ID is U0ADA000001",
		"U0BOB000001 as written by someone":    "U0BOB000001 as written by someone",
		"— " + ada + "\n> quoted " + ada + ".": "— Ada\n> quoted Ada.",
	} {
		if got := a.people.named(ctx, text); got != want {
			t.Errorf("named(%q): got %q, want %q", text, got, want)
		}
	}
}

// A process that never saw the person (restarted since, or another
// instance) still names them: the placeholder says whom to look up. The name
// it looks up is handed to the core.
func TestNamedAfterRestart(t *testing.T) {
	a, api := newStubAdapter(t)
	api.names["U0ADA000001"] = "Ada"
	told := make(chan bot.Person, 1)
	a.people.tell = func(_ context.Context, p bot.Person) { told <- p }
	text := "Hi " + bot.NameOf(bot.Person{ID: "U0ADA000001"}) + ", thanks for reaching out"
	if _, err := a.Send(context.Background(), bot.Ref{Channel: "D0ADA000001"}, bot.Message{Text: text}); err != nil {
		t.Fatal(err)
	}
	if got, want := api.posts[0].Values.Get("text"), "Hi Ada, thanks for reaching out"; got != want {
		t.Errorf("posted: got %q, want %q", got, want)
	}
	select {
	case p := <-told:
		if want := (bot.Person{Platform: bot.Slack, ID: "U0ADA000001", Name: "Ada"}); !reflect.DeepEqual(p, want) {
			t.Errorf("told the core: got %+v, want %+v", p, want)
		}
	case <-time.After(hangDeadline):
		t.Fatal("the name looked up was not told to the core")
	}
}

// After a 429, no look-up is made before its Retry-After has passed, however
// many new people write.
func TestUserLookupsBackOffAfterRateLimit(t *testing.T) {
	a, api := newStubAdapter(t)
	now := time.Unix(1700000000, 0)
	a.people.now = func() time.Time { return now }
	api.failNext("users.info", &slackgo.RateLimitedError{RetryAfter: 30 * time.Second})
	a.people.person("U0AAA000001")
	awaitLookups(a.people) // the refused look-up is over
	for _, id := range []string{"U0BBB000001", "U0CCC000001", "U0DDD000001"} {
		if p := a.people.person(id); p.Name != "" {
			t.Errorf("%s: got %+v", id, p)
		}
	}
	api.mu.Lock()
	calls := api.userInfoCalls
	api.mu.Unlock()
	if calls != 1 {
		t.Errorf("users.info calls within Retry-After: got %d, want 1", calls)
	}
	now = now.Add(31 * time.Second)
	api.names["U0EEE000001"] = "Eve"
	a.people.person("U0EEE000001")
	if got := a.people.await(context.Background(), "U0EEE000001"); got != "Eve" {
		t.Errorf("after Retry-After: got %q, want Eve", got)
	}
}

// A message to be posted while Slack asks to wait before the next look-up
// waits as asked and names the person: it is not posted with their ID.
func TestPostWaitsOutRateLimitForName(t *testing.T) {
	a, api := newStubAdapter(t)
	now := time.Unix(1700000000, 0)
	a.people.now = func() time.Time { return now }
	api.failNext("users.info", &slackgo.RateLimitedError{RetryAfter: time.Millisecond})
	a.people.person("U0AAA000001")
	awaitLookups(a.people)
	api.names["U0BBB000001"] = "Bea"
	text := "Hi " + bot.NameOf(bot.Person{ID: "U0BBB000001"})
	if got := a.people.named(context.Background(), text); got != "Hi Bea" {
		t.Errorf("named during the back-off: got %q, want Hi Bea", got)
	}
}

// awaitLookups waits until no look-up is in flight.
func awaitLookups(d *directory) {
	for {
		d.mu.Lock()
		var wait chan struct{}
		for _, ch := range d.pending {
			wait = ch
			break
		}
		d.mu.Unlock()
		if wait == nil {
			return
		}
		<-wait
	}
}

// A staff member configured as a user group is staff from the first event:
// the memberships are loaded before anything is received, and a reload that
// fails keeps them.
func TestUserGroupsLoadedAtStart(t *testing.T) {
	a, err := New(Options{BotToken: "xoxb-test", AppToken: "xapp-test", SupportChannels: []string{testSupport},
		StaffChannel: testStaff, UserGroups: []string{"S0STAFF0001"}})
	if err != nil {
		t.Fatal(err)
	}
	api := newStubAPI()
	api.groups["S0STAFF0001"] = []string{"U0SAM000001"}
	a.api = api
	a.people = newDirectory(api, []string{"S0STAFF0001"}, a.log, a.spawn)
	if err := a.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := a.people.person("U0SAM000001"); !slices.Equal(p.Roles, []string{"S0STAFF0001"}) {
		t.Errorf("roles at the first event: got %v, want [S0STAFF0001]", p.Roles)
	}
	api.failNext("usergroups.users.list", context.DeadlineExceeded)
	a.people.loadGroups(context.Background())
	if p := a.people.person("U0SAM000001"); !slices.Equal(p.Roles, []string{"S0STAFF0001"}) {
		t.Errorf("roles after a failed reload: got %v, want [S0STAFF0001]", p.Roles)
	}
}

// The staff root of a case opened for someone known by ID alone names them,
// on a process that never saw them (the intro too: the core's placeholder).
func TestOpenPrivateNamesAnUnnamedCustomer(t *testing.T) {
	a, api := newStubAdapter(t)
	api.names["U0CUSTOMER1"] = "Ada"
	cs := &bot.Case{ID: 7, Platform: bot.Slack, Customer: bot.Person{Platform: bot.Slack, ID: "U0CUSTOMER1"}}
	intro := bot.Message{Text: "Hi " + bot.NameOf(cs.Customer) + ", this is a private conversation"}
	if _, _, err := a.OpenPrivate(context.Background(), cs, intro); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"Hi Ada, this is a private conversation", "Case #7: Ada"} {
		if got := api.post(i).Values.Get("text"); got != want {
			t.Errorf("post %d: got %q, want %q", i, got, want)
		}
	}
}
