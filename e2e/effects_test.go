package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/cmd/advocate-load/sim"
)

// owed is an effect a customer's steps and timers owe them exactly once.
type owed struct {
	what string
	due  bool
	// n counts the effects that are it.
	n int
}

// requireOwed reports every due effect not made exactly once, and every
// effect not due that was made anyway.
func requireOwed(t *testing.T, name string, owes []owed) {
	t.Helper()
	for _, o := range owes {
		switch {
		case o.due && o.n != 1:
			t.Errorf("%s: %s made %d times, want once", name, o.what, o.n)
		case !o.due && o.n > 0:
			t.Errorf("%s: %s made %d times, want none", name, o.what, o.n)
		}
	}
}

// requireTimer requires a timer's post once where it was due and at most once
// elsewhere: a crash can delay a staff answer past the SLA, or a rating past
// the reminder.
func requireTimer(t *testing.T, name, what string, due bool, n int) {
	t.Helper()
	if (due && n != 1) || n > 1 {
		t.Errorf("%s: %s made %d times, want %s", name, what, n, map[bool]string{true: "once", false: "at most once"}[due])
	}
}

// repeats counts the effects made again (same key as an earlier one): it
// reports those that a person would see twice (a second post, ephemeral,
// view or interaction response) as errors, and logs the replays of an
// idempotent effect (the same edit of the same message again, a member added
// to a thread again), which an at-least-once outbox makes after a crash and
// which leave nothing different to see, unless the replay came after a
// different change of the same thing (target(i)), which it then undid: an
// error too. It returns how many replays there were.
func repeats(t *testing.T, keys []string, idempotent func(i int) bool, target func(i int) string, describe func(i int) string) int {
	t.Helper()
	seen := map[string]bool{}
	last := map[string]string{} // target → key of the latest change
	var twice, replays []string
	for i, k := range keys {
		tg := target(i)
		prev := last[tg]
		last[tg] = k
		if !seen[k] {
			seen[k] = true
			continue
		}
		switch {
		case !idempotent(i):
			twice = append(twice, describe(i))
		case prev != k:
			twice = append(twice, describe(i)+" (undoing a later change)")
		default:
			replays = append(replays, describe(i))
		}
	}
	sort.Strings(twice)
	sort.Strings(replays)
	if len(replays) > 0 {
		t.Logf("idempotent effects replayed: %d:\n  %s", len(replays), strings.Join(replays, "\n  "))
	}
	if len(twice) > 0 {
		t.Errorf("effects made twice: %d, want none:\n  %s", len(twice), strings.Join(twice, "\n  "))
	}
	return len(replays)
}

// promptText begins the share prompt a role's rating is answered with: a
// satisfied customer is asked to share, a neutral one offered the review
// sites only, in other words.
func promptText(r role) string {
	if r == neutral {
		return "Whatever your experience, you are welcome to review"
	}
	return "Would you like to share"
}

// slackRepeats reports the Slack effects made twice and counts the replays.
func slackRepeats(t *testing.T, all []slackfake.Effect) int {
	t.Helper()
	keys := make([]string, len(all))
	for i, ef := range all {
		keys[i] = ef.Key()
	}
	idempotent := func(i int) bool {
		k := all[i].Kind
		return k == "chat.update" || k == "chat.delete" || k == "views.update"
	}
	target := func(i int) string { return all[i].Channel + "/" + all[i].Target }
	return repeats(t, keys, idempotent, target, func(i int) string {
		ef := all[i]
		return fmt.Sprintf("%s in %s (thread %q, target %q, user %q): %.60q", ef.Kind, ef.Channel, ef.Thread, ef.Target, ef.User, ef.Text)
	})
}

// discordRepeats reports the Discord effects made twice and counts the replays.
func discordRepeats(t *testing.T, all []discordfake.Effect) int {
	t.Helper()
	keys := make([]string, len(all))
	for i, ef := range all {
		keys[i] = ef.Key()
	}
	idempotent := func(i int) bool {
		switch all[i].Route {
		case discordfake.RouteEditMessage, discordfake.RouteDeleteMessage, discordfake.RouteAddThreadMember,
			discordfake.RouteRemoveThreadMember, discordfake.RouteEditWebhookMessage, discordfake.RouteDeleteWebhookMessage:
			return true
		}
		return false
	}
	target := func(i int) string { return all[i].Channel + "/" + all[i].Target }
	return repeats(t, keys, idempotent, target, func(i int) string {
		ef := all[i]
		return fmt.Sprintf("%s in %s (target %q, interaction %q): %.60q", ef.Route, ef.Channel, ef.Target, ef.Interaction, ef.Content)
	})
}

// checkSlackEffects requires every outward effect on Slack at most once and
// each one a customer is owed exactly once: the public reply, DM intro, staff
// root and controls at intake; the relayed staff answer, the public
// "resolved" reply and the survey after resolution; the reminder, share
// prompt, preview and testimonial where due; the SLA nudge for the
// unanswered. It returns how many effects there were and how many were
// idempotent replays.
func checkSlackEffects(t *testing.T, e *env, custs []*customer) (effects, replays int) {
	t.Helper()
	all := e.slack.Fake.Effects()
	replays = slackRepeats(t, all)
	posts := func(channel, thread string, match func(string) bool) int {
		n := 0
		for _, ef := range all {
			if ef.Kind == "chat.postMessage" && ef.Channel == channel && (thread == "*" || ef.Thread == thread) && match(ef.Text) {
				n++
			}
		}
		return n
	}
	prefix := func(p string) func(string) bool { return func(s string) bool { return strings.HasPrefix(s, p) } }
	has := func(ps ...string) func(string) bool {
		return func(s string) bool {
			for _, p := range ps {
				if !strings.Contains(s, p) {
					return false
				}
			}
			return true
		}
	}
	views := map[int64]int{}
	for _, ef := range all {
		if ef.Kind == "views.open" {
			if v, ok := e.slack.Fake.View(ef.Created); ok {
				views[sim.CaseOfActionID(v.PrivateMetadata)]++
			}
		}
	}
	for _, c := range custs {
		s, r := c.slack, roleOf(c.i)
		id := s.CaseID
		answered := r != unanswered
		prompted := r == declines || r == neutral || r == shares
		requireOwed(t, s.Name, []owed{
			{"the public reply", true, posts(sim.SupportChannel, s.Question.TS, has("taken this to a private conversation"))},
			{"the DM intro", true, posts(s.DM, "", prefix("Hi "))},
			{"the staff root", true, posts(sim.StaffChannel, "", prefix(fmt.Sprintf("Case #%d: ", id)))},
			{"the staff controls", true, posts(sim.StaffChannel, "*", prefix(fmt.Sprintf("Case #%d from", id)))},
			{"the relayed staff answer", answered, posts(s.DM, "*", has(fmt.Sprintf(": Fixed case %d for you", id)))},
			{"the public resolved reply", answered, posts(sim.SupportChannel, s.Question.TS, has("Resolved privately"))},
			{"the survey", answered, posts(s.DM, "*", prefix("This case has been marked as resolved."))},
			{"the share prompt", prompted, posts(s.DM, "*", prefix(promptText(r)))},
			{"the testimonial", r == shares, posts(sim.ShowcaseChannel, "*", has("💬 “"+s.Testimonial()))},
		})
		requireTimer(t, s.Name, "the survey reminder", r == unrated, posts(s.DM, "*", prefix("A quick reminder")))
		requireTimer(t, s.Name, "the SLA nudge", r == unanswered, posts(sim.StaffChannel, "*", has(fmt.Sprintf("Case #%d ", id), "has had no staff response")))
		shareClicks := 0
		for _, st := range s.Steps {
			if st.Kind == "share" {
				shareClicks += len(st.Envelopes)
			}
		}
		if r == shares && (views[id] < 1 || views[id] > shareClicks) {
			t.Errorf("%s: %d previews opened for %d share clicks, want one for each click the bot answered", s.Name, views[id], shareClicks)
		}
	}
	byKind := map[string]int{}
	for _, ef := range all {
		byKind[ef.Kind]++
	}
	if posts := idsForNames(all, custs); len(posts) > 0 {
		t.Errorf("%d posts show a person's user ID where their name goes, the first: %q", len(posts), posts[0])
	}
	t.Logf("Slack effects by kind: %v; %d response_url posts refused; %d of %d posts refused with 429", byKind,
		refusedResponsePosts(e.slack.Fake), e.slack.Fake.RateLimitedCalls("chat.postMessage"), e.slack.Fake.Calls("chat.postMessage"))
	return len(all), replays
}

// idsForNames lists the posts that name a customer or the staff member by
// user ID, outside a mention.
func idsForNames(all []slackfake.Effect, custs []*customer) []string {
	ids := []string{sim.StaffUser}
	for _, c := range custs {
		ids = append(ids, c.user())
	}
	var posts []string
	for _, ef := range all {
		if ef.Kind != "chat.postMessage" {
			continue
		}
		for _, id := range ids {
			if strings.Count(ef.Text, id) > strings.Count(ef.Text, "<@"+id) {
				posts = append(posts, ef.Text)
				break
			}
		}
	}
	return posts
}

func refusedResponsePosts(f *slackfake.Server) int {
	n := 0
	for _, p := range f.ResponsePosts() {
		if p.Error != "" {
			n++
		}
	}
	return n
}

// checkDiscordEffects requires every outward effect on Discord at most once
// and each one a customer is owed exactly once: the private thread and the
// customer in it, the staff thread, the public reply, the intro and the staff controls at
// intake; the public "resolved" reply and the survey after resolution; the
// reminder, share prompt and testimonial where due; the SLA nudge for the
// unanswered. It returns how many effects there were and how many were
// idempotent replays.
func checkDiscordEffects(t *testing.T, e *env, custs []*customer) (effects, replays int) {
	t.Helper()
	f := e.discord.Fake
	all := f.Effects()
	replays = discordRepeats(t, all)
	// messages counts the bot's messages, wherever they were made (a message,
	// an interaction's response or follow-up), in channel ("*": any).
	messages := func(channel string, match func(string) bool) int {
		n := 0
		for _, ef := range all {
			switch {
			case ef.Route == discordfake.RouteCreateMessage, ef.Route == discordfake.RouteCreateFollowup:
			case ef.Route == discordfake.RouteInteractionCallback && ef.Type == discordfake.ResponseMessage:
			default:
				continue
			}
			if (channel == "*" || ef.Channel == channel) && match(ef.Content) {
				n++
			}
		}
		return n
	}
	has := func(ps ...string) func(string) bool {
		return func(s string) bool {
			for _, p := range ps {
				if !strings.Contains(s, p) {
					return false
				}
			}
			return true
		}
	}
	for _, c := range custs {
		d, r := c.discord, roleOf(c.i)
		id := d.CaseID
		answered := r != unanswered
		prompted := r == declines || r == neutral || r == shares
		threads, staffThreads, joined := 0, 0, 0
		for _, ef := range all {
			if ef.Content == fmt.Sprintf("Case #%d · %s", id, d.Name) {
				switch ef.Route {
				case discordfake.RouteStartThread:
					threads++
				case discordfake.RouteStartThreadFromMessage:
					staffThreads++
				}
			}
			if ef.Route == discordfake.RouteAddThreadMember && ef.Channel == d.Thread.ID && ef.Target == d.User {
				joined++
			}
		}
		in := d.Thread.ID
		mine := func(ps ...string) func(string) bool {
			return func(s string) bool {
				return has(ps...)(s) && (strings.Contains(s, d.Name) || strings.Contains(s, "<@"+d.User+">"))
			}
		}
		requireOwed(t, d.Name, []owed{
			{"the private thread", true, threads},
			{"the staff thread", true, staffThreads},
			{"the customer's place in the thread", true, min(joined, 1)}, // a PUT: replays are logged above
			{"the public reply", true, messages(sim.DiscordSupport, mine("taken this to a private conversation"))},
			{"the intro", true, messages(in, has("Hi ", "private conversation with the"))},
			{"the staff controls", true, messages("*", func(s string) bool { return strings.HasPrefix(s, fmt.Sprintf("Case #%d from", id)) })},
			{"the public resolved reply", answered, messages(sim.DiscordSupport, mine("Resolved privately"))},
			{"the survey", answered, messages(in, has("This case has been marked as resolved."))},
			{"the share prompt", prompted, messages(in, has(promptText(r)))},
			{"the testimonial", r == shares, messages(sim.DiscordShowcase, has(d.Testimonial()))},
		})
		requireTimer(t, d.Name, "the survey reminder", r == unrated, messages(in, has("A quick reminder")))
		requireTimer(t, d.Name, "the SLA nudge", r == unanswered, messages("*", has(fmt.Sprintf("Case #%d ", id), "has had no staff response")))
	}
	byRoute := map[string]int{}
	for _, ef := range all {
		byRoute[ef.Route]++
	}
	asked := 0
	for _, c := range custs {
		asked += c.discord.Questions - 1
	}
	t.Logf("Discord effects by route: %v; %d questions asked again (the bot never saw them)", byRoute, asked)
	return len(all), replays
}
