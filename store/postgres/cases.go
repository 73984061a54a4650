package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// caseCols are the columns scanCase reads, in its order.
const caseCols = `c.id, c.platform, c.customer, c.status, c.public_ref, c.private_ref, c.staff_ref,
	c.assignee, c.question, c.round, c.opened_at, c.first_response_at, c.resolved_at, c.closed_at`

func scanCase(s scanner) (*bot.Case, error) {
	var (
		c                         bot.Case
		customer, pub, priv, staf string
		opened                    int64
		first, resolved, closed   *int64
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

// caseArgs are c's values for $1…$15: platform, customer, status, public_ref,
// private_ref, staff_ref, assignee, question, round, opened_at,
// first_response_at, resolved_at, closed_at, public_channel, opened_week.
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

const createCaseSQL = `INSERT INTO cases (platform, customer, status, public_ref, private_ref, staff_ref,
	assignee, question, round, opened_at, first_response_at, resolved_at, closed_at, public_channel, opened_week)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`

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
	if err := t.queryRow(ctx, createCaseSQL, args...).Scan(&c.ID); err != nil {
		return fmt.Errorf("store: create case: %w", err)
	}
	return nil
}

const updateCaseSQL = `UPDATE cases SET platform = $1, customer = $2, status = $3,
	public_ref = $4, private_ref = $5, staff_ref = $6, assignee = $7, question = $8, round = $9,
	opened_at = $10, first_response_at = $11, resolved_at = $12, closed_at = $13, public_channel = $14,
	opened_week = $15 WHERE id = $16`

// UpdateCase replaces every field of the case c.ID.
func (t *tx) UpdateCase(ctx context.Context, c *bot.Case) error {
	args, err := caseArgs(c)
	if err != nil {
		return err
	}
	tag, err := t.exec(ctx, updateCaseSQL, append(args, c.ID)...)
	if err != nil {
		return fmt.Errorf("store: update case %d: %w", c.ID, err)
	}
	return mustAffect(tag, "update case", c.ID)
}

// Case returns the case id.
func (t *tx) Case(ctx context.Context, id int64) (*bot.Case, error) {
	c, err := scanCase(t.queryRow(ctx, `SELECT `+caseCols+` FROM cases c WHERE c.id = $1`+t.forUpdate(), id))
	if err != nil {
		return nil, notFound(err, "case", id)
	}
	return c, nil
}

// NameCustomer records name on the customer's cases opened without one.
func (t *tx) NameCustomer(ctx context.Context, platform, customerID, name string) error {
	_, err := t.exec(ctx, `UPDATE cases SET customer = jsonb_set(customer::jsonb, '{name}', to_jsonb($3::text))::text
		WHERE platform = $1 AND customer_id = $2 AND coalesce(customer::jsonb ->> 'name', '') = ''`,
		platform, customerID, name)
	if err != nil {
		return fmt.Errorf("store: name customer: %w", err)
	}
	return nil
}

// ActiveCaseFor returns the customer's most recent case that is neither
// resolved nor closed.
func (t *tx) ActiveCaseFor(ctx context.Context, platform, customerID string) (*bot.Case, error) {
	if err := t.lockPerson(ctx, platform, customerID); err != nil {
		return nil, err
	}
	row := t.queryRow(ctx, `SELECT `+caseCols+` FROM cases c
		WHERE c.platform = $1 AND c.customer_id = $2 AND c.status NOT IN ($3, $4)
		ORDER BY c.id DESC LIMIT 1`+t.forUpdate(), platform, customerID, string(bot.StatusResolved), string(bot.StatusClosed))
	c, err := scanCase(row)
	if err != nil {
		return nil, notFound(err, "active case of", platform+"/"+customerID)
	}
	return c, nil
}

// CaseByConversation returns the most recent case whose private or staff side
// is ref's conversation (platform, channel and thread; the message is ignored).
func (t *tx) CaseByConversation(ctx context.Context, ref bot.Ref) (*bot.Case, error) {
	what := ref.Platform + "/" + ref.Channel + "/" + ref.Thread
	if ref.Channel == "" && ref.Thread == "" {
		return nil, fmt.Errorf("store: case by conversation %s: %w", what, bot.ErrNotFound)
	}
	row := t.queryRow(ctx, `SELECT `+caseCols+` FROM cases c
		WHERE c.platform = $1 AND ((c.private_channel = $2 AND c.private_thread = $3)
			OR (c.staff_channel = $2 AND c.staff_thread = $3))
		ORDER BY c.id DESC LIMIT 1`+t.forUpdate(), ref.Platform, ref.Channel, ref.Thread)
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
	if err := t.queryRow(ctx, `SELECT count(*) FROM cases c`+w.sql(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: find cases: %w", err)
	}
	q := `SELECT ` + caseCols + ` FROM cases c` + w.sql() + ` ORDER BY c.opened_at DESC, c.id DESC LIMIT ` +
		w.arg(limit(f.Limit)) + ` OFFSET ` + w.arg(max(f.Offset, 0))
	cases, err := collect(ctx, t, q, w.args, scanCase)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find cases: %w", err)
	}
	return cases, total, nil
}

func caseFilterWhere(f bot.CaseFilter) *where {
	w := timeWhere(f.Since, f.Until)
	if f.Platform != "" {
		w.add("c.platform = " + w.arg(f.Platform))
	}
	if f.Channel != "" {
		w.add("c.public_channel = " + w.arg(f.Channel))
	}
	if f.CustomerID != "" {
		w.add("c.customer_id = " + w.arg(f.CustomerID))
	}
	if f.Assignee != "" {
		w.add("c.assignee = " + w.arg(f.Assignee))
	}
	if len(f.Statuses) > 0 {
		s := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			s[i] = string(st)
		}
		w.add("c.status = ANY(" + w.arg(s) + ")")
	}
	return w
}

// collect runs a query and scans every row with scan.
func collect[T any](ctx context.Context, t *tx, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
