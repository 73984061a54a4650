package bot

import (
	"fmt"
	"slices"
	"strings"
)

// nameMark brackets a person's ID where a message names someone the platform
// handed over by ID alone (Slack names a person only after a look-up, which
// waits until the event is committed). The ID between two marks is a
// placeholder for that person's name, which whatever adapter posts the message
// fills in (FillNames) — this process after a restart, or another instance —
// since the placeholder is stored with the message in the outbox. An
// invisible separator: a placeholder left unfilled shows the bare ID. Handle
// removes the mark from everything a person wrote, so no placeholder comes
// from anywhere but the core.
const nameMark = "\u2063"

// NameOf is how a message names p: p's name, or a placeholder for it when the
// platform gave none.
func NameOf(p Person) string {
	if p.Name != "" || p.ID == "" {
		return p.Name
	}
	return nameMark + p.ID + nameMark
}

// Unnamed lists, once each, the IDs of the people text names by placeholder.
func Unnamed(text string) []string {
	var ids []string
	for rest := text; ; {
		id, after, ok := nextPlaceholder(rest)
		if !ok {
			return ids
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		rest = after
	}
}

// FillNames replaces the placeholders in text by name(id); where name returns
// "", the ID stands for the name.
func FillNames(text string, name func(id string) string) string {
	if !strings.Contains(text, nameMark) {
		return text
	}
	var b strings.Builder
	for rest := text; ; {
		i := strings.Index(rest, nameMark)
		id, after, ok := nextPlaceholder(rest)
		if !ok {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:i])
		if n := name(id); n != "" {
			b.WriteString(n)
		} else {
			b.WriteString(id)
		}
		rest = after
	}
}

// noName knows no names: with FillNames, IDs stand for the names.
func noName(string) string { return "" }

// nextPlaceholder finds the first placeholder in s: the ID and what follows it.
func nextPlaceholder(s string) (id, after string, ok bool) {
	_, open, found := strings.Cut(s, nameMark)
	if !found {
		return "", "", false
	}
	id, after, found = strings.Cut(open, nameMark)
	if !found || id == "" {
		return "", "", false
	}
	return id, after, true
}

// withoutMarks removes the placeholder mark from what a person wrote.
func withoutMarks(s string) string {
	if !strings.Contains(s, nameMark) {
		return s
	}
	return strings.ReplaceAll(s, nameMark, "")
}

// unmarked is ev with the placeholder mark removed from everything in it that
// a person wrote or chose: the text, the form fields, the author's name. The
// fields are copied, not changed in place: they belong to the adapter.
func unmarked(ev Event) Event {
	ev.Text = withoutMarks(ev.Text)
	ev.Author.Name = withoutMarks(ev.Author.Name)
	for _, v := range ev.Fields {
		if strings.Contains(v, nameMark) {
			fields := make(map[string]string, len(ev.Fields))
			for k, v := range ev.Fields {
				fields[k] = withoutMarks(v)
			}
			ev.Fields = fields
			break
		}
	}
	return ev
}

// onNamed records the name of a person the platform handed over by ID alone
// on their cases that have none (the dashboard shows it, and later messages
// use it).
func (t *txn) onNamed(who Person) error {
	if who.ID == "" || who.Name == "" {
		return nil
	}
	if err := t.tx.NameCustomer(t.ctx, who.Platform, who.ID, who.Name); err != nil {
		return fmt.Errorf("name customer: %w", err)
	}
	return nil
}
