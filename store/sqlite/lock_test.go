package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestExclusiveOpenRefusesSecond(t *testing.T) {
	path := filepath.Join(t.TempDir(), "advocate.db")
	first := openPath(t, path, Options{Exclusive: true})

	_, err := Open(t.Context(), path, Options{Exclusive: true})
	var locked *LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("second exclusive Open: got %v, want a *LockedError", err)
	}
	if locked.Path != path || locked.PID != os.Getpid() {
		t.Errorf("LockedError = %+v, want path %s and PID %d", locked, path, os.Getpid())
	}
	for _, want := range []string{path, strconv.Itoa(os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}

	// A tool command's Open is not exclusive: it reads beside the bot.
	tool := openPath(t, path, Options{})
	newCase(t, tool, "slack", dashDay())

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(t.Context(), path, Options{Exclusive: true})
	if err != nil {
		t.Fatalf("exclusive Open after the holder closed: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}
