package postgres

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/store/storetest"
)

// testDSNEnv names the environment variable holding the PostgreSQL server
// the tests use: a DSN whose role may create schemas.
const testDSNEnv = "ADVOCATE_TEST_POSTGRES"

var schemas atomic.Int64

// testURL returns a DSN for a new, empty schema of the test server, dropped
// when t ends. Without a server the test skips, and fails under CI.
func testURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(testDSNEnv)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must test the PostgreSQL store (.ci/run starts a server)", testDSNEnv)
		}
		t.Skipf("%s is not set: no PostgreSQL server to test against", testDSNEnv)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", testDSNEnv, err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("advocate_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, schemas.Add(1))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return withSearchPath(t, dsn, schema)
}

// withSearchPath adds search_path=schema to dsn (a URL).
func withSearchPath(t testing.TB, dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s must be a postgres:// URL: %v", testDSNEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openTest opens a store on a new schema and closes it when t ends.
func openTest(t testing.TB, opts Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), testURL(t), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bot.Store { return openTest(t, Options{}) })
}

func TestConformanceReads(t *testing.T) {
	storetest.RunReads(t, func(t *testing.T) storetest.Reads { return openTest(t, Options{}) })
}
