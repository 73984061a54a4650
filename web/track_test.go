package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/web"
)

func TestTrackCountsAndRedirects(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	h.Ask(ada, "help")
	h.Say(h.Staff(), bot.Ref{Channel: "case-1"}, "done")
	h.Click(h.Staff(), h.WithButton("staff", "Resolve"), "Resolve")
	h.Click(ada, h.WithButton("case-1", "5"), "5")
	cs := h.Case(1)
	link := h.WithButton("case-1", "Review us on Trustpilot").Button("Review us on Trustpilot")
	srv := httptest.NewServer(web.Track(h.Core, h.Core.Logger()))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	url := web.TrackURL(srv.URL, link.ActionID)
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != link.URL {
		t.Errorf("tracked link: got %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), link.URL)
	}
	if got := len(h.Events(cs.ID, bot.KindShareClicked)); got != 1 {
		t.Errorf("share_clicked: got %d, want 1", got)
	}
	for _, forged := range []string{strings.Replace(link.ActionID, ".go.", ".rate.", 1), "nonsense", link.ActionID + "x"} {
		resp, err := client.Get(web.TrackURL(srv.URL, forged))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("forged link %q: got %d, want 404", forged, resp.StatusCode)
		}
	}
	// a valid signed ID of another kind (a survey score) is not a link
	score := h.Find("case-1", "Your answer is recorded")
	if score != nil && len(score.Msg.Buttons) > 0 {
		resp, _ := client.Get(web.TrackURL(srv.URL, score.Msg.Buttons[0].ActionID))
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("a non-link action through the redirect: got %d, want 404", resp.StatusCode)
		}
	}
}
