package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Prepared statements. Neither database/sql nor modernc.org/sqlite keeps a
// statement prepared from one Tx.ExecContext to the next, and parsing and
// planning the bot's small statements again in every event took about 30 %
// of the CPU time of a group commit run. So Open prepares the statements of
// the tx methods once per pool, and the methods run them through
// Tx.StmtContext, which reuses the statement already prepared on the
// transaction's connection (database/sql prepares it there by itself if that
// connection has not got it yet: a read pool connection opened later, or one
// that replaced a broken one).
//
// They are prepared at Open, not on first use: the writer pool has one
// connection, and at first use the transaction that needs the statement
// holds it, so preparing on the pool then would wait for ever. Open prepares
// them after the migrations, and a later schema change does not make them
// stale: SQLite prepares a statement again by itself when the schema it was
// prepared on has changed (sqlite3_prepare_v2).
//
// A statement is found by its SQL text. One built at run time (FindCases'
// filters, Forget, Purge, the dashboard's) is not in the cache and is
// prepared each time it runs.
//
// A prepared statement is one SQLite statement per connection, so a query's
// rows must be closed before the same query runs again in the transaction;
// the tx methods close theirs before they return.

// writeSQL lists the statements Open prepares on the writer: those of all the
// tx methods (an Update reads too) and group commit's savepoints.
func writeSQL() []string {
	return append(readSQL(),
		seenSQL, createCaseSQL, updateCaseSQL, recordSQL, markStagesSQL,
		createOfferSQL, updateOfferSQL, nameCustomerSQL,
		enqueueSQL, requeueSQL, markDeliveredSQL, forgetDeliverySQL, rememberDeliverySQL, markFailedSQL,
		putPersonSQL, putRatingSQL, ratingCommentSQL, setTimerSQL, cancelTimerSQL, takeTimerSQL,
		putInboundSQL, takeInboundSQL, claimInboundSQL,
		insertLinkSQL, mergeLinksSQL, nextPersonSQL, unlinkSQL, dropLoneSQL, dropCodesSQL, putCodeSQL, takeCodeSQL,
		savepointSQL, releaseSQL, rollbackToSQL,
	)
}

// readSQL lists the statements of the tx methods that only read: the ones
// Open prepares on the read pool.
func readSQL() []string {
	return []string{
		caseSQL, activeCaseSQL, caseByConversationSQL, caseEventsSQL,
		offerSQL, offersSQL,
		pendingActionsSQL, lastActionSQL, laneHeadSQL, deliveredSQL, outboxStatsSQL,
		personSQL, ratingsSQL, dueTimersSQL,
		personNoSQL, identitiesSQL, linkCountSQL, linkPageSQL, linkPersonSQL,
		wallSQL, inboundStatsSQL,
	}
}

// stmtCache holds a pool's prepared statements by their SQL text. It does
// not change after Open, so it needs no lock.
type stmtCache map[string]*sql.Stmt

// prepareStmts prepares queries on pool.
func prepareStmts(ctx context.Context, pool *sql.DB, queries []string) (stmtCache, error) {
	c := make(stmtCache, len(queries))
	for _, q := range queries {
		s, err := pool.PrepareContext(ctx, q)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("store: prepare %q: %w", q, err), c.close())
		}
		c[q] = s
	}
	return c, nil
}

// close closes the statements. A statement still in use by a transaction is
// closed when the transaction ends.
func (c stmtCache) close() error {
	var errs []error
	for _, s := range c {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// exec runs query in t: the prepared statement if c has it, else the text.
func (c stmtCache) exec(ctx context.Context, t *sql.Tx, query string, args ...any) (sql.Result, error) {
	if s := c[query]; s != nil {
		return t.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return t.ExecContext(ctx, query, args...)
}

// query is exec for a statement that returns rows.
func (c stmtCache) query(ctx context.Context, t *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if s := c[query]; s != nil {
		return t.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.QueryContext(ctx, query, args...)
}

// queryRow is exec for a statement that returns at most one row.
func (c stmtCache) queryRow(ctx context.Context, t *sql.Tx, query string, args ...any) *sql.Row {
	if s := c[query]; s != nil {
		return t.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.QueryRowContext(ctx, query, args...)
}
