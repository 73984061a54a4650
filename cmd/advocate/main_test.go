package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
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
		"satisfied", "offered", "clicked", "shared", "By platform", "By staff", "recoveries"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	out, errOut, code = cli(t, nil, "report", "--config", cfg, "--since", "all", "--json", "--by", "platform")
	if code != 0 {
		t.Fatalf("report --json exit %d: %s", code, errOut)
	}
	var rep struct {
		Sections []reportSection `json:"sections"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report --json: %v\n%s", err, out)
	}
	g := rep.Sections[0].Groups[0]
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
	out, errOut, code := cli(t, nil, "export", "cases", "--config", cfg)
	if code != 0 {
		t.Fatalf("export cases exit %d: %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "id" {
		t.Fatalf("cases CSV: got %d rows, %v:\n%s", len(rows), err, out)
	}
	out, _, code = cli(t, nil, "export", "events", "--config", cfg, "--format", "json")
	if code != 0 {
		t.Fatal("export events failed")
	}
	kinds := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev bot.CaseEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("events JSON line %q: %v", line, err)
		}
		kinds[ev.Kind] = true
	}
	if !kinds[bot.KindShared] || !kinds[bot.KindReopened] {
		t.Errorf("exported kinds: got %v", kinds)
	}
	if _, errOut, code := cli(t, nil, "export", "tickets", "--config", cfg); code == 0 || !strings.Contains(errOut, "cases or events") {
		t.Errorf("export of an unknown table: exit %d, %q", code, errOut)
	}
}

func TestForgetCommand(t *testing.T) {
	cfg := fixture(t)
	out, errOut, code := cli(t, nil, "forget", "--config", cfg, "--platform", "sandbox", "--user", "u-ada")
	if code != 0 || !strings.Contains(out, "1 case(s)") {
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
	if code != 0 || !strings.Contains(out, "configuration OK") {
		t.Fatalf("example config: exit %d, %q %q", code, out, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte("secret: x\nshare:\n  targets:\n    - {name: tp, kind: review_link, label: Review, url: 'https://example.com', policy: satisfied}\n"), 0o600)
	_, errOut, code = cli(t, nil, "check-config", "--config", bad)
	if code == 0 || !strings.Contains(errOut, "review gating") || !strings.Contains(errOut, "secret") {
		t.Errorf("bad config: exit %d, %q", code, errOut)
	}
	if _, errOut, code := cli(t, nil, "check-config", "--config", "/nonexistent.yaml"); code == 0 || errOut == "" {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
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
