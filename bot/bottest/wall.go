package bottest

import (
	"encoding/json"
	"slices"

	"github.com/advocate-bot/advocate/bot"
)

// The suite's scripts of the testimonial wall (SuiteConfig turns it on).
// A platform asks "also show on the website" in the preview modal (a check
// box) or, where modals hold text inputs only, with a button on the share
// prompt before the preview; the scripts take whichever the platform shows.

// Labels of the wall choice's button, in the default texts.
const (
	wallOff = "Also show on our website: no"
	wallOn  = "Also show on our website: yes"
)

// Field returns the form's field with the given ID.
func (f *Form) Field(id string) (FormField, bool) {
	i := slices.IndexFunc(f.Fields, func(ff FormField) bool { return ff.ID == id })
	if i < 0 {
		return FormField{}, false
	}
	return f.Fields[i], true
}

// shareOffer has Ada's case resolved and rated 5, and waits for the prompt.
func shareOffer(s *S, question string) {
	s.Helper()
	openCase(s, question)
	resolve(s)
	s.Click(Ada, Private(Ada), "5")
	s.Sees(Ada, Private(Ada), "Would you like to share")
}

// communityOffer is the offer of Ada's newest case to post in #showcase.
func communityOffer(s *S) *bot.Offer {
	s.Helper()
	var out *bot.Offer
	err := s.D.Store().View(s.ctx, func(tx bot.Tx) error {
		cs, err := s.caseOf(tx, Ada)
		if err != nil {
			return err
		}
		offers, err := tx.Offers(s.ctx, cs.ID)
		for _, o := range offers {
			if o.Kind == bot.TargetCommunityPost {
				out = o
			}
		}
		return err
	})
	if err != nil || out == nil {
		s.Fatalf("Ada's community post offer: %v, %v", out, err)
	}
	return out
}

// wallConsent is the detail of the one wall_consent event of Ada's case.
func wallConsent(s *S) map[string]any {
	s.Helper()
	evs := s.Events(Ada, bot.KindWallConsent)
	if len(evs) != 1 {
		s.Fatalf("wall_consent events: got %d, want 1", len(evs))
	}
	var d map[string]any
	if err := json.Unmarshal(evs[0].Detail, &d); err != nil {
		s.Fatalf("wall_consent detail: %v", err)
	}
	return d
}

// scriptWallConsent: Ada chooses to show her post on the website too, under
// a name she types; the choice is recorded, the post goes on the wall once
// it is live, and withdrawing it takes it off.
func scriptWallConsent(s *S) {
	shareOffer(s, "My export is empty")
	if slices.Contains(s.Buttons(Ada, Private(Ada), "Would you like to share"), wallOff) {
		s.Click(Ada, Private(Ada), wallOff)
		s.SeesButton(Ada, Private(Ada), wallOn)
	}
	a := s.Click(Ada, Private(Ada), "Post in #showcase")
	if a.Form == nil {
		s.Fatalf("Post in #showcase opened no form: %+v", a)
	}
	values := map[string]string{"text": "The export works again, thanks!", "name": "  Ada\nL. "}
	if f, ok := a.Form.Field("wall"); ok {
		if !f.Check || f.Value != "" {
			s.Errorf("the wall choice: got %+v, want an unticked check box", f)
		}
		values["wall"] = bot.FieldChecked
	}
	if _, ok := a.Form.Field("name"); !ok {
		s.Fatalf("the preview asks no name for the website: %+v", a.Form)
	}
	s.Submit(Ada, values)
	s.Sees(Ben, Showcase, "The export works again, thanks!")
	s.Sees(Ada, Private(Ada), "live in the community and on our website")
	o := communityOffer(s)
	if !o.Wall || o.WallName != "Ada L." || o.WallAt.IsZero() {
		s.Errorf("offer after posting: wall %v, name %q, on the wall at %v; want true, \"Ada L.\", a time", o.Wall, o.WallName, o.WallAt)
	}
	if d := wallConsent(s); d["wall"] != true || d["name"] != "Ada L." {
		s.Errorf("wall_consent: got %v, want wall true and the name", d)
	}
	s.Click(Ada, Private(Ada), "Withdraw my post")
	s.Sees(Ada, Private(Ada), "Your post has been removed")
	if o := communityOffer(s); o.State != bot.OfferWithdrawn || !o.WallAt.IsZero() {
		s.Errorf("offer after withdrawal: state %s, on the wall at %v; want withdrawn and off the wall", o.State, o.WallAt)
	}
}

// scriptWallOffByDefault: Ada posts without touching the wall choice (and
// types a name, which without the choice means nothing): the post is not on
// the wall, and the choice she left off is recorded as such.
func scriptWallOffByDefault(s *S) {
	shareOffer(s, "My invoice is late")
	a := s.Click(Ada, Private(Ada), "Post in #showcase")
	if a.Form == nil {
		s.Fatalf("Post in #showcase opened no form: %+v", a)
	}
	values := map[string]string{"text": "Sorted in no time"}
	if f, ok := a.Form.Field("wall"); ok && f.Value != "" {
		s.Errorf("the wall check box starts ticked: %+v", f)
	}
	if _, ok := a.Form.Field("name"); ok {
		values["name"] = "Ada"
	}
	s.Submit(Ada, values)
	s.Sees(Ben, Showcase, "Sorted in no time")
	live := s.Sees(Ada, Private(Ada), "Your post is live in the community")
	if o := communityOffer(s); o.Wall || o.WallName != "" || !o.WallAt.IsZero() {
		s.Errorf("offer posted without the wall: wall %v, name %q, on the wall at %v; want none of them", o.Wall, o.WallName, o.WallAt)
	}
	if d := wallConsent(s); d["wall"] != false || d["name"] != "" {
		s.Errorf("wall_consent: got %v, want wall false and no name", d)
	}
	if slices.Contains(live.Buttons, wallOn) || slices.Contains(live.Buttons, wallOff) {
		s.Errorf("the wall can be chosen after posting: %v", live.Buttons)
	}
}
