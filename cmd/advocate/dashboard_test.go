package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/advocate-bot/advocate/config"
)

// TestDashboardCookieNotForgeableFromTheSecret signs an admin session cookie
// with a key derived from the configured secret (the published example's),
// as anyone who read the example could: the dashboard refuses it.
func TestDashboardCookieNotForgeableFromTheSecret(t *testing.T) {
	const secret = "sandbox-only-secret-change-me"
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	f := config.Default()
	f.Secret = secret
	f.HTTP.Listen = "127.0.0.1:0"
	f.Store.Path = filepath.Join(t.TempDir(), "advocate.db")
	f.Dashboard.Users = []config.DashboardUser{{Name: "ada", PasswordHash: string(hash), Role: config.RoleAdmin}}
	a, err := openApp(context.Background(), &f, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.ln.Close(); _ = a.db.Close() })
	srv := httptest.NewServer(a.mux)
	t.Cleanup(srv.Close)

	sign := func(key []byte, parts ...string) []byte {
		m := hmac.New(sha256.New, key)
		for _, p := range parts {
			m.Write([]byte(p))
			m.Write([]byte{0})
		}
		return m.Sum(nil)
	}
	derived := sha256.Sum256([]byte("advocate dashboard sessions\x00" + secret))
	m := hmac.New(sha256.New, derived[:])
	m.Write([]byte("advocate dashboard session"))
	sessionKey := m.Sum(nil)
	claim := base64.RawURLEncoding.EncodeToString([]byte("ada")) + "." +
		strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + ".FORGEDFORGEDFORGEDFORGED22"
	cookie := claim + "." + base64.RawURLEncoding.EncodeToString(sign(sessionKey, claim))

	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", srv.URL+"/dashboard/by/staff", nil)
	req.Header.Set("Cookie", "advocate_session="+cookie)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("an admin cookie signed with a key derived from the secret: got %d, want 303 to the login form", resp.StatusCode)
	}
}

// TestCommandsRefuseADamagedDatabase damages the database file where Open
// does not look and runs the commands on it: each refuses it, naming the
// file, instead of serving from it.
func TestCommandsRefuseADamagedDatabase(t *testing.T) {
	cfg := fixture(t)
	f, err := config.Load(cfg, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) - 2*4096; i < len(b); i++ {
		b[i] = byte(i*7 + 3)
	}
	if err := os.WriteFile(f.Store.Path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"report", "--since", "all"}, {"export", "cases"}} {
		_, errOut, code := cli(t, nil, append(args, "--config", cfg)...)
		if code == 0 || !strings.Contains(errOut, "damaged") || !strings.Contains(errOut, f.Store.Path) {
			t.Errorf("%s on a damaged database: exit %d, %q; want a refusal naming the file", args[0], code, errOut)
		}
	}
	f.HTTP.Listen = "127.0.0.1:0"
	if _, err := openApp(context.Background(), f, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "backup") {
		t.Errorf("run on a damaged database: got %v, want a refusal saying what to do", err)
	}
}
