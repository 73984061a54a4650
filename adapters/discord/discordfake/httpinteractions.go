package discordfake

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// httpInteractions is the state of HTTP interactions mode.
type httpInteractions struct {
	url  string
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

// InteractionsPublicKey returns the application's public key, hex-encoded, as
// the Developer Portal shows it: HTTP interactions are signed with its
// private half.
func (s *Server) InteractionsPublicKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interactionKeyLocked()
	return hex.EncodeToString(s.ihttp.pub)
}

func (s *Server) interactionKeyLocked() {
	if s.ihttp.priv != nil {
		return
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic("discordfake: ed25519 key: " + err.Error())
	}
	s.ihttp.pub, s.ihttp.priv = pub, priv
}

// DeliverInteractionsOverHTTP sends interactions to the application's
// Interactions Endpoint URL instead of the gateway, as Discord does once the
// URL is set: a signed POST (X-Signature-Ed25519 over X-Signature-Timestamp
// and the body, with InteractionsPublicKey's private half) whose response
// body is the initial response, applied and recorded in
// InteractionResponses like a callback. No 2xx with a valid response within
// InteractionDeadline fails the interaction: it is recorded with the status
// the endpoint answered (0 when none came in time), and Discord does not send
// it again. Call it again with the new URL after the bot restarts; an empty
// url goes back to the gateway.
func (s *Server) DeliverInteractionsOverHTTP(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interactionKeyLocked()
	s.ihttp.url = url
}

// postInteractionLocked starts the HTTP delivery of an interaction when the
// fake is in HTTP interactions mode; it reports whether it is. Callers hold
// s.mu.
func (s *Server) postInteractionLocked(i *interaction) bool {
	if s.ihttp.url == "" {
		return false
	}
	body, err := json.Marshal(i.payload)
	if err != nil {
		panic("discordfake: interaction payload: " + err.Error())
	}
	s.wg.Add(1)
	go s.postInteraction(i.ID, i.Token, s.ihttp.url, s.ihttp.priv, body)
	return true
}

// postInteraction makes the signed POST and applies its response.
func (s *Server) postInteraction(id, token, url string, priv ed25519.PrivateKey, body []byte) {
	defer s.wg.Done()
	status, resp := s.signedPost(url, priv, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	i := s.interactions[id]
	if i == nil {
		return
	}
	if status >= 200 && status < 300 && len(bytes.TrimSpace(resp)) > 0 {
		r := &http.Request{}
		r.SetPathValue("interaction_id", id)
		r.SetPathValue("interaction_token", token)
		q := &request{r: r, body: resp, now: s.now()}
		s.recordEffect(RouteInteractionCallback, q, s.interactionCallback(q))
		return
	}
	if len(i.responses) < maxInteractionResponses {
		i.responses = append(i.responses, InteractionResponse{Status: status, At: s.now()})
	}
}

// signedPost posts body signed as Discord signs interactions and returns the
// status and body, status 0 when no response came within InteractionDeadline.
func (s *Server) signedPost(url string, priv ed25519.PrivateKey, body []byte) (int, []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.InteractionDeadline)
	defer cancel()
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)")
	req.Header.Set("X-Signature-Timestamp", ts)
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(priv, append([]byte(ts), body...))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil
	}
	return resp.StatusCode, b
}
