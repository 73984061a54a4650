package discord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// echoHandler stands in for the core: it answers every event with an
// ephemeral line, so the response path is exercised too.
type echoHandler struct{}

func (echoHandler) Handle(context.Context, bot.Event) (bot.Reply, error) {
	return bot.Reply{Ephemeral: "ok"}, nil
}

// FuzzInteractions sends arbitrary, correctly signed bodies to the HTTP
// interactions endpoint: whatever the interaction, the adapter answers with a
// clear status and never fails (5xx) or panics. The handler is called
// in-process, with one small seed for each kind of interaction, so a 10 s run
// tries thousands of inputs rather than a few hundred round trips.
func FuzzInteractions(f *testing.F) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	a, err := New(Options{Token: "t", StaffChannel: "staffch", PublicKey: hex.EncodeToString(pub), Interactions: InteractionsHTTP})
	if err != nil {
		f.Fatal(err)
	}
	a.mu.Lock()
	a.handler, a.base = echoHandler{}, context.Background()
	a.mu.Unlock()
	h := a.InteractionsHandler()

	f.Add([]byte(`{"id":"1","type":1}`))
	f.Add([]byte(`{"id":"2","type":3,"token":"x","channel_id":"10","guild_id":"9","member":{"user":{"id":"7","username":"ada"},"roles":["5"]},"message":{"id":"11","channel_id":"10"},"data":{"custom_id":"a1.1.1.rate.5.sig","component_type":2}}`))
	f.Add([]byte(`{"id":"3","type":2,"token":"x","channel_id":"10","guild_id":"9","member":{"user":{"id":"7"}},"data":{"name":"support","type":1,"options":[{"name":"description","type":3,"value":"help"}]}}`))
	f.Add([]byte(`{"id":"5","type":2,"token":"x","channel_id":"10","guild_id":"9","member":{"user":{"id":"8"},"roles":["5"]},"data":{"name":"case","type":1,"options":[{"name":"note","type":1,"options":[{"name":"text","type":3,"value":"hi"}]}]}}`))
	f.Add([]byte(`{"id":"4","type":5,"token":"x","channel_id":"10","user":{"id":"7"},"data":{"custom_id":"a1.1.1.post.3.sig","components":[{"type":1,"components":[{"type":4,"custom_id":"text","value":"hi"}]}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		sig := ed25519.Sign(priv, append([]byte(ts), body...))
		req := httptest.NewRequest(http.MethodPost, "/discord/interactions", bytes.NewReader(body))
		req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
		req.Header.Set("X-Signature-Timestamp", ts)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("interaction %q: status %d", body, rec.Code)
		}
	})
}
