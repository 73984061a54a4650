package faults

import (
	"context"
	"testing"
	"time"
)

func TestFaultsAreServedInOrder(t *testing.T) {
	s := NewScript(nil)
	s.RateLimit("chat.postMessage", 2, 3*time.Second)
	s.Fail("chat.postMessage", 1, 503)
	s.LoseResponse("chat.postMessage", 1, 502)
	want := []Fault{
		{Status: 429, RetryAfter: 3 * time.Second},
		{Status: 429, RetryAfter: 3 * time.Second},
		{Status: 503},
		{Status: 502, Lost: true},
	}
	for i, w := range want {
		got, ok := s.Take("chat.postMessage")
		if !ok || got != w {
			t.Errorf("call %d: got %+v (%v), want %+v", i+1, got, ok, w)
		}
	}
	if f, ok := s.Take("chat.postMessage"); ok {
		t.Errorf("call 5: got %+v, want no fault", f)
	}
	if f, ok := s.Take("users.info"); ok {
		t.Errorf("another call got %+v, want no fault", f)
	}
}

func TestUnknownCallPanics(t *testing.T) {
	s := NewScript(func(call string) bool { return call == "known" })
	defer func() {
		if recover() == nil {
			t.Error("scripting an unknown call did not panic")
		}
	}()
	s.Fail("knwon", 1, 500)
}

func TestHoldWaitsUntilRelease(t *testing.T) {
	s := NewScript(nil)
	arrived, release := s.Hold("conversations.open")
	done := make(chan bool)
	go func() { done <- s.Wait(context.Background(), "conversations.open") }()
	<-arrived
	select {
	case <-done:
		t.Fatal("a held call went on before release")
	default:
	}
	release()
	if !<-done {
		t.Error("a released call reported abandoned")
	}
	release() // twice is fine
	if !s.Wait(context.Background(), "conversations.open") {
		t.Error("a call after release was held")
	}
}

func TestHeldCallEndsWithContextOrClose(t *testing.T) {
	s := NewScript(nil)
	_, release := s.Hold("x")
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s.Wait(ctx, "x") {
		t.Error("an abandoned call reported answered")
	}
	done := make(chan bool)
	go func() { done <- s.Wait(context.Background(), "x") }()
	s.Close()
	if <-done {
		t.Error("a call held when the fake closed reported answered")
	}
}
