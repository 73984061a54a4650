package discord

import (
	"net/url"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

// Permissions is exactly what the bot uses, for the install link: see its own
// channels and their history (replies need Read Message History), post and
// reply, open private case threads and talk in them. Adding a member to a
// private thread needs no more than being its creator, and the bot deletes
// only its own posts, so neither Manage Threads nor Manage Messages is asked
// for. Role mentions in the intro need the staff role to be mentionable (or
// Mention Everyone granted by hand).
const Permissions int64 = discordgo.PermissionViewChannel |
	discordgo.PermissionSendMessages |
	discordgo.PermissionReadMessageHistory |
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
