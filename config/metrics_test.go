package config

import (
	"strings"
	"testing"
)

func TestMetricsOpen(t *testing.T) {
	for _, tt := range []struct {
		listen, token string
		want          bool
	}{
		{"127.0.0.1:8080", "", true},
		{"[::1]:8080", "", true},
		{":8080", "", false},
		{"0.0.0.0:8080", "", false},
		{"127.0.0.1:8080", "0123456789abcdef", false}, // a token is always required once set
		{":8080", "0123456789abcdef", false},
	} {
		f := Default()
		f.HTTP.Listen, f.Metrics.Token = tt.listen, tt.token
		if got := f.MetricsOpen(); got != tt.want {
			t.Errorf("listen %q, token %q: got %v, want %v", tt.listen, tt.token, got, tt.want)
		}
	}
}

func TestMetricsTokenChecked(t *testing.T) {
	f, err := Parse([]byte("metrics:\n  token: abcde\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	err = f.Validate()
	if err == nil || !strings.Contains(err.Error(), "metrics.token: too short") || strings.Contains(err.Error(), "abcde") {
		t.Errorf("a 5-character metrics token: got %v, want metrics.token: too short, without the token", err)
	}
	f.Metrics.Token = "0123456789abcdef"
	if err := f.Validate(); err != nil && strings.Contains(err.Error(), "metrics.token") {
		t.Errorf("a 16-character metrics token: got %v", err)
	}
}
