package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/advocate-bot/advocate/bot"
)

var _ bot.Claimer = (*DB)(nil)

// serverMs is the database server's clock in Unix milliseconds: leases are
// measured on one clock, whatever the instances' clocks say.
const serverMs = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`

// ClaimDestinations claims dests for owner for lease, renewing owner's own
// claims and taking over those whose lease has run out. A claim another
// instance is taking or renewing at the same moment is skipped (FOR UPDATE
// SKIP LOCKED), not waited for. It runs in a READ COMMITTED transaction of
// its own, apart from the bot's SERIALIZABLE ones, and also drops a few long
// expired claims.
func (db *DB) ClaimDestinations(ctx context.Context, owner string, dests []string, lease time.Duration) (held, taken []string, err error) {
	err = pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(t pgx.Tx) error {
		held, taken = nil, nil
		rows, err := t.Query(ctx, `SELECT dest, owner, until < `+serverMs+` FROM relay_claims
			WHERE dest = ANY($1) FOR UPDATE SKIP LOCKED`, dests)
		if err != nil {
			return err
		}
		type claim struct {
			owner   string
			expired bool
		}
		locked := map[string]claim{}
		for rows.Next() {
			var dest string
			var c claim
			if err := rows.Scan(&dest, &c.owner, &c.expired); err != nil {
				rows.Close()
				return err
			}
			locked[dest] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var renew, absent []string
		for _, dest := range dests {
			c, ok := locked[dest]
			switch {
			case !ok:
				absent = append(absent, dest) // or held by a claimant right now: the INSERT tells
			case c.owner == owner:
				renew = append(renew, dest)
			case c.expired:
				renew, taken = append(renew, dest), append(taken, dest)
			}
		}
		leaseMs := lease.Milliseconds()
		if len(renew) > 0 {
			if _, err := t.Exec(ctx, `UPDATE relay_claims SET owner = $2, until = `+serverMs+` + $3
				WHERE dest = ANY($1)`, renew, owner, leaseMs); err != nil {
				return err
			}
			held = append(held, renew...)
		}
		if len(absent) > 0 {
			rows, err := t.Query(ctx, `INSERT INTO relay_claims (dest, owner, until)
				SELECT d, $2, `+serverMs+` + $3 FROM unnest($1::text[]) d
				ON CONFLICT (dest) DO NOTHING RETURNING dest`, absent, owner, leaseMs)
			if err != nil {
				return err
			}
			got, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			held = append(held, got...)
		}
		_, err = t.Exec(ctx, `DELETE FROM relay_claims WHERE dest IN (SELECT dest FROM relay_claims
			WHERE until < `+serverMs+` - $1 LIMIT 100 FOR UPDATE SKIP LOCKED)`, 100*leaseMs)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: claim destinations: %w", err)
	}
	return held, taken, nil
}

// ReleaseDestinations deletes owner's claims.
func (db *DB) ReleaseDestinations(ctx context.Context, owner string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM relay_claims WHERE owner = $1`, owner); err != nil {
		return fmt.Errorf("store: release destinations: %w", err)
	}
	return nil
}
