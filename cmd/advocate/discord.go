package main

import (
	"fmt"

	"github.com/spf13/cobra"

	discordadapter "github.com/advocate-bot/advocate/adapters/discord"
)

func discordCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "discord", Short: "Discord setup helpers"}
	var appID string
	invite := &cobra.Command{
		Use:   "invite-url",
		Short: "Print the OAuth2 URL that installs the bot with exactly the permissions it uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if appID == "" {
				f, err := e.loadConfig(cmd)
				if err != nil {
					return fmt.Errorf("%w (or pass --application-id)", err)
				}
				appID = f.Discord.ApplicationID
			}
			if appID == "" {
				return fmt.Errorf("no application ID: set discord.application_id or pass --application-id")
			}
			_, err := fmt.Fprintln(e.stdout, discordadapter.InviteURL(appID))
			return err
		},
	}
	invite.Flags().StringVar(&appID, "application-id", "", "the application ID (default: discord.application_id from the config)")
	cmd.AddCommand(invite)
	return cmd
}
