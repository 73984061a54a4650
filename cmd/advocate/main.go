// Command advocate runs the advocacy bot and its tools: run, report, export,
// forget, outbox, check-config and version.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(execute(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// env is what commands read from the process, injected so tests can run the
// real commands in-process.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// execute runs one command line and returns the exit code.
func execute(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "advocate:", err)
		return 1
	}
	return 0
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "advocate",
		Short:         "Turn support conversations into measured brand advocacy",
		Long:          "advocate takes public support questions private with staff, asks resolved customers one-click survey questions, and offers satisfied ones a one-click way to share — recording every step for the advocacy funnel.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("config", "config.example.yaml", "configuration file (YAML)")
	root.AddCommand(
		runCommand(e), reportCommand(e), exportCommand(e), forgetCommand(e), outboxCommand(e), migrateStoreCommand(e),
		checkConfigCommand(e), versionCommand(e), discordCommand(e),
	)
	return root
}

func versionCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(e.stdout, "advocate", version)
			return err
		},
	}
}
