package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/advocate-bot/advocate/bot"
)

// Linked identities (bot/link.go): person_links gives each identity linked
// with others its person's number; link_codes holds the /link codes not
// entered yet. Identities sort bytewise (COLLATE "C"), as on SQLite.

// personNo returns the number of the person id is linked into, or 0.
func (t *tx) personNo(ctx context.Context, id bot.Identity) (int64, error) {
	var n int64
	err := t.queryRow(ctx, `SELECT person FROM person_links WHERE platform = $1 AND id = $2`, id.Platform, id.ID).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: person of %s: %w", id, err)
	}
	return n, nil
}

// Identities lists the identities of id's person, id included, ordered.
func (t *tx) Identities(ctx context.Context, id bot.Identity) ([]bot.Identity, error) {
	rows, err := t.query(ctx, `SELECT platform, id FROM person_links
		WHERE person = (SELECT person FROM person_links WHERE platform = $1 AND id = $2)
		ORDER BY platform COLLATE "C", id COLLATE "C"`, id.Platform, id.ID)
	if err != nil {
		return nil, fmt.Errorf("store: identities of %s: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bot.Identity, error) {
		var i bot.Identity
		err := r.Scan(&i.Platform, &i.ID)
		return i, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: identities of %s: %w", id, err)
	}
	if len(out) == 0 {
		out = []bot.Identity{id}
	}
	return out, nil
}

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
		_, err := t.exec(ctx, `INSERT INTO person_links (platform, id, person, linked_at, via) VALUES ($1, $2, $3, $4, $5)`,
			i.Platform, i.ID, person, ms(t.now), via)
		if err != nil {
			return fmt.Errorf("store: link %s: %w", i, err)
		}
		return nil
	}
	switch {
	case pa != 0 && pa == pb:
		return nil
	case pa != 0 && pb != 0:
		if _, err := t.exec(ctx, `UPDATE person_links SET person = $1 WHERE person = $2`, pa, pb); err != nil {
			return fmt.Errorf("store: link %s and %s: %w", a, b, err)
		}
		return nil
	case pa != 0:
		return add(b, pa)
	case pb != 0:
		return add(a, pb)
	}
	var p int64
	if err := t.queryRow(ctx, `SELECT nextval('person_seq')`).Scan(&p); err != nil {
		return fmt.Errorf("store: link %s and %s: %w", a, b, err)
	}
	if err := add(a, p); err != nil {
		return err
	}
	return add(b, p)
}

// Unlink takes id out of its person; a person left with one identity is no more.
func (t *tx) Unlink(ctx context.Context, id bot.Identity) error {
	p, err := t.personNo(ctx, id)
	if err != nil {
		return err
	}
	if p == 0 {
		return fmt.Errorf("store: unlink %s: %w", id, bot.ErrNotFound)
	}
	if _, err := t.exec(ctx, `DELETE FROM person_links WHERE platform = $1 AND id = $2`, id.Platform, id.ID); err != nil {
		return fmt.Errorf("store: unlink %s: %w", id, err)
	}
	_, err = t.exec(ctx, `DELETE FROM person_links WHERE person = $1
		AND (SELECT count(*) FROM person_links WHERE person = $1) = 1`, p)
	if err != nil {
		return fmt.Errorf("store: unlink %s: %w", id, err)
	}
	return nil
}

// LinkedPeople lists people with linked identities, most recently linked first.
func (t *tx) LinkedPeople(ctx context.Context, offset, limit int) ([][]bot.LinkedIdentity, int, error) {
	var total int
	if err := t.queryRow(ctx, `SELECT count(DISTINCT person) FROM person_links`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: linked people: %w", err)
	}
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := t.query(ctx, `SELECT person FROM person_links GROUP BY person
		ORDER BY max(linked_at) DESC, person DESC LIMIT $1 OFFSET $2`, lim, max(offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("store: linked people: %w", err)
	}
	persons, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, 0, fmt.Errorf("store: linked people: %w", err)
	}
	out := make([][]bot.LinkedIdentity, 0, len(persons))
	for _, p := range persons {
		rows, err := t.query(ctx, `SELECT platform, id, person, linked_at, via FROM person_links
			WHERE person = $1 ORDER BY linked_at, platform COLLATE "C", id COLLATE "C"`, p)
		if err != nil {
			return nil, 0, fmt.Errorf("store: linked people: %w", err)
		}
		ids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bot.LinkedIdentity, error) {
			var l bot.LinkedIdentity
			var at int64
			err := r.Scan(&l.Platform, &l.ID, &l.Person, &at, &l.Via)
			l.LinkedAt = msTime(at)
			return l, err
		})
		if err != nil {
			return nil, 0, fmt.Errorf("store: linked people: %w", err)
		}
		out = append(out, ids)
	}
	return out, total, nil
}

// PutLinkCode stores a code, replacing its identity's earlier one, and
// deletes the expired codes.
func (t *tx) PutLinkCode(ctx context.Context, c bot.LinkCode) error {
	_, err := t.exec(ctx, `DELETE FROM link_codes WHERE expires_at <= $1 OR (platform = $2 AND id = $3)`,
		ms(t.now), c.Identity.Platform, c.Identity.ID)
	if err != nil {
		return fmt.Errorf("store: put link code of %s: %w", c.Identity, err)
	}
	tag, err := t.exec(ctx, `INSERT INTO link_codes (hash, platform, id, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (hash) DO NOTHING`, c.Hash, c.Identity.Platform, c.Identity.ID, ms(c.Expires))
	if err != nil {
		return fmt.Errorf("store: put link code of %s: %w", c.Identity, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: put link code of %s: %w", c.Identity, bot.ErrConflict)
	}
	return nil
}

// TakeLinkCode deletes the code stored under hash and returns it, unless it
// expired.
func (t *tx) TakeLinkCode(ctx context.Context, hash string) (bot.LinkCode, error) {
	c := bot.LinkCode{Hash: hash}
	var expires int64
	err := t.queryRow(ctx, `DELETE FROM link_codes WHERE hash = $1 RETURNING platform, id, expires_at`, hash).
		Scan(&c.Identity.Platform, &c.Identity.ID, &expires)
	if err != nil {
		return bot.LinkCode{}, notFound(err, "link code", "")
	}
	c.Expires = msTime(expires)
	if !t.now.Before(c.Expires) {
		return bot.LinkCode{}, fmt.Errorf("store: link code: expired: %w", bot.ErrNotFound)
	}
	return c, nil
}
