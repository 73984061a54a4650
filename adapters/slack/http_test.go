package slack

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/internal/testkit"
)

// A body over the cap is answered 413, and the answer reaches a client that
// sends its whole body before it reads (as simple HTTP clients do): the
// connection is not reset under it while it is still sending.
func TestHTTPBodyOverCapIs413(t *testing.T) {
	logs := &testkit.LogBuffer{}
	a, err := New(Options{BotToken: "xoxb-1", SigningSecret: "secret", Mode: ModeHTTP, StaffChannel: testStaff,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	for _, path := range []string{"/slack/events", "/slack/interactive", "/slack/commands"} {
		for _, size := range []int{maxRequestBody + 1, 8 * maxRequestBody} {
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: advocate\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, size)
			_, werr := c.Write(bytes.Repeat([]byte("x"), size))
			resp, rerr := http.ReadResponse(bufio.NewReader(c), nil)
			switch {
			case werr != nil:
				t.Errorf("%s, %d bytes: sending the body: %v (the connection was cut)", path, size, werr)
			case rerr != nil:
				t.Errorf("%s, %d bytes: reading the answer: %v", path, size, rerr)
			default:
				msg, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(msg), "too large") {
					t.Errorf("%s, %d bytes: got %d %q, want 413", path, size, resp.StatusCode, msg)
				}
			}
			c.Close()
		}
	}
	if got := logs.Count("body too large"); got != 6 {
		t.Errorf("log lines for refused bodies: got %d, want 6\n%s", got, logs.String())
	}
	// a chunked body over the cap, from Go's client
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/slack/events", io.MultiReader(bytes.NewReader(make([]byte, 2*maxRequestBody))))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: got %d, want 413", resp.StatusCode)
	}
}
