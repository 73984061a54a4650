package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

func TestScratchFunnel(t *testing.T) {
	n := 1000000
	path := "/tmp/scratch_funnel.db"
	fresh := false
	if _, err := os.Stat(path); err != nil {
		fresh = true
	}
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if fresh {
		start := time.Now()
		base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < n; i += 5000 {
			err := db.Update(ctx, func(tx bot.Tx) error {
				for j := i; j < i+5000; j++ {
					c := bot.Case{Platform: []string{"slack", "discord"}[j%2], Customer: bot.Person{ID: fmt.Sprint("u", j)},
						Status: bot.StatusClosed, Public: bot.Ref{Channel: fmt.Sprint("C", j%20)}, Assignee: fmt.Sprint("S", j%15),
						Question: "some question text here", OpenedAt: base.Add(time.Duration(j) * 30 * time.Second)}
					if err := tx.CreateCase(ctx, &c); err != nil {
						return err
					}
					for k, kind := range []string{"asked_public", "taken_private", "first_staff_response", "resolved", "survey_sent", "rated", "share_offered"} {
						if rand.IntN(10) < 9-k {
							if err := tx.Record(ctx, bot.CaseEvent{CaseID: c.ID, Kind: kind, At: c.OpenedAt}); err != nil {
								return err
							}
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("insert: %v", time.Since(start))
	}
	for _, q := range []bot.FunnelQuery{
		{},
		{GroupBy: []string{"platform"}},
		{GroupBy: []string{"staff"}},
		{GroupBy: []string{"week"}},
		{GroupBy: []string{"channel", "staff"}},
		{Since: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), GroupBy: []string{"week"}},
	} {
		start := time.Now()
		rows, err := db.Funnel(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: %d rows in %v", q.GroupBy, len(rows), time.Since(start))
	}
	for _, g := range []string{"c.platform", "c.opened_week"} {
		r, _ := db.read.Query("EXPLAIN QUERY PLAN " + fmt.Sprintf(funnelSQL([]string{g}, stageCounts(), false), " WHERE c.opened_at >= 0"))
		for r.Next() {
			var a, b, c int
			var d string
			r.Scan(&a, &b, &c, &d)
			t.Log(d)
		}
		r.Close()
	}
}
