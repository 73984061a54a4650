package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// TestSQLConstantsPrepared checks that every statement constant (a
// package-level constant named …SQL) is in writeSQL or readSQL, so none
// is parsed again in every transaction by oversight.
func TestSQLConstantsPrepared(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	consts, listed := map[string]bool{}, map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				if d.Tok != token.CONST {
					continue
				}
				for _, s := range d.Specs {
					for _, id := range s.(*ast.ValueSpec).Names {
						if strings.HasSuffix(id.Name, "SQL") {
							consts[id.Name] = true
						}
					}
				}
			case *ast.FuncDecl:
				if d.Name.Name != "writeSQL" && d.Name.Name != "readSQL" {
					continue
				}
				ast.Inspect(d.Body, func(n ast.Node) bool {
					if id, ok := n.(*ast.Ident); ok && strings.HasSuffix(id.Name, "SQL") {
						listed[id.Name] = true
					}
					return true
				})
			}
		}
	}
	delete(listed, "readSQL")
	for name := range consts {
		if !listed[name] {
			t.Errorf("%s is not in writeSQL or readSQL", name)
		}
	}
	if len(consts) == 0 {
		t.Errorf("no …SQL constants found in %v", files)
	}
}

// commitMode is a way of committing Updates.
type commitMode struct {
	name string
	opts Options
}

// commitModes are the two ways of committing Updates: group commit and the
// baseline, a transaction per Update. The benchmarks compare them.
func commitModes() []commitMode {
	return []commitMode{{"group", Options{}}, {"baseline", Options{NoGroupCommit: true}}}
}

// A prepared statement follows schema changes made after Open, here by
// another connection: a new trigger applies to it, and a dropped index its
// plan used does not break it.
func TestPreparedStatementsFollowSchemaChanges(t *testing.T) {
	for _, mode := range commitModes() {
		t.Run(mode.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "advocate.db")
			db := openPath(t, path, mode.opts)
			ctx := t.Context()
			enqueue := func(ctx context.Context, tx bot.Tx) error {
				if _, err := tx.Seen(ctx, "e-1"); err != nil {
					return err
				}
				return tx.Enqueue(ctx, &bot.Action{Platform: bot.Slack, Lane: "l", Kind: bot.ActSend})
			}
			mustUpdate(t, db, enqueue)
			pending := func() int {
				t.Helper()
				var n int
				err := db.View(ctx, func(tx bot.Tx) error {
					got, err := tx.PendingActions(ctx, time.Now(), 0)
					n = len(got)
					return err
				})
				if err != nil {
					t.Fatalf("PendingActions: %v", err)
				}
				return n
			}
			if got, want := pending(), 1; got != want {
				t.Fatalf("pending actions: got %d, want %d", got, want)
			}

			other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			for _, q := range []string{
				`CREATE TRIGGER no_spam BEFORE INSERT ON processed_events WHEN new.id LIKE 'spam%'
					BEGIN SELECT RAISE(ABORT, 'spam refused'); END`,
				`DROP INDEX outbox_pending`,
			} {
				if _, err := other.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}

			err = db.Update(ctx, func(tx bot.Tx) error {
				_, err := tx.Seen(ctx, "spam-1")
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "spam refused") {
				t.Errorf("Seen after a trigger was added: got %v, want the trigger's error", err)
			}
			mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
				return tx.Enqueue(ctx, &bot.Action{Platform: bot.Slack, Lane: "m", Kind: bot.ActSend})
			})
			if got, want := pending(), 2; got != want {
				t.Errorf("pending actions after an index was dropped: got %d, want %d", got, want)
			}
		})
	}
}

// Prepared statements shared by concurrent Updates and Views: the read pool
// prepares them on each of its connections as they are first used.
func TestPreparedStatementsConcurrent(t *testing.T) {
	for _, mode := range commitModes() {
		t.Run(mode.name, func(t *testing.T) {
			db := openTest(t, mode.opts)
			ctx := t.Context()
			const workers, each = 8, 10
			var wg sync.WaitGroup
			errs := make(chan error, 2*workers*each)
			for w := range workers {
				wg.Go(func() {
					var caseID int64
					for i := range each {
						errs <- db.Update(ctx, func(tx bot.Tx) error {
							if _, err := tx.Seen(ctx, fmt.Sprintf("e-%d-%d", w, i)); err != nil {
								return err
							}
							if caseID == 0 {
								c := bot.Case{Platform: bot.Slack, Customer: bot.Person{Platform: bot.Slack, ID: fmt.Sprint("u", w)}}
								if err := tx.CreateCase(ctx, &c); err != nil {
									return err
								}
								caseID = c.ID
							}
							return tx.Record(ctx, bot.CaseEvent{CaseID: caseID, Kind: bot.KindNote, Actor: "S1"})
						})
						errs <- db.View(ctx, func(tx bot.Tx) error {
							events, err := tx.CaseEvents(ctx, caseID)
							if err == nil && len(events) != i+1 {
								err = fmt.Errorf("worker %d: got %d events, want %d", w, len(events), i+1)
							}
							return err
						})
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestCloseClosesPreparedStatements(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "advocate.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var stmts []*sql.Stmt
	for _, c := range []stmtCache{db.writeStmts, db.readStmts} {
		for _, s := range c {
			stmts = append(stmts, s)
		}
	}
	if got, want := len(stmts), len(writeSQL())+len(readSQL()); got != want {
		t.Errorf("prepared statements: got %d, want %d", got, want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := s.Exec(); err == nil || !strings.Contains(err.Error(), "statement is closed") {
			t.Errorf("statement after Close: got %v, want it closed", err)
			break
		}
	}
}

// A tx method does not start a statement once its context has ended: exec,
// query and queryRow all fail with the context's error.
func TestTxMethodsEndedContext(t *testing.T) {
	calls := []struct {
		name string
		call func(ctx context.Context, tx bot.Tx) error
	}{
		{"exec", func(ctx context.Context, tx bot.Tx) error { _, err := tx.Seen(ctx, "e-1"); return err }},
		{"query", func(ctx context.Context, tx bot.Tx) error { _, err := tx.CaseEvents(ctx, 1); return err }},
		{"queryRow", func(ctx context.Context, tx bot.Tx) error { _, err := tx.Case(ctx, 1); return err }},
	}
	for _, mode := range commitModes() {
		db := openTest(t, mode.opts)
		for _, c := range calls {
			t.Run(mode.name+"/"+c.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				var got error
				err := db.Update(t.Context(), func(tx bot.Tx) error {
					cancel()
					got = c.call(ctx, tx)
					return nil
				})
				if err != nil {
					t.Fatalf("Update: %v", err)
				}
				if !errors.Is(got, context.Canceled) {
					t.Errorf("%s with an ended context: got %v, want %v", c.name, got, context.Canceled)
				}
			})
		}
		if seen(t, db, "e-1") {
			t.Errorf("%s: event recorded with an ended context", mode.name)
		}
	}
}
