package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// offerCols are the columns scanOffer reads, in its order.
const offerCols = `id, case_id, round, target, kind, policy, text, url, state, post_ref, at, shared_at,
	wall, wall_name, wall_at, experiment, variant`

func scanOffer(s scanner) (*bot.Offer, error) {
	var (
		o      bot.Offer
		post   string
		at     int64
		shared sql.NullInt64
		wallAt sql.NullInt64
	)
	err := s.Scan(&o.ID, &o.CaseID, &o.Round, &o.Target, &o.Kind, &o.Policy, &o.Text, &o.URL,
		&o.State, &post, &at, &shared, &o.Wall, &o.WallName, &wallAt, &o.Experiment, &o.Variant)
	if err != nil {
		return nil, err
	}
	if err := fromJSON(post, &o.Post); err != nil {
		return nil, err
	}
	o.At, o.SharedAt, o.WallAt = msTime(at), fromMs(shared), fromMs(wallAt)
	return &o, nil
}

const createOfferSQL = `INSERT INTO offers (case_id, round, target, kind, policy,
	text, url, state, post_ref, at, shared_at, clicked, shared, wall, wall_name, wall_at, experiment, variant)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// CreateOffer stores o (At defaults to now; State to offered) and sets o.ID.
func (t *tx) CreateOffer(ctx context.Context, o *bot.Offer) error {
	o.At = orNow(o.At, t.now)
	if o.State == "" {
		o.State = bot.OfferOffered
	}
	post, err := toJSON(o.Post)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, createOfferSQL,
		o.CaseID, o.Round, o.Target, o.Kind, o.Policy, o.Text, o.URL, o.State, post, ms(o.At),
		nullMs(o.SharedAt), boolInt(offerClicked(o)), boolInt(offerShared(o)),
		boolInt(o.Wall), o.WallName, nullMs(o.WallAt), o.Experiment, o.Variant)
	if err != nil {
		return writeErr(err, "create offer for case", o.CaseID)
	}
	if o.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("store: create offer: %w", err)
	}
	return nil
}

// offerShared reports whether o's state or share time shows it was shared.
func offerShared(o *bot.Offer) bool {
	return o.State == bot.OfferShared || !o.SharedAt.IsZero()
}

// offerClicked reports whether o's state shows a click (sharing needs one).
func offerClicked(o *bot.Offer) bool {
	return o.State == bot.OfferClicked || offerShared(o)
}

const updateOfferSQL = `UPDATE offers SET case_id = ?, round = ?, target = ?, kind = ?,
	policy = ?, text = ?, url = ?, state = ?, post_ref = ?, at = ?, shared_at = ?,
	clicked = max(clicked, ?), shared = max(shared, ?), wall = ?, wall_name = ?, wall_at = ?,
	experiment = ?, variant = ? WHERE id = ?`

// UpdateOffer replaces the offer o.ID. Once clicked or shared, an offer keeps
// counting as such in the funnel by target, whatever state follows.
func (t *tx) UpdateOffer(ctx context.Context, o *bot.Offer) error {
	post, err := toJSON(o.Post)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, updateOfferSQL,
		o.CaseID, o.Round, o.Target, o.Kind, o.Policy, o.Text, o.URL, o.State, post, ms(o.At),
		nullMs(o.SharedAt), boolInt(offerClicked(o)), boolInt(offerShared(o)),
		boolInt(o.Wall), o.WallName, nullMs(o.WallAt), o.Experiment, o.Variant, o.ID)
	if err != nil {
		return writeErr(err, "update offer", o.ID)
	}
	return mustAffect(res, "update offer", o.ID)
}

const offerSQL = `SELECT ` + offerCols + ` FROM offers WHERE id = ?`

// Offer returns the offer id.
func (t *tx) Offer(ctx context.Context, id int64) (*bot.Offer, error) {
	o, err := scanOffer(t.queryRow(ctx, offerSQL, id))
	if err != nil {
		return nil, notFound(err, "offer", id)
	}
	return o, nil
}

const offersSQL = `SELECT ` + offerCols + ` FROM offers WHERE case_id = ? ORDER BY id`

// Offers lists a case's offers in the order they were made.
func (t *tx) Offers(ctx context.Context, caseID int64) ([]*bot.Offer, error) {
	rows, err := t.query(ctx, offersSQL, caseID)
	if err != nil {
		return nil, fmt.Errorf("store: offers of case %d: %w", caseID, err)
	}
	defer rows.Close()
	var offers []*bot.Offer
	for rows.Next() {
		o, err := scanOffer(rows)
		if err != nil {
			return nil, fmt.Errorf("store: offers of case %d: %w", caseID, err)
		}
		offers = append(offers, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: offers of case %d: %w", caseID, err)
	}
	return offers, nil
}
