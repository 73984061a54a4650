package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// TestExportCSVNeutralisesFormulas exports a case whose customer and channel
// look like spreadsheet formulas: every such text cell comes out with a
// leading apostrophe, the numeric columns as numbers.
func TestExportCSVNeutralisesFormulas(t *testing.T) {
	h := bottest.New(t)
	who := h.Person("=1+1", "-1+cmd|' /C calc'!A0")
	h.Handle(bot.Event{Kind: bot.EventMessage, Where: bot.Ref{Channel: "@SUM(A1)", Message: "q1"}, Author: who,
		Text: "help", Support: true})
	if err := h.Store.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "advocate.yaml")
	if err := os.WriteFile(cfg, []byte("secret: test-secret-0123456789abcdef\nstore:\n  path: "+h.Path()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		table   string
		numeric []string
		want    []string
	}{
		{"cases", []string{"id", "round"}, []string{"'=1+1", "'-1+cmd|' /C calc'!A0", "'@SUM(A1)"}},
		{"events", []string{"id", "case_id"}, []string{"'=1+1"}},
	} {
		out, errOut, code := cli(t, nil, "export", tt.table, "--config", cfg)
		if code != 0 {
			t.Fatalf("export %s: exit %d: %s", tt.table, code, errOut)
		}
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(recs) < 2 {
			t.Fatalf("export %s: %d records, %v:\n%s", tt.table, len(recs), err, out)
		}
		for r, rec := range recs {
			for i, cell := range rec {
				if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					continue
				}
				t.Errorf("export %s: row %d column %s: %q would run as a formula", tt.table, r, recs[0][i], cell)
			}
		}
		for _, w := range tt.want {
			if !slices.ContainsFunc(recs, func(rec []string) bool { return slices.Contains(rec, w) }) {
				t.Errorf("export %s: no cell %q:\n%s", tt.table, w, out)
			}
		}
		for _, col := range tt.numeric {
			i := slices.Index(recs[0], col)
			if i < 0 || strings.HasPrefix(recs[1][i], "'") || recs[1][i] == "" {
				t.Errorf("export %s: numeric column %s: got %q, want a number", tt.table, col, recs[1])
			}
		}
	}
}
