package discord

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/bot"
)

// signer signs HTTP interactions as Discord does: Ed25519 over timestamp+body.
type signer struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func newSigner(t *testing.T) signer {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signer{pub, priv}
}

// post sends a signed interaction and returns the status and decoded body.
func (s signer) post(t *testing.T, url string, at time.Time, body string) (int, map[string]any) {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature-Timestamp", ts)
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(s.priv, []byte(ts+body))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST interaction: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// TestHTTPInteractions: the signed endpoint answers PING, refuses forged and
// stale signatures, and runs clicks through the core with the HTTP response as
// the interaction response.
func TestHTTPInteractions(t *testing.T) {
	t.Parallel()
	key := newSigner(t)
	e := newEnv(t, envConfig{adapter: func(o *Options) {
		o.Interactions = InteractionsHTTP
		o.PublicKey = hex.EncodeToString(key.pub)
	}})
	srv := httptest.NewServer(e.adapter.InteractionsHandler())
	t.Cleanup(srv.Close)
	now := time.Now()

	if status, body := key.post(t, srv.URL, now, `{"id":"1","type":1,"application_id":"x","token":"tok"}`); status != 200 || body["type"] != float64(1) {
		t.Errorf("PING = %d %v, want 200 type 1", status, body)
	}
	if status, _ := newSigner(t).post(t, srv.URL, now, `{"id":"2","type":1}`); status != http.StatusUnauthorized {
		t.Errorf("forged signature = %d, want 401", status)
	}
	if status, _ := key.post(t, srv.URL, now.Add(-10*time.Minute), `{"id":"3","type":1}`); status != http.StatusUnauthorized {
		t.Errorf("stale signature = %d, want 401", status)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader([]byte(`{"id":"4","type":1}`)))
	req.Header.Set("X-Signature-Timestamp", strconv.FormatInt(now.Unix(), 10))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned request = %v %v, want 401", resp, err)
	}

	_, thread, cs := e.openCase("The export button does nothing")
	intro, _ := e.withButton(thread.ID, "My problem is solved")
	click := func(id, user, customID string, roles ...string) (int, map[string]any) {
		body := fmt.Sprintf(`{"id":%q,"application_id":%q,"type":3,"token":"itok-%s","version":1,"guild_id":%q,"channel_id":%q,`+
			`"member":{"roles":%s,"user":{"id":%q,"username":"u"}},"message":{"id":%q,"channel_id":%q},`+
			`"data":{"custom_id":%q,"component_type":2}}`,
			id, e.fake.ApplicationID(), id, guildID, thread.ID, jsonList(roles), user, intro.ID, thread.ID, customID)
		return key.post(t, srv.URL, time.Now(), body)
	}
	solved := intro.Buttons()[0].CustomID

	status, body := click("1300000000000000100", staffID, solved, staffRole)
	data, _ := body["data"].(map[string]any)
	if status != 200 || body["type"] != float64(4) || data["flags"] != float64(64) {
		t.Errorf("staff pressing the customer's button = %d %v, want 200 type 4 flags 64", status, body)
	}
	status, body = click("1300000000000000101", customerID, solved)
	data, _ = body["data"].(map[string]any)
	if status != 200 || body["type"] != float64(4) || data["flags"] != float64(64) || data["content"] != "Done." {
		t.Errorf("customer pressing solved = %d %v, want 200 and an ephemeral Done.", status, body)
	}
	e.botMessage(supportID, "Resolved privately")
	e.waitKind(cs.ID, bot.KindResolved)
	if kinds := e.kinds(cs.ID); !slices.Contains(kinds, bot.KindResolved) {
		t.Errorf("funnel %v lacks resolved", kinds)
	}
	if logs := e.adapterLogs(); strings.Contains(logs, "itok-") {
		t.Errorf("adapter logs contain an interaction token")
	}
}

func jsonList(ss []string) string {
	b, _ := json.Marshal(append([]string{}, ss...))
	return string(b)
}

// TestTrackedShareLinkCountsClick: a link button leads through advocate's
// redirect, which records share_clicked and sends the browser to the target.
func TestTrackedShareLinkCountsClick(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	_, thread, cs := e.openCase("How do I change my plan?")
	e.rate(thread.ID, "5")
	prompt, _ := e.withButton(thread.ID, "Post on X")
	var link discordfake.Button
	for _, b := range prompt.Buttons() {
		if b.Label == "Post on X" {
			link = b
		}
	}
	if link.Style != 5 || link.CustomID != "" || !strings.HasPrefix(link.URL, e.track.URL+"/r/") {
		t.Fatalf("X button = %+v, want a link button through the tracking redirect", link)
	}
	if slices.Contains(e.kinds(cs.ID), bot.KindShareClicked) {
		t.Fatal("share_clicked recorded before any click")
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(link.URL)
	if err != nil {
		t.Fatalf("GET %s: %v", link.URL, err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusFound; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "https://x.com/intent/post?text=") {
		t.Errorf("redirect to %q, want the X intent", loc)
	}
	e.waitKind(cs.ID, bot.KindShareClicked)
}
