package web

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// stageLabel is how the dashboard names a funnel stage.
func stageLabel(stage string) string {
	switch stage {
	case "asked":
		return "Asked in public"
	case "taken_private":
		return "Taken private"
	case "first_response":
		return "First staff response"
	case "resolved":
		return "Resolved"
	case "surveyed":
		return "Surveyed"
	case "rated":
		return "Rated"
	case "satisfied":
		return "Satisfied"
	case "offered":
		return "Offered to share"
	case "clicked":
		return "Clicked share"
	case "shared":
		return "Shared"
	}
	return stage
}

// stageIndex is the index of stage in bot.Stages, or -1.
func stageIndex(stage string) int {
	for i, s := range bot.Stages {
		if s == stage {
			return i
		}
	}
	return -1
}

// ratio is part of whole; ok is false when whole is 0.
type ratio struct {
	Part, Whole int
}

// Pct formats the ratio as a percentage with one decimal, or "–" for 0/0.
func (r ratio) Pct() string {
	if r.Whole == 0 {
		return "–"
	}
	return strconv.FormatFloat(100*float64(r.Part)/float64(r.Whole), 'f', 1, 64) + "%"
}

// Frac is the ratio as a number (0 for 0/0), for chart geometry.
func (r ratio) Frac() float64 {
	if r.Whole == 0 {
		return 0
	}
	return float64(r.Part) / float64(r.Whole)
}

// stageRow is one line of the funnel table.
type stageRow struct {
	Stage, Label string
	Count        int
	Step         ratio // from the stage before
	Overall      ratio // from asked
}

// funnelRows turns a funnel row's counts into table lines. Each stage is
// compared with the one before, except offered, compared with rated: review
// links are offered to every respondent, satisfied or not.
func funnelRows(counts []int) []stageRow {
	rows := make([]stageRow, len(bot.Stages))
	for i, s := range bot.Stages {
		rows[i] = stageRow{Stage: s, Label: stageLabel(s), Count: counts[i], Overall: ratio{counts[i], counts[0]}}
		switch {
		case i == 0:
			rows[i].Step = ratio{counts[0], counts[0]}
		case s == "offered":
			rows[i].Step = ratio{counts[i], count(counts, "rated")}
		default:
			rows[i].Step = ratio{counts[i], counts[i-1]}
		}
	}
	return rows
}

// count is counts[stage] for a stage name.
func count(counts []int, stage string) int {
	if i := stageIndex(stage); i >= 0 && i < len(counts) {
		return counts[i]
	}
	return 0
}

// scaleRange is the lowest and highest score of a scale.
func scaleRange(s bot.Scale) (lo, hi int) {
	switch s {
	case bot.CES:
		return 1, 7
	case bot.NPS:
		return 0, 10
	}
	return 1, 5
}

// scaleName is a scale's name for people.
func scaleName(s bot.Scale) string {
	switch s {
	case bot.CES:
		return "CES (customer effort, 1–7)"
	case bot.NPS:
		return "NPS (likelihood to recommend, 0–10)"
	case bot.CSAT:
		return "CSAT (satisfaction, 1–5)"
	}
	return string(s)
}

// scoreSet is the distribution of one scale's scores.
type scoreSet struct {
	Scale  bot.Scale
	Counts []int // index: score - lo
	Lo     int
	Total  int
}

func newScoreSet(s bot.Scale) *scoreSet {
	lo, hi := scaleRange(s)
	return &scoreSet{Scale: s, Lo: lo, Counts: make([]int, hi-lo+1)}
}

func (s *scoreSet) add(score, n int) {
	if i := score - s.Lo; i >= 0 && i < len(s.Counts) {
		s.Counts[i] += n
		s.Total += n
	}
}

// Name is the scale's name.
func (s *scoreSet) Name() string { return scaleName(s.Scale) }

// Score is the scale's headline figure, over every rating (a case rated
// twice counts twice): CSAT, the share of 4 and 5 ratings;
// CES, the average; NPS, % promoters (9–10) minus % detractors (0–6).
func (s *scoreSet) Score() string {
	if s.Total == 0 {
		return "–"
	}
	switch s.Scale {
	case bot.CES:
		sum := 0
		for i, n := range s.Counts {
			sum += (s.Lo + i) * n
		}
		return strconv.FormatFloat(float64(sum)/float64(s.Total), 'f', 2, 64) + " / 7"
	case bot.NPS:
		promoters, detractors := 0, 0
		for i, n := range s.Counts {
			switch score := s.Lo + i; {
			case score >= 9:
				promoters += n
			case score <= 6:
				detractors += n
			}
		}
		nps := math.Round(100 * float64(promoters-detractors) / float64(s.Total))
		return fmt.Sprintf("%+.0f", nps)
	}
	top := 0 // ratings of 4 or 5
	for i, n := range s.Counts {
		if s.Lo+i >= 4 {
			top += n
		}
	}
	return ratio{top, s.Total}.Pct()
}

// ScoreLabel says how Score is computed.
func (s *scoreSet) ScoreLabel() string {
	switch s.Scale {
	case bot.CES:
		return "CES: average score (higher is easier)"
	case bot.NPS:
		return "NPS: % promoters (9–10) − % detractors (0–6)"
	}
	return "CSAT: share of ratings that were 4 or 5"
}

// Tone classes a score for the chart: bad, neutral or good.
func (s *scoreSet) Tone(score int) string {
	switch s.Scale {
	case bot.NPS:
		return toneOf(score <= 6, score >= 9)
	case bot.CES:
		return toneOf(score <= 3, score >= 5)
	}
	return toneOf(score <= 2, score >= 4)
}

func toneOf(bad, good bool) string {
	switch {
	case bad:
		return "bad"
	case good:
		return "good"
	}
	return "neutral"
}

// scores groups rating counts by scale, in CSAT, CES, NPS order, leaving out
// scales nobody answered.
type scores struct {
	sets map[bot.Scale]*scoreSet
}

func (s *scores) add(scale bot.Scale, score, n int) {
	if s.sets == nil {
		s.sets = map[bot.Scale]*scoreSet{}
	}
	set := s.sets[scale]
	if set == nil {
		set = newScoreSet(scale)
		s.sets[scale] = set
	}
	set.add(score, n)
}

// List is the scales with answers, CSAT first.
func (s *scores) List() []*scoreSet {
	var out []*scoreSet
	for _, sc := range []bot.Scale{bot.CSAT, bot.CES, bot.NPS} {
		if set := s.sets[sc]; set != nil && set.Total > 0 {
			out = append(out, set)
		}
	}
	return out
}

// Summary is every scale's headline in one line, for tables.
func (s *scores) Summary() string {
	out := ""
	for _, set := range s.List() {
		if out != "" {
			out += "; "
		}
		switch set.Scale {
		case bot.CSAT:
			out += "CSAT " + set.Score()
		case bot.CES:
			out += "CES " + set.Score()
		case bot.NPS:
			out += "NPS " + set.Score()
		}
	}
	if out == "" {
		return "–"
	}
	return out
}

// histogram is a distribution of durations over buckets: Counts[i] is the
// number below Bounds[i] and at or above Bounds[i-1]; the last bucket has no
// upper bound.
type histogram struct {
	Bounds []time.Duration
	Counts []int
}

func (h *histogram) add(bounds []time.Duration, counts []int) {
	if h.Counts == nil {
		h.Bounds, h.Counts = bounds, make([]int, len(counts))
	}
	for i, n := range counts {
		if i < len(h.Counts) {
			h.Counts[i] += n
		}
	}
}

// N is the number of durations.
func (h histogram) N() int {
	n := 0
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Quantile estimates the q-quantile (0 < q < 1) by linear interpolation
// inside its bucket. open is true when it falls in the last, unbounded
// bucket: d is then that bucket's lower bound. ok is false with no data.
func (h histogram) Quantile(q float64) (d time.Duration, open, ok bool) {
	n := h.N()
	if n == 0 {
		return 0, false, false
	}
	rank := q * float64(n)
	cum := 0.0
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		if cum+float64(c) >= rank {
			lo := time.Duration(0)
			if i > 0 {
				lo = h.Bounds[i-1]
			}
			if i >= len(h.Bounds) {
				return lo, true, true
			}
			hi := h.Bounds[i]
			frac := (rank - cum) / float64(c)
			return lo + time.Duration(frac*float64(hi-lo)), false, true
		}
		cum += float64(c)
	}
	return h.Bounds[len(h.Bounds)-1], true, true
}

// Within estimates the share of durations below limit, interpolating inside
// the bucket that holds limit; exact when limit is a bucket bound.
func (h histogram) Within(limit time.Duration) ratio {
	n := h.N()
	below := 0.0
	for i, c := range h.Counts {
		lo := time.Duration(0)
		if i > 0 {
			lo = h.Bounds[i-1]
		}
		switch {
		case i < len(h.Bounds) && h.Bounds[i] <= limit:
			below += float64(c)
		case lo < limit && i < len(h.Bounds):
			below += float64(c) * float64(limit-lo) / float64(h.Bounds[i]-lo)
		}
	}
	return ratio{int(math.Round(below)), n}
}

// quantileText formats a histogram quantile for people: "≈ 24 min", "> 7 d", "–".
func (h histogram) quantileText(q float64) string {
	d, open, ok := h.Quantile(q)
	switch {
	case !ok:
		return "–"
	case open:
		return "> " + human(d)
	}
	return "≈ " + human(d)
}

// Median is the estimated median, for people.
func (h histogram) Median() string { return h.quantileText(0.5) }

// P90 is the estimated 90th percentile, for people.
func (h histogram) P90() string { return h.quantileText(0.9) }

// human formats a duration the way people say it: 45 s, 12 min, 3.5 h, 2.1 d.
func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(math.Round(d.Minutes()))) + " min"
	case d < 48*time.Hour:
		return trimZero(strconv.FormatFloat(d.Hours(), 'f', 1, 64)) + " h"
	}
	return trimZero(strconv.FormatFloat(d.Hours()/24, 'f', 1, 64)) + " d"
}

func trimZero(s string) string {
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}
