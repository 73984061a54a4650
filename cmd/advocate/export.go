package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/web"
)

func exportCommand(e *env) *cobra.Command {
	var p period
	var format string
	cmd := &cobra.Command{
		Use:       "export cases|events",
		Short:     "Stream cases or funnel events as CSV or JSON lines",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"cases", "events"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "csv" && format != "json" {
				return fmt.Errorf("--format %q: want csv or json", format)
			}
			if args[0] != "cases" && args[0] != "events" {
				return fmt.Errorf("export %q: want cases or events", args[0])
			}
			q, err := p.query(time.Now())
			if err != nil {
				return err
			}
			db, _, err := e.openStore(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			out := newRecordWriter(e, format)
			if args[0] == "cases" {
				out.header(caseHeader, caseNumeric...)
				err = db.ExportCases(cmd.Context(), q, func(c bot.Case) error { return out.write(caseRecord(c), c) })
			} else {
				out.header(eventHeader, eventNumeric...)
				err = db.ExportEvents(cmd.Context(), q, func(ev bot.CaseEvent) error { return out.write(eventRecord(ev), ev) })
			}
			if err != nil {
				return fmt.Errorf("export %s: %w", args[0], err)
			}
			return out.flush()
		},
	}
	p.flags(cmd)
	cmd.Flags().Lookup("since").DefValue = "all"
	_ = cmd.Flags().Set("since", "all")
	cmd.Flags().StringVar(&format, "format", "csv", "csv or json (one object per line)")
	return cmd
}

var caseHeader = []string{"id", "platform", "customer_id", "customer_name", "status", "public_channel", "public_message",
	"assignee", "round", "opened_at", "first_response_at", "resolved_at", "closed_at"}

// caseNumeric and eventNumeric are the columns that hold numbers; every other
// cell is text, neutralised against spreadsheet formulas (web.CSVWriter).
var (
	caseNumeric  = []string{"id", "round"}
	eventNumeric = []string{"id", "case_id"}
)

func caseRecord(c bot.Case) []string {
	return []string{strconv.FormatInt(c.ID, 10), c.Platform, c.Customer.ID, c.Customer.Name, string(c.Status),
		c.Public.Channel, c.Public.Message, c.Assignee, strconv.Itoa(c.Round),
		stamp(c.OpenedAt), stamp(c.FirstResponseAt), stamp(c.ResolvedAt), stamp(c.ClosedAt)}
}

var eventHeader = []string{"id", "case_id", "kind", "actor", "platform", "at", "detail"}

func eventRecord(ev bot.CaseEvent) []string {
	return []string{strconv.FormatInt(ev.ID, 10), strconv.FormatInt(ev.CaseID, 10), ev.Kind, ev.Actor, ev.Platform,
		stamp(ev.At), string(ev.Detail)}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// recordWriter streams CSV rows or JSON lines.
type recordWriter struct {
	out io.Writer
	csv *web.CSVWriter
	enc *json.Encoder
	err error // of the CSV header, returned by write and flush
}

func newRecordWriter(e *env, format string) *recordWriter {
	if format == "json" {
		return &recordWriter{enc: json.NewEncoder(e.stdout)}
	}
	return &recordWriter{out: e.stdout}
}

// header starts a CSV with its header row (numeric: the number columns); JSON has none.
func (w *recordWriter) header(h []string, numeric ...string) {
	if w.enc == nil {
		w.csv, w.err = web.NewCSVWriter(w.out, h, numeric...)
	}
}

func (w *recordWriter) write(rec []string, v any) error {
	switch {
	case w.err != nil:
		return w.err
	case w.csv != nil:
		return w.csv.Write(rec)
	}
	return w.enc.Encode(v)
}

func (w *recordWriter) flush() error {
	if w.err != nil || w.csv == nil {
		return w.err
	}
	return w.csv.Flush()
}
