package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

const day = 24 * time.Hour

// periodDays is a period of the selector in days, 0 for all time; ok is
// false for anything else.
func periodDays(p string) (days int, ok bool) {
	switch p {
	case "7d":
		return 7, true
	case "30d":
		return 30, true
	case "90d":
		return 90, true
	case "all":
		return 0, true
	}
	return 0, false
}

// filter is a page's period and filters, read from its query string. Periods
// are whole UTC days: "last 30 days" is today and the 29 days before.
type filter struct {
	Period   string // 7d, 30d, 90d, all or custom
	Since    string // YYYY-MM-DD, custom periods
	Until    string // YYYY-MM-DD inclusive, custom periods
	Platform string
	Channel  string
	Status   string // cases page
	Page     int    // 1-based, lists

	since, until time.Time // the period as [since, until)
	problems     []string
}

// parseFilter reads q; what it cannot read falls back to the default (last
// 30 days) and is reported in problems, not refused.
func parseFilter(q url.Values, now time.Time) filter {
	f := filter{
		Period:   q.Get("period"),
		Since:    q.Get("since"),
		Until:    q.Get("until"),
		Platform: clip(q.Get("platform")),
		Channel:  clip(q.Get("channel")),
		Status:   q.Get("status"),
	}
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 0 {
		f.Page = p
	} else {
		f.Page = 1
	}
	today := now.UTC().Truncate(day)
	if f.Period == "" && (f.Since != "" || f.Until != "") {
		f.Period = "custom"
	}
	switch n, ok := periodDays(f.Period); {
	case ok && n > 0:
		f.since, f.until = today.AddDate(0, 0, 1-n), today.Add(day)
	case ok:
		// all time: no bounds
	case f.Period == "custom":
		var err error
		if f.Since != "" {
			if f.since, err = time.Parse(time.DateOnly, f.Since); err != nil {
				f.problems = append(f.problems, "The start date is not a date (YYYY-MM-DD): ignored.")
				f.Since = ""
			}
		}
		if f.Until != "" {
			if f.until, err = time.Parse(time.DateOnly, f.Until); err != nil {
				f.problems = append(f.problems, "The end date is not a date (YYYY-MM-DD): ignored.")
				f.Until = ""
			} else {
				f.until = f.until.Add(day)
			}
		}
		if !f.since.IsZero() && !f.until.IsZero() && !f.since.Before(f.until) {
			f.problems = append(f.problems, "The period ends before it starts: showing all time.")
			f.since, f.until, f.Since, f.Until = time.Time{}, time.Time{}, "", ""
		}
	default:
		f.Period = "30d"
		f.since, f.until = today.AddDate(0, 0, -29), today.Add(day)
	}
	if f.Status != "" && !slices.Contains(statuses(), bot.Status(f.Status)) {
		f.problems = append(f.problems, "Unknown status: showing every status.")
		f.Status = ""
	}
	return f
}

// clip bounds a filter value taken from the URL.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

// statuses are the case statuses, for the cases filter.
func statuses() []bot.Status {
	return []bot.Status{bot.StatusOpen, bot.StatusAwaitingStaff, bot.StatusAwaitingCustomer,
		bot.StatusResolved, bot.StatusReopened, bot.StatusClosed}
}

// query is the filter as the store's selection, grouped by groupBy.
func (f filter) query(groupBy ...string) bot.FunnelQuery {
	return bot.FunnelQuery{Since: f.since, Until: f.until, Platform: f.Platform, Channel: f.Channel, GroupBy: groupBy}
}

// values is the filter as a query string (without the page), for links.
func (f filter) values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("period", f.Period)
	if f.Period == "custom" {
		set("since", f.Since)
		set("until", f.Until)
	}
	set("platform", f.Platform)
	set("channel", f.Channel)
	set("status", f.Status)
	return v
}

// link is path with the filter, plus extra parameters.
func (f filter) link(path string, extra ...string) string {
	v := f.values()
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// Describe says in words what the filter selects, for headings and exports.
func (f filter) Describe() string {
	var parts []string
	switch {
	case f.since.IsZero() && f.until.IsZero():
		parts = append(parts, "all time")
	case f.since.IsZero():
		parts = append(parts, "until "+f.until.Add(-day).Format("2 Jan 2006"))
	case f.until.IsZero():
		parts = append(parts, "since "+f.since.Format("2 Jan 2006"))
	default:
		parts = append(parts, f.since.Format("2 Jan 2006")+" – "+f.until.Add(-day).Format("2 Jan 2006"))
	}
	if f.Platform != "" {
		parts = append(parts, f.Platform)
	}
	if f.Channel != "" {
		parts = append(parts, "#"+f.Channel)
	}
	return strings.Join(parts, ", ")
}
