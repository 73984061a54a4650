package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// TestListenWakes: Listen wakes once when it starts listening, and then
// whenever a transaction of another store handle (another instance) that
// queued an action or set a timer commits; a transaction that did neither
// wakes nobody.
func TestListenWakes(t *testing.T) {
	url := testURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	open := func() *DB {
		db, err := Open(ctx, url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	listener, writer := open(), open()
	woken := make(chan struct{}, 16)
	listening, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- listener.Listen(listening, func() { woken <- struct{}{} }) }()
	wait := func(what string) {
		t.Helper()
		select {
		case <-woken:
		case <-ctx.Done():
			t.Fatalf("not woken %s", what)
		}
	}
	wait("as it started listening")

	update := func(fn func(tx bot.Tx) error) {
		t.Helper()
		if err := writer.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	var caseID int64
	update(func(tx bot.Tx) error { // no action, no timer
		c := &bot.Case{Platform: bot.Slack, Customer: bot.Person{Platform: bot.Slack, ID: "U1"}}
		err := tx.CreateCase(ctx, c)
		caseID = c.ID
		return err
	})
	update(func(tx bot.Tx) error {
		a := bot.Action{Platform: bot.Slack, Lane: "l", Kind: bot.ActSend}
		return tx.Enqueue(ctx, &a)
	})
	wait("by a committed enqueue")
	update(func(tx bot.Tx) error {
		return tx.SetTimer(ctx, bot.Timer{CaseID: caseID, Kind: bot.TimerSLA, DueAt: time.Now().Add(time.Hour)})
	})
	wait("by a committed timer")
	select {
	case <-woken:
		t.Error("woken by a transaction that queued nothing")
	default:
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Listen: %v", err)
	}
}
