package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/advocate-bot/advocate/bot"
)

// period flags shared by report and export.
type period struct {
	since, until string
	platform     string
	channel      string
}

func (p *period) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.since, "since", "30d", "cases opened since a date (2006-01-02) or this long ago (30d, 12h)")
	cmd.Flags().StringVar(&p.until, "until", "", "cases opened before a date (2006-01-02); default now")
	cmd.Flags().StringVar(&p.platform, "platform", "", "only this platform (slack, discord, sandbox)")
	cmd.Flags().StringVar(&p.channel, "channel", "", "only questions asked in this channel")
}

// query turns the flags into a funnel query relative to now.
func (p *period) query(now time.Time) (bot.FunnelQuery, error) {
	q := bot.FunnelQuery{Platform: p.platform, Channel: p.channel}
	var err error
	if q.Since, err = parseWhen(p.since, now); err != nil {
		return q, fmt.Errorf("--since: %w", err)
	}
	if q.Until, err = parseWhen(p.until, now); err != nil {
		return q, fmt.Errorf("--until: %w", err)
	}
	return q, nil
}

// parseWhen reads a date, a time, or a duration back from now ("30d").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" || s == "all" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	var d bot.Duration
	if err := d.UnmarshalText([]byte(s)); err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2006-01-02) nor a duration (30d)", s)
	}
	return now.Add(-d.D()).UTC(), nil
}

func reportCommand(e *env) *cobra.Command {
	var p period
	var by []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Show the advocacy funnel: stage counts and conversion, in total or broken down with --by",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := p.query(time.Now())
			if err != nil {
				return err
			}
			groupings := [][]string{nil}
			if len(by) > 0 {
				groupings = append(groupings, by)
			}
			for _, g := range by {
				if !slices.Contains([]string{"platform", "channel", "staff", "week", "target"}, g) {
					return fmt.Errorf("--by %q: want platform, channel, staff, week or target", g)
				}
			}
			db, _, err := e.openStore(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			var sections []reportSection
			for _, g := range groupings {
				q.GroupBy = g
				rows, err := db.Funnel(cmd.Context(), q)
				if err != nil {
					return fmt.Errorf("funnel: %w", err)
				}
				sections = append(sections, newSection(g, rows))
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"since": q.Since, "until": q.Until, "sections": sections})
			}
			return writeReport(e.stdout, q, sections)
		},
	}
	p.flags(cmd)
	cmd.Flags().StringSliceVar(&by, "by", nil, "add a breakdown by platform, channel, staff, week or target (several: grouped by all of them) after the total")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// reportSection is one grouping of the report.
type reportSection struct {
	By     []string    `json:"by"`
	Groups []reportRow `json:"groups"`
}

type reportRow struct {
	Keys       map[string]string `json:"keys"`
	Stages     []stageCount      `json:"stages"`
	Recoveries int               `json:"recoveries"`
}

type stageCount struct {
	Stage   string   `json:"stage"`
	Count   int      `json:"count"`
	Step    *float64 `json:"step,omitempty"`    // share of the previous stage
	Overall *float64 `json:"overall,omitempty"` // share of the first stage
}

func newSection(by []string, rows []bot.FunnelRow) reportSection {
	s := reportSection{By: by, Groups: []reportRow{}}
	for _, r := range rows {
		row := reportRow{Keys: map[string]string{}, Recoveries: r.Recoveries}
		for i, k := range by {
			row.Keys[k] = r.Keys[i]
		}
		for i, n := range r.Counts {
			sc := stageCount{Stage: bot.Stages[i], Count: n}
			if i > 0 {
				sc.Step = ratio(n, r.Counts[i-1])
				sc.Overall = ratio(n, r.Counts[0])
			}
			row.Stages = append(row.Stages, sc)
		}
		s.Groups = append(s.Groups, row)
	}
	return s
}

func ratio(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	v := float64(n) / float64(of)
	return &v
}

func writeReport(w io.Writer, q bot.FunnelQuery, sections []reportSection) error {
	until := "now"
	if !q.Until.IsZero() {
		until = q.Until.Format("2006-01-02")
	}
	since := "the beginning"
	if !q.Since.IsZero() {
		since = q.Since.Format("2006-01-02")
	}
	fmt.Fprintf(w, "Advocacy funnel for cases opened from %s to %s\n", since, until)
	for _, s := range sections {
		title := "All cases"
		if len(s.By) > 0 {
			title = "By " + strings.Join(s.By, ", ")
		}
		fmt.Fprintf(w, "\n== %s\n", title)
		if len(s.Groups) == 0 {
			fmt.Fprintln(w, "(no cases)")
		}
		for _, g := range s.Groups {
			writeGroup(w, s.By, g)
		}
	}
	return nil
}

func writeGroup(w io.Writer, by []string, g reportRow) {
	if len(by) > 0 {
		var keys []string
		for _, k := range by {
			v := g.Keys[k]
			if v == "" {
				v = "(none)"
			}
			keys = append(keys, k+"="+v)
		}
		fmt.Fprintf(w, "\n%s\n", strings.Join(keys, " "))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\tcases\tstep\toverall\t")
	for _, s := range g.Stages {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\n", s.Stage, s.Count, percent(s.Step), percent(s.Overall))
	}
	tw.Flush()
	fmt.Fprintf(w, "recoveries (unhappy, then satisfied): %d\n", g.Recoveries)
}

func percent(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", *v*100)
}

func sortStrings(s []string) []string {
	slices.Sort(s)
	return s
}
