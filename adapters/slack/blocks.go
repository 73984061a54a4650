package slack

import (
	"strconv"
	"strings"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/advocate-bot/advocate/bot"
)

// Block Kit names and limits the adapter respects.
const (
	// actionsBlockID names the actions block of a message. A string block_id is
	// what makes slack-go classify a click as a block action.
	actionsBlockID = "advocate"
	// modalCallbackID marks advocate's modals, so their submissions are ours.
	modalCallbackID = "advocate"

	maxText          = 40000 // message text
	maxSectionText   = 3000  // one section block
	maxBlocks        = 50    // blocks of one message
	maxActions       = 25    // elements of one actions block
	maxButtonLabel   = 75
	maxModalTitle    = 24 // title, submit and close labels
	maxInputLabel    = 2000
	maxInputLength   = 3000
	maxFallbackText  = 4000 // the notification text of a message with blocks
	defaultModalName = "advocate"
)

// escape makes text safe inside Slack mrkdwn: with &, < and > escaped, customer
// text cannot ping @channel, mention users or forge a link.
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plainText turns received Slack text into what a person reads: mentions as
// @id or #name, links as "label (url)", HTML entities decoded. The core stores
// and relays plain text; escape makes it safe again on the way out.
func plainText(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '>')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(readMarkup(s[i+1 : i+1+j]))
		s = s[i+1+j+1:]
	}
	b.WriteString(s)
	out := strings.ReplaceAll(b.String(), "&lt;", "<")
	out = strings.ReplaceAll(out, "&gt;", ">")
	return strings.ReplaceAll(out, "&amp;", "&")
}

// readMarkup renders the inside of one <…> markup: <@U1|ada>, <#C1|general>,
// <!here>, <!subteam^S1|@team>, <https://x|label>.
func readMarkup(inner string) string {
	target, label, _ := strings.Cut(inner, "|")
	switch {
	case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
		if label != "" {
			return target[:1] + strings.TrimPrefix(label, target[:1])
		}
		return target
	case strings.HasPrefix(target, "!"):
		if label != "" {
			return label
		}
		name, id, _ := strings.Cut(strings.TrimPrefix(target, "!"), "^")
		if name == "subteam" {
			return "@" + id
		}
		return "@" + name
	case label != "" && label != target:
		return label + " (" + target + ")"
	}
	return target
}

// truncate shortens s to at most n runes, marking a cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	if n <= 1 {
		return string(r[:n])
	}
	return string(r[:n-1]) + "…"
}

// sections splits escaped text into chunks a section block accepts, cutting at
// a newline where one is near and never inside an escape sequence.
func sections(text string) []string {
	var out []string
	var cur []rune
	curLen := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
		}
		cur, curLen = nil, 0
	}
	for _, r := range text {
		piece := escape(string(r))
		n := utf8.RuneCountInString(piece)
		if curLen+n > maxSectionText {
			// prefer to break after the last newline of the chunk
			if i := lastNewline(cur); i > len(cur)/2 {
				rest := append([]rune(nil), cur[i+1:]...)
				cur = cur[:i+1]
				flush()
				cur, curLen = rest, len(rest)
			} else {
				flush()
			}
		}
		cur = append(cur, []rune(piece)...)
		curLen += n
	}
	flush()
	return out
}

func lastNewline(rs []rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == '\n' {
			return i
		}
	}
	return -1
}

// messageBlocks renders m as Block Kit: sections of escaped mrkdwn text and, when
// m has buttons, actions blocks. A message without buttons gets no actions
// block, so an update removes used buttons.
func messageBlocks(m bot.Message) []slackgo.Block {
	var blocks []slackgo.Block
	for _, chunk := range sections(truncate(m.Text, maxText)) {
		blocks = append(blocks, slackgo.NewSectionBlock(slackgo.NewTextBlockObject(slackgo.MarkdownType, chunk, false, false), nil, nil))
	}
	buttons := m.Buttons
	for i := 0; len(buttons) > 0; i++ {
		n := min(len(buttons), maxActions)
		elems := make([]slackgo.BlockElement, 0, n)
		for _, b := range buttons[:n] {
			elems = append(elems, buttonElement(b))
		}
		id := actionsBlockID
		if i > 0 {
			id += "-" + strconv.Itoa(i+1)
		}
		blocks = append(blocks, slackgo.NewActionBlock(id, elems...))
		buttons = buttons[n:]
	}
	if len(blocks) > maxBlocks {
		blocks = blocks[len(blocks)-maxBlocks:]
	}
	return blocks
}

func buttonElement(b bot.Button) *slackgo.ButtonBlockElement {
	label := slackgo.NewTextBlockObject(slackgo.PlainTextType, truncate(b.Label, maxButtonLabel), true, false)
	el := slackgo.NewButtonBlockElement(b.ActionID, "", label)
	switch b.Style {
	case "primary":
		el = el.WithStyle(slackgo.StylePrimary)
	case "danger":
		el = el.WithStyle(slackgo.StyleDanger)
	}
	if b.URL != "" {
		// a link button keeps its action_id: Slack still sends block_actions for
		// the click, which is how a share link click is counted
		el = el.WithURL(b.URL)
	}
	return el
}

// fallbackText is the message's text field: what notifications and clients
// without blocks show.
func fallbackText(m bot.Message) string {
	return escape(truncate(m.Text, maxFallbackText))
}

// messageOptions are the chat.postMessage and chat.update options for m.
func messageOptions(m bot.Message) []slackgo.MsgOption {
	return []slackgo.MsgOption{
		slackgo.MsgOptionText(fallbackText(m), false),
		slackgo.MsgOptionBlocks(messageBlocks(m)...),
	}
}

// modalView renders a bot.Modal as a Slack modal: one input block per field
// (block_id and action_id are the field ID), a plain_text_input or, for a
// check box, a checkboxes element; the signed action ID in private_metadata
// so the submission carries it back.
func modalView(m *bot.Modal) slackgo.ModalViewRequest {
	title := truncate(strings.TrimSpace(m.Title), maxModalTitle)
	if title == "" {
		title = defaultModalName
	}
	submit := truncate(strings.TrimSpace(m.Submit), maxModalTitle)
	if submit == "" {
		submit = "Submit"
	}
	var blocks []slackgo.Block
	for i, f := range m.Fields {
		id := f.ID
		if id == "" {
			id = "field-" + strconv.Itoa(i+1)
		}
		label := truncate(f.Label, maxInputLabel)
		if label == "" {
			label = id
		}
		block := slackgo.NewInputBlock(id, slackgo.NewTextBlockObject(slackgo.PlainTextType, label, true, false), nil, inputElement(id, f))
		block.Optional = !f.Required || f.Check
		blocks = append(blocks, block)
	}
	return slackgo.ModalViewRequest{
		Type:            slackgo.VTModal,
		Title:           slackgo.NewTextBlockObject(slackgo.PlainTextType, title, true, false),
		Submit:          slackgo.NewTextBlockObject(slackgo.PlainTextType, submit, true, false),
		Close:           slackgo.NewTextBlockObject(slackgo.PlainTextType, "Cancel", true, false),
		Blocks:          slackgo.Blocks{BlockSet: blocks},
		PrivateMetadata: m.ActionID,
		CallbackID:      modalCallbackID,
	}
}

// inputElement is the element of a modal field's input block. A check box
// is never required: a consent must be free to leave unticked.
func inputElement(id string, f bot.Field) slackgo.BlockElement {
	if f.Check {
		yes := slackgo.NewOptionBlockObject(bot.FieldChecked, slackgo.NewTextBlockObject(slackgo.PlainTextType, checkText, false, false), nil)
		box := slackgo.NewCheckboxGroupsBlockElement(id, yes)
		if f.Value == bot.FieldChecked {
			box.InitialOptions = []*slackgo.OptionBlockObject{yes}
		}
		return box
	}
	in := slackgo.NewPlainTextInputBlockElement(nil, id)
	in.Multiline = f.Multiline
	limit := f.MaxLen
	if limit <= 0 || limit > maxInputLength {
		limit = maxInputLength
	}
	in.MaxLength = limit
	in.InitialValue = truncate(f.Value, limit)
	return in
}

// checkText is the text beside a modal's check box, whose question is the
// input block's label.
const checkText = "Yes"

// submittedFields reads a modal's inputs by action ID (the field ID): a
// text input's value, a check box's bot.FieldChecked when ticked.
func submittedFields(state *slackgo.ViewState) map[string]string {
	fields := map[string]string{}
	if state == nil {
		return fields
	}
	for _, block := range state.Values {
		for actionID, v := range block {
			fields[actionID] = v.Value
			if v.Type == slackgo.ActionType(slackgo.METCheckboxGroups) {
				fields[actionID] = checked(v.SelectedOptions)
			}
		}
	}
	return fields
}

// checked is bot.FieldChecked when the check box's option is selected.
func checked(selected []slackgo.OptionBlockObject) string {
	for _, o := range selected {
		if o.Value == bot.FieldChecked {
			return bot.FieldChecked
		}
	}
	return ""
}
