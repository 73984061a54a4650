package sqlite

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"modernc.org/sqlite"

	"github.com/advocate-bot/advocate/bot"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// damage overwrites the last pages of the file (the latest rows of the
// cases table and its indexes, nothing Open reads) with garbage, as a failed
// disk or a stray write would.
func damage(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if len(b) < 3*page {
		t.Fatalf("%s: %d bytes, too small to damage usefully", path, len(b))
	}
	for i := len(b) - 2*page; i < len(b); i++ {
		b[i] = byte(i*7 + 3)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesADamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "advocate.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		newCase(t, db, bot.Slack, time.Now())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	damage(t, path)
	_, err = Open(t.Context(), path, Options{})
	if !errors.Is(err, ErrDatabaseDamaged) {
		t.Fatalf("Open of a damaged file: got %v, want %v", err, ErrDatabaseDamaged)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "backup") {
		t.Errorf("the error does not name the file and what to do: %v", err)
	}

	garbage := filepath.Join(t.TempDir(), "notes.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database at all ", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), garbage, Options{}); !errors.Is(err, ErrDatabaseDamaged) {
		t.Errorf("Open of a file that is not a database: got %v, want %v", err, ErrDatabaseDamaged)
	}
}

// slowFunction is an SQL function that takes a millisecond a call. A CHECK
// constraint that calls it makes PRAGMA quick_check, which verifies CHECK
// constraints, take a millisecond a row: a check as long as a test needs,
// without a file of gigabytes.
const slowFunction = "advocate_test_slow"

var registerSlowFunction = sync.OnceValue(func() error {
	return sqlite.RegisterScalarFunction(slowFunction, 1, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
		time.Sleep(time.Millisecond)
		return int64(1), nil
	})
})

// TestOpenCutsOffACheckThatTakesTooLong: an integrity check that is still
// running at CheckTimeout is interrupted there, and Open goes on with a
// warning. The test runs in a synctest bubble, so its clock is the bubble's:
// the check's millisecond a row and the bound are exact, however loaded the
// machine is.
func TestOpenCutsOffACheckThatTakesTooLong(t *testing.T) {
	if err := registerSlowFunction(); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		const rows, bound = 1000, 50 * time.Millisecond
		path := filepath.Join(t.TempDir(), "advocate.db")
		db := openPath(t, path, Options{})
		newCase(t, db, bot.Slack, time.Now())
		if _, err := db.write.ExecContext(t.Context(), `CREATE TABLE slow (x INTEGER CHECK (`+slowFunction+`(x)))`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(t.Context(),
			`WITH RECURSIVE n(x) AS (VALUES(1) UNION ALL SELECT x+1 FROM n WHERE x < ?) INSERT INTO slow SELECT x FROM n`, rows); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		var logs bytes.Buffer
		start := time.Now()
		db, err := Open(t.Context(), path, Options{CheckTimeout: bound, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		took := time.Since(start)
		if err != nil {
			t.Fatalf("Open with a check longer than its bound: %v, want it to go on", err)
		}
		defer db.Close()
		if full := rows * time.Millisecond; took < bound || took >= full {
			t.Errorf("Open took %v on the bubble's clock; want the check cut off at its bound, %v (the whole check takes %v)", took, bound, full)
		}
		if !strings.Contains(logs.String(), "integrity check skipped") {
			t.Errorf("no warning that the check was skipped; log:\n%s", logs.String())
		}
		var cases int
		if err := db.read.QueryRowContext(t.Context(), `SELECT count(*) FROM cases`).Scan(&cases); err != nil || cases != 1 {
			t.Errorf("the store after the cut-off check: %d cases, %v; want 1", cases, err)
		}
	})
}

func TestProbe(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	db := openTest(t, Options{Now: clock.Now})
	ctx := t.Context()
	if err := db.Probe(ctx); err != nil {
		t.Fatalf("Probe of a healthy store: %v", err)
	}
	var at int64
	if err := db.read.QueryRowContext(ctx, `SELECT at FROM store_probe`).Scan(&at); err != nil || at != ms(clock.Now()) {
		t.Errorf("the probe's committed row: at %d, %v; want %d", at, err, ms(clock.Now()))
	}

	// The disk fills up: no page can be added. The probe's own row still
	// fits, but the bot's writes fail, and Probe says so.
	var pages int
	if err := db.write.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	var full error
	for i := 0; full == nil && i < 10000; i++ {
		full = db.Update(ctx, func(tx bot.Tx) error {
			c := bot.Case{Platform: bot.Slack, Customer: bot.Person{ID: "ann"}, Question: strings.Repeat("x", 2000), OpenedAt: clock.Now()}
			return tx.CreateCase(ctx, &c)
		})
	}
	if storageFault(full) == nil || !errors.Is(storageFault(full), ErrDatabaseFull) {
		t.Fatalf("writes on a full disk: got %v, want SQLITE_FULL", full)
	}
	if err := db.Probe(ctx); !errors.Is(err, ErrDatabaseFull) {
		t.Errorf("Probe after a write failed on a full disk: got %v, want %v", err, ErrDatabaseFull)
	}
	clock.Advance(writeFaultWindow)
	if err := db.Probe(ctx); err != nil {
		t.Errorf("Probe a while after the failure, with no failure since: %v", err)
	}

	// The file becomes read-only: the probe's own write fails.
	if _, err := db.write.ExecContext(ctx, `PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	if err := db.Probe(ctx); !errors.Is(err, ErrDatabaseReadOnly) {
		t.Errorf("Probe of a read-only database: got %v, want %v", err, ErrDatabaseReadOnly)
	}
}

// TestReadOnlyWriterIsReopened: a writer connection that can no longer write
// (as SQLite leaves one that opened a file it could not write) is replaced
// after the failure, so the store recovers without a restart once the file
// is writable, and Probe says ready at once. Here the connection is made
// read-only with query_only, which a new connection does not have.
func TestReadOnlyWriterIsReopened(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	db := openTest(t, Options{Now: clock.Now})
	ctx := t.Context()
	if _, err := db.write.ExecContext(ctx, `PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	write := func() error {
		return db.Update(ctx, func(tx bot.Tx) error {
			c := bot.Case{Platform: bot.Slack, Customer: bot.Person{ID: "ann"}, OpenedAt: clock.Now()}
			return tx.CreateCase(ctx, &c)
		})
	}
	if err := write(); !errors.Is(storageFault(err), ErrDatabaseReadOnly) {
		t.Fatalf("a write on the read-only connection: got %v, want %v", err, ErrDatabaseReadOnly)
	}
	if err := write(); err != nil {
		t.Errorf("the next write, on a new connection: %v", err)
	}
	if err := db.Probe(ctx); err != nil {
		t.Errorf("Probe once writes go through again: %v, want ready", err)
	}
}

func TestProbeOfAClosedStore(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "advocate.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Probe(context.Background()); err == nil {
		t.Error("Probe of a closed store: got no error")
	}
}
