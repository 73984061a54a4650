package bot_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

func TestFillNames(t *testing.T) {
	ada := bot.NameOf(bot.Person{ID: "U0ADA"})
	bob := bot.NameOf(bot.Person{ID: "U0BOB"})
	names := map[string]string{"U0ADA": "Ada"}
	tests := []struct {
		text, want string
		unnamed    []string
	}{
		{"Hi " + ada + ", case 1", "Hi Ada, case 1", []string{"U0ADA"}},
		{ada + " and " + bob + " and " + ada, "Ada and U0BOB and Ada", []string{"U0ADA", "U0BOB"}},
		{"no placeholder, U0ADA as written", "no placeholder, U0ADA as written", nil},
		{"a lone mark \u2063U0ADA stays", "a lone mark \u2063U0ADA stays", nil},
	}
	for _, tt := range tests {
		if got := bot.FillNames(tt.text, func(id string) string { return names[id] }); got != tt.want {
			t.Errorf("FillNames(%q) = %q, want %q", tt.text, got, tt.want)
		}
		if got := bot.Unnamed(tt.text); !slices.Equal(got, tt.unnamed) {
			t.Errorf("Unnamed(%q) = %q, want %q", tt.text, got, tt.unnamed)
		}
	}
	if got := bot.NameOf(bot.Person{ID: "U0ADA", Name: "Ada"}); got != "Ada" {
		t.Errorf("NameOf a named person = %q, want the name", got)
	}
}

// A person the platform handed over by ID alone is named by a placeholder in
// every message the core queues, whatever process posts it later, and the
// name the adapter looks up afterwards is recorded on the case.
func TestUnnamedCustomerGetsPlaceholderThenName(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	ada := h.Person("U0ADA", "")
	h.Ask(ada, "My invoice shows the wrong amount")
	cs := activeCase(t, h, ada)
	var named int
	for _, p := range h.Messages(cs.Staff.Channel) {
		if slices.Contains(bot.Unnamed(p.Msg.Text), "U0ADA") {
			named++
		}
	}
	if named == 0 {
		t.Fatalf("staff side: no message names the customer by placeholder: %v", h.Messages(cs.Staff.Channel))
	}

	h.Handle(bot.Event{Kind: bot.EventNamed, Author: h.Person("U0ADA", "Ada")})
	if got := h.Case(cs.ID).Customer.Name; got != "Ada" {
		t.Fatalf("customer name after the look-up: got %q, want Ada", got)
	}
	h.Say(ada, cs.Private, "Still wrong")
	last := h.Last(cs.Staff.Channel)
	if !strings.Contains(last.Msg.Text, "Ada") || len(bot.Unnamed(last.Msg.Text)) > 0 {
		t.Errorf("relayed after the look-up: got %q, want the name and no placeholder", last.Msg.Text)
	}
}

// Nobody can write a placeholder: the mark is removed from what people write,
// so an adapter never replaces an ID someone typed by a name.
func TestPeopleCannotWritePlaceholders(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	ada := h.Person("U0ADA", "Ada")
	h.Ask(ada, "My invoice shows the wrong amount")
	cs := activeCase(t, h, ada)
	forged := bot.NameOf(bot.Person{ID: "U0BOSS"})
	h.Say(ada, cs.Private, "Please ask "+forged+" about it")
	last := h.Last(cs.Staff.Channel)
	if !strings.Contains(last.Msg.Text, "Please ask U0BOSS about it") {
		t.Fatalf("relayed: got %q, want the text as written without the mark", last.Msg.Text)
	}
	if got := bot.Unnamed(last.Msg.Text); len(got) > 0 {
		t.Errorf("relayed text holds placeholders %q written by the customer", got)
	}
}

// A name for a person without an active case, or whose case is named
// already, changes nothing.
func TestNamedEventLeavesNamedCasesAlone(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	ada := h.Person("U0ADA", "Ada")
	h.Ask(ada, "My invoice shows the wrong amount")
	cs := activeCase(t, h, ada)
	h.Handle(bot.Event{Kind: bot.EventNamed, Author: h.Person("U0ADA", "Ada Lovelace")})
	h.Handle(bot.Event{Kind: bot.EventNamed, Author: h.Person("U0NOBODY", "Nobody")})
	if got := h.Case(cs.ID).Customer.Name; got != "Ada" {
		t.Errorf("customer name: got %q, want the one the case was opened with", got)
	}
}
