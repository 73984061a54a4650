package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/advocate-bot/advocate/bot"
)

func forgetCommand(e *env) *cobra.Command {
	var platform, user string
	cmd := &cobra.Command{
		Use:   "forget --platform P --user ID",
		Short: "Erase one person's identity and message texts, keeping anonymous funnel counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if platform == "" || user == "" {
				return fmt.Errorf("both --platform and --user are required")
			}
			db, _, err := e.openStore(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			var n int
			err = db.Update(cmd.Context(), func(tx bot.Tx) (err error) {
				n, err = tx.Forget(context.WithoutCancel(cmd.Context()), platform, user)
				return err
			})
			if err != nil {
				return fmt.Errorf("forget: %w", err)
			}
			_, err = fmt.Fprintf(e.stdout, "forgot %s user %s: %d case(s) anonymised\n", platform, user, n)
			return err
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "slack, discord or sandbox")
	cmd.Flags().StringVar(&user, "user", "", "the person's user ID on that platform")
	return cmd
}
