package discord

import (
	"net/http"
	"net/url"
	"strings"
)

// rewriteTransport sends every request to the configured API base: discordgo
// builds its endpoints from package-level https://discord.com/ strings, so the
// scheme and host are replaced on the way out (and a path prefix, for a proxy
// mounted under a path), REST calls and the GET /gateway lookup alike.
type rewriteTransport struct {
	scheme, host, prefix string
	next                 http.RoundTripper
}

// newRewriteTransport returns a RoundTripper that rewrites requests to base.
// next defaults to a private clone of http.DefaultTransport.
func newRewriteTransport(base *url.URL, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			next = dt.Clone()
		} else {
			next = http.DefaultTransport
		}
	}
	return &rewriteTransport{
		scheme: base.Scheme,
		host:   base.Host,
		prefix: strings.TrimSuffix(base.Path, "/"),
		next:   next,
	}
}

// RoundTrip rewrites a copy of r and forwards it.
func (t *rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Scheme = t.scheme
	r2.URL.Host = t.host
	r2.Host = t.host
	if t.prefix != "" {
		r2.URL.Path = t.prefix + r2.URL.Path
		if r2.URL.RawPath != "" {
			r2.URL.RawPath = t.prefix + r2.URL.RawPath
		}
	}
	return t.next.RoundTrip(r2)
}
