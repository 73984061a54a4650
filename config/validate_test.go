package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/bot"
)

func TestValidateSecret(t *testing.T) {
	slackOn := "slack:\n  enabled: true\n  bot_token: xoxb-1\n  app_token: xapp-1\n  staff_channel: C1\n  showcase_channel: C2\n"
	discordOn := "discord:\n  enabled: true\n  token: t\n  application_id: \"1\"\n  staff_channel: \"3\"\n  showcase_channel: \"2\"\n"
	tests := []struct {
		name     string
		secret   string
		yaml     string
		contains []string // none: valid
	}{
		{name: "sandbox with the example secret", secret: ExampleSecret},
		{name: "sandbox with 16 bytes", secret: "0123456789abcdef"},
		{name: "slack with 32 bytes", secret: platformSecret, yaml: slackOn},
		{name: "discord with 64 hex digits", secret: strings.Repeat("ab", 32), yaml: discordOn},

		{name: "slack with the example secret", secret: ExampleSecret, yaml: slackOn,
			contains: []string{"published example value", "slack enabled", "ADVOCATE_SECRET", "openssl rand -hex 32"}},
		{name: "discord with the example secret", secret: ExampleSecret, yaml: discordOn,
			contains: []string{"published example value", "discord enabled"}},
		{name: "both with 31 bytes", secret: platformSecret[:31], yaml: slackOn + discordOn,
			contains: []string{"too short (31 bytes) with slack and discord enabled", "at least 32", "openssl rand -hex 32"}},
		{name: "slack with 10 bytes", secret: "0123456789", yaml: slackOn,
			contains: []string{"too short (10 bytes) with slack enabled", "at least 32"}},
		{name: "slack without a secret", secret: "", yaml: slackOn,
			contains: []string{"required with slack enabled", "openssl rand -hex 32"}},
		{name: "sandbox with 10 bytes", secret: "0123456789", contains: []string{"too short"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte("secret: \""+tt.secret+"\"\n"+tt.yaml), env(nil))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = f.Validate()
			if len(tt.contains) == 0 {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			wantKeyError(t, err, "secret: ", tt.contains...)
			if got := strings.Count("\n"+err.Error(), "\nsecret: "); got != 1 {
				t.Errorf("got %d secret problems, want 1:\n%v", got, err)
			}
		})
	}
}

func TestExampleSecretIsRefusedOnPlatforms(t *testing.T) {
	f, err := Load(examplePath, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if f.Secret != ExampleSecret {
		t.Fatalf("the example's secret is %q, want ExampleSecret %q (the value Validate refuses on real platforms)", f.Secret, ExampleSecret)
	}
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "slack:\n  enabled: false", "slack:\n  enabled: true", 1)
	text = strings.Replace(text, "staff_channel: \"\"", "staff_channel: C1", 1)
	text = strings.Replace(text, "showcase_channel: \"\"", "showcase_channel: C2", 1)
	f, err = Parse([]byte(text), env(map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}))
	if err != nil {
		t.Fatal(err)
	}
	err = f.Validate()
	wantKeyError(t, err, "secret: ", "published example value")
	if got := flatten(err); len(got) != 1 {
		t.Errorf("the example with Slack on and its channels set: got %d problems, want only the secret:\n%v", len(got), err)
	}
}

func TestParseValidReportsEveryProblem(t *testing.T) {
	yml := `secret: short-secret-0123456789
brand: [not, a, string]
sla:
  first_responce: 2h
survey:
  scale: stars
http:
  listen: ":8080"
slack:
  enabled: true
  bot_token: xoxb-1
  app_token: ${SLACK_APP_TOKEN}
  staff_channel: C1
  showcase_channel: C2
`
	_, err := parseValid([]byte(yml), env(nil))
	for _, prefix := range []string{
		"brand: line 2: ",
		"sla.first_responce: line 4: unknown key (did you mean first_response?)",
		"slack.app_token: line 12: environment variable SLACK_APP_TOKEN",
		"secret: too short (23 bytes) with slack enabled",
		"survey.scale: ",
		"http.listen: ",
	} {
		wantKeyError(t, err, prefix)
	}
	// A value with a parse problem keeps its default: it is not reported
	// again, as required or wrong, by Validate.
	if got := len(flatten(err)); got != 6 {
		t.Errorf("got %d problems, want 6:\n%v", got, err)
	}
	if strings.Contains(err.Error(), "slack.app_token: required") {
		t.Errorf("the unset variable is reported twice:\n%v", err)
	}

	f, err := parseValid([]byte(validBase), env(nil))
	if err != nil || f == nil {
		t.Fatalf("a valid file: got %v, %v", f, err)
	}
	if _, err := parseValid([]byte("brand: [\n"), env(nil)); err == nil || !strings.Contains(err.Error(), "invalid YAML") {
		t.Errorf("bad YAML: got %v", err)
	}
}

func TestLoadValid(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "advocate.yaml")
	if err := os.WriteFile(path, []byte("colour: red\nhttp:\n  listen: 0.0.0.0:8080\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadValid(path, env(nil))
	if err == nil || !strings.HasPrefix(err.Error(), path+" is not valid:\n") {
		t.Fatalf("got %v, want it to start with the path", err)
	}
	for _, want := range []string{"colour: line 1: unknown key", "secret: required", "http.listen: "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got\n%v\nwant it to contain %q", err, want)
		}
	}
	f, err := LoadValid(examplePath, env(nil))
	if err != nil {
		t.Fatalf("the example: %v", err)
	}
	if f.Brand != "Acme" {
		t.Errorf("the example's brand: got %q, want Acme", f.Brand)
	}
}

func TestDefaultShareTarget(t *testing.T) {
	// A first Slack setup: a showcase channel, no share.targets.
	f, err := Parse([]byte(validBase+"slack:\n  enabled: true\n  bot_token: xoxb-1\n  app_token: xapp-1\n  staff_channel: C1\n  showcase_channel: C2\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := f.Share.Targets, []bot.ShareTarget{DefaultShareTarget}; !slices.Equal(got, want) {
		t.Errorf("share.targets left out: got %+v, want %+v", got, want)
	}
	if got := DefaultShareTarget; got.Kind != bot.TargetCommunityPost || got.EffectivePolicy() != bot.PolicySatisfied {
		t.Errorf("the default target is %+v, want a community post for satisfied customers", got)
	}
	if notes := f.Notes(); len(notes) != 0 {
		t.Errorf("notes: got %q, want none", notes)
	}

	f, err = Parse([]byte(validBase+"share:\n  targets: []\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Share.Targets) != 0 {
		t.Errorf("share.targets: []: got %+v, want sharing off", f.Share.Targets)
	}
	if notes := f.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "sharing is off") {
		t.Errorf("notes with sharing off: got %q", notes)
	}

	f, err = Parse([]byte(validBase+"share:\n  targets:\n    - {name: x, kind: x_post, label: X}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Share.Targets) != 1 || f.Share.Targets[0].Name != "x" {
		t.Errorf("listed targets replace the default: got %+v", f.Share.Targets)
	}
}

func TestExampleIsADemo(t *testing.T) {
	f, err := Load(examplePath, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if f.Brand != "Acme" {
		t.Errorf("brand: got %q, want a real-sounding brand, Acme", f.Brand)
	}
	if !f.Store.KeepMessageText || !f.Config.KeepText {
		t.Errorf("store.keep_message_text: got false in the example, want true (the review pages show comments and transcripts)")
	}
	if d := Default(); d.Store.KeepMessageText {
		t.Errorf("the default store.keep_message_text: got true, want false (production keeps only metadata)")
	}
}
