package web

import (
	"strconv"
	"strings"
)

// Charts are inline SVG drawn by the templates from these shapes: no
// script, no external file, readable without colour (every bar has its
// number written next to it).

// num formats a coordinate.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// hbar is one horizontal bar.
type hbar struct {
	Y, W         string
	Label, Value string
	TextX        string
	Class        string
}

// hbarChart is a labelled horizontal bar chart (the funnel).
type hbarChart struct {
	Title         string
	Width, Height string
	LabelW, BarH  string
	TextY         string
	Bars          []hbar
}

// newFunnelChart draws the stages as bars proportional to the cases asked.
func newFunnelChart(rows []stageRow) hbarChart {
	const width, labelW, barArea, rowH, barH = 640.0, 170.0, 330.0, 30.0, 20.0
	c := hbarChart{
		Title: "Funnel: cases reaching each stage", Width: num(width), Height: num(rowH*float64(len(rows)) + 4),
		LabelW: num(labelW), BarH: num(barH), TextY: num(barH/2 + 5),
	}
	top := 1
	if len(rows) > 0 && rows[0].Count > 0 {
		top = rows[0].Count
	}
	for i, r := range rows {
		w := barArea * float64(r.Count) / float64(top)
		if r.Count > 0 {
			w = max(w, 2)
		}
		class := "bar"
		if r.Stage == "shared" || r.Stage == "clicked" || r.Stage == "offered" {
			class = "bar advocacy"
		}
		c.Bars = append(c.Bars, hbar{
			Y: num(float64(i)*rowH + 2), W: num(w), Label: r.Label,
			Value: thousands(r.Count) + " · " + r.Overall.Pct(), TextX: num(labelW + w + 6), Class: class,
		})
	}
	return c
}

// vbar is one vertical bar with its label under it.
type vbar struct {
	X, Y, W, H   string
	Label, Value string
	LabelX       string
	ValueY       string
	Class        string
}

// line is one polyline series.
type line struct {
	Name   string
	Class  string
	Points string
	Dots   []point
}

type point struct {
	X, Y  string
	Title string
}

// tick is a labelled horizontal grid line.
type tick struct {
	Y, Label string
}

// seriesChart draws bars (counts, left axis) and lines (right axis) over
// categories such as weeks.
type seriesChart struct {
	Title         string
	Width, Height string
	PlotX, PlotW  string
	PlotEnd       string
	TickX         string
	Bars          []vbar
	Lines         []line
	Ticks         []tick // right axis
	Limit         *tick  // a dashed target line (the SLA)
	Legend        []legend
	LabelY        string
}

type legend struct {
	Name, Class string
	X           string
}

const (
	chartW, chartH      = 640.0, 240.0
	plotL, plotR        = 40.0, 48.0
	plotTop, plotBottom = 16.0, 200.0
	plotHeight          = plotBottom - plotTop
)

// newSeriesChart starts an empty chart.
func newSeriesChart(title string) seriesChart {
	return seriesChart{Title: title, Width: num(chartW), Height: num(chartH), PlotX: num(plotL),
		PlotW: num(chartW - plotL - plotR), PlotEnd: num(chartW - plotR), TickX: num(chartW - plotR + 4),
		LabelY: num(plotBottom + 16)}
}

// slot is the x range of category i of n.
func slot(i, n int) (x, w float64) {
	w = (chartW - plotL - plotR) / float64(max(n, 1))
	return plotL + float64(i)*w, w
}

// addBars draws counts as bars scaled to their maximum, labelled by labels
// (every few, so that they do not overlap).
func (c *seriesChart) addBars(labels []string, counts []int, class string) {
	top := 1
	for _, v := range counts {
		top = max(top, v)
	}
	step := max(1, (len(labels)+11)/12)
	for i, v := range counts {
		x, w := slot(i, len(counts))
		h := plotHeight * float64(v) / float64(top)
		b := vbar{X: num(x + w*0.15), W: num(w * 0.7), Y: num(plotBottom - h), H: num(h),
			Value: thousands(v), LabelX: num(x + w/2), ValueY: num(plotBottom - h - 3), Class: class}
		if i%step == 0 {
			b.Label = shortWeek(labels[i])
		}
		c.Bars = append(c.Bars, b)
	}
}

// addLine draws values (nil: no point) scaled to top on the right axis.
func (c *seriesChart) addLine(name, class string, values []*float64, top float64, format func(float64) string) {
	l := line{Name: name, Class: class}
	var pts []string
	for i, v := range values {
		if v == nil {
			continue
		}
		x, w := slot(i, len(values))
		y := plotBottom - plotHeight*min(*v/top, 1)
		pts = append(pts, num(x+w/2)+","+num(y))
		l.Dots = append(l.Dots, point{X: num(x + w/2), Y: num(y), Title: name + ": " + format(*v)})
	}
	l.Points = strings.Join(pts, " ")
	c.Lines = append(c.Lines, l)
	c.Legend = append(c.Legend, legend{Name: name, Class: class, X: num(plotL + float64(len(c.Legend))*150)})
}

// setTicks labels the right axis at fractions of top.
func (c *seriesChart) setTicks(top float64, format func(float64) string) {
	for _, f := range []float64{0, 0.25, 0.5, 0.75, 1} {
		c.Ticks = append(c.Ticks, tick{Y: num(plotBottom - plotHeight*f), Label: format(top * f)})
	}
}

// setLimit draws a dashed target at value on the right axis.
func (c *seriesChart) setLimit(label string, value, top float64) {
	c.Limit = &tick{Y: num(plotBottom - plotHeight*min(value/top, 1)), Label: label}
}

// shortWeek shortens "2026-W47" to "W47" for axis labels.
func shortWeek(s string) string {
	if i := strings.Index(s, "-W"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// scoreChart is a score distribution: one bar per score.
type scoreChart struct {
	Title         string
	Width, Height string
	Bars          []vbar
	BaseY         string
}

func newScoreChart(s *scoreSet) scoreChart {
	const width, height, base, top = 320.0, 150.0, 120.0, 14.0
	c := scoreChart{Title: s.Name(), Width: num(width), Height: num(height), BaseY: num(base)}
	most := 1
	for _, n := range s.Counts {
		most = max(most, n)
	}
	w := (width - 10) / float64(len(s.Counts))
	for i, n := range s.Counts {
		h := (base - top) * float64(n) / float64(most)
		x := 5 + float64(i)*w
		c.Bars = append(c.Bars, vbar{X: num(x + w*0.12), W: num(w * 0.76), Y: num(base - h), H: num(h),
			Label: strconv.Itoa(s.Lo + i), LabelX: num(x + w/2), Value: thousands(n), ValueY: num(base - h - 3),
			Class: "score " + s.Tone(s.Lo+i)})
	}
	return c
}
