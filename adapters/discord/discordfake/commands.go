package discordfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Command is a registered application command.
type Command struct {
	ID            string
	ApplicationID string
	GuildID       string // empty for global commands
	// Type is 1 for slash commands, 2 for user and 3 for message context menus.
	Type        int
	Name        string
	Description string
	Options     []CommandOptionSpec
	// Raw is the command as registered (JSON).
	Raw json.RawMessage
}

// CommandOptionSpec is an option declared by a registered command.
type CommandOptionSpec struct {
	Type        int                 `json:"type"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Required    bool                `json:"required"`
	Options     []CommandOptionSpec `json:"options"`
}

// CommandOption is an option value a user gives to a slash command. Type may
// be left 0: it is taken from the registered command.
type CommandOption struct {
	Name    string
	Type    int
	Value   any
	Options []CommandOption
}

type command struct {
	Command
	version string
}

// Commands returns the commands registered for a guild, or the global ones
// for guildID "".
func (s *Server) Commands(guildID string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Command
	for _, c := range s.commands[guildID] {
		cc := c.Command
		cc.Raw = slices.Clone(c.Raw)
		cc.Options = slices.Clone(c.Options)
		out = append(out, cc)
	}
	return out
}

func (s *Server) wireCommand(c *command) map[string]any {
	var w map[string]any
	_ = json.Unmarshal(c.Raw, &w)
	if w == nil {
		w = map[string]any{}
	}
	w["id"] = c.ID
	w["application_id"] = c.ApplicationID
	w["version"] = c.version
	w["type"] = c.Type
	w["name"] = c.Name
	w["description"] = c.Description
	if c.GuildID != "" {
		w["guild_id"] = c.GuildID
	} else {
		delete(w, "guild_id")
	}
	if _, ok := w["options"]; !ok || w["options"] == nil {
		delete(w, "options")
	}
	if _, ok := w["default_member_permissions"]; !ok {
		w["default_member_permissions"] = nil
	}
	w["nsfw"] = w["nsfw"] == true
	return w
}

// commandScope checks the path's application and guild. Callers hold s.mu.
func (s *Server) commandScope(q *request) (string, response, bool) {
	if q.path("application_id") != s.opts.ApplicationID {
		return "", apiError(http.StatusForbidden, 50001, "Missing Access"), false
	}
	gid := q.path("guild_id")
	if gid != "" && s.guilds[gid] == nil {
		return "", apiError(http.StatusForbidden, 50001, "Missing Access"), false
	}
	return gid, response{}, true
}

func (s *Server) getCommands(q *request) response {
	gid, resp, ok := s.commandScope(q)
	if !ok {
		return resp
	}
	out := []any{}
	for _, c := range s.commands[gid] {
		out = append(out, s.wireCommand(c))
	}
	return okJSON(out)
}

// parseCommand validates one command as Discord does: type 1 names are 1-32
// lowercase letters, digits, - or _, with a 1-100 character description; context
// menu names are 1-32 characters without description; option names follow the
// slash-command rule, need a description, and required options come first.
func parseCommand(raw json.RawMessage, path ...any) (*command, *formError) {
	var c struct {
		Type        int                 `json:"type"`
		Name        string              `json:"name"`
		Description string              `json:"description"`
		Options     []CommandOptionSpec `json:"options"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, newFormError("MODEL_TYPE_CONVERT", "Could not interpret the command", path...)
	}
	if c.Type == 0 {
		c.Type = commandTypeChatInput
	}
	switch c.Type {
	case commandTypeChatInput:
		if !validSlashName(c.Name) {
			return nil, newFormError("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid", append(path, "name")...)
		}
		if n := utf8.RuneCountInString(c.Description); n < 1 || n > 100 {
			return nil, newFormError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.", append(path, "description")...)
		}
		if err := checkOptions(c.Options, append(path, "options")); err != nil {
			return nil, err
		}
	case commandTypeUser, commandTypeMessage:
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > 32 {
			return nil, newFormError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.", append(path, "name")...)
		}
		if c.Description != "" || len(c.Options) > 0 {
			return nil, newFormError("APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION_OPTIONS", "Context menu commands cannot have description or options", append(path, "description")...)
		}
	default:
		return nil, newFormError("BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}.", append(path, "type")...)
	}
	return &command{Command: Command{Type: c.Type, Name: c.Name, Description: c.Description, Options: c.Options, Raw: normalizeObject(raw)}}, nil
}

func validSlashName(name string) bool {
	if n := utf8.RuneCountInString(name); n < 1 || n > 32 {
		return false
	}
	for _, r := range name {
		if r != '-' && r != '_' && !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			return false
		}
		if unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

func checkOptions(opts []CommandOptionSpec, path []any) *formError {
	if len(opts) > 25 {
		return newFormError("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.", path...)
	}
	optional := false
	seen := map[string]bool{}
	for k, o := range opts {
		p := append(slices.Clone(path), k)
		if !validSlashName(o.Name) {
			return newFormError("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid", append(p, "name")...)
		}
		if n := utf8.RuneCountInString(o.Description); n < 1 || n > 100 {
			return newFormError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.", append(p, "description")...)
		}
		if o.Type < 1 || o.Type > 11 {
			return newFormError("BASE_TYPE_CHOICES", "Value must be one of {1, …, 11}.", append(p, "type")...)
		}
		if seen[o.Name] {
			return newFormError("APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", "Option name already exists", append(p, "name")...)
		}
		seen[o.Name] = true
		if o.Required && optional {
			return newFormError("APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options", p...)
		}
		optional = optional || !o.Required
		if err := checkOptions(o.Options, append(p, "options")); err != nil {
			return err
		}
	}
	return nil
}

// upsert registers a command, keeping the ID of an existing command with the
// same name and type. Callers hold s.mu.
func (s *Server) upsert(list []*command, c *command, gid string) (*command, bool) {
	c.ApplicationID = s.opts.ApplicationID
	c.GuildID = gid
	c.version = s.nextID()
	for _, old := range list {
		if old.Name == c.Name && old.Type == c.Type {
			c.ID = old.ID
			return c, false
		}
	}
	c.ID = s.nextID()
	return c, true
}

// overwriteCommands handles the bulk overwrite (PUT) of global or guild
// commands: the list replaces every command of the scope.
func (s *Server) overwriteCommands(q *request) response {
	gid, resp, ok := s.commandScope(q)
	if !ok {
		return resp
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(q.body, &raws); err != nil {
		return badJSON()
	}
	if len(raws) > 100 {
		return invalidForm(newFormError("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.", "_root"))
	}
	var next []*command
	seen := map[string]bool{}
	for k, raw := range raws {
		c, err := parseCommand(raw, k)
		if err != nil {
			return invalidForm(err)
		}
		key := fmt.Sprint(c.Type, " ", c.Name)
		if seen[key] {
			return invalidForm(newFormError("APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique", k, "name"))
		}
		seen[key] = true
		c, _ = s.upsert(s.commands[gid], c, gid)
		next = append(next, c)
	}
	s.commands[gid] = next
	out := []any{}
	for _, c := range next {
		out = append(out, s.wireCommand(c))
	}
	return okJSON(out)
}

// createCommand handles POST of one command: created (201) or replacing the
// command of the same name and type (200).
func (s *Server) createCommand(q *request) response {
	gid, resp, ok := s.commandScope(q)
	if !ok {
		return resp
	}
	c, err := parseCommand(q.body)
	if err != nil {
		return invalidForm(err)
	}
	c, created := s.upsert(s.commands[gid], c, gid)
	list := slices.DeleteFunc(slices.Clone(s.commands[gid]), func(o *command) bool { return o.ID == c.ID })
	s.commands[gid] = append(list, c)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return response{status: status, body: s.wireCommand(c)}
}

// findCommand looks a command up in the channel's guild, then globally.
// Callers hold s.mu.
func (s *Server) findCommand(guildID string, typ int, name string) *command {
	scopes := []string{""}
	if guildID != "" {
		scopes = []string{guildID, ""}
	}
	for _, gid := range scopes {
		for _, c := range s.commands[gid] {
			if c.Type == typ && c.Name == name {
				return c
			}
		}
	}
	return nil
}

// SlashCommand runs a registered slash command as a user in a channel, with
// option values checked against the command's declared options (names,
// types, required). User options get resolved users (and members in guilds).
func (s *Server) SlashCommand(userID, channelID, name string, opts ...CommandOption) (Interaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	c := s.channels[channelID]
	if c == nil {
		return Interaction{}, fmt.Errorf("discordfake: unknown channel %q", channelID)
	}
	cmd := s.findCommand(c.GuildID, commandTypeChatInput, name)
	if cmd == nil {
		return Interaction{}, fmt.Errorf("discordfake: no slash command %q registered for channel %q", name, channelID)
	}
	resolved := map[string]map[string]any{}
	wire, err := s.commandOptions(cmd.Options, opts, c.GuildID, resolved)
	if err != nil {
		return Interaction{}, fmt.Errorf("discordfake: /%s: %w", name, err)
	}
	d := map[string]any{"id": cmd.ID, "name": cmd.Name, "type": commandTypeChatInput}
	if len(wire) > 0 {
		d["options"] = wire
	}
	if len(resolved) > 0 {
		d["resolved"] = resolved
	}
	if cmd.GuildID != "" {
		d["guild_id"] = cmd.GuildID
	}
	data, _ := json.Marshal(d)
	i, err := s.newInteraction(Interaction{Type: InteractionApplicationCommand, ChannelID: channelID, UserID: userID, Data: data})
	if err != nil {
		return Interaction{}, err
	}
	return i.Interaction, s.deliverInteraction(i)
}

// commandOptions checks given options against declared ones and renders them.
func (s *Server) commandOptions(specs []CommandOptionSpec, given []CommandOption, guildID string, resolved map[string]map[string]any) ([]any, error) {
	var out []any
	names := map[string]bool{}
	for _, o := range given {
		k := slices.IndexFunc(specs, func(sp CommandOptionSpec) bool { return sp.Name == o.Name })
		if k < 0 {
			return nil, fmt.Errorf("unknown option %q", o.Name)
		}
		spec := specs[k]
		if o.Type != 0 && o.Type != spec.Type {
			return nil, fmt.Errorf("option %q has type %d, declared %d", o.Name, o.Type, spec.Type)
		}
		names[o.Name] = true
		w := map[string]any{"name": o.Name, "type": spec.Type}
		switch spec.Type {
		case optionTypeSubCommand, optionTypeSubCommandGrp:
			sub, err := s.commandOptions(spec.Options, o.Options, guildID, resolved)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", o.Name, err)
			}
			if sub == nil {
				sub = []any{}
			}
			w["options"] = sub
		default:
			if err := checkOptionValue(spec.Type, o.Value); err != nil {
				return nil, fmt.Errorf("option %q: %w", o.Name, err)
			}
			w["value"] = o.Value
			if spec.Type == optionTypeUser {
				id := o.Value.(string)
				if s.users[id] == nil {
					return nil, fmt.Errorf("option %q: unknown user %q", o.Name, id)
				}
				if resolved["users"] == nil {
					resolved["users"] = map[string]any{}
				}
				resolved["users"][id] = s.wireUser(id)
				if g := s.guilds[guildID]; g != nil {
					if m := s.wireMember(g, id, false, true); m != nil {
						if resolved["members"] == nil {
							resolved["members"] = map[string]any{}
						}
						resolved["members"][id] = m
					}
				}
			}
		}
		out = append(out, w)
	}
	for _, sp := range specs {
		if sp.Required && !names[sp.Name] {
			return nil, fmt.Errorf("required option %q missing", sp.Name)
		}
	}
	return out, nil
}

func checkOptionValue(typ int, v any) error {
	switch typ {
	case optionTypeString, optionTypeUser, 7, 8, 9:
		if _, ok := v.(string); !ok {
			return fmt.Errorf("want a string, got %T", v)
		}
	case optionTypeInteger:
		switch v.(type) {
		case int, int32, int64:
		default:
			return fmt.Errorf("want an integer, got %T", v)
		}
	case optionTypeNumber:
		switch v.(type) {
		case int, int32, int64, float32, float64:
		default:
			return fmt.Errorf("want a number, got %T", v)
		}
	case optionTypeBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("want a bool, got %T", v)
		}
	default:
		return fmt.Errorf("option type %d is not supported by the fake", typ)
	}
	return nil
}

// MessageCommand runs a registered message context menu command on a message
// as a user; the target message is resolved with its full content (context
// menu commands are exempt from the message content intent).
func (s *Server) MessageCommand(userID, channelID, name, targetMessageID string) (Interaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	c := s.channels[channelID]
	if c == nil {
		return Interaction{}, fmt.Errorf("discordfake: unknown channel %q", channelID)
	}
	cmd := s.findCommand(c.GuildID, commandTypeMessage, name)
	if cmd == nil {
		return Interaction{}, fmt.Errorf("discordfake: no message command %q registered for channel %q", name, channelID)
	}
	m := s.channelMessage(channelID, targetMessageID)
	if m == nil {
		return Interaction{}, fmt.Errorf("discordfake: no message %q in channel %q", targetMessageID, channelID)
	}
	d := map[string]any{
		"id": cmd.ID, "name": cmd.Name, "type": commandTypeMessage, "target_id": m.ID,
		"resolved": map[string]any{"messages": map[string]any{m.ID: s.wireMessage(m, nil)}},
	}
	if cmd.GuildID != "" {
		d["guild_id"] = cmd.GuildID
	}
	data, _ := json.Marshal(d)
	i, err := s.newInteraction(Interaction{Type: InteractionApplicationCommand, ChannelID: channelID, UserID: userID, Data: data})
	if err != nil {
		return Interaction{}, err
	}
	return i.Interaction, s.deliverInteraction(i)
}
