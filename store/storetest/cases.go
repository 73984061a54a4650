package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

func testCaseRoundTrip(t *testing.T, s bot.Store) {
	c := sampleCase("ann", day(0).Add(123*time.Millisecond))
	c.FirstResponseAt = day(0).Add(time.Minute)
	c = createCase(t, s, c)
	other := createCase(t, s, sampleCase("bob", day(0)))
	if other.ID == c.ID {
		t.Fatalf("two cases got the same ID %d", c.ID)
	}
	if got := getCase(t, s, c.ID); !reflect.DeepEqual(*got, c) {
		t.Errorf("Case after create:\n got %+v\nwant %+v", *got, c)
	}

	c.Status = bot.StatusClosed
	c.Customer.Name = "Ann B."
	c.Private = bot.Ref{Platform: bot.Slack, Channel: "C-private", Thread: "300.1"}
	c.Assignee, c.Question, c.Round = "S2", "", 2
	c.ResolvedAt, c.ClosedAt = day(1), day(2)
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.UpdateCase(ctx, &c) })
	if got := getCase(t, s, c.ID); !reflect.DeepEqual(*got, c) {
		t.Errorf("Case after update:\n got %+v\nwant %+v", *got, c)
	}

	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		_, err := tx.Case(ctx, c.ID+100)
		wantErr(t, "Case of a missing ID", err, bot.ErrNotFound)
		return nil
	})
	err := s.Update(t.Context(), func(tx bot.Tx) error {
		missing := c
		missing.ID = c.ID + 100
		return tx.UpdateCase(t.Context(), &missing)
	})
	wantErr(t, "UpdateCase of a missing ID", err, bot.ErrNotFound)
}

// A case opened for someone the platform named later gets the name; a case
// that has one, or another person's, keeps its own.
func testNameCustomer(t *testing.T, s bot.Store) {
	unnamed := func(c bot.Case) bot.Case { c.Customer.Name = ""; return c }
	first := createCase(t, s, unnamed(sampleCase("ann", day(0))))
	second := createCase(t, s, unnamed(sampleCase("ann", day(1))))
	named := createCase(t, s, sampleCase("ann", day(2)))
	bob := createCase(t, s, unnamed(sampleCase("bob", day(0))))
	onDiscord := unnamed(sampleCase("ann", day(0)))
	onDiscord.Platform, onDiscord.Customer.Platform = bot.Discord, bot.Discord
	onDiscord = createCase(t, s, onDiscord)
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.NameCustomer(ctx, bot.Slack, "ann", "Ann") })
	for _, tt := range []struct {
		c    bot.Case
		want string
	}{{first, "Ann"}, {second, "Ann"}, {named, "Name of ann"}, {bob, ""}, {onDiscord, ""}} {
		got := getCase(t, s, tt.c.ID)
		want := tt.c
		want.Customer.Name = tt.want
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("case %d after NameCustomer:\n got %+v\nwant %+v", tt.c.ID, *got, want)
		}
	}
}

func testActiveCaseFor(t *testing.T, s bot.Store) {
	withStatus := func(c bot.Case, st bot.Status) bot.Case { c.Status = st; return c }
	createCase(t, s, withStatus(sampleCase("ann", day(0)), bot.StatusResolved))
	active := createCase(t, s, withStatus(sampleCase("ann", day(1)), bot.StatusAwaitingCustomer))
	createCase(t, s, withStatus(sampleCase("ann", day(2)), bot.StatusClosed))
	onDiscord := sampleCase("ann", day(0))
	onDiscord.Platform, onDiscord.Customer.Platform = bot.Discord, bot.Discord
	onDiscord = createCase(t, s, onDiscord)

	lookups := []struct {
		platform, customer string
		want               int64 // 0: not found
	}{
		{bot.Slack, "ann", active.ID},
		{bot.Discord, "ann", onDiscord.ID},
		{bot.Slack, "bob", 0},
	}
	check := func(stage string) {
		t.Helper()
		view(t, s, func(ctx context.Context, tx bot.Tx) error {
			for _, l := range lookups {
				c, err := tx.ActiveCaseFor(ctx, l.platform, l.customer)
				if l.want == 0 {
					wantErr(t, stage+": ActiveCaseFor("+l.platform+", "+l.customer+")", err, bot.ErrNotFound)
					continue
				}
				if err != nil {
					return err
				}
				if c.ID != l.want {
					t.Errorf("%s: ActiveCaseFor(%s, %s): got case %d, want %d", stage, l.platform, l.customer, c.ID, l.want)
				}
			}
			return nil
		})
	}
	check("start")

	reopened := createCase(t, s, withStatus(sampleCase("ann", day(3)), bot.StatusReopened))
	lookups[0].want = reopened.ID
	check("a newer active case")

	for _, c := range []bot.Case{active, reopened} {
		c.Status = bot.StatusResolved
		update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.UpdateCase(ctx, &c) })
	}
	lookups[0].want = 0
	check("all resolved")
}

func testCaseByConversation(t *testing.T, s bot.Store) {
	// A Slack DM is the same channel for each of a customer's cases: the most
	// recent case wins.
	old := createCase(t, s, sampleCase("ann", day(0)))
	dm := sampleCase("ann", day(1)) // private D-ann, staff C-staff/200.ann
	dm.Staff.Thread = "201.ann"
	dm = createCase(t, s, dm)
	thread := sampleCase("bob", day(0))
	thread.Private = bot.Ref{Platform: bot.Slack, Channel: "C-support", Thread: "400.1"}
	thread.Staff = thread.Private
	thread = createCase(t, s, thread)
	notYet := sampleCase("cy", day(0))
	notYet.Private, notYet.Staff = bot.Ref{}, bot.Ref{}
	createCase(t, s, notYet)

	tests := []struct {
		name string
		ref  bot.Ref
		want int64 // 0: not found
	}{
		{"private side", bot.Ref{Platform: bot.Slack, Channel: "D-ann"}, dm.ID},
		{"message ignored", bot.Ref{Platform: bot.Slack, Channel: "D-ann", Message: "555.5"}, dm.ID},
		{"staff side", bot.Ref{Platform: bot.Slack, Channel: "C-staff", Thread: "201.ann"}, dm.ID},
		{"older case's staff thread", bot.Ref{Platform: bot.Slack, Channel: "C-staff", Thread: "200.ann"}, old.ID},
		{"shared thread", bot.Ref{Platform: bot.Slack, Channel: "C-support", Thread: "400.1"}, thread.ID},
		{"other thread", bot.Ref{Platform: bot.Slack, Channel: "C-staff", Thread: "400.1"}, 0},
		{"channel without thread", bot.Ref{Platform: bot.Slack, Channel: "C-staff"}, 0},
		{"other platform", bot.Ref{Platform: bot.Discord, Channel: "D-ann"}, 0},
		{"zero ref", bot.Ref{Platform: bot.Slack}, 0},
	}
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		for _, tt := range tests {
			c, err := tx.CaseByConversation(ctx, tt.ref)
			if tt.want == 0 {
				wantErr(t, tt.name, err, bot.ErrNotFound)
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if c.ID != tt.want {
				t.Errorf("%s: got case %d, want %d", tt.name, c.ID, tt.want)
			}
		}
		return nil
	})
}

func testFindCases(t *testing.T, s bot.Store) {
	mk := func(customer, platform, channel, assignee string, st bot.Status, opened time.Time) int64 {
		c := sampleCase(customer, opened)
		c.Platform, c.Public.Channel, c.Assignee, c.Status = platform, channel, assignee, st
		return createCase(t, s, c).ID
	}
	c1 := mk("ann", bot.Slack, "C-help", "S1", bot.StatusClosed, day(0))
	c2 := mk("bob", bot.Slack, "C-help", "S2", bot.StatusAwaitingStaff, day(1))
	c3 := mk("ann", bot.Discord, "G-general", "S1", bot.StatusResolved, day(2))
	c4 := mk("cy", bot.Slack, "C-other", "", bot.StatusOpen, day(3))
	c5 := mk("dee", bot.Slack, "C-help", "S1", bot.StatusAwaitingStaff, day(3)) // same time as c4

	tests := []struct {
		name      string
		f         bot.CaseFilter
		want      []int64
		wantTotal int
	}{
		{"all, newest first", bot.CaseFilter{}, []int64{c5, c4, c3, c2, c1}, 5},
		{"platform", bot.CaseFilter{Platform: bot.Slack}, []int64{c5, c4, c2, c1}, 4},
		{"channel", bot.CaseFilter{Channel: "C-help"}, []int64{c5, c2, c1}, 3},
		{"customer", bot.CaseFilter{CustomerID: "ann"}, []int64{c3, c1}, 2},
		{"assignee", bot.CaseFilter{Assignee: "S1"}, []int64{c5, c3, c1}, 3},
		{"statuses", bot.CaseFilter{Statuses: []bot.Status{bot.StatusOpen, bot.StatusAwaitingStaff}}, []int64{c5, c4, c2}, 3},
		{"since", bot.CaseFilter{Since: day(2)}, []int64{c5, c4, c3}, 3},
		{"until", bot.CaseFilter{Until: day(2)}, []int64{c2, c1}, 2},
		{"page", bot.CaseFilter{Offset: 1, Limit: 2}, []int64{c4, c3}, 5},
		{"last page", bot.CaseFilter{Offset: 4, Limit: 2}, []int64{c1}, 5},
		{"combined", bot.CaseFilter{Platform: bot.Slack, Assignee: "S1", Since: day(1)}, []int64{c5}, 1},
		{"none", bot.CaseFilter{CustomerID: "nobody"}, nil, 0},
	}
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		for _, tt := range tests {
			cases, total, err := tx.FindCases(ctx, tt.f)
			if err != nil {
				return err
			}
			var got []int64
			for _, c := range cases {
				got = append(got, c.ID)
			}
			if !slices.Equal(got, tt.want) || total != tt.wantTotal {
				t.Errorf("%s: got %v (total %d), want %v (total %d)", tt.name, got, total, tt.want, tt.wantTotal)
			}
		}
		return nil
	})
}
