package bot

import (
	"strings"
	"testing"
)

func TestActionIDRoundTrip(t *testing.T) {
	secret := []byte("0123456789abcdef")
	id := actionID{Case: 42, Round: 3, Verb: verbRate, Arg: "5"}
	s := id.sign(secret)
	if len(s) > 100 {
		t.Fatalf("signed ID is %d characters, Discord allows 100", len(s))
	}
	got, err := parseActionID(secret, s)
	if err != nil || got != id {
		t.Fatalf("parse: got %+v, %v; want %+v", got, err, id)
	}
	if _, err := parseActionID([]byte("another-secret-xx"), s); err == nil {
		t.Error("an ID signed with another secret was accepted")
	}
	tampered := strings.Replace(s, ".42.", ".43.", 1)
	if _, err := parseActionID(secret, tampered); err == nil {
		t.Error("a tampered case number was accepted")
	}
}

func FuzzParseActionID(f *testing.F) {
	secret := []byte("0123456789abcdef")
	f.Add(actionID{Case: 1, Round: 1, Verb: verbRate, Arg: "5"}.sign(secret))
	f.Add("a1.1.1.rate.5.AAAAAAAAAAAAAAAA")
	f.Add("")
	f.Add("....")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseActionID(secret, s)
		if err != nil {
			return
		}
		// anything accepted must be exactly what was signed
		if again := id.sign(secret); again != s {
			t.Fatalf("accepted %q, which re-signs as %q", s, again)
		}
	})
}
