package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"

	"github.com/advocate-bot/advocate/store/transfer"
)

func migrateStoreCommand(e *env) *cobra.Command {
	var to, from string
	cmd := &cobra.Command{
		Use:   "migrate-store --to postgres://…",
		Short: "Copy the SQLite database into an empty PostgreSQL database, all or nothing",
		Long: `migrate-store copies the SQLite database (store.path, or --from) into the PostgreSQL
database at --to (or store.url), so that several advocate instances can share the community's
history: every case, funnel event, rating, share offer, person, linked identity, timer and outbox
action, and the dashboard's signing key and sign-ins (staff stay signed in). The dashboard's
roll-ups are rebuilt from the copied cases. The copy runs in one PostgreSQL transaction and checks
every table's row count before it commits: it is complete or it did not happen, and can simply be
run again. It refuses a target that already holds
data, and a SQLite file that a running advocate holds: stop the bot first. Then set
store.driver: postgres and store.url, and start the instances.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			if from == "" {
				from = f.Store.Path
			}
			if to == "" && f.Store.Driver == "postgres" {
				to = f.Store.URL
			}
			if to == "" {
				return errors.New("give the PostgreSQL database with --to postgres://user:password@host:5432/database")
			}
			pc, err := pgconn.ParseConfig(to)
			if err != nil {
				return fmt.Errorf("--to is not a PostgreSQL connection URL: %w", err)
			}
			counts, err := transfer.Copy(cmd.Context(), from, to, transfer.Options{Logger: e.logger(f)})
			if err != nil {
				return fmt.Errorf("migrate-store: %w", err)
			}
			w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(w, "copied %s to postgres %s:%d/%s\n", from, pc.Host, pc.Port, pc.Database)
			for _, c := range counts {
				fmt.Fprintf(w, "%s\t%d\t\n", c.Table, c.Rows)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the PostgreSQL database (postgres://…); default store.url")
	cmd.Flags().StringVar(&from, "from", "", "the SQLite file; default store.path")
	return cmd
}
