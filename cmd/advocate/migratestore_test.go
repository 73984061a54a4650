package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/store/postgres/pgtest"
)

// TestMigrateStoreThenReport copies a played database into PostgreSQL and
// reads the same report and export from both.
func TestMigrateStoreThenReport(t *testing.T) {
	url := pgtest.URL(t)
	sqliteCfg := fixture(t)
	out, errOut, code := cli(t, nil, "migrate-store", "--config", sqliteCfg, "--to", url)
	if code != 0 {
		t.Fatalf("migrate-store: exit %d\n%s%s", code, out, errOut)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			rows[f[0]] = f[1]
		}
	}
	if rows["cases"] != "2" || rows["case_events"] == "" || rows["outbox"] == "" || strings.Contains(out, "@") {
		t.Errorf("migrate-store output: want the counts of cases (2), case_events and outbox, no credentials:\n%s", out)
	}
	pgCfg := filepath.Join(t.TempDir(), "advocate.yaml")
	cfg := "secret: test-secret-0123456789abcdef\nstore:\n  driver: postgres\n  url: \"" + url + "\"\n"
	if err := os.WriteFile(pgCfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"report", "--json", "--since", "3650d"}, {"export", "events", "--format", "json"}} {
		want, _, code := cli(t, nil, append(args, "--config", sqliteCfg)...)
		if code != 0 {
			t.Fatalf("%v on SQLite: exit %d", args, code)
		}
		got, errOut, code := cli(t, nil, append(args, "--config", pgCfg)...)
		if code != 0 {
			t.Fatalf("%v on PostgreSQL: exit %d: %s", args, code, errOut)
		}
		if withoutSince(got) != withoutSince(want) {
			t.Errorf("%v differs after migrate-store:\n got %s\nwant %s", args, got, want)
		}
	}
	if _, errOut, code := cli(t, nil, "migrate-store", "--config", sqliteCfg, "--to", url); code == 0 || !strings.Contains(errOut, "empty database") {
		t.Errorf("second migrate-store: exit %d, %s; want a refusal", code, errOut)
	}
}

// withoutSince drops the report's "since" line, which is computed from the
// time of the run.
func withoutSince(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, `"since":`) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
