// Package pgtest gives tests a PostgreSQL database of their own: a new schema
// on the server that ADVOCATE_TEST_POSTGRES names (a DSN whose role may
// create schemas), dropped when the test ends. Without the variable the test
// is skipped, and fails when CI is set (.ci/run starts a server).
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the environment variable holding the test server's DSN.
const Env = "ADVOCATE_TEST_POSTGRES"

var schemas atomic.Int64

// URL returns a postgres:// URL for a new, empty schema, dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must test the PostgreSQL store (.ci/run starts a server)", Env)
		}
		t.Skipf("%s is not set: no PostgreSQL server to test against", Env)
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", Env)
	}
	ctx := context.Background()
	schema := fmt.Sprintf("advocate_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemas.Add(1))
	exec(t, ctx, dsn, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { exec(t, ctx, dsn, "DROP SCHEMA "+schema+" CASCADE") })
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func exec(t testing.TB, ctx context.Context, dsn, stmt string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", Env, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}
