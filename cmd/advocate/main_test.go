package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// cli runs one advocate command line in-process.
func cli(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), code
}

// fixture plays one satisfied case to a shared post and one unhappy case, and
// returns a config file pointing at that database.
func fixture(t *testing.T) (cfgPath string) {
	t.Helper()
	h := bottest.New(t)
	ada, bob := h.Person("u-ada", "Ada"), h.Person("u-bob", "Bob")
	for _, p := range []bot.Person{ada, bob} {
		h.Ask(p, "help please")
	}
	for i, p := range []bot.Person{ada, bob} {
		ch := "case-" + string(rune('1'+i))
		h.Say(h.Staff(), bot.Ref{Channel: ch}, "on it")
		h.Click(h.Staff(), h.WithButtonIn(h.Case(int64(i+1)).Staff, "Resolve"), "Resolve")
		score := map[string]string{"u-ada": "5", "u-bob": "1"}[p.ID]
		h.Click(p, h.WithButton(ch, score), score)
	}
	r := h.Click(ada, h.WithButton("case-1", "Post in #showcase"), "Post in #showcase")
	h.Submit(ada, r.Modal, bot.Ref{Channel: "case-1"}, map[string]string{"text": "Great help"})
	h.Click(ada, h.WithButton("case-1", "Post on X"), "Post on X")
	if err := h.Store.Close(); err != nil {
		t.Fatal(err)
	}
	cfgPath = filepath.Join(t.TempDir(), "advocate.yaml")
	cfg := "secret: test-secret-0123456789abcdef\nstore:\n  path: " + h.Path() + "\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath
}

func TestReportShowsEveryFunnelStep(t *testing.T) {
	cfg := fixture(t)
	out, errOut, code := cli(t, nil, "report", "--config", cfg, "--since", "all")
	if code != 0 {
		t.Fatalf("report exit %d: %s", code, errOut)
	}
	for _, want := range []string{"asked", "taken_private", "first_response", "resolved", "surveyed", "rated",
		"satisfied", "offered", "clicked", "shared", "recoveries"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// One section by default: the total, not the same table under four titles.
	if got := strings.Count(out, "\n== "); got != 1 || !strings.Contains(out, "== All cases") {
		t.Errorf("default report: got %d sections, want one, All cases:\n%s", got, out)
	}

	out, _, _ = cli(t, nil, "report", "--config", cfg, "--since", "all", "--by", "platform")
	if got := strings.Count(out, "\n== "); got != 2 || !strings.Contains(out, "== All cases") || !strings.Contains(out, "== By platform") {
		t.Errorf("report --by platform: got %d sections, want All cases then By platform:\n%s", got, out)
	}

	out, errOut, code = cli(t, nil, "report", "--config", cfg, "--since", "all", "--json", "--by", "platform")
	if code != 0 {
		t.Fatalf("report --json exit %d: %s", code, errOut)
	}
	var rep struct {
		Sections []reportSection `json:"sections"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Sections) != 2 {
		t.Fatalf("report --json --by platform: %v, want two sections\n%s", err, out)
	}
	g := rep.Sections[1].Groups[0]
	counts := map[string]int{}
	for _, s := range g.Stages {
		counts[s.Stage] = s.Count
	}
	want := map[string]int{"asked": 2, "taken_private": 2, "first_response": 2, "resolved": 2, "surveyed": 2,
		"rated": 2, "satisfied": 1, "offered": 2, "clicked": 1, "shared": 1}
	for stage, n := range want {
		if counts[stage] != n {
			t.Errorf("stage %s: got %d, want %d", stage, counts[stage], n)
		}
	}
	if g.Keys["platform"] != bot.Sandbox {
		t.Errorf("group key: got %v", g.Keys)
	}
}

func TestExportCasesAndEvents(t *testing.T) {
	cfg := fixture(t)
	for _, table := range []string{"cases", "events"} {
		out, errOut, code := cli(t, nil, "export", table, "--config", cfg)
		if code != 0 {
			t.Fatalf("export %s exit %d: %s", table, code, errOut)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) < 3 || rows[0][0] != "id" {
			t.Fatalf("%s CSV: got %d rows, %v:\n%s", table, len(rows), err, out)
		}
		out, errOut, code = cli(t, nil, "export", table, "--config", cfg, "--format", "json")
		if code != 0 {
			t.Fatalf("export %s --format json exit %d: %s", table, code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(rows)-1 {
			t.Fatalf("%s: got %d JSON lines and %d CSV rows", table, len(lines), len(rows)-1)
		}
		for i, line := range lines {
			keys, values := jsonObject(t, line)
			if !slices.Equal(keys, rows[0]) {
				t.Fatalf("%s JSON keys: got %v, want the CSV header %v", table, keys, rows[0])
			}
			for j, k := range keys {
				if got, want := jsonCell(values[k]), rows[i+1][j]; got != want {
					t.Errorf("%s row %d %s: JSON %s, CSV %q", table, i+1, k, values[k], want)
				}
			}
		}
	}

	out, _, _ := cli(t, nil, "export", "events", "--config", cfg, "--format", "json")
	kinds := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct {
			CaseID int64           `json:"case_id"`
			Kind   string          `json:"kind"`
			Detail json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("events JSON line %q: %v", line, err)
		}
		kinds[ev.Kind] = true
		if ev.CaseID == 0 {
			t.Errorf("event without case_id: %s", line)
		}
		if ev.Kind == bot.KindRated && !strings.HasPrefix(string(ev.Detail), "{") {
			t.Errorf("a rating's detail: got %s, want the JSON object itself", ev.Detail)
		}
	}
	if !kinds[bot.KindShared] || !kinds[bot.KindReopened] {
		t.Errorf("exported kinds: got %v", kinds)
	}
	if _, errOut, code := cli(t, nil, "export", "tickets", "--config", cfg); code == 0 || !strings.Contains(errOut, "cases or events") {
		t.Errorf("export of an unknown table: exit %d, %q", code, errOut)
	}
}

// jsonObject returns a JSON object's keys in order and its values.
func jsonObject(t *testing.T, line string) ([]string, map[string]json.RawMessage) {
	t.Helper()
	values := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(line), &values); err != nil {
		t.Fatalf("JSON line %q: %v", line, err)
	}
	dec := json.NewDecoder(strings.NewReader(line))
	var keys []string
	_, _ = dec.Token() // {
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		_ = dec.Decode(&skip)
	}
	return keys, values
}

// jsonCell is a JSON value as the CSV writes it: strings unquoted, null empty,
// numbers and objects as they are.
func jsonCell(v json.RawMessage) string {
	var s string
	switch {
	case string(v) == "null":
		return ""
	case json.Unmarshal(v, &s) == nil:
		return s
	}
	return string(v)
}

func TestForgetCommand(t *testing.T) {
	cfg := fixture(t)
	out, errOut, code := cli(t, nil, "forget", "--config", cfg, "--platform", "sandbox", "--user", "u-ada")
	if code != 0 || !strings.Contains(out, "1 case(s)") || strings.Contains(out, "linked") {
		t.Fatalf("forget: exit %d, %q %q", code, out, errOut)
	}
	out, _, _ = cli(t, nil, "export", "cases", "--config", cfg)
	if strings.Contains(out, "u-ada") || strings.Contains(out, "Ada") {
		t.Errorf("export after forget still names the person:\n%s", out)
	}
	out, _, _ = cli(t, nil, "report", "--config", cfg, "--since", "all", "--by", "platform", "--json")
	if !strings.Contains(out, `"count": 2`) {
		t.Errorf("anonymous counts lost after forget:\n%s", out)
	}
	if _, errOut, code := cli(t, nil, "forget", "--config", cfg); code == 0 || !strings.Contains(errOut, "--platform and --user") {
		t.Errorf("forget without a user: exit %d, %q", code, errOut)
	}
}

func TestCheckConfig(t *testing.T) {
	out, errOut, code := cli(t, nil, "check-config", "--config", "../../config.example.yaml")
	if code != 0 || !strings.Contains(out, "configuration OK") || strings.Contains(out, "note:") {
		t.Fatalf("example config: exit %d, %q %q", code, out, errOut)
	}
	bad := writeConfig(t, "secret: x\nshare:\n  targets:\n    - {name: tp, kind: review_link, label: Review, url: 'https://example.com', policy: satisfied}\n")
	_, errOut, code = cli(t, nil, "check-config", "--config", bad)
	if code == 0 || !strings.Contains(errOut, "review gating") || !strings.Contains(errOut, "secret") {
		t.Errorf("bad config: exit %d, %q", code, errOut)
	}
	if _, errOut, code := cli(t, nil, "check-config", "--config", "/nonexistent.yaml"); code == 0 || errOut == "" {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}

	off := writeConfig(t, "secret: test-secret-0123456789abcdef\nshare:\n  targets: []\n")
	out, errOut, code = cli(t, nil, "check-config", "--config", off)
	if code != 0 || !strings.Contains(out, "0 share target(s)") || !strings.Contains(out, "note: sharing is off") {
		t.Errorf("sharing off: exit %d, %q %q", code, out, errOut)
	}
	out, _, _ = cli(t, nil, "check-config", "--config", writeConfig(t, "secret: test-secret-0123456789abcdef\n"))
	if !strings.Contains(out, "1 share target(s)") || strings.Contains(out, "note:") {
		t.Errorf("share.targets left out: got %q, want the default community post", out)
	}
}

// TestCheckConfigListsEveryProblem: a misspelt key, a bad value, the example
// secret on Slack, an open dashboard on the network and a sandbox persona
// the sandbox refuses, all in one answer, from check-config and from run.
func TestCheckConfigListsEveryProblem(t *testing.T) {
	cfg := writeConfig(t, `secret: sandbox-only-secret-change-me
sandbox:
  customers: ["!!!"]
sla:
  first_responce: 2h
survey:
  remind_after: soon
http:
  listen: "0.0.0.0:8080"
slack:
  enabled: true
  bot_token: xoxb-1
  app_token: xapp-1
  staff_channel: C1
  showcase_channel: C2
`)
	for _, cmd := range []string{"check-config", "run"} {
		_, errOut, code := cli(t, nil, cmd, "--config", cfg)
		if code == 0 {
			t.Fatalf("%s accepted the file", cmd)
		}
		for _, want := range []string{
			"sla.first_responce: line 5: unknown key (did you mean first_response?)",
			"survey.remind_after: line 7: ",
			"secret: the published example value, with slack enabled",
			"openssl rand -hex 32",
			"http.listen: 0.0.0.0:8080 is not a loopback address",
			`sandbox: persona name "!!!" has no letter or digit`,
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s lacks %q:\n%s", cmd, want, errOut)
			}
		}
	}
}

// TestRunRefusesWhatCheckConfigRefuses runs both commands on each file: the
// same refusal, from the same check, before run opens anything.
func TestRunRefusesWhatCheckConfigRefuses(t *testing.T) {
	// Platform APIs on a closed loopback port: a run that wrongly starts
	// reaches nothing beyond this machine, and stops at the deadline below.
	slackOn := "slack:\n  enabled: true\n  bot_token: xoxb-1\n  app_token: xapp-1\n  staff_channel: C1\n  showcase_channel: C2\n  api_url: http://127.0.0.1:1/api/\n"
	discordOn := "discord:\n  enabled: true\n  token: t\n  application_id: \"1\"\n  staff_channel: \"3\"\n  showcase_channel: \"2\"\n  api_url: http://127.0.0.1:1/\n"
	tests := []struct{ name, yaml, want string }{
		{"open dashboard on the network", "secret: test-secret-0123456789abcdef\nhttp:\n  listen: \"0.0.0.0:0\"\n", "not a loopback address"},
		{"example secret on slack", "secret: sandbox-only-secret-change-me\n" + slackOn, "published example value"},
		{"short secret on discord", "secret: test-secret-0123456789abcdef\n" + discordOn, "too short (28 bytes) with discord enabled"},
		{"misspelt key", "secret: test-secret-0123456789abcdef\nsla:\n  first_responce: 2h\n", "did you mean first_response?"},
		{"sandbox persona without a letter", "secret: test-secret-0123456789abcdef\nsandbox:\n  customers: [\"!!!\"]\n", "has no letter or digit"},
		{"slack staff channel blank", "secret: test-secret-0123456789abcdef0123\n" + strings.Replace(slackOn, "staff_channel: C1", "staff_channel: \"  \"", 1), "staff channel is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := writeConfig(t, tt.yaml+"store:\n  path: "+filepath.Join(dir, "advocate.db")+"\n")
			for _, cmd := range []string{"check-config", "run"} {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				var out, errOut bytes.Buffer
				code := execute(ctx, []string{cmd, "--config", cfg}, func(string) string { return "" }, &out, &errOut)
				cancel()
				if code == 0 || !strings.Contains(errOut.String(), tt.want) {
					t.Errorf("%s: exit %d, got %q %q, want a refusal with %q", cmd, code, out.String(), errOut.String(), tt.want)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "advocate.db")); err == nil {
				t.Errorf("run created the database before refusing the configuration")
			}
		})
	}
}

// writeConfig writes a configuration file for one test and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "advocate.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVersionAndHelp(t *testing.T) {
	out, _, code := cli(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "advocate ") {
		t.Errorf("version: %d %q", code, out)
	}
	for _, sub := range []string{"run", "report", "export", "forget", "check-config"} {
		out, _, code := cli(t, nil, sub, "--help")
		if code != 0 || !strings.Contains(out, "--config") {
			t.Errorf("%s --help: exit %d:\n%s", sub, code, out)
		}
	}
}

func TestDiscordInviteURL(t *testing.T) {
	out, errOut, code := cli(t, nil, "discord", "invite-url", "--application-id", "123456789012345678")
	if code != 0 || !strings.Contains(out, "client_id=123456789012345678") || !strings.Contains(out, "permissions=") {
		t.Errorf("invite-url: exit %d, %q %q", code, out, errOut)
	}
	if _, errOut, code := cli(t, nil, "discord", "invite-url", "--config", "../../config.example.yaml"); code == 0 || !strings.Contains(errOut, "application") {
		t.Errorf("invite-url without an application ID: exit %d, %q", code, errOut)
	}
}

// forget erases every identity linked with the one named, and keeps the
// opt-out of a person who had opted out.
func TestForgetCommandErasesLinkedIdentities(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	discord := h.On(bot.Discord, false)
	adaS, adaD := h.Person("U-ada", "Ada"), discord.Person("9001", "Ada")
	r := discord.Command(adaD, bot.CmdLink, "")
	code := regexp.MustCompile(`[0-9A-Z]{4}-[0-9A-Z]{4}`).FindString(r.Ephemeral)
	if got := h.Command(adaS, bot.CmdLink, code).Ephemeral; !strings.Contains(got, "Linked") {
		t.Fatalf("/link %q: got %q", code, got)
	}
	discord.Ask(adaD, "my invoice is wrong")
	h.Ask(adaS, "and my login")
	err := h.Store.Update(t.Context(), func(tx bot.Tx) error {
		return tx.PutPerson(t.Context(), bot.PersonRecord{Platform: bot.Discord, ID: "9001", OptedOut: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Store.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "advocate.yaml")
	if err := os.WriteFile(cfg, []byte("secret: test-secret-0123456789abcdef\nstore:\n  path: "+h.Path()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	out, errOut, exit := cli(t, nil, "forget", "--config", cfg, "--platform", "slack", "--user", "U-ada")
	if want := "forgot slack user U-ada and the identities linked with it (discord:9001): 2 case(s) anonymised"; exit != 0 || !strings.Contains(out, want) {
		t.Fatalf("forget: exit %d, %q %q; want %q", exit, out, errOut, want)
	}
	out, _, _ = cli(t, nil, "export", "cases", "--config", cfg)
	if strings.Contains(out, "U-ada") || strings.Contains(out, "9001") || strings.Contains(out, "Ada") {
		t.Errorf("export after forget still names a linked identity:\n%s", out)
	}
	db, err := sqlite.Open(t.Context(), h.Path(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(t.Context(), func(tx bot.Tx) error {
		for _, id := range []bot.Identity{{Platform: bot.Slack, ID: "U-ada"}, {Platform: bot.Discord, ID: "9001"}} {
			p, err := tx.Person(t.Context(), id.Platform, id.ID)
			if err != nil || !p.OptedOut {
				t.Errorf("%s after forget: got %+v, %v; want still opted out", id, p, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
