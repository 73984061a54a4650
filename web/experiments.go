package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/advocate-bot/advocate/bot"
)

// The experiments page: per experiment and variant of the share prompt, the
// prompts made, clicked and shared, the conversion (shared / offered) with
// its 95% Wilson interval, and in words whether the variants differ beyond
// chance (a two-proportion z-test at 95%).

// z95 is the standard normal quantile of a two-sided 95% interval.
const z95 = 1.959964

// minExpected is the fewest shares and the fewest prompts without one that
// each variant should have under the pooled rate before the z-test's normal
// approximation is trusted (the usual rule of five).
const minExpected = 5

// wilson is the 95% Wilson score interval of k successes in n trials.
func wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 0
	}
	nf, p := float64(n), float64(k)/float64(n)
	z2 := z95 * z95
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / (1 + z2/nf)
	return max(0, centre-half), min(1, centre+half)
}

// twoProportions compares k1/n1 with k2/n2 by the pooled two-proportion
// z-test: p is the two-sided p-value; enough is false while either sample
// is too small for the test (see minExpected).
func twoProportions(k1, n1, k2, n2 int) (p float64, enough bool) {
	if n1 == 0 || n2 == 0 {
		return 1, false
	}
	pooled := float64(k1+k2) / float64(n1+n2)
	for _, n := range []int{n1, n2} {
		if float64(n)*pooled < minExpected || float64(n)*(1-pooled) < minExpected {
			return 1, false
		}
	}
	se := math.Sqrt(pooled * (1 - pooled) * (1/float64(n1) + 1/float64(n2)))
	z := (float64(k1)/float64(n1) - float64(k2)/float64(n2)) / se
	return math.Erfc(math.Abs(z) / math.Sqrt2), true
}

// variantRow is one line of an experiment's table.
type variantRow struct {
	bot.VariantCounts
	Weight     int    // 0: no longer configured
	Delay      string // "at once", "10m", "1d"
	Configured bool
}

// Clicks is clicked / offered.
func (v variantRow) Clicks() ratio { return ratio{v.Clicked, v.Offered} }

// Conversion is shared / offered.
func (v variantRow) Conversion() ratio { return ratio{v.Shared, v.Offered} }

// Interval is the conversion's 95% interval, "3.1%–9.8%", or "–".
func (v variantRow) Interval() string {
	if v.Offered == 0 {
		return "–"
	}
	lo, hi := wilson(v.Shared, v.Offered)
	return pct(lo) + "–" + pct(hi)
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// experimentView is one experiment on the page.
type experimentView struct {
	Name     string
	Status   string // "running", "stopped", "no longer configured"
	Variants []variantRow
	Verdicts []string
}

// experimentsData is the experiments page.
type experimentsData struct {
	Experiments []experimentView
}

// experimentViews joins the configured experiments (in config order, each
// variant in its order, with no prompt yet if so) and the counts (which may
// name experiments and variants no longer configured, after them).
func experimentViews(configured []bot.Experiment, counts []bot.VariantCounts) []experimentView {
	var out []experimentView
	index := map[string]int{}
	for _, e := range configured {
		v := experimentView{Name: e.Name, Status: "running"}
		if e.Stopped {
			v.Status = "stopped"
		}
		for _, vr := range e.Variants {
			delay := "at once"
			if d := vr.Delay.D(); d > 0 {
				delay = human(d)
			}
			v.Variants = append(v.Variants, variantRow{VariantCounts: bot.VariantCounts{Experiment: e.Name, Variant: vr.Name},
				Weight: vr.Weight, Delay: delay, Configured: true})
		}
		index[e.Name] = len(out)
		out = append(out, v)
	}
	for _, c := range counts {
		i, ok := index[c.Experiment]
		if !ok {
			i = len(out)
			index[c.Experiment] = i
			out = append(out, experimentView{Name: c.Experiment, Status: "no longer configured"})
		}
		rows := out[i].Variants
		j := slices.IndexFunc(rows, func(r variantRow) bool { return r.Variant == c.Variant })
		if j < 0 {
			rows = append(rows, variantRow{Delay: "–"})
			j = len(rows) - 1
		}
		rows[j].VariantCounts = c
		out[i].Variants = rows
	}
	for i := range out {
		out[i].Verdicts = verdicts(out[i].Variants, out[i].Status == "running")
	}
	return out
}

// verdicts says in words how each variant compares with the first (the
// control): better or worse beyond chance, not yet significant, or not
// enough data yet.
func verdicts(rows []variantRow, running bool) []string {
	if len(rows) < 2 {
		return nil
	}
	base := rows[0]
	var out []string
	for _, r := range rows[1:] {
		p, enough := twoProportions(r.Shared, r.Offered, base.Shared, base.Offered)
		rates := fmt.Sprintf("%s vs %s", r.Conversion().Pct(), base.Conversion().Pct())
		switch {
		case !enough:
			out = append(out, fmt.Sprintf("%s vs %s: not enough data yet (%s). Each variant needs at least %d shares and %d prompts without one before the difference can be judged.",
				r.Variant, base.Variant, rates, minExpected, minExpected))
		case p < 0.05:
			word := "better"
			if r.Conversion().Frac() < base.Conversion().Frac() {
				word = "worse"
			}
			out = append(out, fmt.Sprintf("%s converts %s than %s (%s): the difference is significant at 95%% (p = %s).",
				r.Variant, word, base.Variant, rates, pValue(p)))
		default:
			advice := "it may be chance"
			if running {
				advice += ", so keep the experiment running"
			}
			out = append(out, fmt.Sprintf("The difference between %s and %s (%s) is not yet significant at 95%% (p = %s): %s.",
				r.Variant, base.Variant, rates, pValue(p), advice))
		}
	}
	return out
}

// pValue is a p-value to two significant digits, "< 0.001" below that.
func pValue(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return strconv.FormatFloat(p, 'g', 2, 64)
}

// experimentsPage shows the experiments of the period to admins and viewers
// alike: no staff member is named.
func (s *Server) experimentsPage(w http.ResponseWriter, r *http.Request, a account) {
	ctx := r.Context()
	p, f, err := s.newPage(ctx, r, a, "Share prompt experiments", "experiments")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	counts, err := s.store.ExperimentCounts(ctx, f.query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := experimentsData{Experiments: experimentViews(s.experiments, counts)}
	if wantsCSV(r) {
		header := []string{"experiment", "status", "variant", "weight", "offered", "clicked", "shared", "conversion_pct", "conversion_low_pct", "conversion_high_pct"}
		c := s.startCSV(w, "experiments", header, header[3:]...)
		for _, e := range d.Experiments {
			for _, v := range e.Variants {
				lo, hi := "", ""
				if v.Offered > 0 {
					l, h := wilson(v.Shared, v.Offered)
					lo, hi = strconv.FormatFloat(100*l, 'f', 1, 64), strconv.FormatFloat(100*h, 'f', 1, 64)
				}
				c.row(e.Name, e.Status, v.Variant, strconv.Itoa(v.Weight), strconv.Itoa(v.Offered), strconv.Itoa(v.Clicked),
					strconv.Itoa(v.Shared), pctCell(v.Conversion()), lo, hi)
			}
		}
		s.finishCSV(r, c)
		return
	}
	s.render(w, r, http.StatusOK, "experiments", p, d)
}
