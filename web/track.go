// Package web serves advocate's HTTP pages for people: the staff dashboard, the
// tracking redirect for share links, metrics and health.
package web

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/advocate-bot/advocate/bot"
)

// TrackPath is where tracked share links point (see bot.TrackURL).
const TrackPath = bot.TrackPath

// TrackURL is bot.TrackURL, kept here for the web server's callers.
func TrackURL(publicURL, actionID string) string { return bot.TrackURL(publicURL, actionID) }

// Track counts a click on a share link through the core and redirects the browser
// to the target. Unknown or forged links get 404 and change nothing.
func Track(h bot.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, TrackPath)
		reply, err := h.Handle(r.Context(), bot.Event{Kind: bot.EventAction, ActionID: id})
		if err != nil {
			log.Error("tracked click not recorded", "err", err)
			http.Error(w, "try again in a moment", http.StatusServiceUnavailable)
			return
		}
		if reply.URL == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Referrer-Policy", "no-referrer")
		http.Redirect(w, r, reply.URL, http.StatusFound)
	})
}
