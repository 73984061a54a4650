package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/advocate-bot/advocate/bot"
)

func TestEscapeKeepsCustomerTextInert(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"<!channel> look", "&lt;!channel&gt; look"},
		{"<https://evil.example|your bank>", "&lt;https://evil.example|your bank&gt;"},
		{"A & B > C", "A &amp; B &gt; C"},
		{"&lt; already", "&amp;lt; already"},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlainTextReadsSlackMarkup(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hello", "hello"},
		{"ask <@U0123ABCD> please", "ask @U0123ABCD please"},
		{"ask <@U0123ABCD|ada>", "ask @ada"},
		{"see <#C0123ABCD|general>", "see #general"},
		{"<!here> help", "@here help"},
		{"<!subteam^S0123|@support> hi", "@support hi"},
		{"<https://example.com|docs> and <https://example.com>", "docs (https://example.com) and https://example.com"},
		{"a &lt;b&gt; &amp;lt;", "a <b> &lt;"},
		{"unclosed < bracket", "unclosed < bracket"},
	}
	for _, tt := range tests {
		if got := plainText(tt.in); got != tt.want {
			t.Errorf("plainText(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// blocksJSON renders blocks as Slack receives them.
func blocksJSON(t *testing.T, blocks []slackgo.Block) []map[string]any {
	t.Helper()
	b, err := json.Marshal(blocks)
	if err != nil {
		t.Fatalf("marshal blocks: %v", err)
	}
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal blocks: %v", err)
	}
	return out
}

func TestMessageBlocksWithButtons(t *testing.T) {
	m := bot.Message{Text: "Rate us <!channel>", Buttons: []bot.Button{
		{ActionID: "a1.1.1.rate.5.sig", Label: "5", Style: "primary"},
		{ActionID: "a1.1.1.go.2.sig", Label: "Post on X", URL: "https://x.com/intent/post?text=hi"},
		{ActionID: "a1.1.1.never..sig", Label: strings.Repeat("long ", 30), Style: "bogus"},
	}}
	blocks := blocksJSON(t, messageBlocks(m))
	if got, want := len(blocks), 2; got != want {
		t.Fatalf("blocks: got %d, want %d: %v", got, want, blocks)
	}
	section := blocks[0]
	text := section["text"].(map[string]any)
	if got, want := text["type"], "mrkdwn"; got != want {
		t.Errorf("section text type: got %v, want %v", got, want)
	}
	if got, want := text["text"], "Rate us &lt;!channel&gt;"; got != want {
		t.Errorf("section text: got %v, want %v", got, want)
	}
	actions := blocks[1]
	if got, want := actions["type"], "actions"; got != want {
		t.Fatalf("second block: got %v, want %v", got, want)
	}
	if got, want := actions["block_id"], actionsBlockID; got != want {
		t.Errorf("block_id: got %v, want %v", got, want)
	}
	els := actions["elements"].([]any)
	first, second, third := els[0].(map[string]any), els[1].(map[string]any), els[2].(map[string]any)
	if got, want := first["action_id"], "a1.1.1.rate.5.sig"; got != want {
		t.Errorf("action_id: got %v, want %v", got, want)
	}
	if got, want := first["style"], "primary"; got != want {
		t.Errorf("style: got %v, want %v", got, want)
	}
	if got, want := second["url"], "https://x.com/intent/post?text=hi"; got != want {
		t.Errorf("link button url: got %v, want %v", got, want)
	}
	if got, want := second["action_id"], "a1.1.1.go.2.sig"; got != want {
		t.Errorf("a link button keeps its action_id: got %v, want %v", got, want)
	}
	if _, has := third["style"]; has {
		t.Errorf("an unknown style must be dropped, got %v", third["style"])
	}
	label := third["text"].(map[string]any)["text"].(string)
	if n := utf8.RuneCountInString(label); n > maxButtonLabel {
		t.Errorf("button label: %d runes, want at most %d", n, maxButtonLabel)
	}
}

func TestMessageBlocksWithoutButtonsHaveNoActions(t *testing.T) {
	blocks := blocksJSON(t, messageBlocks(bot.Message{Text: "Thanks for your answer."}))
	for _, b := range blocks {
		if b["type"] == "actions" {
			t.Fatalf("a message without buttons got an actions block: %v", blocks)
		}
	}
	if got, want := len(blocks), 1; got != want {
		t.Errorf("blocks: got %d, want %d", got, want)
	}
}

func TestLongTextIsSplitIntoSections(t *testing.T) {
	text := strings.Repeat("line with <brackets> & more\n", 400) // ~11k escaped runes
	blocks := blocksJSON(t, messageBlocks(bot.Message{Text: text}))
	if len(blocks) < 4 {
		t.Fatalf("sections: got %d, want the text split over several", len(blocks))
	}
	var joined strings.Builder
	for _, b := range blocks {
		s := b["text"].(map[string]any)["text"].(string)
		if n := utf8.RuneCountInString(s); n > maxSectionText {
			t.Errorf("section of %d runes, want at most %d", n, maxSectionText)
		}
		joined.WriteString(s)
	}
	if got, want := joined.String(), escape(text); got != want {
		t.Errorf("sections do not join back to the escaped text (lengths %d and %d)", len(got), len(want))
	}
}

func TestModalView(t *testing.T) {
	m := &bot.Modal{
		ActionID: "a1.3.1.post.7.sig",
		Title:    "Preview your post before it goes live",
		Submit:   "Post",
		Fields:   []bot.Field{{ID: "text", Label: "This exact text", Value: "Great help", Multiline: true, Required: true, MaxLen: 1000}},
	}
	v := modalView(m)
	if got, want := v.PrivateMetadata, m.ActionID; got != want {
		t.Errorf("private_metadata: got %q, want %q", got, want)
	}
	if n := utf8.RuneCountInString(v.Title.Text); n > maxModalTitle {
		t.Errorf("title: %d runes, want at most %d", n, maxModalTitle)
	}
	if got, want := v.CallbackID, modalCallbackID; got != want {
		t.Errorf("callback_id: got %q, want %q", got, want)
	}
	in, ok := v.Blocks.BlockSet[0].(*slackgo.InputBlock)
	if !ok {
		t.Fatalf("first block: got %T, want an input block", v.Blocks.BlockSet[0])
	}
	el := in.Element.(*slackgo.PlainTextInputBlockElement)
	if in.BlockID != "text" || el.ActionID != "text" || el.InitialValue != "Great help" || !el.Multiline || el.MaxLength != 1000 || in.Optional {
		t.Errorf("input: got block %q action %q value %q multiline %v max %d optional %v",
			in.BlockID, el.ActionID, el.InitialValue, el.Multiline, el.MaxLength, in.Optional)
	}
}

func TestModalCheckBox(t *testing.T) {
	for _, value := range []string{"", bot.FieldChecked} {
		v := modalView(&bot.Modal{Title: "Preview", Fields: []bot.Field{
			{ID: "wall", Label: "Also show it on the website", Check: true, Required: true, Value: value},
		}})
		in := v.Blocks.BlockSet[0].(*slackgo.InputBlock)
		box, ok := in.Element.(*slackgo.CheckboxGroupsBlockElement)
		if !ok {
			t.Fatalf("element: got %T, want checkboxes", in.Element)
		}
		if in.BlockID != "wall" || box.ActionID != "wall" || in.Label.Text != "Also show it on the website" || !in.Optional {
			t.Errorf("check box block: got %q/%q label %q optional %v; want wall/wall, the label, optional",
				in.BlockID, box.ActionID, in.Label.Text, in.Optional)
		}
		if len(box.Options) != 1 || box.Options[0].Value != bot.FieldChecked {
			t.Errorf("options: got %+v, want one of value %q", box.Options, bot.FieldChecked)
		}
		if ticked := len(box.InitialOptions) == 1; ticked != (value == bot.FieldChecked) {
			t.Errorf("value %q: initial options %+v", value, box.InitialOptions)
		}
	}
}

func TestSubmittedFields(t *testing.T) {
	state := &slackgo.ViewState{Values: map[string]map[string]slackgo.BlockAction{
		"text":    {"text": {Value: "edited"}},
		"comment": {"comment": {}},
	}}
	got := submittedFields(state)
	if got["text"] != "edited" || got["comment"] != "" || len(got) != 2 {
		t.Errorf("fields: got %v, want text=edited and an empty comment", got)
	}
	boxes := &slackgo.ViewState{Values: map[string]map[string]slackgo.BlockAction{
		"wall":  {"wall": {Type: "checkboxes", SelectedOptions: []slackgo.OptionBlockObject{{Value: bot.FieldChecked}}}},
		"other": {"other": {Type: "checkboxes", SelectedOptions: []slackgo.OptionBlockObject{}}},
		"typed": {"typed": {Type: "plain_text_input", Value: bot.FieldChecked}},
	}}
	got = submittedFields(boxes)
	if got["wall"] != bot.FieldChecked || got["other"] != "" || got["typed"] != bot.FieldChecked {
		t.Errorf("check boxes: got %v, want wall ticked, other not", got)
	}
}
