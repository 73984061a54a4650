package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// Linked identities (bot/link.go): person_links gives each identity linked
// with others its person's number; link_codes holds the /link codes not
// entered yet.

const personNoSQL = `SELECT person FROM person_links WHERE platform = ? AND id = ?`

// personNo returns the number of the person id is linked into, or 0.
func (t *tx) personNo(ctx context.Context, id bot.Identity) (int64, error) {
	var n int64
	err := t.queryRow(ctx, personNoSQL, id.Platform, id.ID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: person of %s: %w", id, err)
	}
	return n, nil
}

const identitiesSQL = `SELECT platform, id FROM person_links
	WHERE person = (SELECT person FROM person_links WHERE platform = ? AND id = ?)
	ORDER BY platform, id`

// Identities lists the identities of id's person, id included, ordered.
func (t *tx) Identities(ctx context.Context, id bot.Identity) ([]bot.Identity, error) {
	rows, err := t.query(ctx, identitiesSQL, id.Platform, id.ID)
	if err != nil {
		return nil, fmt.Errorf("store: identities of %s: %w", id, err)
	}
	defer rows.Close()
	var out []bot.Identity
	for rows.Next() {
		var i bot.Identity
		if err := rows.Scan(&i.Platform, &i.ID); err != nil {
			return nil, fmt.Errorf("store: identities of %s: %w", id, err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: identities of %s: %w", id, err)
	}
	if len(out) == 0 {
		out = []bot.Identity{id}
	}
	return out, nil
}

const (
	insertLinkSQL = `INSERT INTO person_links (platform, id, person, linked_at, via) VALUES (?, ?, ?, ?, ?)`
	mergeLinksSQL = `UPDATE person_links SET person = ? WHERE person = ?`
	nextPersonSQL = `SELECT coalesce(max(person), 0) + 1 FROM person_links`
)

// Link makes a and b identities of one person, joining their people.
func (t *tx) Link(ctx context.Context, a, b bot.Identity, via string) error {
	if a == b {
		return fmt.Errorf("store: link %s with itself: %w", a, bot.ErrConflict)
	}
	pa, err := t.personNo(ctx, a)
	if err != nil {
		return err
	}
	pb, err := t.personNo(ctx, b)
	if err != nil {
		return err
	}
	add := func(i bot.Identity, person int64) error {
		if _, err := t.exec(ctx, insertLinkSQL, i.Platform, i.ID, person, ms(t.now), via); err != nil {
			return fmt.Errorf("store: link %s: %w", i, err)
		}
		return nil
	}
	switch {
	case pa != 0 && pa == pb:
		return nil
	case pa != 0 && pb != 0:
		if _, err := t.exec(ctx, mergeLinksSQL, pa, pb); err != nil {
			return fmt.Errorf("store: link %s and %s: %w", a, b, err)
		}
		return nil
	case pa != 0:
		return add(b, pa)
	case pb != 0:
		return add(a, pb)
	}
	var p int64
	if err := t.queryRow(ctx, nextPersonSQL).Scan(&p); err != nil {
		return fmt.Errorf("store: link %s and %s: %w", a, b, err)
	}
	if err := add(a, p); err != nil {
		return err
	}
	return add(b, p)
}

const (
	unlinkSQL     = `DELETE FROM person_links WHERE platform = ? AND id = ?`
	dropLoneSQL   = `DELETE FROM person_links WHERE person = ?1 AND (SELECT count(*) FROM person_links WHERE person = ?1) = 1`
	linkCountSQL  = `SELECT count(DISTINCT person) FROM person_links`
	linkPageSQL   = `SELECT person FROM person_links GROUP BY person ORDER BY max(linked_at) DESC, person DESC LIMIT ? OFFSET ?`
	linkPersonSQL = `SELECT platform, id, person, linked_at, via FROM person_links WHERE person = ? ORDER BY linked_at, platform, id`
)

// Unlink takes id out of its person; a person left with one identity is no more.
func (t *tx) Unlink(ctx context.Context, id bot.Identity) error {
	p, err := t.personNo(ctx, id)
	if err != nil {
		return err
	}
	if p == 0 {
		return fmt.Errorf("store: unlink %s: %w", id, bot.ErrNotFound)
	}
	if _, err := t.exec(ctx, unlinkSQL, id.Platform, id.ID); err != nil {
		return fmt.Errorf("store: unlink %s: %w", id, err)
	}
	if _, err := t.exec(ctx, dropLoneSQL, p); err != nil {
		return fmt.Errorf("store: unlink %s: %w", id, err)
	}
	return nil
}

// LinkedPeople lists people with linked identities, most recently linked first.
func (t *tx) LinkedPeople(ctx context.Context, offset, limit int) ([][]bot.LinkedIdentity, int, error) {
	var total int
	if err := t.queryRow(ctx, linkCountSQL).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: linked people: %w", err)
	}
	if limit <= 0 {
		limit = -1
	}
	persons, err := t.int64s(ctx, linkPageSQL, limit, max(offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("store: linked people: %w", err)
	}
	out := make([][]bot.LinkedIdentity, 0, len(persons))
	for _, p := range persons {
		ids, err := t.linkedIdentities(ctx, p)
		if err != nil {
			return nil, 0, fmt.Errorf("store: linked people: %w", err)
		}
		out = append(out, ids)
	}
	return out, total, nil
}

func (t *tx) int64s(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (t *tx) linkedIdentities(ctx context.Context, person int64) ([]bot.LinkedIdentity, error) {
	rows, err := t.query(ctx, linkPersonSQL, person)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bot.LinkedIdentity
	for rows.Next() {
		var l bot.LinkedIdentity
		var at int64
		if err := rows.Scan(&l.Platform, &l.ID, &l.Person, &at, &l.Via); err != nil {
			return nil, err
		}
		l.LinkedAt = msTime(at)
		out = append(out, l)
	}
	return out, rows.Err()
}

const (
	dropCodesSQL = `DELETE FROM link_codes WHERE expires_at <= ? OR (platform = ? AND id = ?)`
	putCodeSQL   = `INSERT INTO link_codes (hash, platform, id, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`
	takeCodeSQL  = `DELETE FROM link_codes WHERE hash = ? RETURNING platform, id, expires_at`
)

// PutLinkCode stores a code, replacing its identity's earlier one, and
// deletes the expired codes.
func (t *tx) PutLinkCode(ctx context.Context, c bot.LinkCode) error {
	if _, err := t.exec(ctx, dropCodesSQL, ms(t.now), c.Identity.Platform, c.Identity.ID); err != nil {
		return fmt.Errorf("store: put link code of %s: %w", c.Identity, err)
	}
	res, err := t.exec(ctx, putCodeSQL, c.Hash, c.Identity.Platform, c.Identity.ID, ms(c.Expires))
	if err != nil {
		return fmt.Errorf("store: put link code of %s: %w", c.Identity, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("store: put link code of %s: %w", c.Identity, cmpOr(err, bot.ErrConflict))
	}
	return nil
}

// cmpOr is err, or else when err is nil.
func cmpOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// TakeLinkCode deletes the code stored under hash and returns it, unless it
// expired.
func (t *tx) TakeLinkCode(ctx context.Context, hash string) (bot.LinkCode, error) {
	c := bot.LinkCode{Hash: hash}
	var expires int64
	err := t.queryRow(ctx, takeCodeSQL, hash).Scan(&c.Identity.Platform, &c.Identity.ID, &expires)
	if err != nil {
		return bot.LinkCode{}, notFound(err, "link code", "")
	}
	c.Expires = msTime(expires)
	if !t.now.Before(c.Expires) {
		return bot.LinkCode{}, fmt.Errorf("store: link code: expired: %w", bot.ErrNotFound)
	}
	return c, nil
}
