package discordfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Component types, as Discord numbers them.
const (
	componentActionRow = 1
	componentButton    = 2
	componentSelect    = 3
	componentTextInput = 4
	componentUserSel   = 5
	componentRoleSel   = 6
	componentMentSel   = 7
	componentChanSel   = 8

	buttonStyleLink    = 5
	buttonStylePremium = 6

	flagComponentsV2 = 1 << 15
)

// component is the union of the component fields the fake reads.
type component struct {
	Type     int             `json:"type"`
	CustomID string          `json:"custom_id"`
	Label    string          `json:"label"`
	Style    int             `json:"style"`
	URL      string          `json:"url"`
	SKUID    string          `json:"sku_id"`
	Disabled bool            `json:"disabled"`
	Emoji    json.RawMessage `json:"emoji"`
	Options  []struct {
		Label string `json:"label"`
		Value string `json:"value"`
	} `json:"options"`
	Required   *bool       `json:"required"`
	MaxLength  int         `json:"max_length"`
	Components []component `json:"components"`
}

// all returns the component and its descendants, depth first.
func (c component) all() []component {
	out := []component{c}
	for _, ch := range c.Components {
		out = append(out, ch.all()...)
	}
	return out
}

func parseComponents(raw json.RawMessage) []component {
	var cs []component
	_ = json.Unmarshal(raw, &cs)
	return cs
}

// normalizeArray turns null or absent arrays into nil and compacts the rest.
func normalizeArray(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "[]" {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}

// formError is a 50035 Invalid Form Body error for one field.
type formError struct {
	path []string
	code string
	msg  string
}

// Error implements error, for debugging.
func (e *formError) Error() string { return fmt.Sprintf("%v: %s", e.path, e.msg) }

func newFormError(code, msg string, path ...any) *formError {
	e := &formError{code: code, msg: msg}
	for _, p := range path {
		e.path = append(e.path, fmt.Sprint(p))
	}
	return e
}

// validateMessageComponents checks a message's components as Discord does:
// at most 5 action rows; a row holds 1-5 buttons or one select; buttons have a
// valid style, a label or emoji (label at most 80), a custom_id of 1-100
// characters unless they are link buttons, which need a url and no custom_id;
// custom_ids are unique within the message.
func validateMessageComponents(raw json.RawMessage, flags int) *formError {
	if len(raw) == 0 || flags&flagComponentsV2 != 0 {
		return nil
	}
	var rows []component
	if err := json.Unmarshal(raw, &rows); err != nil {
		return newFormError("MODEL_TYPE_CONVERT", "Only iterables may be used in a ListType", "components")
	}
	if len(rows) > 5 {
		return newFormError("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.", "components")
	}
	seen := map[string]bool{}
	for i, row := range rows {
		if row.Type != componentActionRow {
			return newFormError("UNION_TYPE_CHOICES", fmt.Sprintf("Value of field \"type\" must be one of (%d,).", componentActionRow), "components", i, "type")
		}
		if len(row.Components) == 0 || len(row.Components) > 5 {
			return newFormError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.", "components", i, "components")
		}
		for j, c := range row.Components {
			path := []any{"components", i, "components", j}
			switch c.Type {
			case componentButton:
				if err := validateButton(c, path); err != nil {
					return err
				}
			case componentSelect, componentUserSel, componentRoleSel, componentMentSel, componentChanSel:
				if len(row.Components) != 1 {
					return newFormError("COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width", path...)
				}
				if err := checkCustomID(c.CustomID, path); err != nil {
					return err
				}
				if c.Type == componentSelect && (len(c.Options) == 0 || len(c.Options) > 25) {
					return newFormError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.", append(path, "options")...)
				}
			default:
				return newFormError("UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (2, 3, 5, 6, 7, 8).", append(path, "type")...)
			}
			if c.CustomID != "" {
				if seen[c.CustomID] {
					return newFormError("COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated", append(path, "custom_id")...)
				}
				seen[c.CustomID] = true
			}
		}
	}
	return nil
}

func validateButton(c component, path []any) *formError {
	if c.Style < 1 || c.Style > 6 {
		return newFormError("BUTTON_COMPONENT_INVALID_STYLE", "Invalid button style", append(path, "style")...)
	}
	if utf8.RuneCountInString(c.Label) > 80 {
		return newFormError("BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.", append(path, "label")...)
	}
	switch c.Style {
	case buttonStyleLink:
		if c.URL == "" {
			return newFormError("BUTTON_COMPONENT_URL_REQUIRED", "A url must be specified for link buttons", append(path, "url")...)
		}
		if c.CustomID != "" {
			return newFormError("BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A custom id cannot be specified for link buttons", append(path, "custom_id")...)
		}
	case buttonStylePremium:
		if c.SKUID == "" {
			return newFormError("BUTTON_COMPONENT_SKU_ID_REQUIRED", "A sku id is required", append(path, "sku_id")...)
		}
		return nil
	default:
		if c.URL != "" {
			return newFormError("BUTTON_COMPONENT_URL_NOT_ALLOWED", "A url cannot be specified for non-link buttons", append(path, "url")...)
		}
		if err := checkCustomID(c.CustomID, path); err != nil {
			return err
		}
	}
	if c.Label == "" && len(c.Emoji) == 0 {
		return newFormError("BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A label or emoji must be specified", append(path, "label")...)
	}
	return nil
}

func checkCustomID(id string, path []any) *formError {
	if id == "" {
		return newFormError("BASE_TYPE_REQUIRED", "This field is required", append(path, "custom_id")...)
	}
	if utf8.RuneCountInString(id) > 100 {
		return newFormError("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.", append(path, "custom_id")...)
	}
	return nil
}

// validateModal checks a modal response: custom_id 1-100, title 1-45, 1-5
// action rows each holding one text input with custom_id 1-100, label 1-45 and
// style 1 (short) or 2 (paragraph).
func validateModal(d interactionResponseData) *formError {
	if err := checkCustomID(d.CustomID, []any{"data"}); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(d.Title); n == 0 || n > 45 {
		return newFormError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.", "data", "title")
	}
	rows := parseComponents(d.Components)
	if len(rows) == 0 || len(rows) > 5 {
		return newFormError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.", "data", "components")
	}
	seen := map[string]bool{}
	for i, row := range rows {
		if row.Type != componentActionRow || len(row.Components) != 1 || row.Components[0].Type != componentTextInput {
			return newFormError("UNION_TYPE_CHOICES", "Modal rows must hold exactly one text input", "data", "components", i)
		}
		c := row.Components[0]
		path := []any{"data", "components", i, "components", 0}
		if err := checkCustomID(c.CustomID, path); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(c.Label); n == 0 || n > 45 {
			return newFormError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.", append(path, "label")...)
		}
		if c.Style != 1 && c.Style != 2 {
			return newFormError("BASE_TYPE_CHOICES", "Value must be one of {1, 2}.", append(path, "style")...)
		}
		if seen[c.CustomID] {
			return newFormError("COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated", append(path, "custom_id")...)
		}
		seen[c.CustomID] = true
	}
	return nil
}
