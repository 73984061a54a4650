package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Verbs carried by signed action IDs.
const (
	verbAsk       = "ask"       // support modal submitted (arg: channel)
	verbSolved    = "solved"    // customer: my problem is solved
	verbClaim     = "claim"     // staff
	verbResolve   = "resolve"   // staff
	verbReopen    = "reopen"    // staff
	verbRate      = "rate"      // customer (arg: score)
	verbNotFixed  = "notfixed"  // customer
	verbComment   = "comment"   // customer: open the comment modal
	verbCommented = "commented" // customer: comment modal submitted
	verbShare     = "share"     // customer: community post preview (arg: offer)
	verbGo        = "go"        // customer: link target clicked (arg: offer)
	verbPost      = "post"      // customer: preview confirmed (arg: offer)
	verbDecline   = "decline"   // customer: no thanks
	verbNever     = "never"     // customer: don't ask me again
	verbWithdraw  = "withdraw"  // customer: withdraw a shared post (arg: offer)
	verbWall      = "wall"      // customer: show the post on the website too, or not (arg: offer)
)

// staffVerbs may be used by staff only; every other verb by the case's customer only.
var staffVerbs = map[string]bool{verbClaim: true, verbResolve: true, verbReopen: true}

// ErrBadActionID is returned for an action ID that is malformed or whose signature
// does not match: a tampered or foreign button.
var ErrBadActionID = errors.New("invalid action ID")

// actionID is the parsed content of a signed button ID:
// "a1.<case>.<round>.<verb>.<arg>.<mac>", at most 100 characters (Discord's limit).
type actionID struct {
	Case  int64
	Round int
	Verb  string
	Arg   string
}

const actionPrefix = "a1"

// sign renders id with its HMAC. Arg must not contain '.'.
func (id actionID) sign(secret []byte) string {
	body := fmt.Sprintf("%s.%d.%d.%s.%s", actionPrefix, id.Case, id.Round, id.Verb, id.Arg)
	return body + "." + mac(secret, body)
}

func mac(secret []byte, body string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// parseActionID checks the signature and splits the ID. The error never echoes
// the input, which is attacker-controlled.
func parseActionID(secret []byte, s string) (actionID, error) {
	if len(s) > 100 {
		return actionID{}, fmt.Errorf("%w: too long", ErrBadActionID)
	}
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return actionID{}, fmt.Errorf("%w: no signature", ErrBadActionID)
	}
	body, sig := s[:i], s[i+1:]
	if !hmac.Equal([]byte(sig), []byte(mac(secret, body))) {
		return actionID{}, fmt.Errorf("%w: bad signature", ErrBadActionID)
	}
	parts := strings.Split(body, ".")
	if len(parts) != 5 || parts[0] != actionPrefix {
		return actionID{}, fmt.Errorf("%w: malformed", ErrBadActionID)
	}
	caseID, err1 := strconv.ParseInt(parts[1], 10, 64)
	round, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		return actionID{}, fmt.Errorf("%w: malformed", ErrBadActionID)
	}
	return actionID{Case: caseID, Round: round, Verb: parts[3], Arg: parts[4]}, nil
}
