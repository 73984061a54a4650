package main

import (
	"bytes"
	"encoding/json"
	"errors"
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
			if args[0] == "cases" {
				out := newExporter(e.stdout, format, caseColumns)
				err = db.ExportCases(cmd.Context(), q, out.write)
				err = errors.Join(err, out.flush())
			} else {
				out := newExporter(e.stdout, format, eventColumns)
				err = db.ExportEvents(cmd.Context(), q, out.write)
				err = errors.Join(err, out.flush())
			}
			if err != nil {
				return fmt.Errorf("export %s: %w", args[0], err)
			}
			return nil
		},
	}
	p.flags(cmd)
	cmd.Flags().Lookup("since").DefValue = "all"
	_ = cmd.Flags().Set("since", "all")
	cmd.Flags().StringVar(&format, "format", "csv", "csv, or json: one object a line, keyed like the CSV header")
	return cmd
}

// column is one field of an exported row, under one name in the CSV header and
// in the JSON lines alike.
type column[T any] struct {
	name  string
	value func(T) any // a string, an integer, a time or raw JSON
}

var caseColumns = []column[bot.Case]{
	{"id", func(c bot.Case) any { return c.ID }},
	{"platform", func(c bot.Case) any { return c.Platform }},
	{"customer_id", func(c bot.Case) any { return c.Customer.ID }},
	{"customer_name", func(c bot.Case) any { return c.Customer.Name }},
	{"status", func(c bot.Case) any { return string(c.Status) }},
	{"public_channel", func(c bot.Case) any { return c.Public.Channel }},
	{"public_message", func(c bot.Case) any { return c.Public.Message }},
	{"assignee", func(c bot.Case) any { return c.Assignee }},
	{"round", func(c bot.Case) any { return c.Round }},
	{"opened_at", func(c bot.Case) any { return c.OpenedAt }},
	{"first_response_at", func(c bot.Case) any { return c.FirstResponseAt }},
	{"resolved_at", func(c bot.Case) any { return c.ResolvedAt }},
	{"closed_at", func(c bot.Case) any { return c.ClosedAt }},
}

var eventColumns = []column[bot.CaseEvent]{
	{"id", func(ev bot.CaseEvent) any { return ev.ID }},
	{"case_id", func(ev bot.CaseEvent) any { return ev.CaseID }},
	{"kind", func(ev bot.CaseEvent) any { return ev.Kind }},
	{"actor", func(ev bot.CaseEvent) any { return ev.Actor }},
	{"platform", func(ev bot.CaseEvent) any { return ev.Platform }},
	{"at", func(ev bot.CaseEvent) any { return ev.At }},
	{"detail", func(ev bot.CaseEvent) any { return ev.Detail }},
}

// cell is a value as CSV text; an unset time is empty.
func cell(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case time.Time:
		return stamp(v)
	case json.RawMessage:
		return string(v)
	}
	return fmt.Sprint(v)
}

// jsonValue is a value as it goes into a JSON line: an unset time or detail is
// null, a detail is embedded as the JSON it is (or as a string if it is not JSON).
func jsonValue(v any) any {
	switch v := v.(type) {
	case time.Time:
		if v.IsZero() {
			return nil
		}
		return stamp(v)
	case json.RawMessage:
		switch {
		case len(v) == 0:
			return nil
		case !json.Valid(v):
			return string(v)
		}
	}
	return v
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// exporter streams rows as CSV (a header, then one record a row) or as JSON
// lines (one object a row, keys in column order).
type exporter[T any] struct {
	cols []column[T]
	csv  *web.CSVWriter // neutralises text cells against spreadsheet formulas
	err  error          // of the CSV header, returned by write and flush
	json io.Writer
}

func newExporter[T any](w io.Writer, format string, cols []column[T]) *exporter[T] {
	x := &exporter[T]{cols: cols}
	if format == "json" {
		x.json = w
		return x
	}
	header := make([]string, len(cols))
	var numeric []string
	var zero T
	for i, c := range cols {
		header[i] = c.name
		switch c.value(zero).(type) {
		case int, int64:
			numeric = append(numeric, c.name)
		}
	}
	x.csv, x.err = web.NewCSVWriter(w, header, numeric...)
	return x
}

func (x *exporter[T]) write(row T) error {
	if x.err != nil {
		return x.err
	}
	if x.csv != nil {
		rec := make([]string, len(x.cols))
		for i, c := range x.cols {
			rec[i] = cell(c.value(row))
		}
		return x.csv.Write(rec)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range x.cols {
		v, err := json.Marshal(jsonValue(c.value(row)))
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c.name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteString("}\n")
	_, err := x.json.Write(b.Bytes())
	return err
}

func (x *exporter[T]) flush() error {
	if x.err != nil || x.csv == nil {
		return x.err
	}
	return x.csv.Flush()
}
