package discord

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"github.com/advocate-bot/advocate/bot"
)

// codeThreadExists is Discord's answer to a second thread on one message.
const codeThreadExists = 160004

// opening is how far OpenPrivate got for a case: each step done is skipped
// by the relay's retry.
type opening struct {
	private string // the customer's private thread
	space   string
	intro   string // the intro's message ID, once posted in it
	staff   string // the staff thread (the ID of its starter message)
}

// OpenPrivate opens a case's two sides. The staff side is a public thread
// in the staff channel, which only staff can see, started from a message
// that names the case and mentions the staff role: staff reply to the
// customer there or in the private thread, and notes and controls stay
// there. The customer's side is a private thread (type 12, not invitable) in
// the case's public channel (the first support channel for a case opened
// from a DM) with the customer added and the intro posted. The staff side
// comes first, so that a staff channel the bot cannot use leaves no
// customer waiting in a thread that staff were never told of.
//
// A retry after a failure goes on from the step that failed; the staff
// thread's starter message carries a nonce derived from the intro's, and
// Discord allows one thread per message, so a retry within Discord's nonce
// window finds the same staff thread even after a restart. A private thread
// has no nonce: a retry that may follow an unrecorded attempt
// (intro.PostedSince) looks for it among the guild's active threads by its
// name before starting one.
func (a *Adapter) OpenPrivate(ctx context.Context, c *bot.Case, intro bot.Message) (bot.Ref, bot.Ref, error) {
	if c == nil || c.Customer.ID == "" {
		return bot.Ref{}, bot.Ref{}, fmt.Errorf("discord: open private: no customer: %w", bot.ErrUndeliverable)
	}
	parent := a.threadParent(c.Public.Channel)
	if parent == "" {
		return bot.Ref{}, bot.Ref{}, fmt.Errorf("discord: open private for case %d: no support channel configured: %w", c.ID, bot.ErrUndeliverable)
	}
	a.mu.Lock()
	st := a.opening[c.ID]
	if st == nil {
		st = &opening{space: c.Public.Space}
		a.opening[c.ID] = st
	}
	done := *st
	a.mu.Unlock()
	save := func() {
		a.mu.Lock()
		*st = done
		a.mu.Unlock()
	}
	if err := a.openSteps(ctx, c, intro, parent, &done, save); err != nil {
		if errors.Is(err, bot.ErrUndeliverable) { // no retry will come
			a.forgetOpening(c.ID)
		}
		return bot.Ref{}, bot.Ref{}, err
	}
	a.forgetOpening(c.ID)
	return bot.Ref{Platform: bot.Discord, Space: done.space, Channel: done.private, Message: done.intro},
		bot.Ref{Platform: bot.Discord, Space: done.space, Channel: done.staff}, nil
}

// openSteps does what is left of opening a case, saving each step.
func (a *Adapter) openSteps(ctx context.Context, c *bot.Case, intro bot.Message, parent string, done *opening, save func()) error {
	if done.staff == "" {
		id, err := a.openStaffThread(ctx, c, intro.Nonce)
		if err != nil {
			return err
		}
		done.staff = id
		save()
		a.log.Info("staff thread opened", "case", c.ID, "thread", id)
	}
	if done.private == "" && !intro.PostedSince.IsZero() {
		id, err := a.findPrivateThread(ctx, c, parent, done.space)
		if err != nil {
			return err
		}
		if id != "" {
			done.private = id
			save()
			a.log.Info("private thread of an earlier attempt found", "case", c.ID, "thread", id)
		}
	}
	if done.private == "" {
		ch, err := a.session.ThreadStartComplex(parent, &discordgo.ThreadStart{
			Name:                threadName(c),
			AutoArchiveDuration: threadArchiveMinute,
			Type:                discordgo.ChannelTypeGuildPrivateThread,
			Invitable:           false,
		}, rest(ctx)...)
		if err != nil {
			return classify("start private thread", err)
		}
		done.private = ch.ID
		if ch.GuildID != "" {
			done.space = ch.GuildID
		}
		save()
		a.log.Info("private thread opened", "case", c.ID, "thread", ch.ID, "channel", parent)
	}
	if done.intro == "" {
		if err := a.session.ThreadMemberAdd(done.private, c.Customer.ID, rest(ctx)...); err != nil {
			return classify("add customer to thread", err)
		}
		body := a.createBody(intro)
		body.Content = truncate("<@"+c.Customer.ID+">\n"+intro.Text, maxContent)
		body.AllowedMentions = &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, Users: []string{c.Customer.ID}}
		msg, err := a.createMessage(ctx, done.private, body)
		if err != nil {
			return classify("post intro", err)
		}
		done.intro = msg.ID
		save()
	}
	return nil
}

// findPrivateThread looks among the guild's active threads for the case's
// private thread, which an earlier attempt may have started before the
// process stopped (a private thread has no nonce): "" when there is none.
func (a *Adapter) findPrivateThread(ctx context.Context, c *bot.Case, parent, guild string) (string, error) {
	if guild == "" {
		if ch, err := a.session.State.Channel(parent); err == nil {
			guild = ch.GuildID
		}
	}
	if guild == "" {
		return "", nil
	}
	list, err := a.session.GuildThreadsActive(guild, rest(ctx)...)
	if err != nil {
		return "", classify("list active threads", err)
	}
	for _, th := range list.Threads {
		if th.ParentID == parent && th.Type == discordgo.ChannelTypeGuildPrivateThread && th.Name == threadName(c) {
			return th.ID, nil
		}
	}
	return "", nil
}

// openStaffThread posts the case's starter message in the staff channel and
// starts the staff thread on it; the thread's ID is the message's.
func (a *Adapter) openStaffThread(ctx context.Context, c *bot.Case, nonce string) (string, error) {
	if a.opts.StaffChannel == "" {
		return "", fmt.Errorf("discord: open staff thread for case %d: no staff channel configured: %w", c.ID, bot.ErrUndeliverable)
	}
	starter := bot.Message{Text: threadName(c)}
	if nonce != "" {
		starter.Nonce = nonce + ".s"
	}
	body := a.createBody(starter)
	if r := a.opts.StaffRole; r != "" {
		body.Content = truncate("<@&"+r+"> "+starter.Text, maxContent)
		body.AllowedMentions = &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, Roles: []string{r}}
	}
	msg, err := a.createMessage(ctx, a.opts.StaffChannel, body)
	if err != nil {
		return "", classify("post staff thread starter", err)
	}
	_, err = a.session.MessageThreadStartComplex(a.opts.StaffChannel, msg.ID, &discordgo.ThreadStart{
		Name:                threadName(c),
		AutoArchiveDuration: threadArchiveMinute,
	}, rest(ctx)...)
	if code, _ := restCode(err); err != nil && code != codeThreadExists {
		return "", classify("start staff thread", err)
	}
	return msg.ID, nil
}

// checkStaffChannel says at start, rather than at the first case, when the
// bot cannot use the staff channel: every case would fail to open.
func (a *Adapter) checkStaffChannel(ctx context.Context) {
	ch, err := a.session.Channel(a.opts.StaffChannel, discordgo.WithContext(ctx))
	if err != nil {
		code, status := restCode(err)
		a.log.Error("the bot cannot see discord.staff_channel: allow it View Channel there (no case can open until then)",
			"channel", a.opts.StaffChannel, "status", status, "code", code)
		return
	}
	if ch.Type != discordgo.ChannelTypeGuildText {
		a.log.Error("discord.staff_channel is not a text channel: case threads cannot start there", "channel", ch.ID, "type", int(ch.Type))
	}
}

func (a *Adapter) forgetOpening(caseID int64) {
	a.mu.Lock()
	delete(a.opening, caseID)
	a.mu.Unlock()
}

// threadParent is the text channel a case's private thread goes in: the public
// channel, its parent when the question was asked in a thread, or the first
// support channel.
func (a *Adapter) threadParent(public string) string {
	if public == "" {
		if len(a.opts.SupportChannels) == 0 {
			return ""
		}
		return a.opts.SupportChannels[0]
	}
	if ch, err := a.session.State.Channel(public); err == nil && ch.IsThread() && ch.ParentID != "" {
		return ch.ParentID
	}
	return public
}

// threadName names a case's threads: visible to their members and moderators.
func threadName(c *bot.Case) string {
	name := "Case #" + strconv.FormatInt(c.ID, 10)
	if who := c.Customer.Name; who != "" {
		name += " · " + who
	}
	return truncate(name, 100)
}
