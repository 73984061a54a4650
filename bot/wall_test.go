package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// wallOf is what the store's wall lists now.
func wallOf(t *testing.T, h *bottest.Harness) []bot.WallEntry {
	t.Helper()
	w, err := h.Store.Wall(context.Background(), 0, 0)
	if err != nil {
		t.Fatalf("wall: %v", err)
	}
	return w
}

// preview has who rate their resolved case 5 and open the community post's
// preview, and returns the case, its private channel and the modal.
func preview(t *testing.T, h *bottest.Harness, who bot.Person) (int64, string, *bot.Modal) {
	t.Helper()
	id, private := resolvedCase(t, h, who)
	h.Click(who, h.WithButton(private, "5"), "5")
	r := h.Click(who, h.WithButton(private, "Post in #showcase"), "Post in #showcase")
	if r.Modal == nil {
		t.Fatalf("no preview opened")
	}
	return id, private, r.Modal
}

// fieldIDs are the IDs of a modal's fields.
func fieldIDs(m *bot.Modal) []string {
	var ids []string
	for _, f := range m.Fields {
		ids = append(ids, f.ID)
	}
	return ids
}

// postOnWall has who share a testimonial with the wall chosen in the preview.
func postOnWall(t *testing.T, h *bottest.Harness, who bot.Person, text string) int64 {
	t.Helper()
	id, private, m := preview(t, h, who)
	h.Submit(who, m, bot.Ref{Channel: private}, map[string]string{"text": text, "wall": bot.FieldChecked, "name": who.Name})
	return id
}

func TestWallOffAsksNothing(t *testing.T) {
	for _, opt := range []bottest.Option{bottest.DMs(), bottest.TextModals()} {
		h := bottest.New(t, opt, bottest.Configure(func(c *bot.Config) { c.Wall.Enabled = false }))
		ada := h.Person("u-ada", "Ada")
		id, private := resolvedCase(t, h, ada)
		h.Click(ada, h.WithButton(private, "5"), "5")
		if p := h.WithButton(private, "Also show on our website: no"); p != nil {
			t.Errorf("the prompt offers the wall while it is off: %q", p.Msg.Text)
		}
		r := h.Click(ada, h.WithButton(private, "Post in #showcase"), "Post in #showcase")
		if got := fieldIDs(r.Modal); len(got) != 1 || got[0] != "text" {
			t.Errorf("preview fields with the wall off: got %v, want [text]", got)
		}
		// A submission claiming the choice anyway does not make it.
		h.Submit(ada, r.Modal, bot.Ref{Channel: private}, map[string]string{"text": "Great", "wall": bot.FieldChecked, "name": "Ada"})
		if o := h.Offers(id)[0]; o.Wall || o.WallName != "" || !o.WallAt.IsZero() {
			t.Errorf("offer with the wall off: %+v, want no wall choice", o)
		}
		if n := len(h.Events(id, bot.KindWallConsent)); n != 0 {
			t.Errorf("wall_consent with the wall off: got %d, want none", n)
		}
		if w := wallOf(t, h); len(w) != 0 {
			t.Errorf("wall: got %+v, want empty", w)
		}
	}
}

func TestWallChoiceIsTheCustomers(t *testing.T) {
	t.Run("CheckBox", func(t *testing.T) {
		h := bottest.New(t, bottest.DMs())
		ada := h.Person("u-ada", "Ada")
		id := postOnWall(t, h, ada, "Quick and kind")
		want := []bot.WallEntry{{Name: "Ada", Text: "Quick and kind", At: h.Clock.Now()}}
		if got := wallOf(t, h); len(got) != 1 || got[0] != want[0] {
			t.Errorf("wall: got %+v, want %+v", got, want)
		}
		if got := h.Find("dm-u-ada", "on our website"); got == nil {
			t.Errorf("Ada is not told her post is on the website too")
		}
		if n := len(h.Events(id, bot.KindWallConsent)); n != 1 {
			t.Errorf("wall_consent: got %d, want 1", n)
		}
	})
	t.Run("ButtonNotTouched", func(t *testing.T) {
		// Where the choice is a button, a submitted field cannot make it.
		h := bottest.New(t, bottest.TextModals())
		ada := h.Person("u-ada", "Ada")
		id, private, m := preview(t, h, ada)
		if got := fieldIDs(m); len(got) != 1 {
			t.Errorf("preview fields before the choice: got %v, want the text only", got)
		}
		h.Submit(ada, m, bot.Ref{Channel: private}, map[string]string{"text": "Great", "wall": bot.FieldChecked, "name": "Ada"})
		if o := h.Offers(id)[0]; o.Wall || !o.WallAt.IsZero() {
			t.Errorf("offer: %+v, want off the wall", o)
		}
	})
	t.Run("ButtonOnThenOff", func(t *testing.T) {
		h := bottest.New(t, bottest.TextModals())
		ada, ben := h.Person("u-ada", "Ada"), h.Person("u-ben", "Ben")
		id, private := resolvedCase(t, h, ada)
		h.Click(ada, h.WithButton(private, "5"), "5")
		prompt := h.WithButton(private, "Also show on our website: no")
		stale := *prompt
		if r := h.Click(ben, prompt, "Also show on our website: no"); r.Ephemeral == "" {
			t.Errorf("Ben turned Ada's wall choice: %+v", r)
		}
		h.Click(ada, prompt, "Also show on our website: no")
		r := h.Click(ada, h.WithButton(private, "Post in #showcase"), "Post in #showcase")
		if got := fieldIDs(r.Modal); len(got) != 2 || got[1] != "name" {
			t.Errorf("preview fields once the wall is chosen: got %v, want [text name]", got)
		}
		h.Click(ada, h.WithButton(private, "Also show on our website: yes"), "Also show on our website: yes")
		h.Click(ada, h.WithButton(private, "Also show on our website: no"), "Also show on our website: no")
		h.Submit(ada, r.Modal, bot.Ref{Channel: private}, map[string]string{"text": "Great", "name": "Ada B."})
		if got := wallOf(t, h); len(got) != 1 || got[0].Name != "Ada B." {
			t.Errorf("wall: got %+v, want Ada's post under the name she typed", got)
		}
		// After posting, the button no longer changes anything.
		if r := h.Click(ada, &stale, "Also show on our website: no"); r.Ephemeral == "" {
			t.Errorf("the wall choice changed after posting: %+v", r)
		}
		if o := h.Offers(id)[0]; !o.Wall {
			t.Errorf("offer after a stale click: %+v, want still on the wall", o)
		}
	})
}

func TestWallNameIsCleaned(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	_, private, m := preview(t, h, ada)
	long := "Ada \t\n Lovelace\u0007 of the Analytical Engine Society, London, England"
	h.Submit(ada, m, bot.Ref{Channel: private}, map[string]string{"text": "Great", "wall": bot.FieldChecked, "name": long})
	got := wallOf(t, h)
	if want := "Ada Lovelace of the Analytical Engine Society, Lon"; len(got) != 1 || got[0].Name != want {
		t.Errorf("wall name: got %+v, want %q", got, want)
	}
}

func TestOptOutTakesPostsOffTheWall(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	ada := h.Person("u-ada", "Ada")
	first := postOnWall(t, h, ada, "Quick and kind")
	if len(wallOf(t, h)) != 1 {
		t.Fatalf("Ada's post is not on the wall")
	}
	// Ada on Discord, linked: "Don't ask me again" there counts for both.
	d := h.On(bot.Discord, false)
	adaD := d.Person("d-ada", "Ada")
	err := h.Store.Update(context.Background(), func(tx bot.Tx) error {
		return tx.Link(context.Background(), bot.Identity{Platform: ada.Platform, ID: ada.ID},
			bot.Identity{Platform: adaD.Platform, ID: adaD.ID}, bot.LinkViaCode)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Advance(31 * 24 * time.Hour)
	_, private := resolvedCase(t, d, adaD)
	d.Click(adaD, d.WithButton(private, "5"), "5")
	d.Click(adaD, d.WithButton(private, "Don't ask me again"), "Don't ask me again")
	if w := wallOf(t, h); len(w) != 0 {
		t.Errorf("wall after opting out: got %+v, want empty", w)
	}
	if n := len(h.Events(first, bot.KindWallRemoved)); n != 1 {
		t.Errorf("wall_removed on the first case: got %d, want 1", n)
	}
	if got := len(h.Messages("showcase")); got != 1 {
		t.Errorf("showcase posts: got %d, want Ada's post still there (withdrawing it is her choice)", got)
	}
}

func TestForgetTakesPostsOffTheWall(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	ada, ben := h.Person("u-ada", "Ada"), h.Person("u-ben", "Ben")
	postOnWall(t, h, ada, "Quick and kind")
	postOnWall(t, h, ben, "Ben's words")
	err := h.Store.Update(context.Background(), func(tx bot.Tx) error {
		_, err := bot.ForgetPerson(context.Background(), tx, bot.Identity{Platform: ada.Platform, ID: ada.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if w := wallOf(t, h); len(w) != 1 || w[0].Text != "Ben's words" {
		t.Errorf("wall after Ada was forgotten: got %+v, want Ben's post only", w)
	}
}
