package config

import (
	"strings"
	"testing"
)

func TestStoreURLErrorHidesPassword(t *testing.T) {
	f := Default()
	f.Store.Driver, f.Store.URL = "postgres", "postgres://ann:s3cret@db:notaport/advocate"
	err := f.Validate()
	if err == nil || !strings.Contains(err.Error(), "store.url: ") {
		t.Fatalf("got %v, want a store.url error", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error repeats the password: %v", err)
	}
}
