package discord

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

// maxSignatureAge is how old a signed interaction may be: older ones are
// refused as replays (discordgo.VerifyInteraction checks only the signature).
const maxSignatureAge = 5 * time.Minute

// maxInteractionBody bounds a request body.
const maxInteractionBody = 1 << 20

// InteractionsHandler serves Discord's HTTP interactions (mount it at
// /discord/interactions and enter that URL as the Interactions Endpoint URL in
// the Developer Portal). Requests must carry a valid Ed25519 signature of the
// application's public key and a timestamp at most five minutes from now;
// anything else gets 401. PING is answered with PONG; every other interaction
// goes through the core like one from the gateway, and the HTTP response body
// is the interaction's initial response. Until Run has started it answers 503.
func (a *Adapter) InteractionsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if a.publicKey == nil {
			http.Error(w, "interactions endpoint not configured", http.StatusServiceUnavailable)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxInteractionBody)
		if !discordgo.VerifyInteraction(r, a.publicKey) {
			a.log.Warn("interaction refused: bad signature", "remote", r.RemoteAddr)
			http.Error(w, "invalid request signature", http.StatusUnauthorized)
			return
		}
		if !fresh(r.Header.Get("X-Signature-Timestamp"), time.Now()) {
			a.log.Warn("interaction refused: stale timestamp", "remote", r.RemoteAddr)
			http.Error(w, "invalid request signature", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		var i discordgo.Interaction
		if err := json.Unmarshal(body, &i); err != nil {
			http.Error(w, "bad interaction", http.StatusBadRequest)
			return
		}
		if i.Type == discordgo.InteractionPing {
			writeJSON(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
			return
		}
		h, _ := a.current()
		if h == nil {
			http.Error(w, "not running", http.StatusServiceUnavailable)
			return
		}
		resp := a.interact(r.Context(), h, &i)
		if resp == nil {
			http.Error(w, "unsupported interaction", http.StatusBadRequest)
			return
		}
		writeJSON(w, resp)
	})
}

// fresh reports whether a signature timestamp (Unix seconds) is within
// maxSignatureAge of now, in either direction.
func fresh(ts string, now time.Time) bool {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	d := now.Sub(time.Unix(sec, 0))
	return d <= maxSignatureAge && d >= -maxSignatureAge
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
