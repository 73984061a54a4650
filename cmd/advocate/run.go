package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	discordadapter "github.com/advocate-bot/advocate/adapters/discord"
	"github.com/advocate-bot/advocate/adapters/sandbox"
	slackadapter "github.com/advocate-bot/advocate/adapters/slack"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/config"
	"github.com/advocate-bot/advocate/store/sqlite"
	"github.com/advocate-bot/advocate/web"
)

func runCommand(e *env) *cobra.Command {
	var prof profiles
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the bot (the sandbox, Slack and Discord as configured) and its web server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			f, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, prof.stop()) }()
			if err := prof.start(); err != nil {
				return err
			}
			log := e.logger(f)
			a, err := openApp(cmd.Context(), f, log)
			if err != nil {
				return err
			}
			base := config.LocalURL(a.ln.Addr().String())
			if a.sandbox != nil {
				fmt.Fprintf(e.stdout, "advocate sandbox:   %s/sandbox/\n", base)
			}
			fmt.Fprintf(e.stdout, "advocate dashboard: %s/dashboard/\n", base)
			if f.Wall.Enabled {
				fmt.Fprintf(e.stdout, "advocate wall:      %s/wall\n", base)
			}
			return a.run(cmd.Context())
		},
	}
	prof.flags(cmd)
	return cmd
}

// app is a running advocate: store, core, adapters and the HTTP server.
type app struct {
	cfg      *config.File
	log      *slog.Logger
	db       appStore
	core     *bot.Core
	adapters []bot.Adapter
	sandbox  *sandbox.Sandbox
	slack    *slackadapter.Adapter
	discord  *discordadapter.Adapter
	mux      *http.ServeMux
	ln       net.Listener
}

// openApp builds the adapters, opens the store, builds the core and binds the
// listener. f must have passed config.LoadValid (or Validate): that check and
// buildAdapters, both shared with check-config, hold the configuration's rules,
// and both come before the database is opened.
func openApp(ctx context.Context, f *config.File, log *slog.Logger) (*app, error) {
	a := &app{cfg: f, log: log, mux: http.NewServeMux()}
	for _, note := range f.Notes() {
		log.Warn(note)
	}
	if err := a.buildAdapters(); err != nil {
		return nil, err
	}
	db, err := openDB(ctx, f, log, true)
	var locked *sqlite.LockedError
	if errors.As(err, &locked) {
		return nil, err // it names the file and the other process
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", storeName(f), err)
	}
	a.db = db
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	_, wakes := db.(outboxListener)
	core, err := bot.New(bot.Options{Store: db, Config: f.Core(), Logger: log, Observer: web.NewMetrics(reg), StoreWakes: wakes})
	if err != nil {
		db.Close()
		return nil, err
	}
	a.core = core
	for _, ad := range a.adapters {
		core.Register(ad)
	}
	dash, err := a.dashboard(ctx, reg)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	a.routes(dash)
	ln, err := net.Listen("tcp", f.HTTP.Listen)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("listen on %s: %w", f.HTTP.Listen, err)
	}
	a.ln = ln
	return a, nil
}

// buildAdapters creates the enabled platforms' adapters, which check their
// options without a network call, and reports every platform's problems
// together. It may add staff IDs to the core's configuration (the sandbox's
// staff personas).
func (a *app) buildAdapters() error {
	f := a.cfg
	var errs []error
	if f.Sandbox.Enabled {
		sb, err := sandbox.New(sandbox.Options{
			Customers:    f.Sandbox.Customers,
			Staff:        f.Sandbox.Staff,
			Path:         sandboxPath(f.Store.Path),
			DashboardURL: "/dashboard/",
			Logger:       a.log,
		})
		if err != nil {
			errs = append(errs, err) // each adapter names itself
		} else {
			f.Staff.Sandbox.Users = append(f.Staff.Sandbox.Users, sb.StaffIDs()...)
			a.sandbox = sb
			a.adapters = append(a.adapters, sb)
		}
	}
	if f.Slack.Enabled {
		sl, err := slackadapter.New(slackadapter.Options{
			BotToken: f.Slack.BotToken, AppToken: f.Slack.AppToken, SigningSecret: f.Slack.SigningSecret,
			Mode: f.Slack.Mode, APIURL: f.Slack.APIURL, SupportChannels: f.Slack.SupportChannels,
			StaffChannel: f.Slack.StaffChannel, ShowcaseChannel: f.Slack.ShowcaseChannel,
			UserGroups: f.Staff.Slack.Roles, PostInterval: f.Slack.PostInterval.D(),
			HistoryRate: f.Slack.HistoryRate, Logger: a.log,
		})
		if err != nil {
			errs = append(errs, err)
		} else {
			a.slack = sl
			a.adapters = append(a.adapters, sl)
		}
	}
	if f.Discord.Enabled {
		if len(f.Staff.Discord.Roles) == 0 && f.Discord.StaffRole != "" {
			f.Staff.Discord.Roles = []string{f.Discord.StaffRole}
		}
		d, err := discordadapter.New(discordadapter.Options{
			Token: f.Discord.Token, ApplicationID: f.Discord.ApplicationID, PublicKey: f.Discord.PublicKey,
			APIURL: f.Discord.APIURL, Guilds: f.Discord.Guilds, SupportChannels: f.Discord.SupportChannels,
			StaffRole: f.Discord.StaffRole, StaffChannel: f.Discord.StaffChannel, ShowcaseChannel: f.Discord.ShowcaseChannel,
			PublicURL: f.HTTP.PublicURL, Interactions: f.Discord.Interactions, Logger: a.log,
			ShardID: f.Discord.ShardID, ShardCount: f.Discord.ShardCount,
		})
		if err != nil {
			errs = append(errs, err)
		} else {
			a.discord = d
			a.adapters = append(a.adapters, d)
		}
	}
	return errors.Join(errs...)
}

// sandboxPath keeps the simulated community's history next to the database.
func sandboxPath(dbPath string) string {
	return strings.TrimSuffix(dbPath, filepath.Ext(dbPath)) + ".sandbox.jsonl"
}

func (a *app) routes(dash *web.Server) {
	a.mux.Handle("/", dash.Handler()) // dashboard, login, /metrics, /healthz, /readyz, the wall
	a.mux.Handle("GET "+bot.TrackPath, web.Track(a.core, a.log))
	if a.sandbox != nil {
		a.mux.Handle("/sandbox/", a.sandbox.Handler())
		a.mux.Handle("/sandbox", a.sandbox.Handler())
		a.mux.Handle("GET /{$}", http.RedirectHandler("/sandbox/", http.StatusFound))
	}
	if a.discord != nil && a.cfg.Discord.Interactions == "http" {
		a.mux.Handle("/discord/interactions", a.discord.InteractionsHandler())
	}
	if a.slack != nil && a.cfg.Slack.Mode == "http" {
		a.mux.Handle("/slack/", a.slack.Handler())
	}
}

// dashboard builds the staff dashboard and the metrics it serves. With no
// users or token it is open, which openApp allows only on a loopback address.
func (a *app) dashboard(ctx context.Context, reg *prometheus.Registry) (*web.Server, error) {
	f := a.cfg
	key, err := a.db.SessionKey(ctx) // random, kept in the database: not derived from the secret
	if err != nil {
		return nil, err
	}
	if f.Metrics.Token == "" && !f.MetricsOpen() {
		a.log.Warn("/metrics answers 403: http.listen is not a loopback address and metrics.token is not set")
	}
	return web.New(web.Options{
		Store: a.db, Sessions: a.db, Users: f.Dashboard.Users, Token: f.Dashboard.Token, Logger: a.log,
		Secure: strings.HasPrefix(f.HTTP.PublicURL, "https://"), Registry: reg,
		MetricsToken: f.Metrics.Token, MetricsOpen: f.MetricsOpen(),
		SLA: f.SLA.FirstResponse.D(), SessionKey: key, Ready: a.adaptersConnected,
		Open:  len(f.Dashboard.Users) == 0 && f.Dashboard.Token == "",
		Links: a.core,
		Wall:  f.Wall.Enabled, Brand: f.Brand, PublicURL: f.HTTP.PublicURL, Experiments: f.Share.Experiments,
	})
}

// adaptersConnected is nil when every adapter that can tell is connected.
func (a *app) adaptersConnected(context.Context) error {
	for _, ad := range a.adapters {
		if c, ok := ad.(bot.Checker); ok {
			if err := c.Connected(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *app) baseURL() string {
	return "http://" + a.ln.Addr().String()
}

// run serves until ctx is done, then stops intake, lets in-flight work finish
// and closes the store.
func (a *app) run(ctx context.Context) error {
	srv := &http.Server{Handler: a.mux, ReadHeaderTimeout: 10 * time.Second}
	if a.sandbox != nil {
		srv.RegisterOnShutdown(a.sandbox.CloseStreams) // open tabs do not hold up shutdown
	}
	work, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, len(a.adapters)+2)
	for _, ad := range a.adapters {
		wg.Go(func() {
			if err := ad.Run(work, a.core); err != nil {
				errs <- fmt.Errorf("%s adapter: %w", ad.Platform(), err)
			}
		})
	}
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		_ = a.core.Run(work)
	}()
	go a.purgeLoop(work)
	if l, ok := a.db.(outboxListener); ok {
		go func() { _ = l.Listen(work, a.core.Poke) }()
	}
	go func() {
		if err := srv.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("http: %w", err)
		}
	}()
	a.log.Info("advocate running", "listen", a.ln.Addr().String(), "adapters", len(a.adapters))
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errs:
	}
	a.log.Info("shutting down")
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Stop intake; handlers in flight finish their commits.
	if err := srv.Shutdown(shut); err != nil {
		a.log.Warn("http requests still open at shutdown were cut off", "err", err)
	}
	stop()
	wg.Wait()
	<-relayDone
	if err := a.db.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("close store: %w", err)
	}
	return runErr
}

// purgeLoop applies store.retention once an hour.
func (a *app) purgeLoop(ctx context.Context) {
	keep := a.cfg.Store.Retention.D()
	if keep <= 0 {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		err := a.db.Update(ctx, func(tx bot.Tx) error {
			n, err := tx.Purge(ctx, tx.Now().Add(-keep))
			if n > 0 {
				a.log.Info("retention purge", "cases", n)
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			a.log.Error("retention purge", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
