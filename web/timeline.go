package web

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// detail is an event's detail as read from its JSON.
type detail map[string]any

func (d detail) str(k string) string {
	s, _ := d[k].(string)
	return s
}

func (d detail) num(k string) (float64, bool) {
	f, ok := d[k].(float64)
	return f, ok
}

func (d detail) flag(k string) bool {
	b, _ := d[k].(bool)
	return b
}

// round is " (round N)" for a later round, "" for the first.
func (d detail) round() string {
	if n, ok := d.num("round"); ok && n > 1 {
		return " (round " + strconv.Itoa(int(n)) + ")"
	}
	return ""
}

// describe says what an event's detail means, for people: "after 20 s",
// "5 of 5 (CSAT), satisfied". Kinds it does not know fall back to the
// detail's fields, with numbers and yes/no written out.
func describe(kind string, raw json.RawMessage) string {
	var d detail
	if len(raw) == 0 || json.Unmarshal(raw, &d) != nil || len(d) == 0 {
		return ""
	}
	switch kind {
	case bot.KindAskedPublic:
		return "in " + channel(d.str("channel")) + via(d.str("via"))
	case bot.KindTakenPrivate, bot.KindClaimed, bot.KindForgotten:
		return ""
	case bot.KindFirstStaffResponse:
		if s, ok := d.num("seconds"); ok {
			return "after " + human(seconds(s))
		}
	case bot.KindResolved:
		if d.str("by") == "customer" {
			return "by the customer" + d.round()
		}
		return strings.TrimPrefix(d.round(), " ")
	case bot.KindReopened:
		return reopenReason(d.str("reason")) + d.round()
	case bot.KindSurveySent:
		where := map[string]string{bot.PlacePrivate: "in the private conversation",
			bot.PlacePublic: "in the public thread (the private conversation was closed)"}[d.str("place")]
		return strings.TrimSpace(where + d.round())
	case bot.KindSurveyReminded, bot.KindSurveyUndeliverable, bot.KindSurveyExpired,
		bot.KindShareDeclined, bot.KindOptedOut:
		return strings.TrimPrefix(d.round(), " ")
	case bot.KindRated:
		return rating(d)
	case bot.KindCommented:
		if n, ok := d.num("length"); ok {
			return plural(int(n), "character", "characters")
		}
	case bot.KindShareOffered:
		policy := map[string]string{"satisfied": "offered to satisfied customers", "everyone": "offered to every respondent"}[d.str("policy")]
		s := strings.TrimSuffix(target(d)+", "+policy, ", ")
		if v := d.str("variant"); v != "" {
			s += ", variant " + v + " of experiment " + d.str("experiment")
		}
		return s
	case bot.KindShareClicked, bot.KindShareWithdrawn:
		return target(d)
	case bot.KindShared:
		if c := d.str("channel"); c != "" && !strings.HasPrefix(c, "@") {
			return target(d) + ", posted in " + channel(c)
		}
		return target(d)
	case bot.KindWallConsent:
		if !d.flag("wall") {
			return "not on the website"
		}
		if name := d.str("name"); name != "" {
			return "also on the website, as “" + name + "”"
		}
		return "also on the website, as “" + anonymous + "”"
	case bot.KindWallRemoved:
		if d.str("reason") == "opted_out" {
			return "the customer asked never to be asked again"
		}
	case bot.KindShareSuppressed:
		return map[string]string{"opted_out": "the customer asked never to be asked again",
			"cooldown": "they were asked to share recently (share.cooldown)",
			"reopened": "the case was reopened before the delayed prompt was due"}[d.str("reason")]
	case bot.KindShareDelayed:
		return "experiment " + d.str("experiment") + ", variant " + d.str("variant") + ": the prompt is sent " + delayedUntil(d)
	case bot.KindSurveySkipped:
		return map[string]string{bot.SkipSampledOut: "not sampled (survey.sample surveys only some cases)",
			bot.SkipCooldown: "the customer was surveyed recently (survey.cooldown)"}[d.str("reason")] + d.round()
	case bot.KindSLABreached:
		if s, ok := d.num("sla_seconds"); ok {
			return "no staff response within " + human(seconds(s))
		}
	case bot.KindNote:
		return d.str("text")
	case bot.KindNotice:
		return "in " + channel(d.str("channel"))
	case bot.KindClosed:
		return map[string]string{"rated": "after the rating", "survey_expired": "the survey expired unanswered",
			bot.KindSurveySkipped: "resolved without a survey"}[d.str("reason")]
	}
	return fields(d)
}

// delayedUntil is when a delayed prompt is due, "at 3 Nov 2026 09:10 UTC".
func delayedUntil(d detail) string {
	t, err := time.Parse(time.RFC3339Nano, d.str("due_at"))
	if err != nil {
		return "later"
	}
	return "at " + t.UTC().Format("2 Jan 2006 15:04") + " UTC"
}

func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s)) * time.Second
}

func channel(c string) string {
	if c == "" {
		return "a private message"
	}
	return "#" + c
}

func via(v string) string {
	switch v {
	case string(bot.EventMention):
		return ", mentioning the bot"
	case "command":
		return ", with a command"
	}
	return ""
}

func reopenReason(r string) string {
	switch r {
	case "staff":
		return "by staff"
	case "rating":
		return "after an unhappy rating"
	case "not_fixed":
		return "the customer said it is not fixed"
	}
	return r
}

// rating is "4 of 5 (CSAT), satisfied".
func rating(d detail) string {
	score, _ := d.num("score")
	scale := bot.Scale(d.str("scale"))
	lo, hi := scaleRange(scale)
	s := strconv.Itoa(int(score)) + " of " + strconv.Itoa(hi)
	if lo == 0 {
		s = strconv.Itoa(int(score)) + " on 0–" + strconv.Itoa(hi)
	}
	s += " (" + strings.ToUpper(string(scale)) + ")"
	switch {
	case d.flag("recovery"):
		s += ", satisfied: a recovery"
	case d.flag("satisfied"):
		s += ", satisfied"
	case d.flag("unhappy"):
		s += ", unhappy"
	}
	return s + d.round()
}

func target(d detail) string {
	t := d.str("target")
	if k := d.str("kind"); k != "" {
		t += " (" + strings.ReplaceAll(k, "_", " ") + ")"
	}
	return t
}

// fields lists a detail's fields as "key: value", sorted by key, with whole
// numbers without decimals, others to one decimal, and yes/no for booleans.
func fields(d detail) string {
	keys := slices.Sorted(maps.Keys(d))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		var v string
		switch x := d[k].(type) {
		case string:
			v = x
		case float64:
			if x == math.Trunc(x) {
				v = strconv.FormatFloat(x, 'f', 0, 64)
			} else {
				v = strconv.FormatFloat(x, 'f', 1, 64)
			}
		case bool:
			v = map[bool]string{true: "yes", false: "no"}[x]
		case nil:
			continue
		default:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		parts = append(parts, strings.ReplaceAll(k, "_", " ")+": "+v)
	}
	return strings.Join(parts, ", ")
}

// plural is "1 case", "2 cases".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}
