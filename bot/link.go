package bot

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// One person across platforms. A person may have an identity on Slack, on
// Discord and in the sandbox; advocate treats them as one person only once
// they are linked: by the person (/link on one platform gives a one-time
// code, /link CODE on the other enters it) or by staff on the dashboard.
// Nothing is guessed from names or e-mail addresses. Linked identities share
// the share prompt's opt-out and cooldown, and advocate forget erases them
// all.

// Identity is one account of a person: a user ID on a platform.
type Identity struct {
	Platform string
	ID       string
}

// String is "platform:id", for messages to operators.
func (i Identity) String() string { return i.Platform + ":" + i.ID }

// LinkedIdentity is an identity linked with others, and how it was linked.
type LinkedIdentity struct {
	Identity
	// Person numbers the person: the same for all their linked identities.
	Person   int64
	LinkedAt time.Time
	// Via is LinkViaCode, or LinkViaDashboard followed by the staff member's name.
	Via string
}

// How an identity was linked, in LinkedIdentity.Via.
const (
	LinkViaCode      = "code"
	LinkViaDashboard = "dashboard:"
)

// LinkCode is a one-time code waiting to be entered on another platform. The
// store keeps only its Hash (an HMAC under the configured secret).
type LinkCode struct {
	Hash     string
	Identity Identity // who ran /link and got the code
	Expires  time.Time
}

// LinkCodeTTL is how long a link code can be entered.
const LinkCodeTTL = 10 * time.Minute

// ErrInvalidIdentity is returned for an identity advocate cannot link: an
// unknown platform, an empty or malformed ID, an erased person, or the same
// identity twice.
var ErrInvalidIdentity = errors.New("invalid identity")

// codeAlphabet is Crockford's base 32: no I, L, O or U, so a code read aloud
// or copied by hand survives; 8 characters are 40 random bits.
const (
	codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeLen      = 8
)

// newCode returns a random link code, as shown: "K7M2-QX9D".
func newCode() string {
	b := make([]byte, codeLen)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	for i := range b {
		b[i] = codeAlphabet[b[i]%32]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// normalCode reads a code as typed: case, spaces and dashes do not matter,
// and O, I and L are read as 0, 1 and 1. ok is false for anything that
// cannot be a code.
func normalCode(s string) (code string, ok bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case ' ', '-', '\t':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if !strings.ContainsRune(codeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	return b.String(), b.Len() == codeLen
}

// codeHash is what the store keeps of a code: a database copy alone cannot
// be used to link anyone.
func (c *Core) codeHash(code string) string { return mac(c.secret, "link-code\x00"+code) }

// link handles /link: without an argument it gives the person a one-time
// code, in a reply only they see; with one, it enters a code that another
// identity got.
func (t *txn) link(ev Event, r *Reply) error {
	me := Identity{Platform: ev.Author.Platform, ID: ev.Author.ID}
	if me.Platform == "" {
		me.Platform = ev.Where.Platform
	}
	if me.ID == "" || IsForgotten(me.ID) {
		r.Ephemeral = t.say("InvalidButton", nil, TextData{})
		return nil
	}
	if strings.TrimSpace(ev.Text) == "" {
		return t.giveCode(me, r)
	}
	return t.enterCode(me, ev.Text, r)
}

// giveCode stores a new code for me, replacing any earlier one.
func (t *txn) giveCode(me Identity, r *Reply) error {
	for range 3 { // another code with the same hash is possible, if unlikely
		code := newCode()
		norm, _ := normalCode(code)
		err := t.tx.PutLinkCode(t.ctx, LinkCode{Hash: t.codeHash(norm), Identity: me, Expires: t.tx.Now().Add(LinkCodeTTL)})
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("put link code: %w", err)
		}
		t.log.Info("link code given", "platform", me.Platform)
		r.Ephemeral = t.say("LinkCode", nil, TextData{Text: code, Wait: "10 minutes"})
		return nil
	}
	return fmt.Errorf("put link code: %w", ErrConflict)
}

// enterCode links me with the identity that got the code typed.
func (t *txn) enterCode(me Identity, typed string, r *Reply) error {
	norm, ok := normalCode(typed)
	if !ok {
		t.log.Info("link code refused: malformed", "platform", me.Platform)
		r.Ephemeral = t.say("LinkBadCode", nil, TextData{})
		return nil
	}
	now := t.tx.Now()
	g, wait := t.guesses.begin(me, now)
	if g == nil {
		t.log.Warn("link code refused: too many wrong codes", "platform", me.Platform)
		r.Ephemeral = t.say("LinkTooMany", nil, TextData{Wait: waitWords(wait)})
		return nil
	}
	code, err := t.tx.TakeLinkCode(t.ctx, t.codeHash(norm))
	if errors.Is(err, ErrNotFound) {
		t.log.Info("link code refused: unknown or expired", "platform", me.Platform)
		r.Ephemeral = t.say("LinkBadCode", nil, TextData{})
		return nil
	}
	g.Forgive(now)
	if err != nil {
		return fmt.Errorf("take link code: %w", err)
	}
	if code.Identity == me {
		// Entered where it was given: keep it for the other account.
		if err := t.tx.PutLinkCode(t.ctx, code); err != nil {
			return fmt.Errorf("put link code back: %w", err)
		}
		r.Ephemeral = t.say("LinkOwnCode", nil, TextData{Text: norm[:4] + "-" + norm[4:]})
		return nil
	}
	ids, err := t.tx.Identities(t.ctx, me)
	if err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	if slices.Contains(ids, code.Identity) {
		r.Ephemeral = t.say("LinkAlready", nil, TextData{})
		return nil
	}
	if err := t.tx.Link(t.ctx, code.Identity, me, LinkViaCode); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	t.log.Info("identities linked", "via", LinkViaCode, "platforms", code.Identity.Platform+"+"+me.Platform)
	r.Ephemeral = t.say("LinkDone", nil, TextData{})
	return nil
}

// Link makes a and b identities of one person, as staff member by decided on
// the dashboard. ErrInvalidIdentity (wrapped) names what is wrong with them.
func (c *Core) Link(ctx context.Context, a, b Identity, by string) error {
	for _, i := range []Identity{a, b} {
		if err := c.checkIdentity(i); err != nil {
			return err
		}
	}
	if a == b {
		return fmt.Errorf("%w: %s cannot be linked with itself", ErrInvalidIdentity, a)
	}
	err := c.store.Update(ctx, func(tx Tx) error { return tx.Link(ctx, a, b, LinkViaDashboard+by) })
	if err != nil {
		return fmt.Errorf("link %s and %s: %w", a, b, err)
	}
	c.log.Info("identities linked", "via", "dashboard", "by", by, "platforms", a.Platform+"+"+b.Platform)
	return nil
}

// Unlink takes id out of the person it is linked with, as staff member by
// decided on the dashboard: from then on its opt-out and cooldown are its
// own again. ErrNotFound if it is linked with no one.
func (c *Core) Unlink(ctx context.Context, id Identity, by string) error {
	if err := c.checkIdentity(id); err != nil {
		return err
	}
	if err := c.store.Update(ctx, func(tx Tx) error { return tx.Unlink(ctx, id) }); err != nil {
		return fmt.Errorf("unlink %s: %w", id, err)
	}
	c.log.Info("identity unlinked", "by", by, "platform", id.Platform)
	return nil
}

// Platforms names the platforms advocate runs (its registered adapters),
// sorted: those whose identities staff can link.
func (c *Core) Platforms() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Sorted(maps.Keys(c.adapters))
}

// checkIdentity refuses an identity of a platform advocate does not run, an
// ID that is empty, too long or has spaces, and an erased person's token.
func (c *Core) checkIdentity(i Identity) error {
	switch {
	case c.adapter(i.Platform) == nil:
		return fmt.Errorf("%w: advocate runs no platform %q", ErrInvalidIdentity, i.Platform)
	case i.ID == "" || len(i.ID) > 64 || strings.ContainsFunc(i.ID, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return fmt.Errorf("%w: %q is not a user ID", ErrInvalidIdentity, i.ID)
	case IsForgotten(i.ID):
		return fmt.Errorf("%w: %s was erased", ErrInvalidIdentity, i)
	}
	return nil
}

// personOf returns what is known of the person an identity belongs to,
// across every identity linked with it: opted out if any of them opted out
// (or was forgotten after opting out), and the latest share prompt and
// survey of any.
// The record keeps the keys of the identity asked about. The records are
// read in Identities' order, so that a store that locks a record it reads
// (PostgreSQL) takes one person's locks in one order.
func personOf(ctx context.Context, tx Tx, platform, id string) (PersonRecord, error) {
	all := PersonRecord{Platform: platform, ID: id}
	ids, err := tx.Identities(ctx, Identity{Platform: platform, ID: id})
	if err != nil {
		return all, fmt.Errorf("identities: %w", err)
	}
	for _, i := range ids {
		p, err := tx.Person(ctx, i.Platform, i.ID)
		if err != nil {
			return all, err
		}
		all.OptedOut = all.OptedOut || p.OptedOut
		if p.LastPromptAt.After(all.LastPromptAt) {
			all.LastPromptAt = p.LastPromptAt
		}
		if p.LastSurveyAt.After(all.LastSurveyAt) {
			all.LastSurveyAt = p.LastSurveyAt
		}
	}
	return all, nil
}

// Forgotten is what ForgetPerson erased.
type Forgotten struct {
	// Identities are the person's identities, the one named first.
	Identities []Identity
	// Cases counts the cases where they were the customer.
	Cases int
}

// ForgetPerson erases a person in tx: the identity named and every identity
// linked with it (Tx.Forget for each). A person who opted out of share
// prompts stays opted out: each identity is marked opted out before it is
// forgotten, and the store keeps a non-identifying marker of that.
func ForgetPerson(ctx context.Context, tx Tx, id Identity) (Forgotten, error) {
	linked, err := tx.Identities(ctx, id)
	if err != nil {
		return Forgotten{}, fmt.Errorf("identities: %w", err)
	}
	out := Forgotten{Identities: []Identity{id}}
	for _, i := range linked {
		if i != id {
			out.Identities = append(out.Identities, i)
		}
	}
	all, err := personOf(ctx, tx, id.Platform, id.ID)
	if err != nil {
		return Forgotten{}, err
	}
	for _, i := range out.Identities {
		if all.OptedOut {
			if err := keepOptOut(ctx, tx, i); err != nil {
				return Forgotten{}, err
			}
		}
		n, err := tx.Forget(ctx, i.Platform, i.ID)
		if err != nil {
			return Forgotten{}, fmt.Errorf("forget %s: %w", i, err)
		}
		out.Cases += n
	}
	return out, nil
}

// keepOptOut marks identity i opted out, so that forgetting it keeps the mark.
func keepOptOut(ctx context.Context, tx Tx, i Identity) error {
	p, err := tx.Person(ctx, i.Platform, i.ID)
	if err != nil || p.OptedOut {
		return err
	}
	p.OptedOut = true
	if err := tx.PutPerson(ctx, p); err != nil {
		return fmt.Errorf("put person: %w", err)
	}
	return nil
}
