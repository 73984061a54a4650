package slackfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Block Kit limits Slack enforces and an adapter can trip over: signed action IDs
// and values must fit, button labels are short.
const (
	maxMessageBlocks = 50
	maxViewBlocks    = 100
	maxIDLen         = 255 // block_id, action_id
	maxButtonText    = 75
	maxButtonValue   = 2000
	maxButtonURL     = 3000
	maxSectionText   = 3000
	maxHeaderText    = 150
	maxActionsItems  = 25
	maxOptionValue   = 150
)

// blockCheck collects Block Kit errors in Slack's "[ERROR] … [json-pointer:…]" form.
type blockCheck struct {
	msgs []string
}

func (c *blockCheck) fail(ptr, format string, args ...any) {
	c.msgs = append(c.msgs, fmt.Sprintf("[ERROR] %s [json-pointer:%s]", fmt.Sprintf(format, args...), ptr))
}

// decodeJSON decodes keeping numbers exact, so stored blocks round-trip unchanged.
func decodeJSON(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	return d.Decode(v)
}

// encodeJSON marshals without HTML escaping, as Slack stores "<@U123>" mentions.
func encodeJSON(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		panic(fmt.Sprintf("slackfake: encoding %T: %v", v, err))
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// normalizeBlocks validates a blocks array and fills in the block_id and action_id
// values Slack generates when the sender leaves them out. It returns the blocks as
// Slack stores them, or an error code ("invalid_blocks_format", "invalid_blocks")
// with Slack-style messages.
func (s *Server) normalizeBlocksLocked(raw []byte, maxBlocks int, ptr string) ([]byte, string, []string) {
	var blocks []any
	if err := decodeJSON(raw, &blocks); err != nil {
		return nil, "invalid_blocks_format", []string{"[ERROR] blocks must be a JSON array [json-pointer:" + ptr + "]"}
	}
	var c blockCheck
	if len(blocks) > maxBlocks {
		c.fail(ptr, "no more than %d items allowed", maxBlocks)
	}
	seen := map[string]bool{}
	var missing []map[string]any
	for i, b := range blocks {
		bp := fmt.Sprintf("%s/%d", ptr, i)
		blk, ok := b.(map[string]any)
		if !ok {
			c.fail(bp, "must be an object")
			continue
		}
		typ, _ := blk["type"].(string)
		if typ == "" {
			c.fail(bp, "missing required field: type")
			continue
		}
		if id, ok := blk["block_id"].(string); ok && id != "" {
			if utf8.RuneCountInString(id) > maxIDLen {
				c.fail(bp+"/block_id", "must be less than %d characters", maxIDLen+1)
			}
			if seen[id] {
				c.fail(bp+"/block_id", "duplicate block_id %q", id)
			}
			seen[id] = true
		} else {
			missing = append(missing, blk)
		}
		s.checkBlock(&c, blk, typ, bp)
	}
	if len(c.msgs) > 0 {
		return nil, "invalid_blocks", c.msgs
	}
	for _, blk := range missing {
		id := randomHex(2)
		for seen[id] {
			id = randomHex(3)
		}
		seen[id] = true
		blk["block_id"] = id
	}
	return encodeJSON(blocks), "", nil
}

func (s *Server) checkBlock(c *blockCheck, blk map[string]any, typ, bp string) {
	actionIDs := map[string]bool{}
	switch typ {
	case "actions":
		els, _ := blk["elements"].([]any)
		if len(els) == 0 {
			c.fail(bp+"/elements", "must provide at least 1 item")
		}
		if len(els) > maxActionsItems {
			c.fail(bp+"/elements", "no more than %d items allowed", maxActionsItems)
		}
		for i, e := range els {
			checkElement(c, e, fmt.Sprintf("%s/elements/%d", bp, i), actionIDs)
		}
	case "section":
		checkText(c, blk["text"], bp+"/text", maxSectionText)
		if acc, ok := blk["accessory"]; ok {
			checkElement(c, acc, bp+"/accessory", actionIDs)
		}
		if blk["text"] == nil && blk["fields"] == nil {
			c.fail(bp, "must contain either text or fields")
		}
	case "input":
		if blk["label"] == nil {
			c.fail(bp+"/label", "missing required field: label")
		}
		if el, ok := blk["element"]; ok {
			checkElement(c, el, bp+"/element", actionIDs)
		} else {
			c.fail(bp+"/element", "missing required field: element")
		}
	case "header":
		checkText(c, blk["text"], bp+"/text", maxHeaderText)
	}
}

// checkText checks a text object's length.
func checkText(c *blockCheck, v any, ptr string, limit int) {
	t, ok := v.(map[string]any)
	if !ok {
		return
	}
	if s, _ := t["text"].(string); utf8.RuneCountInString(s) > limit {
		c.fail(ptr+"/text", "must be less than %d characters", limit+1)
	}
}

// isInteractive reports whether an element type carries an action_id.
func isInteractive(typ string) bool {
	switch typ {
	case "image", "plain_text", "mrkdwn", "":
		return false
	}
	return true
}

func checkElement(c *blockCheck, v any, ptr string, actionIDs map[string]bool) {
	el, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be an object")
		return
	}
	typ, _ := el["type"].(string)
	if typ == "" {
		c.fail(ptr, "missing required field: type")
		return
	}
	if !isInteractive(typ) {
		return
	}
	id, _ := el["action_id"].(string)
	if id == "" {
		id = randomHex(2)
		for actionIDs[id] {
			id = randomHex(3)
		}
		el["action_id"] = id
	}
	if utf8.RuneCountInString(id) > maxIDLen {
		c.fail(ptr+"/action_id", "must be less than %d characters", maxIDLen+1)
	}
	if actionIDs[id] {
		c.fail(ptr+"/action_id", "duplicate action_id %q in block", id)
	}
	actionIDs[id] = true
	switch typ {
	case "button":
		t, _ := el["text"].(map[string]any)
		if t == nil {
			c.fail(ptr+"/text", "missing required field: text")
		} else if s, _ := t["text"].(string); utf8.RuneCountInString(s) > maxButtonText {
			c.fail(ptr+"/text/text", "must be less than %d characters", maxButtonText+1)
		}
		if s, _ := el["value"].(string); utf8.RuneCountInString(s) > maxButtonValue {
			c.fail(ptr+"/value", "must be less than %d characters", maxButtonValue+1)
		}
		if s, _ := el["url"].(string); utf8.RuneCountInString(s) > maxButtonURL {
			c.fail(ptr+"/url", "must be less than %d characters", maxButtonURL+1)
		}
	case "static_select", "radio_buttons", "checkboxes", "overflow":
		opts, _ := el["options"].([]any)
		for i, o := range opts {
			om, _ := o.(map[string]any)
			if s, _ := om["value"].(string); utf8.RuneCountInString(s) > maxOptionValue {
				c.fail(fmt.Sprintf("%s/options/%d/value", ptr, i), "must be less than %d characters", maxOptionValue+1)
			}
		}
	}
}

// foundElement is an interactive element located in stored blocks.
type foundElement struct {
	blockID string
	el      map[string]any
}

// findElement finds the interactive element with actionID in stored blocks:
// action block elements, section accessories and input elements.
func findElement(raw []byte, actionID string) (foundElement, bool) {
	var blocks []any
	if err := decodeJSON(raw, &blocks); err != nil {
		return foundElement{}, false
	}
	for _, b := range blocks {
		blk, _ := b.(map[string]any)
		if blk == nil {
			continue
		}
		blockID, _ := blk["block_id"].(string)
		var candidates []any
		if els, ok := blk["elements"].([]any); ok && blk["type"] == "actions" {
			candidates = append(candidates, els...)
		}
		if acc, ok := blk["accessory"]; ok {
			candidates = append(candidates, acc)
		}
		if el, ok := blk["element"]; ok {
			candidates = append(candidates, el)
		}
		for _, c := range candidates {
			el, _ := c.(map[string]any)
			if el != nil && el["action_id"] == actionID {
				return foundElement{blockID: blockID, el: el}, true
			}
		}
	}
	return foundElement{}, false
}

// inputElement is one input block of a view: what view_submission state needs.
type inputElement struct {
	blockID, actionID, typ string
	el                     map[string]any
}

// inputElements lists a view's input blocks in order.
func inputElements(raw []byte) []inputElement {
	var blocks []any
	if err := decodeJSON(raw, &blocks); err != nil {
		return nil
	}
	var out []inputElement
	for _, b := range blocks {
		blk, _ := b.(map[string]any)
		if blk == nil || blk["type"] != "input" {
			continue
		}
		el, _ := blk["element"].(map[string]any)
		if el == nil {
			continue
		}
		blockID, _ := blk["block_id"].(string)
		actionID, _ := el["action_id"].(string)
		typ, _ := el["type"].(string)
		out = append(out, inputElement{blockID: blockID, actionID: actionID, typ: typ, el: el})
	}
	return out
}
