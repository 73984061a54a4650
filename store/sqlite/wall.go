package sqlite

import (
	"context"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// wallSQL reads the wall from the partial index offers_wall alone (it
// covers the query): only the testimonials whose customers chose the wall,
// still shared, with a text.
const wallSQL = `SELECT wall_name, text, wall_at FROM offers
	WHERE wall_at IS NOT NULL AND wall = 1 AND state = 'shared' AND text != ''
	ORDER BY wall_at DESC, id DESC LIMIT ? OFFSET ?`

// Wall lists the testimonials on the public wall, newest first, from offset
// up to limit of them (limit <= 0: all): the name each customer chose, the
// text and when it went on the wall, nothing else.
func (db *DB) Wall(ctx context.Context, offset, limit int) ([]bot.WallEntry, error) {
	var out []bot.WallEntry
	err := db.View(ctx, func(btx bot.Tx) error {
		rows, err := btx.(*tx).query(ctx, wallSQL, sqlLimit(limit), max(offset, 0))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e bot.WallEntry
			var at int64
			if err := rows.Scan(&e.Name, &e.Text, &at); err != nil {
				return err
			}
			e.At = msTime(at)
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: wall: %w", err)
	}
	return out, nil
}
