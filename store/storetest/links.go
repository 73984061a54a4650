package storetest

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

func ident(platform, id string) bot.Identity { return bot.Identity{Platform: platform, ID: id} }

// identities reads the identities of id's person.
func identities(t *testing.T, s bot.Store, id bot.Identity) []bot.Identity {
	t.Helper()
	var out []bot.Identity
	view(t, s, func(ctx context.Context, tx bot.Tx) (err error) {
		out, err = tx.Identities(ctx, id)
		return err
	})
	return out
}

func link(t *testing.T, s bot.Store, a, b bot.Identity, via string) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.Link(ctx, a, b, via) })
}

func testLinks(t *testing.T, s bot.Store) {
	ada, adaD, adaX := ident(bot.Slack, "U-ada"), ident(bot.Discord, "9001"), ident(bot.Sandbox, "ada")
	ben, benD := ident(bot.Slack, "U-ben"), ident(bot.Discord, "9002")
	if got := identities(t, s, ada); !reflect.DeepEqual(got, []bot.Identity{ada}) {
		t.Errorf("Identities of an unlinked identity: got %v, want just itself", got)
	}
	link(t, s, ada, adaD, bot.LinkViaCode)
	want := []bot.Identity{adaD, ada} // by platform, then ID
	for _, i := range want {
		if got := identities(t, s, i); !reflect.DeepEqual(got, want) {
			t.Errorf("Identities of %s: got %v, want %v", i, got, want)
		}
	}
	link(t, s, adaD, ada, "again") // already linked: nothing changes
	link(t, s, adaX, adaD, bot.LinkViaDashboard+"alice")
	link(t, s, ben, benD, bot.LinkViaCode)
	if got, want := identities(t, s, ada), []bot.Identity{adaD, adaX, ada}; !reflect.DeepEqual(got, want) {
		t.Errorf("Identities after a third link: got %v, want %v", got, want)
	}
	if got, want := identities(t, s, benD), []bot.Identity{benD, ben}; !reflect.DeepEqual(got, want) {
		t.Errorf("another person's identities: got %v, want %v", got, want)
	}
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		wantErr(t, "Link with itself", tx.Link(ctx, ada, ada, bot.LinkViaCode), bot.ErrConflict)
		return nil
	})

	// The list: people, the most recently linked first, with how.
	var people [][]bot.LinkedIdentity
	var total int
	view(t, s, func(ctx context.Context, tx bot.Tx) (err error) {
		people, total, err = tx.LinkedPeople(ctx, 0, 0)
		return err
	})
	if total != 2 || len(people) != 2 {
		t.Fatalf("LinkedPeople: got %d people (total %d), want 2", len(people), total)
	}
	var got [][]string
	for _, p := range people {
		var row []string
		for _, l := range p {
			row = append(row, l.String()+" via "+l.Via)
			if l.Person != p[0].Person || l.Person == 0 || l.LinkedAt.IsZero() {
				t.Errorf("LinkedPeople: %s has person %d, linked at %v; want its person's non-zero number and a time", l, l.Person, l.LinkedAt)
			}
		}
		got = append(got, row)
	}
	if people[0][0].Person == people[1][0].Person {
		t.Errorf("LinkedPeople: both people have number %d", people[0][0].Person)
	}
	wantRows := [][]string{
		{"slack:U-ben via code", "discord:9002 via code"},
		{"discord:9001 via code", "slack:U-ada via code", "sandbox:ada via dashboard:alice"},
	}
	for i := range wantRows {
		if i >= len(got) || !sameSet(got[i], wantRows[i]) {
			t.Errorf("LinkedPeople:\n got %q\nwant %q (in any order within a person)", got, wantRows)
			break
		}
	}
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		page, n, err := tx.LinkedPeople(ctx, 1, 1)
		if err != nil || n != 2 || len(page) != 1 || page[0][0].Person != people[1][0].Person {
			t.Errorf("LinkedPeople(1, 1): got %v (total %d), %v; want the second person only", page, n, err)
		}
		return nil
	})

	// Joining two people makes one.
	link(t, s, benD, adaX, bot.LinkViaDashboard+"alice")
	if got := identities(t, s, ben); len(got) != 5 {
		t.Errorf("Identities after joining two people: got %v, want all five", got)
	}
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.Unlink(ctx, benD) })
	if got, want := identities(t, s, benD), []bot.Identity{benD}; !reflect.DeepEqual(got, want) {
		t.Errorf("Identities of an unlinked identity: got %v, want %v", got, want)
	}
	if got, want := identities(t, s, ben), []bot.Identity{adaD, adaX, ada, ben}; !reflect.DeepEqual(got, want) {
		t.Errorf("Identities of the others after Unlink: got %v, want %v", got, want)
	}
	for _, i := range []bot.Identity{ben, adaX, adaD} {
		update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.Unlink(ctx, i) })
	}
	// ada is left alone: no longer linked with anyone.
	if got, want := identities(t, s, ada), []bot.Identity{ada}; !reflect.DeepEqual(got, want) {
		t.Errorf("Identities of the last one: got %v, want %v", got, want)
	}
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		wantErr(t, "Unlink of the last one", tx.Unlink(ctx, ada), bot.ErrNotFound)
		people, n, err := tx.LinkedPeople(ctx, 0, 0)
		if err != nil || n != 0 || len(people) != 0 {
			t.Errorf("LinkedPeople after unlinking all: got %v (total %d), %v; want none", people, n, err)
		}
		return nil
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func testLinkCodes(t *testing.T, s bot.Store) {
	ada, ben := ident(bot.Slack, "U-ada"), ident(bot.Discord, "9002")
	put := func(ctx context.Context, tx bot.Tx, hash string, id bot.Identity, d time.Duration) error {
		return tx.PutLinkCode(ctx, bot.LinkCode{Hash: hash, Identity: id, Expires: tx.Now().Add(d).Truncate(time.Millisecond)})
	}
	take := func(ctx context.Context, tx bot.Tx, hash string) (bot.LinkCode, error) {
		return tx.TakeLinkCode(ctx, hash)
	}

	var expires time.Time
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		expires = tx.Now().Add(time.Hour).Truncate(time.Millisecond)
		return put(ctx, tx, "h1", ada, time.Hour)
	})
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		c, err := take(ctx, tx, "h1")
		if want := (bot.LinkCode{Hash: "h1", Identity: ada, Expires: expires}); err != nil || !c.Expires.Equal(want.Expires) || c.Identity != want.Identity || c.Hash != want.Hash {
			t.Errorf("TakeLinkCode: got %+v, %v; want %+v", c, err, want)
		}
		_, err = take(ctx, tx, "h1")
		wantErr(t, "TakeLinkCode a second time", err, bot.ErrNotFound)
		_, err = take(ctx, tx, "nothing")
		wantErr(t, "TakeLinkCode of no code", err, bot.ErrNotFound)
		return nil
	})

	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		if err := put(ctx, tx, "h2", ada, time.Hour); err != nil {
			return err
		}
		if err := put(ctx, tx, "h3", ada, time.Hour); err != nil { // replaces h2
			return err
		}
		_, err := take(ctx, tx, "h2")
		wantErr(t, "TakeLinkCode of a replaced code", err, bot.ErrNotFound)
		err = put(ctx, tx, "h3", ben, time.Hour)
		wantErr(t, "PutLinkCode with another identity's hash", err, bot.ErrConflict)
		if !strings.Contains(strings.ToLower(err.Error()), "link code") {
			t.Errorf("PutLinkCode conflict: %v names no link code", err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return put(ctx, tx, "h4", ben, -time.Millisecond) })
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		_, err := take(ctx, tx, "h4")
		wantErr(t, "TakeLinkCode of an expired code", err, bot.ErrNotFound)
		return nil
	})
	// An expired code is deleted by the next PutLinkCode: its hash is free.
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return put(ctx, tx, "h5", ben, -time.Millisecond) })
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return put(ctx, tx, "h5", ada, time.Hour) })
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		c, err := take(ctx, tx, "h5")
		if err != nil || c.Identity != ada {
			t.Errorf("TakeLinkCode of a hash freed by expiry: got %+v, %v; want ada's", c, err)
		}
		return nil
	})
}
