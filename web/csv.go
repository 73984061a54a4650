package web

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
)

// CSVWriter writes CSV that a spreadsheet opens as data, never as formulas:
// customer text (a testimonial, a name, a channel) goes into these files, and
// a cell such as =HYPERLINK(…) or -1+cmd|' /C calc'!A0 would run when a staff
// member opens the download. Every cell of a text column that starts with =,
// +, -, @, a tab or a carriage return gets a leading apostrophe, which
// spreadsheets hide and treat as "this is text". Cells of the columns named
// numeric are left as they are when they are plain decimal numbers (so -3 and
// 12.5 stay numbers) and neutralised like text otherwise.
//
// The dashboard's downloads and advocate export both write through it.
type CSVWriter struct {
	w       *csv.Writer
	numeric []bool // by column index
}

// NewCSVWriter writes header to w and returns the writer for the records;
// numeric names the header's columns that hold numbers.
func NewCSVWriter(w io.Writer, header []string, numeric ...string) (*CSVWriter, error) {
	c := &CSVWriter{w: csv.NewWriter(w), numeric: make([]bool, len(header))}
	for _, n := range numeric {
		i := slices.Index(header, n)
		if i < 0 {
			return nil, fmt.Errorf("csv: numeric column %q is not in the header", n)
		}
		c.numeric[i] = true
	}
	if err := c.Write(header); err != nil {
		return nil, err
	}
	return c, nil
}

// Write writes one record, neutralising its cells as the type says. It does
// not change cells.
func (c *CSVWriter) Write(cells []string) error {
	out := make([]string, len(cells))
	for i, v := range cells {
		if i < len(c.numeric) && c.numeric[i] && plainNumber(v) {
			out[i] = v
		} else {
			out[i] = CSVText(v)
		}
	}
	if err := c.w.Write(out); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

// Flush writes what is buffered and returns the first error of any write.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

// formulaStart are the first characters that make a spreadsheet read a cell
// as a formula (or, for tab and CR, hide one behind them).
const formulaStart = "=+-@\t\r"

// CSVText is v as a CSV text cell: with a leading apostrophe when it starts
// like a formula, else unchanged.
func CSVText(v string) string {
	if v != "" && strings.IndexByte(formulaStart, v[0]) >= 0 {
		return "'" + v
	}
	return v
}

// plainNumber reports whether v is an optionally negative decimal number
// (digits, at most one point, digits on both sides of it): a cell a
// spreadsheet reads as that number and nothing else.
func plainNumber(v string) bool {
	v = strings.TrimPrefix(v, "-")
	whole, frac, dot := strings.Cut(v, ".")
	return digits(whole) && (!dot || digits(frac))
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
