package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/advocate-bot/advocate/bot"
)

func forgetCommand(e *env) *cobra.Command {
	var platform, user string
	cmd := &cobra.Command{
		Use:   "forget --platform P --user ID",
		Short: "Erase one person (and every identity linked with theirs), keeping anonymous funnel counts and an opt-out",
		Long: `Erase one person: their identity, and every identity on another platform
linked with it (/link or the dashboard), and the message texts of their
cases. Funnel counts stay, anonymous. A person who had opted out of share
prompts stays opted out: a hash of each identity is kept for that alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if platform == "" || user == "" {
				return fmt.Errorf("both --platform and --user are required")
			}
			db, _, err := e.openStore(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			var f bot.Forgotten
			err = db.Update(cmd.Context(), func(tx bot.Tx) (err error) {
				f, err = bot.ForgetPerson(context.WithoutCancel(cmd.Context()), tx, bot.Identity{Platform: platform, ID: user})
				return err
			})
			if err != nil {
				return fmt.Errorf("forget: %w", err)
			}
			linked := ""
			if others := f.Identities[1:]; len(others) > 0 {
				names := make([]string, len(others))
				for i, o := range others {
					names[i] = o.String()
				}
				linked = " and the identities linked with it (" + strings.Join(names, ", ") + ")"
			}
			_, err = fmt.Fprintf(e.stdout, "forgot %s user %s%s: %d case(s) anonymised\n", platform, user, linked, f.Cases)
			return err
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "slack, discord or sandbox")
	cmd.Flags().StringVar(&user, "user", "", "the person's user ID on that platform")
	return cmd
}
