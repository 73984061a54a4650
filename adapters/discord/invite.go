package discord

import (
	"net/url"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

// Permissions is exactly what the bot uses, for the install link: see its own
// channels and their history (replies need Read Message History), post and
// reply, open each case's private thread with the customer and its public
// thread in the staff channel and talk in them, and delete a staff note typed
// in the customer's thread before the customer reads it (Manage Messages).
// Adding a member to a private thread needs no more than being its creator,
// so Manage Threads is not asked for. Role mentions in the staff thread need
// the staff role to be mentionable (or Mention Everyone granted by hand).
const Permissions int64 = discordgo.PermissionViewChannel |
	discordgo.PermissionSendMessages |
	discordgo.PermissionReadMessageHistory |
	discordgo.PermissionManageMessages |
	discordgo.PermissionCreatePublicThreads |
	discordgo.PermissionCreatePrivateThreads |
	discordgo.PermissionSendMessagesInThreads

// InviteURL is the OAuth2 link that installs the bot in a server with the bot
// and applications.commands scopes and Permissions.
func InviteURL(applicationID string) string {
	q := url.Values{}
	q.Set("client_id", applicationID)
	q.Set("scope", "bot applications.commands")
	q.Set("permissions", strconv.FormatInt(Permissions, 10))
	return "https://discord.com/oauth2/authorize?" + q.Encode()
}
