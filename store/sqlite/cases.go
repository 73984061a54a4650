package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// caseCols are the columns scanCase reads, in its order.
const caseCols = `c.id, c.platform, c.customer, c.status, c.public_ref, c.private_ref, c.staff_ref,
	c.assignee, c.question, c.round, c.opened_at, c.first_response_at, c.resolved_at, c.closed_at`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanCase(s scanner) (*bot.Case, error) {
	var (
		c                         bot.Case
		customer, pub, priv, staf string
		opened                    int64
		first, resolved, closed   sql.NullInt64
	)
	err := s.Scan(&c.ID, &c.Platform, &customer, &c.Status, &pub, &priv, &staf,
		&c.Assignee, &c.Question, &c.Round, &opened, &first, &resolved, &closed)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		s string
		v any
	}{{customer, &c.Customer}, {pub, &c.Public}, {priv, &c.Private}, {staf, &c.Staff}} {
		if err := fromJSON(f.s, f.v); err != nil {
			return nil, err
		}
	}
	c.OpenedAt = msTime(opened)
	c.FirstResponseAt, c.ResolvedAt, c.ClosedAt = fromMs(first), fromMs(resolved), fromMs(closed)
	return &c, nil
}

// caseColsWritten are the columns caseArgs gives values for, in its order.
const caseColsWritten = `platform, customer, status, public_ref, private_ref, staff_ref, assignee,
	question, round, opened_at, first_response_at, resolved_at, closed_at, public_channel, opened_week`

// caseArgs are c's values for caseColsWritten.
func caseArgs(c *bot.Case) ([]any, error) {
	customer, err := toJSON(c.Customer)
	if err != nil {
		return nil, err
	}
	refs := make([]any, 3)
	for i, r := range []bot.Ref{c.Public, c.Private, c.Staff} {
		if refs[i], err = toJSON(r); err != nil {
			return nil, err
		}
	}
	return []any{c.Platform, customer, string(c.Status), refs[0], refs[1], refs[2],
		c.Assignee, c.Question, c.Round, ms(c.OpenedAt),
		nullMs(c.FirstResponseAt), nullMs(c.ResolvedAt), nullMs(c.ClosedAt),
		c.Public.Channel, isoWeek(c.OpenedAt)}, nil
}

// isoWeek names t's ISO 8601 week in UTC, as "2026-W47".
func isoWeek(t time.Time) string {
	year, week := t.UTC().ISOWeek()
	return fmt.Sprintf("%04d-W%02d", year, week)
}

const createCaseSQL = `INSERT INTO cases (` + caseColsWritten + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// CreateCase inserts c and sets c.ID. A zero OpenedAt becomes the transaction's
// time and an empty Status becomes open.
func (t *tx) CreateCase(ctx context.Context, c *bot.Case) error {
	if c.Status == "" {
		c.Status = bot.StatusOpen
	}
	c.OpenedAt = orNow(c.OpenedAt, t.now)
	args, err := caseArgs(c)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, createCaseSQL, args...)
	if err != nil {
		return fmt.Errorf("store: create case: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("store: create case: %w", err)
	}
	return nil
}

const updateCaseSQL = `UPDATE cases SET platform = ?, customer = ?, status = ?,
	public_ref = ?, private_ref = ?, staff_ref = ?, assignee = ?, question = ?, round = ?,
	opened_at = ?, first_response_at = ?, resolved_at = ?, closed_at = ?, public_channel = ?,
	opened_week = ? WHERE id = ?`

// UpdateCase replaces every field of the case c.ID.
func (t *tx) UpdateCase(ctx context.Context, c *bot.Case) error {
	args, err := caseArgs(c)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, updateCaseSQL, append(args, c.ID)...)
	if err != nil {
		return fmt.Errorf("store: update case %d: %w", c.ID, err)
	}
	return mustAffect(res, "update case", c.ID)
}

const caseSQL = `SELECT ` + caseCols + ` FROM cases c WHERE c.id = ?`

// Case returns the case id.
func (t *tx) Case(ctx context.Context, id int64) (*bot.Case, error) {
	row := t.queryRow(ctx, caseSQL, id)
	c, err := scanCase(row)
	if err != nil {
		return nil, notFound(err, "case", id)
	}
	return c, nil
}

const nameCustomerSQL = `UPDATE cases SET customer = json_set(customer, '$.name', ?)
	WHERE platform = ? AND customer_id = ? AND coalesce(json_extract(customer, '$.name'), '') = ''`

// NameCustomer records name on the customer's cases opened without one.
func (t *tx) NameCustomer(ctx context.Context, platform, customerID, name string) error {
	if _, err := t.exec(ctx, nameCustomerSQL, name, platform, customerID); err != nil {
		return fmt.Errorf("store: name customer: %w", err)
	}
	return nil
}

const activeCaseSQL = `SELECT ` + caseCols + ` FROM cases c
	WHERE c.platform = ? AND c.customer_id = ? AND c.status NOT IN (?, ?)
	ORDER BY c.id DESC LIMIT 1`

// ActiveCaseFor returns the customer's most recent case that is neither
// resolved nor closed.
func (t *tx) ActiveCaseFor(ctx context.Context, platform, customerID string) (*bot.Case, error) {
	row := t.queryRow(ctx, activeCaseSQL, platform, customerID, bot.StatusResolved, bot.StatusClosed)
	c, err := scanCase(row)
	if err != nil {
		return nil, notFound(err, "active case of", platform+"/"+customerID)
	}
	return c, nil
}

// caseByConversationSQL looks the conversation up in each side's index and
// takes the newer case. Written as one WHERE with an OR, SQLite's planner
// read every case of the platform instead (through cases_customer, on its
// platform prefix): a message in a channel with no case, every question in
// a support channel, cost a scan of all the cases.
const caseByConversationSQL = `SELECT ` + caseCols + ` FROM cases c
	WHERE c.id = max(
		(SELECT coalesce(max(id), 0) FROM cases
			WHERE platform = ?1 AND private_channel = ?2 AND private_thread = ?3),
		(SELECT coalesce(max(id), 0) FROM cases
			WHERE platform = ?1 AND staff_channel = ?2 AND staff_thread = ?3))`

// CaseByConversation returns the most recent case whose private or staff side
// is ref's conversation (platform, channel and thread; the message is ignored).
func (t *tx) CaseByConversation(ctx context.Context, ref bot.Ref) (*bot.Case, error) {
	what := ref.Platform + "/" + ref.Channel + "/" + ref.Thread
	if ref.Channel == "" && ref.Thread == "" {
		return nil, fmt.Errorf("store: case by conversation %s: %w", what, bot.ErrNotFound)
	}
	row := t.queryRow(ctx, caseByConversationSQL, ref.Platform, ref.Channel, ref.Thread)
	c, err := scanCase(row)
	if err != nil {
		return nil, notFound(err, "case by conversation", what)
	}
	return c, nil
}

// FindCases lists the cases matching f, newest first, and counts all matches.
func (t *tx) FindCases(ctx context.Context, f bot.CaseFilter) ([]*bot.Case, int, error) {
	w := caseFilterWhere(f)
	var total int
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM cases c`+w.sql(), w.args...).Scan(&total)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find cases: %w", err)
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+caseCols+` FROM cases c`+w.sql()+
		` ORDER BY c.opened_at DESC, c.id DESC LIMIT ? OFFSET ?`,
		append(w.args, sqlLimit(f.Limit), max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find cases: %w", err)
	}
	defer rows.Close()
	var cases []*bot.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: find cases: %w", err)
		}
		cases = append(cases, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: find cases: %w", err)
	}
	return cases, total, nil
}

func caseFilterWhere(f bot.CaseFilter) where {
	w := timeWhere(f.Since, f.Until)
	w.addIf(f.Platform != "", "c.platform = ?", f.Platform)
	w.addIf(f.Channel != "", "c.public_channel = ?", f.Channel)
	w.addIf(f.CustomerID != "", "c.customer_id = ?", f.CustomerID)
	w.addIf(f.Assignee != "", "c.assignee = ?", f.Assignee)
	if len(f.Statuses) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(f.Statuses)), ", ")
		args := make([]any, len(f.Statuses))
		for i, s := range f.Statuses {
			args[i] = string(s)
		}
		w.add("c.status IN ("+marks+")", args...)
	}
	return w
}
