package postgres

import (
	"context"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// wallSQL reads the wall through the partial index offers_wall: only the
// testimonials whose customers chose the wall, still shared, with a text.
const wallSQL = `SELECT wall_name, text, wall_at FROM offers
	WHERE wall_at IS NOT NULL AND wall = 1 AND state = 'shared' AND text != ''
	ORDER BY wall_at DESC, id DESC LIMIT $1 OFFSET $2`

// Wall lists the testimonials on the public wall, newest first, from offset
// up to n of them (n <= 0: all): the name each customer chose, the
// text and when it went on the wall, nothing else.
func (db *DB) Wall(ctx context.Context, offset, n int) ([]bot.WallEntry, error) {
	var out []bot.WallEntry
	err := db.View(ctx, func(btx bot.Tx) error {
		var err error
		out, err = collect(ctx, btx.(*tx), wallSQL, []any{limit(n), max(offset, 0)}, func(s scanner) (bot.WallEntry, error) {
			var e bot.WallEntry
			var at int64
			err := s.Scan(&e.Name, &e.Text, &at)
			e.At = msTime(at)
			return e, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: wall: %w", err)
	}
	return out, nil
}
