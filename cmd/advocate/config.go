package main

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/spf13/cobra"

	"github.com/advocate-bot/advocate/config"
)

// loadConfig reads and validates the file named by --config, the enabled
// platforms' own checks of their options included: the one check that run,
// check-config and the tools share, reporting every problem at once.
func (e *env) loadConfig(cmd *cobra.Command) (*config.File, error) {
	path, _ := cmd.Flags().GetString("config")
	return config.LoadValid(path, e.getenv, checkPlatforms)
}

// checkPlatforms builds the enabled platforms' adapters from a copy of f and
// throws them away: what each adapter refuses (a sandbox persona's name, say)
// is refused before run opens anything, and listed with the file's other
// problems.
func checkPlatforms(f *config.File) error {
	c := *f
	c.Staff.Sandbox.Users = slices.Clone(f.Staff.Sandbox.Users)
	return (&app{cfg: &c, log: slog.New(slog.DiscardHandler)}).buildAdapters()
}

// openStore reads the configuration and opens its database for a tool command.
func (e *env) openStore(cmd *cobra.Command) (appStore, *config.File, error) {
	f, err := e.loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	db, err := openDB(cmd.Context(), f, e.logger(f), false)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", storeName(f), err)
	}
	return db, f, nil
}

func (e *env) logger(f *config.File) *slog.Logger {
	opts := &slog.HandlerOptions{Level: f.Log.SlogLevel()}
	if f.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

func checkConfigCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "check-config",
		Short: "Check the configuration file and explain every problem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			var platforms []string
			for name, on := range map[string]bool{"sandbox": f.Sandbox.Enabled, "slack": f.Slack.Enabled, "discord": f.Discord.Enabled} {
				if on {
					platforms = append(platforms, name)
				}
			}
			fmt.Fprintf(e.stdout, "configuration OK: store %s, listen %s, %d share target(s), platforms %v\n",
				storeName(f), f.HTTP.Listen, len(f.Share.Targets), sortStrings(platforms))
			for _, note := range f.Notes() {
				fmt.Fprintln(e.stdout, "note:", note)
			}
			return nil
		},
	}
}
