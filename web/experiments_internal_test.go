package web

import (
	"math"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/bot"
)

func TestWilsonInterval(t *testing.T) {
	for _, tt := range []struct {
		k, n   int
		lo, hi float64
	}{
		{10, 100, 0.0552, 0.1744}, // the textbook example
		{0, 20, 0, 0.1611},
		{20, 20, 0.8389, 1},
		{1, 2, 0.0945, 0.9055},
	} {
		lo, hi := wilson(tt.k, tt.n)
		if math.Abs(lo-tt.lo) > 0.0001 || math.Abs(hi-tt.hi) > 0.0001 {
			t.Errorf("wilson(%d, %d): got %.4f–%.4f, want %.4f–%.4f", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestTwoProportions(t *testing.T) {
	p, enough := twoProportions(30, 100, 15, 100) // z = 2.54
	if !enough || math.Abs(p-0.0111) > 0.0005 {
		t.Errorf("30/100 vs 15/100: got p = %.4f (enough %v), want 0.0111", p, enough)
	}
	p, enough = twoProportions(12, 100, 10, 100)
	if !enough || p < 0.5 {
		t.Errorf("12/100 vs 10/100: got p = %.4f (enough %v), want about 0.65", p, enough)
	}
	if _, enough := twoProportions(2, 20, 3, 20); enough {
		t.Error("2/20 vs 3/20: enough data, want too few shares for the test")
	}
	if _, enough := twoProportions(0, 0, 3, 20); enough {
		t.Error("no prompts: enough data")
	}
}

func TestVerdicts(t *testing.T) {
	row := func(name string, shared, offered int) variantRow {
		return variantRow{VariantCounts: bot.VariantCounts{Variant: name, Shared: shared, Offered: offered}}
	}
	for _, tt := range []struct {
		rows []variantRow
		want string
	}{
		{[]variantRow{row("plain", 15, 100), row("warm", 30, 100)}, "warm converts better than plain (30.0% vs 15.0%): the difference is significant at 95% (p = 0.011)."},
		{[]variantRow{row("plain", 30, 100), row("warm", 15, 100)}, "warm converts worse than plain"},
		{[]variantRow{row("plain", 10, 100), row("warm", 12, 100)}, "The difference between warm and plain (12.0% vs 10.0%) is not yet significant at 95% (p = 0.65): it may be chance, so keep the experiment running."},
		{[]variantRow{row("plain", 2, 20), row("warm", 3, 20)}, "warm vs plain: not enough data yet (15.0% vs 10.0%)"},
	} {
		got := verdicts(tt.rows, true)
		if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
			t.Errorf("%+v: got %q, want %q…", tt.rows, got, tt.want)
		}
	}
}
