package transfer

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/store/postgres"
	"github.com/advocate-bot/advocate/store/postgres/pgtest"
	"github.com/advocate-bot/advocate/store/sqlite"
)

var t0 = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)

// fill writes a bit of everything a community's database holds.
func fill(t *testing.T, db bot.Store) {
	t.Helper()
	ctx := t.Context()
	err := db.Update(ctx, func(tx bot.Tx) error {
		for i := range 30 {
			p := []string{bot.Slack, bot.Discord}[i%2]
			who := fmt.Sprint("u", i%7)
			c := &bot.Case{Platform: p, Customer: bot.Person{Platform: p, ID: who, Name: "Name " + who},
				Status: bot.StatusResolved, Public: bot.Ref{Platform: p, Channel: "help", Message: fmt.Sprint(i)},
				Private: bot.Ref{Platform: p, Channel: "D" + who}, Staff: bot.Ref{Platform: p, Channel: "staff", Thread: fmt.Sprint("t", i)},
				Assignee: "S1", Question: "question " + fmt.Sprint(i), Round: 1, OpenedAt: t0.Add(time.Duration(i) * time.Hour),
				FirstResponseAt: t0.Add(time.Duration(i)*time.Hour + time.Minute)}
			if err := tx.CreateCase(ctx, c); err != nil {
				return err
			}
			detail, _ := json.Marshal(map[string]any{"text": "said " + fmt.Sprint(i), "round": 1})
			for _, k := range []string{bot.KindAskedPublic, bot.KindTakenPrivate, bot.KindResolved} {
				if err := tx.Record(ctx, bot.CaseEvent{CaseID: c.ID, Kind: k, Actor: "S1", Platform: p, Detail: detail}); err != nil {
					return err
				}
			}
			r := bot.Rating{CaseID: c.ID, Round: 1, Scale: bot.CSAT, Score: 1 + i%5, Satisfied: i%5 >= 3, Comment: "ok"}
			if err := tx.PutRating(ctx, &r); err != nil {
				return err
			}
			o := &bot.Offer{CaseID: c.ID, Round: 1, Target: "showcase", Kind: bot.TargetCommunityPost,
				Policy: bot.PolicySatisfied, Text: "great", State: bot.OfferClicked, Experiment: "wording", Variant: fmt.Sprint("v", i%2)}
			if err := tx.CreateOffer(ctx, o); err != nil {
				return err
			}
			if err := tx.SetTimer(ctx, bot.Timer{CaseID: c.ID, Kind: bot.TimerRemind, Round: 1, DueAt: t0.Add(48 * time.Hour)}); err != nil {
				return err
			}
			if i < 2 {
				in := &bot.Inbound{Event: []byte(fmt.Sprintf(`{"ID":"e%d"}`, i)), Owner: "one", Until: t0}
				if err := tx.PutInbound(ctx, in); err != nil {
					return err
				}
			}
			delayed := bot.Timer{CaseID: c.ID, Kind: bot.TimerPromptDelayed, Round: 1, DueAt: t0.Add(72 * time.Hour), Experiment: "wording", Variant: "later"}
			if err := tx.SetTimer(ctx, delayed); err != nil {
				return err
			}
			for j, st := range []string{"pending", "dead", "delivered"} {
				a := bot.Action{CaseID: c.ID, Platform: p, Lane: fmt.Sprint("case:", c.ID), Kind: bot.ActSend,
					Place: bot.PlacePrivate, Key: fmt.Sprint("survey:", j), Purpose: bot.PurposeSurvey, Subject: int64(j),
					Msg: bot.Message{Text: "hello"}}
				if err := tx.Enqueue(ctx, &a); err != nil {
					return err
				}
				var err error
				switch st {
				case "dead":
					err = tx.MarkFailed(ctx, a.ID, 10, time.Time{}, "boom", true)
				case "delivered":
					err = tx.MarkDelivered(ctx, a.ID, bot.Delivery{Ref: bot.Ref{Platform: p, Channel: "D" + who, Message: "m"}})
				}
				if err != nil {
					return err
				}
			}
			if _, err := tx.Seen(ctx, fmt.Sprint("event-", i)); err != nil {
				return err
			}
			if err := tx.PutPerson(ctx, bot.PersonRecord{Platform: p, ID: who, OptedOut: i%3 == 0, LastPromptAt: t0, LastSurveyAt: t0.Add(time.Hour)}); err != nil {
				return err
			}
		}
		if _, err := tx.Forget(ctx, bot.Slack, "u2"); err != nil {
			return err
		}
		// One person across platforms, a code not entered yet, and the
		// opt-out of a forgotten person.
		for _, l := range [][2]bot.Identity{{{Platform: bot.Slack, ID: "u0"}, {Platform: bot.Discord, ID: "u1"}},
			{{Platform: bot.Slack, ID: "u4"}, {Platform: bot.Discord, ID: "u5"}}, {{Platform: bot.Discord, ID: "u3"}, {Platform: bot.Slack, ID: "u4"}}} {
			if err := tx.Link(ctx, l[0], l[1], bot.LinkViaCode); err != nil {
				return err
			}
		}
		if err := tx.PutLinkCode(ctx, bot.LinkCode{Hash: "h", Identity: bot.Identity{Platform: bot.Slack, ID: "u6"}, Expires: t0.Add(time.Hour)}); err != nil {
			return err
		}
		if err := tx.PutPerson(ctx, bot.PersonRecord{Platform: bot.Slack, ID: "gone", OptedOut: true}); err != nil {
			return err
		}
		_, err := tx.Forget(ctx, bot.Slack, "gone")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot reads everything through the core's contract, as one string.
func snapshot(t *testing.T, db bot.Store) string {
	t.Helper()
	ctx := t.Context()
	var b strings.Builder
	err := db.View(ctx, func(tx bot.Tx) error {
		cases, n, err := tx.FindCases(ctx, bot.CaseFilter{})
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%d cases\n", n)
		for _, c := range cases {
			evs, err := tx.CaseEvents(ctx, c.ID)
			if err != nil {
				return err
			}
			rs, err := tx.Ratings(ctx, c.ID)
			if err != nil {
				return err
			}
			os, err := tx.Offers(ctx, c.ID)
			if err != nil {
				return err
			}
			p, err := tx.Person(ctx, c.Platform, c.Customer.ID)
			if err != nil {
				return err
			}
			ref, err := tx.Delivered(ctx, c.ID, "survey:2")
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%+v\n%+v\n%+v\n", *c, rs, p)
			for _, e := range evs {
				fmt.Fprintf(&b, "%d %s %s %s %s %s\n", e.ID, e.Kind, e.Actor, e.Platform, e.At, e.Detail)
			}
			for _, o := range os {
				fmt.Fprintf(&b, "%+v\n", *o)
			}
			fmt.Fprintf(&b, "%+v\n", ref)
		}
		timers, err := tx.DueTimers(ctx, t0.Add(100*time.Hour), 0)
		if err != nil {
			return err
		}
		pending, err := tx.PendingActions(ctx, t0.Add(100*time.Hour), 0)
		if err != nil {
			return err
		}
		dead, nd, err := tx.DeadLetters(ctx, bot.DeadFilter{}, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%+v\n%+v\n%d %+v\n", timers, pending, nd, dead)
		linked, nl, err := tx.LinkedPeople(ctx, 0, 0)
		if err != nil {
			return err
		}
		gone, err := tx.Person(ctx, bot.Slack, "gone")
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%d %+v\n%+v\n", nl, linked, gone)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Funnel(ctx, bot.FunnelQuery{GroupBy: []string{"platform"}})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "%v\n", rows)
	return b.String()
}

// dashboardStore is what both stores answer the dashboard with.
type dashboardStore interface {
	DashboardFunnel(ctx context.Context, q bot.FunnelQuery) ([]bot.FunnelRow, error)
	Channels(ctx context.Context) ([]bot.Ref, error)
	RatingCounts(ctx context.Context, q bot.FunnelQuery, fn func(keys []string, scale bot.Scale, score, n int) error) error
	ResponseTimes(ctx context.Context, q bot.FunnelQuery,
		fn func(keys []string, bounds []time.Duration, firstResponse, resolution []int) error) error
	SessionKey(ctx context.Context) ([]byte, error)
	Session(ctx context.Context, id string) (user string, expires time.Time, err error)
}

// dashboard is what the dashboard shows, and its sign-in, as one string.
func dashboard(t *testing.T, db dashboardStore) string {
	t.Helper()
	ctx := t.Context()
	var b strings.Builder
	day := t0.Truncate(24 * time.Hour)
	for _, g := range [][]string{nil, {"platform"}, {"channel"}, {"staff"}, {"week"}, {"week", "platform"}} {
		for _, q := range []bot.FunnelQuery{{GroupBy: g}, {Since: day.AddDate(0, 0, 1), Until: day.AddDate(0, 0, 2), GroupBy: g}} {
			rows, err := db.DashboardFunnel(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%v %v\n", g, rows)
			err = db.RatingCounts(ctx, q, func(keys []string, scale bot.Scale, score, n int) error {
				fmt.Fprintf(&b, "%q %s %d: %d\n", keys, scale, score, n)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			err = db.ResponseTimes(ctx, q, func(keys []string, _ []time.Duration, first, res []int) error {
				fmt.Fprintf(&b, "%q %v %v\n", keys, first, res)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	refs, err := db.Channels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key, err := db.SessionKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	user, expires, err := db.Session(ctx, "session-1")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "%v\nkey %x\nsession %s %v\n", refs, key, user, expires)
	return b.String()
}

// signIn starts a dashboard session, as a staff member signing in does.
func signIn(t *testing.T, db *sqlite.DB) {
	t.Helper()
	if _, err := db.SessionKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := db.StartSession(t.Context(), "session-1", "lead", t0, t0.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// tableRows counts a PostgreSQL table's rows.
func tableRows(t *testing.T, url, table string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCopy(t *testing.T) {
	url := pgtest.URL(t)
	path := filepath.Join(t.TempDir(), "advocate.db")
	ctx := t.Context()
	src, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, src)
	signIn(t, src)
	want, wantDashboard := snapshot(t, src), dashboard(t, src)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}

	counts, err := Copy(ctx, path, url, Options{})
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	got := map[string]int64{}
	for _, c := range counts {
		got[c.Table] = c.Rows
	}
	if got["cases"] != 30 || got["outbox"] != 90 || got["case_events"] != 90 || got["people"] != 13 || got["processed_events"] != 30 ||
		got["person_links"] != 5 || got["link_codes"] != 1 || got["forgotten_opt_outs"] != 1 ||
		got["dashboard_keys"] != 1 || got["dashboard_sessions"] != 1 {
		t.Errorf("counts: %v", counts)
	}
	checkInbound(t, url)
	// The copy built the roll-ups: nothing is left to compute on the first view.
	if n := tableRows(t, url, "dashboard_dirty"); n != 0 {
		t.Errorf("%d days marked after the copy, want none", n)
	}
	if n := tableRows(t, url, "dashboard_daily"); n == 0 {
		t.Error("no dashboard_daily rows after the copy")
	}
	dst, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if have := snapshot(t, dst); have != want {
		t.Errorf("PostgreSQL reads differently from SQLite:\n got %s\nwant %s", have, want)
	}
	if have := dashboard(t, dst); have != wantDashboard {
		t.Errorf("the dashboard on PostgreSQL differs from SQLite's:\n got %s\nwant %s", have, wantDashboard)
	}

	// The copy goes on where SQLite left off: new IDs after the copied ones,
	// and a newly forgotten person gets a token of their own.
	err = dst.Update(ctx, func(tx bot.Tx) error {
		c := &bot.Case{Platform: bot.Slack, Customer: bot.Person{Platform: bot.Slack, ID: "new"}, OpenedAt: t0}
		if err := tx.CreateCase(ctx, c); err != nil {
			return err
		}
		if c.ID != 31 {
			t.Errorf("next case ID: got %d, want 31", c.ID)
		}
		a := bot.Action{CaseID: c.ID, Platform: bot.Slack, Lane: "x", Kind: bot.ActSend}
		if err := tx.Enqueue(ctx, &a); err != nil {
			return err
		}
		if a.ID != 91 {
			t.Errorf("next action ID: got %d, want 91", a.ID)
		}
		if _, err := tx.Forget(ctx, bot.Slack, "new"); err != nil {
			return err
		}
		got, err := tx.Case(ctx, c.ID)
		if err != nil {
			return err
		}
		if got.Customer.ID != bot.ForgottenPrefix+"3" {
			t.Errorf("token of the next forgotten person: got %q, want forgotten:3", got.Customer.ID)
		}
		// A new person gets a number of their own.
		if err := tx.Link(ctx, bot.Identity{Platform: bot.Slack, ID: "n1"}, bot.Identity{Platform: bot.Discord, ID: "n2"}, bot.LinkViaCode); err != nil {
			return err
		}
		people, _, err := tx.LinkedPeople(ctx, 0, 0)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		for _, p := range people {
			if seen[p[0].Person] {
				t.Errorf("two people numbered %d after the copy", p[0].Person)
			}
			seen[p[0].Person] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A second copy into a database that has data is refused, and changes nothing.
	if _, err := Copy(ctx, path, url, Options{}); err == nil || !strings.Contains(err.Error(), "empty database") {
		t.Errorf("second Copy: got %v, want a refusal of a non-empty database", err)
	}
}

func TestCopyRefusesRunningBot(t *testing.T) {
	url := pgtest.URL(t)
	path := filepath.Join(t.TempDir(), "advocate.db")
	bot, err := sqlite.Open(t.Context(), path, sqlite.Options{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bot.Close()
	if _, err := Copy(t.Context(), path, url, Options{}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("Copy beside a running bot: got %v, want a refusal", err)
	}
}

// TestCopyKeepsSignIns: a signing key made by an instance started on the
// empty PostgreSQL database gives way to the copied one, so staff signed in
// before the move stay signed in.
func TestCopyKeepsSignIns(t *testing.T) {
	url := pgtest.URL(t)
	path := filepath.Join(t.TempDir(), "advocate.db")
	ctx := t.Context()
	src, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	signIn(t, src)
	want, err := src.SessionKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src.Close()
	early, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := early.SessionKey(ctx); err != nil {
		t.Fatal(err)
	}
	early.Close()
	if _, err := Copy(ctx, path, url, Options{}); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	dst, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if got, err := dst.SessionKey(ctx); err != nil || !bytes.Equal(got, want) {
		t.Errorf("session key after the copy: %x, %v; want SQLite's %x", got, err, want)
	}
	if user, _, err := dst.Session(ctx, "session-1"); err != nil || user != "lead" {
		t.Errorf("session after the copy: %q, %v; want lead's", user, err)
	}
}

// TestCopyRefusesUnknownTable: a table the copy does not know is not left
// behind unnoticed; nothing is copied.
func TestCopyRefusesUnknownTable(t *testing.T) {
	url := pgtest.URL(t)
	path := filepath.Join(t.TempDir(), "advocate.db")
	src, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, src)
	src.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE badges (person TEXT, badge TEXT)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if _, err := Copy(t.Context(), path, url, Options{}); err == nil || !strings.Contains(err.Error(), "badges") {
		t.Fatalf("Copy with an unknown table: got %v, want a refusal naming it", err)
	}
	if n := tableRows(t, url, "cases"); n != 0 {
		t.Errorf("%d cases copied after the refusal, want none", n)
	}
}

// checkInbound claims the events fill kept undecided, on the copy, and keeps
// one more: they came across with their IDs, and the IDs go on after them.
func checkInbound(t *testing.T, url string) {
	t.Helper()
	ctx := t.Context()
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []bot.Inbound
	next := &bot.Inbound{Event: []byte(`{}`), Owner: "two", Until: t0}
	err = db.Update(ctx, func(tx bot.Tx) error {
		var err error
		if got, err = tx.ClaimInbound(ctx, "two", t0.Add(time.Hour), t0.Add(time.Hour), 0); err != nil {
			return err
		}
		return tx.PutInbound(ctx, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0].Event) != `{"ID":"e0"}` || string(got[1].Event) != `{"ID":"e1"}` || got[0].Attempts != 2 {
		t.Fatalf("inbound events on the copy: got %+v, want e0 and e1, claimed a second time", got)
	}
	if next.ID <= got[1].ID {
		t.Errorf("an event kept after the copy got ID %d, not after the copied %d", next.ID, got[1].ID)
	}
}
