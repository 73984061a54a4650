package sandbox

import (
	"errors"
	"strings"

	"github.com/advocate-bot/advocate/bot"
)

// commandHelp lists the slash commands the composer understands.
const commandHelp = "commands: /support [text], /link [code], and for staff in a case: /claim, /resolve, /reopen, /note text, /notice <channel> <text>, /stats [7d|30d]"

// parseCommand turns a composer line starting with "/" into a command event
// (kind, command, text and fields; the caller fills in the rest). The error is
// fit to show to the persona.
func parseCommand(line string) (bot.Event, error) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(line, "/"), " ")
	name = strings.ToLower(strings.TrimSpace(name))
	rest = strings.TrimSpace(rest)
	ev := bot.Event{Kind: bot.EventCommand, Command: name}
	switch name {
	case bot.CmdSupport, bot.CmdLink:
		ev.Text = rest
	case bot.CmdClaim, bot.CmdResolve, bot.CmdReopen:
	case bot.CmdNote:
		if rest == "" {
			return bot.Event{}, errors.New("usage: /note text")
		}
		ev.Text = rest
	case bot.CmdNotice:
		ch, text, _ := strings.Cut(rest, " ")
		ch = strings.TrimPrefix(ch, "#")
		text = strings.TrimSpace(text)
		if ch == "" || text == "" {
			return bot.Event{}, errors.New("usage: /notice <channel> <text>, e.g. /notice #support Logins are slow, we are on it")
		}
		ev.Text = text
		ev.Fields = map[string]string{"channel": ch}
	case bot.CmdStats:
		switch rest {
		case "", "7d", "30d":
		default:
			return bot.Event{}, errors.New("usage: /stats [7d|30d]")
		}
		ev.Text = rest
	default:
		return bot.Event{}, errors.New("unknown command; " + commandHelp)
	}
	return ev, nil
}
