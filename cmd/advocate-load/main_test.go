package main

import (
	"io"
	"slices"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-customers", "1000", "-mode", "open"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.concurrency, 200; got != want {
		t.Errorf("open mode concurrency: got %d, want %d", got, want)
	}
	if got, want := o.pulse, 100*time.Millisecond; got != want {
		t.Errorf("pulse above 200 customers: got %s, want %s", got, want)
	}
	o, err = parseFlags([]string{"-customers", "1000", "-mode", "open", "-rate", "300"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.concurrency, 1000; got != want {
		t.Errorf("open mode at a rate: got concurrency %d, want %d (the rate alone sets the pace)", got, want)
	}
	o, err = parseFlags([]string{"-customers", "50"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.concurrency, 50; got != want {
		t.Errorf("full mode concurrency: got %d, want all %d customers", got, want)
	}
	for _, bad := range [][]string{
		{"-customers", "0"},
		{"-platform", "irc"},
		{"-mode", "soak"},
		{"-pacing", "-1s"},
		{"-post-interval", "-1s"},
		{"-patience", "-1s"},
		{"-rate", "-5"},
		{"extra"},
	} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q): got no error", bad)
		}
	}
}

func TestBurstMinimum(t *testing.T) {
	b := slackBurst(500, 50*time.Millisecond, slackBotPacing)
	if got, want := b.Posts, 1000; got != want {
		t.Errorf("slack posts: got %d, want %d (a root and the controls per case)", got, want)
	}
	if got, want := b.MinSeconds, 49.95; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("slack minimum: got %.3f s, want %.3f s", got, want)
	}
	if got, want := b.BotMinSeconds, 999.0; got != want {
		t.Errorf("slack minimum at the bot's pace: got %.0f s, want %.0f s", got, want)
	}
	if got, want := slackBurst(500, 50*time.Millisecond, 50*time.Millisecond).BotMinSeconds, 49.95; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("slack minimum at a post interval of 50 ms: got %.3f s, want %.3f s", got, want)
	}
	d := discordBurst(500, time.Second)
	if got, want := d.MinSeconds, 495.0; got != want {
		t.Errorf("discord minimum: got %.0f s, want %.0f s", got, want)
	}
	if got := discordBurst(500, 0).MinSeconds; got != 0 {
		t.Errorf("discord minimum without pacing: got %.0f s, want 0", got)
	}
}

func TestCallsByRoute(t *testing.T) {
	got := callsByRoute(map[string]int{"GET /a": 4, "POST /b": 10, "POST /c": 4}, 2)
	want := []routeCalls{{Route: "POST /b", Calls: 10, PerConversation: 5}, {Route: "GET /a", Calls: 4, PerConversation: 2}, {Route: "POST /c", Calls: 4, PerConversation: 2}}
	if !slices.Equal(got, want) {
		t.Errorf("callsByRoute: got %v, want %v (most first, ties by route, per conversation)", got, want)
	}
	if got := callsByRoute(map[string]int{"GET /a": 4}, 0); got[0].PerConversation != 0 {
		t.Errorf("no completed conversation: got %v per conversation, want 0", got[0].PerConversation)
	}
}
