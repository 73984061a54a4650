package config

import (
	"slices"
	"testing"

	"github.com/advocate-bot/advocate/bot"
)

func TestStaffSectionIsKeyedByPlatformForTheCore(t *testing.T) {
	f, err := Parse([]byte("staff:\n  slack:\n    users: [U1]\n    roles: [S1]\n  discord:\n    roles: [\"42\"]\n  note_prefix: \"#note\"\n"), env(nil))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	f.Staff.Sandbox.Users = append(f.Staff.Sandbox.Users, "s-sam") // as run adds the sandbox's personas
	core := f.Core()
	for _, c := range []struct {
		platform     string
		users, roles []string
	}{
		{bot.Slack, []string{"U1"}, []string{"S1"}},
		{bot.Discord, nil, []string{"42"}},
		{bot.Sandbox, []string{"s-sam"}, nil},
	} {
		got := core.Staff.Of(c.platform)
		if !slices.Equal(got.Users, c.users) || !slices.Equal(got.Roles, c.roles) {
			t.Errorf("staff of %s: got %+v, want users %v roles %v", c.platform, got, c.users, c.roles)
		}
	}
	if got, want := core.Staff.NotePrefix, "#note"; got != want {
		t.Errorf("note prefix: got %q, want %q", got, want)
	}
	def := Default()
	if got, want := def.Core().Staff.NotePrefix, "!note"; got != want {
		t.Errorf("default note prefix: got %q, want %q", got, want)
	}
	if _, err := Parse([]byte("staff:\n  slak:\n    users: [U1]\n"), env(nil)); err == nil {
		t.Error("a misspelt platform under staff was accepted")
	}
}
