package discord

import (
	"github.com/bwmarrin/discordgo"

	"github.com/advocate-bot/advocate/bot"
)

// Command names as registered.
const (
	cmdSupport  = "support"
	cmdHelpWith = "Get help with this" // message context menu
	cmdCase     = "case"
	cmdAdvocate = "advocate"
	cmdLink     = "link"
)

// commandSet is every command the adapter registers in a guild.
func commandSet() []*discordgo.ApplicationCommand {
	str := discordgo.ApplicationCommandOptionString
	sub := discordgo.ApplicationCommandOptionSubCommand
	return []*discordgo.ApplicationCommand{
		{
			Type:        discordgo.ChatApplicationCommand,
			Name:        cmdSupport,
			Description: "Ask the team for help in a private thread",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: str, Name: "description", Description: "What do you need help with?", MaxLength: 2000},
			},
		},
		{Type: discordgo.MessageApplicationCommand, Name: cmdHelpWith},
		{
			Type:        discordgo.ChatApplicationCommand,
			Name:        cmdLink,
			Description: "Make your accounts on Discord and Slack one person for advocate",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: str, Name: "code", Description: "The code from /link on your other account (leave out to get one)", MaxLength: 20},
			},
		},
		{
			Type:        discordgo.ChatApplicationCommand,
			Name:        cmdCase,
			Description: "Staff: manage the case of this thread",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: sub, Name: bot.CmdClaim, Description: "Take this case"},
				{Type: sub, Name: bot.CmdResolve, Description: "Mark the case resolved and survey the customer"},
				{Type: sub, Name: bot.CmdReopen, Description: "Reopen the case"},
				{Type: sub, Name: bot.CmdNote, Description: "Add an internal note the customer never sees",
					Options: []*discordgo.ApplicationCommandOption{
						{Type: str, Name: "text", Description: "The note", Required: true, MaxLength: 2000},
					}},
			},
		},
		{
			Type:        discordgo.ChatApplicationCommand,
			Name:        cmdAdvocate,
			Description: "Staff: advocacy funnel and notices",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: sub, Name: bot.CmdStats, Description: "Show the advocacy funnel",
					Options: []*discordgo.ApplicationCommandOption{
						{Type: str, Name: "period", Description: "Last 7 or 30 days", Choices: []*discordgo.ApplicationCommandOptionChoice{
							{Name: "last 7 days", Value: "7d"}, {Name: "last 30 days", Value: "30d"},
						}},
					}},
				{Type: sub, Name: bot.CmdNotice, Description: "Tell every customer with an open case from a channel",
					Options: []*discordgo.ApplicationCommandOption{
						{Type: discordgo.ApplicationCommandOptionChannel, Name: "channel", Description: "The support channel",
							Required: true, ChannelTypes: []discordgo.ChannelType{discordgo.ChannelTypeGuildText}},
						{Type: str, Name: "text", Description: "The notice", Required: true, MaxLength: 1500},
					}},
			},
		},
	}
}

// commandEvent translates an application command interaction; ok is false for
// a command the adapter does not know.
func commandEvent(d discordgo.ApplicationCommandInteractionData, ev bot.Event) (bot.Event, bool) {
	ev.Kind = bot.EventCommand
	switch {
	case d.CommandType == discordgo.MessageApplicationCommand && d.Name == cmdHelpWith:
		var target *discordgo.Message
		if d.Resolved != nil {
			target = d.Resolved.Messages[d.TargetID]
		}
		if target == nil || target.Author == nil {
			return ev, false
		}
		var member *discordgo.Member
		if d.Resolved.Members != nil {
			member = d.Resolved.Members[target.Author.ID]
		}
		if member == nil {
			member = target.Member
		}
		ev.Command = bot.CmdSupport
		ev.Text = target.Content
		ev.Author = person(target.Author, member)
		ev.Where.Message = target.ID
		if target.ChannelID != "" {
			ev.Where.Channel = target.ChannelID
		}
		return ev, true
	case d.CommandType != discordgo.ChatApplicationCommand && d.CommandType != 0:
		return ev, false
	case d.Name == cmdSupport:
		ev.Command = bot.CmdSupport
		ev.Text = stringOption(d.Options, "description")
		return ev, true
	case d.Name == cmdLink:
		ev.Command = bot.CmdLink
		ev.Text = stringOption(d.Options, "code")
		return ev, true
	case d.Name == cmdCase || d.Name == cmdAdvocate:
		if len(d.Options) != 1 || d.Options[0].Type != discordgo.ApplicationCommandOptionSubCommand {
			return ev, false
		}
		s := d.Options[0]
		ev.Command = s.Name
		switch {
		case d.Name == cmdCase && (s.Name == bot.CmdClaim || s.Name == bot.CmdResolve || s.Name == bot.CmdReopen):
		case d.Name == cmdCase && s.Name == bot.CmdNote:
			ev.Text = stringOption(s.Options, "text")
		case d.Name == cmdAdvocate && s.Name == bot.CmdStats:
			ev.Text = stringOption(s.Options, "period")
		case d.Name == cmdAdvocate && s.Name == bot.CmdNotice:
			ev.Text = stringOption(s.Options, "text")
			ev.Fields = map[string]string{"channel": stringOption(s.Options, "channel")}
		default:
			return ev, false
		}
		return ev, true
	}
	return ev, false
}

// stringOption is the string value of a named option (channel options carry
// the channel ID as a string), or "".
func stringOption(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) string {
	for _, o := range opts {
		if o != nil && o.Name == name {
			s, _ := o.Value.(string)
			return s
		}
	}
	return ""
}
