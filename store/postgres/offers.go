package postgres

import (
	"context"
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
		shared *int64
		wall   int
		wallAt *int64
	)
	err := s.Scan(&o.ID, &o.CaseID, &o.Round, &o.Target, &o.Kind, &o.Policy, &o.Text, &o.URL,
		&o.State, &post, &at, &shared, &wall, &o.WallName, &wallAt, &o.Experiment, &o.Variant)
	if err != nil {
		return nil, err
	}
	if err := fromJSON(post, &o.Post); err != nil {
		return nil, err
	}
	o.At, o.SharedAt, o.WallAt, o.Wall = msTime(at), fromMs(shared), fromMs(wallAt), wall != 0
	return &o, nil
}

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
	err = t.queryRow(ctx, `INSERT INTO offers (case_id, round, target, kind, policy,
		text, url, state, post_ref, at, shared_at, clicked, shared, wall, wall_name, wall_at, experiment, variant)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
		o.CaseID, o.Round, o.Target, o.Kind, o.Policy, o.Text, o.URL, o.State, post, ms(o.At),
		nullMs(o.SharedAt), boolInt(offerClicked(o)), boolInt(offerShared(o)),
		boolInt(o.Wall), o.WallName, nullMs(o.WallAt), o.Experiment, o.Variant).Scan(&o.ID)
	if err != nil {
		return writeErr(err, "create offer for case", o.CaseID)
	}
	return nil
}

func offerShared(o *bot.Offer) bool  { return o.State == bot.OfferShared || !o.SharedAt.IsZero() }
func offerClicked(o *bot.Offer) bool { return o.State == bot.OfferClicked || offerShared(o) }

// UpdateOffer replaces the offer o.ID. Once clicked or shared, an offer keeps
// counting as such in the funnel by target, whatever state follows.
func (t *tx) UpdateOffer(ctx context.Context, o *bot.Offer) error {
	post, err := toJSON(o.Post)
	if err != nil {
		return err
	}
	tag, err := t.exec(ctx, `UPDATE offers SET case_id = $1, round = $2, target = $3, kind = $4,
		policy = $5, text = $6, url = $7, state = $8, post_ref = $9, at = $10, shared_at = $11,
		clicked = greatest(clicked, $12), shared = greatest(shared, $13),
		wall = $14, wall_name = $15, wall_at = $16, experiment = $17, variant = $18 WHERE id = $19`,
		o.CaseID, o.Round, o.Target, o.Kind, o.Policy, o.Text, o.URL, o.State, post, ms(o.At),
		nullMs(o.SharedAt), boolInt(offerClicked(o)), boolInt(offerShared(o)),
		boolInt(o.Wall), o.WallName, nullMs(o.WallAt), o.Experiment, o.Variant, o.ID)
	if err != nil {
		return writeErr(err, "update offer", o.ID)
	}
	return mustAffect(tag, "update offer", o.ID)
}

// Offer returns the offer id.
func (t *tx) Offer(ctx context.Context, id int64) (*bot.Offer, error) {
	o, err := scanOffer(t.queryRow(ctx, `SELECT `+offerCols+` FROM offers WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "offer", id)
	}
	return o, nil
}

// Offers lists a case's offers in the order they were made.
func (t *tx) Offers(ctx context.Context, caseID int64) ([]*bot.Offer, error) {
	offers, err := collect(ctx, t, `SELECT `+offerCols+` FROM offers WHERE case_id = $1 ORDER BY id`,
		[]any{caseID}, scanOffer)
	if err != nil {
		return nil, fmt.Errorf("store: offers of case %d: %w", caseID, err)
	}
	return offers, nil
}
