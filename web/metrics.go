package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/advocate-bot/advocate/bot"
)

// Metrics counts what the core does, for Prometheus. It implements
// bot.Observer: give it to bot.Options.Observer. Every method is a few atomic
// adds, safe for concurrent use.
type Metrics struct {
	opened, resolved, breaches    *prometheus.CounterVec
	ratings                       *prometheus.CounterVec
	offers, clicks, shares        *prometheus.CounterVec
	skipped                       *prometheus.CounterVec
	ack                           *prometheus.HistogramVec
	deliveries, failures, deadOut *prometheus.CounterVec
}

var _ bot.Observer = (*Metrics)(nil)

// NewMetrics creates the counters and registers them with reg. It panics if
// they are already registered there, as prometheus.MustRegister does: that is
// a wiring mistake, not a runtime condition.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "advocate", Name: name, Help: help}, labels)
	}
	m := &Metrics{
		opened:   counter("cases_opened_total", "Cases opened (asked_public recorded).", "platform"),
		resolved: counter("cases_resolved_total", "Case resolutions (a case resolved twice counts twice).", "platform"),
		breaches: counter("sla_breaches_total", "Cases whose first staff response came after the SLA.", "platform"),
		ratings:  counter("ratings_total", "Survey answers by scale and score.", "scale", "score"),
		offers:   counter("share_offers_total", "Share prompts offered, by share target.", "target"),
		clicks:   counter("share_clicks_total", "Share prompts clicked, by share target.", "target"),
		shares:   counter("shares_total", "Testimonials posted with the customer's consent, by share target.", "target"),
		skipped:  counter("surveys_skipped_total", "Resolutions not surveyed, by reason (sampled_out: survey.sample; cooldown: survey.cooldown).", "reason"),
		ack: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "advocate", Name: "event_ack_seconds",
			Help:    "Time from a platform event's arrival to its committed effect (both platforms allow 3 s).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5},
		}, []string{"platform"}),
		deliveries: counter("outbox_deliveries_total", "Outbox actions delivered.", "platform"),
		failures:   counter("outbox_failures_total", "Failed outbox delivery attempts (retried or not).", "platform"),
		deadOut:    counter("outbox_dead_total", "Outbox actions given up on.", "platform"),
	}
	reg.MustRegister(m.opened, m.resolved, m.breaches, m.ratings, m.offers, m.clicks, m.shares, m.skipped,
		m.ack, m.deliveries, m.failures, m.deadOut)
	return m
}

// Recorded counts a committed funnel event. Labels come only from bounded
// values (platform, scale, score, configured target names), never from text.
func (m *Metrics) Recorded(kind, platform string, detail map[string]any) {
	platform = label(platform)
	switch kind {
	case bot.KindAskedPublic:
		m.opened.WithLabelValues(platform).Inc()
	case bot.KindResolved:
		m.resolved.WithLabelValues(platform).Inc()
	case bot.KindSLABreached:
		m.breaches.WithLabelValues(platform).Inc()
	case bot.KindRated:
		scale, _ := detail["scale"].(string)
		m.ratings.WithLabelValues(label(scale), scoreLabel(detail["score"])).Inc()
	case bot.KindShareOffered:
		m.offers.WithLabelValues(targetLabel(detail)).Inc()
	case bot.KindShareClicked:
		m.clicks.WithLabelValues(targetLabel(detail)).Inc()
	case bot.KindShared:
		m.shares.WithLabelValues(targetLabel(detail)).Inc()
	case bot.KindSurveySkipped:
		reason, _ := detail["reason"].(string)
		m.skipped.WithLabelValues(label(reason)).Inc()
	}
}

// Acked observes the time from an event's arrival to its commit.
func (m *Metrics) Acked(platform string, d time.Duration) {
	m.ack.WithLabelValues(label(platform)).Observe(d.Seconds())
}

// Delivered counts one outbox delivery attempt.
func (m *Metrics) Delivered(platform string, failed, dead bool) {
	platform = label(platform)
	if !failed {
		m.deliveries.WithLabelValues(platform).Inc()
		return
	}
	m.failures.WithLabelValues(platform).Inc()
	if dead {
		m.deadOut.WithLabelValues(platform).Inc()
	}
}

// label bounds a label value: empty becomes "none", and a long one is cut, so
// a surprising value cannot blow up the series or the scrape.
func label(s string) string {
	if s == "" {
		return "none"
	}
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

func targetLabel(detail map[string]any) string {
	t, _ := detail["target"].(string)
	return label(t)
}

// scoreLabel is a score between 0 and 10 as a label, or "other".
func scoreLabel(v any) string {
	var n int
	switch v := v.(type) {
	case float64:
		n = int(v)
		if float64(n) != v {
			return "other"
		}
	case int:
		n = v
	case int64:
		n = int(v)
	default:
		return "other"
	}
	if n < 0 || n > 10 {
		return "other"
	}
	return strconv.Itoa(n)
}

// metricsAccess is who may read /metrics.
type metricsAccess struct {
	token string // required when set
	open  bool   // without a token: served to anyone (a loopback listener)
}

// metricsGuard serves next to requests with the metrics token, or to anyone
// when no token is set and the server listens on loopback only; it refuses
// the rest, with a log line that never holds the token.
func (s *Server) metricsGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := s.metrics
		switch {
		case m.token != "":
			if tok, _ := bearerToken(r); !tokenMatches(tok, m.token) {
				s.log.Warn("metrics: refused: missing or wrong token", "remote", remoteIP(r))
				w.Header().Set("WWW-Authenticate", `Bearer realm="advocate metrics"`)
				http.Error(w, "metrics need the metrics token", http.StatusUnauthorized)
				return
			}
		case !m.open:
			http.Error(w, "metrics are not served to the network without metrics.token", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// outboxCollector reports the outbox depth, read from the store at scrape time.
type outboxCollector struct {
	store Store
	log   *slog.Logger
	desc  *prometheus.Desc
	// inbound is the events acknowledged and not decided yet
	inbound *prometheus.Desc
	up      *prometheus.Desc
}

func newOutboxCollector(s Store, log *slog.Logger) *outboxCollector {
	return &outboxCollector{
		store: s,
		log:   log,
		desc: prometheus.NewDesc("advocate_outbox_depth",
			"Outbox actions waiting to be delivered (pending) or given up on (dead).", []string{"state"}, nil),
		inbound: prometheus.NewDesc("advocate_inbound_undecided",
			"Events acknowledged and stored as they arrived, not decided yet (a backlog after a flood).", nil, nil),
		up: prometheus.NewDesc("advocate_store_up",
			"1 when the last scrape could read the store, 0 when it could not.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.inbound
	ch <- c.up
}

// Collect implements prometheus.Collector: one read transaction per scrape.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pending, dead, inbound, err := storeStats(ctx, c.store)
	if err != nil {
		c.log.Error("metrics: outbox depth not read", "err", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(pending), "pending")
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(dead), "dead")
	ch <- prometheus.MustNewConstMetric(c.inbound, prometheus.GaugeValue, float64(inbound))
}

func storeStats(ctx context.Context, s Store) (pending, dead, inbound int, err error) {
	err = s.View(ctx, func(tx bot.Tx) error {
		var err error
		if pending, dead, err = tx.OutboxStats(ctx); err != nil {
			return err
		}
		inbound, err = tx.InboundStats(ctx)
		return err
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("store stats: %w", err)
	}
	return pending, dead, inbound, nil
}
