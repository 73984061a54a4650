package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// TestListenWakesOnEnqueue: an action queued through one store handle (one
// instance) wakes a relay listening through another, once it commits.
func TestListenWakesOnEnqueue(t *testing.T) {
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

	enqueue := func() {
		err := writer.Update(ctx, func(tx bot.Tx) error {
			a := bot.Action{Platform: bot.Slack, Lane: "l", Kind: bot.ActSend}
			return tx.Enqueue(ctx, &a)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// LISTEN takes effect a moment after Listen starts: enqueue until woken.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for got := false; !got; {
		enqueue()
		select {
		case <-woken:
			got = true
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("never woken by a committed enqueue")
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Listen: %v", err)
	}
}
