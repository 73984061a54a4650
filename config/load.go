package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"
)

// Load reads the configuration file at path; see Parse. It does not validate.
func Load(path string, getenv func(string) string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	f, err := Parse(data, getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse reads a configuration file's contents over Default. getenv (os.Getenv
// in production; nil means an empty environment) supplies ${VAR} values.
//
// Expansion happens on the parsed YAML's scalar values, never on the raw text,
// so a variable's value is always one plain value, whatever characters it holds.
// A variable that is unset or empty is an error naming the key and the
// variable, except inside a section whose enabled key is false. Unknown keys
// (with the nearest known key, when one is close), keys set twice and values of
// the wrong type are errors naming the key and the line; Parse reports all of
// them at once. Parse does not validate: call File.Validate, or use LoadValid
// for both at once.
func Parse(data []byte, getenv func(string) string) (*File, error) {
	r, err := parse(data, getenv)
	if err != nil {
		return nil, err
	}
	if len(r.problems) > 0 {
		return nil, errors.Join(r.problems...)
	}
	return &r.file, nil
}

// LoadValid reads the file at path and validates it: the one check that both
// run and check-config make. It reports every problem at once: those Parse
// finds and, with each faulty value left at its default, those Validate finds
// in the rest of the file, then those each of checks finds (the platforms'
// own checks of their options, which the binary adds). A problem of checks
// whose key ("sandbox: …") already has a problem is left out, so one fault is
// not reported twice.
func LoadValid(path string, getenv func(string) string, checks ...func(*File) error) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	f, err := parseValid(data, getenv, checks...)
	if err != nil {
		return nil, fmt.Errorf("%s is not valid:\n%w", path, err)
	}
	return f, nil
}

// parseValid is Parse then Validate then checks, reporting the problems of
// all; a key found wrong is not reported again.
func parseValid(data []byte, getenv func(string) string, checks ...func(*File) error) (*File, error) {
	r, err := parse(data, getenv)
	if err != nil {
		return nil, err
	}
	problems := r.problems
	if r.decoded {
		for _, p := range flatten(r.file.Validate()) {
			if !r.failed(p) {
				problems = append(problems, p)
			}
		}
		for _, check := range checks {
			for _, p := range flatten(check(&r.file)) {
				if !reported(problems, p) {
					problems = append(problems, p)
				}
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return &r.file, nil
}

// reported reports whether problems already has one about p's key or a key
// under it.
func reported(problems []error, p error) bool {
	key, _, _ := strings.Cut(p.Error(), ": ")
	for _, q := range problems {
		k, _, _ := strings.Cut(q.Error(), ": ")
		if k == key || strings.HasPrefix(k, key+".") || strings.HasPrefix(k, key+"[") {
			return true
		}
	}
	return false
}

// reading is the result of parse: the file as far as it could be read, and
// what was wrong in it.
type reading struct {
	file File
	// problems are the faults Parse reports; keys holds their key paths.
	problems []error
	keys     []string
	// decoded is false when the tree could not be decoded at all (a problem
	// yaml.v3 stops at), so the file is not worth validating.
	decoded bool
}

// failed reports whether a Validate problem is about a key (or under a key)
// that already has a parse problem.
func (r *reading) failed(problem error) bool {
	key, _, _ := strings.Cut(problem.Error(), ": ")
	for _, k := range r.keys {
		if key == k || strings.HasPrefix(key, k+".") || strings.HasPrefix(key, k+"[") {
			return true
		}
	}
	return false
}

// parse reads data over the defaults. A value with a problem is reset to null
// before decoding, so it keeps its default and the rest of the file is still
// read. err is a file that is not YAML or not one mapping.
func parse(data []byte, getenv func(string) string) (*reading, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	r := &reading{file: defaults(), decoded: true}
	root, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	if root != nil {
		w := walker{getenv: getenv, orig: map[*yaml.Node]string{}, seen: map[visit]bool{}}
		w.walk(root, reflect.ValueOf(&r.file).Elem(), "", true)
		r.problems, r.keys = w.errs, w.paths
		for _, n := range w.bad {
			*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
		}
		// With no problems the walk has checked every key and value, so this
		// only fails if the walk and yaml.v3 disagree about a type. With
		// problems, unknown keys and keys set twice still reach yaml.v3.
		if err := root.Decode(&r.file); err != nil {
			var te *yaml.TypeError
			switch {
			case len(r.problems) == 0:
				return nil, fmt.Errorf("decode: %w", err)
			case !errors.As(err, &te):
				r.decoded = false
			}
		}
	}
	r.file.derive()
	return r, nil
}

// flatten lists the problems in an error made by errors.Join, however nested.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// parseDocument returns the file's top-level mapping, or nil for a file with no
// content (only comments, or nothing).
func parseDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, fmt.Errorf("line %d: a second YAML document (---): the file must hold one", next.Line)
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if isNull(root) {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the file must be a mapping of keys (brand:, secret:, …), not %s", root.Line, kindName(root))
	}
	return root, nil
}

// walker goes over the YAML tree and the Go types it decodes into, side by side:
// it expands ${VAR} in scalar values (mutating the tree before it is decoded),
// and reports unknown keys, keys set twice and badly typed values with their
// full key path and line.
type walker struct {
	getenv func(string) string
	// orig keeps each expanded scalar's text as written, so that a node reached
	// again through an alias is expanded from its source, not from its result.
	orig map[*yaml.Node]string
	// seen walks a node reached through aliases once per type and strictness,
	// so a problem in it is reported once and alias fan-out stays cheap.
	seen  map[visit]bool
	errs  []error
	paths []string // the key path of each problem in errs
	// bad holds the values with a problem, reset to null before decoding.
	bad []*yaml.Node
}

// visit is one node walked as one Go type.
type visit struct {
	node   *yaml.Node
	typ    reflect.Type
	strict bool
}

// fail records a problem with the value n of the key at path.
func (w *walker) fail(path string, n *yaml.Node, format string, args ...any) {
	w.failKey(path, n, format, args...)
	w.bad = append(w.bad, n)
}

// failKey records a problem with the key at path, found on n's line, leaving
// the value alone (an unknown key, which yaml.v3 skips, or a misplaced merge).
func (w *walker) failKey(path string, n *yaml.Node, format string, args ...any) {
	w.errs = append(w.errs, fmt.Errorf("%s: line %d: %s", path, n.Line, fmt.Sprintf(format, args...)))
	w.paths = append(w.paths, path)
}

// walk checks n against v's type. v holds the default value, from which a
// section's enabled flag is read when the file leaves it out. strict says
// whether an unset variable is an error here. Structs and slices are descended
// into; anything else (File has no maps or pointers) is one value.
func (w *walker) walk(n *yaml.Node, v reflect.Value, path string, strict bool) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if isNull(n) {
		return // yaml.v3 keeps the default (or empties a list)
	}
	key := visit{n, v.Type(), strict}
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	t := v.Type()
	if unmarshalsItself(t) {
		w.leaf(n, t, path, strict)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		w.mapping(n, v, path, strict)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.fail(path, n, "want a list, got %s", kindName(n))
			return
		}
		for i, e := range n.Content {
			w.walk(e, reflect.New(t.Elem()).Elem(), fmt.Sprintf("%s[%d]", path, i), strict)
		}
	default:
		w.leaf(n, t, path, strict)
	}
}

// mapping checks a mapping against struct v. In a struct with a boolean enabled
// field, enabled is read first (strictly) and, when false, unset variables in
// the rest of the section expand to empty.
func (w *walker) mapping(n *yaml.Node, v reflect.Value, path string, strict bool) {
	if n.Kind != yaml.MappingNode {
		w.fail(path, n, "want a mapping of keys, got %s", kindName(n))
		return
	}
	fields := yamlFields(v.Type())
	gated := false
	if idx, ok := fields["enabled"]; ok && v.FieldByIndex(idx).Kind() == reflect.Bool {
		gated = true
		if !w.enabled(n, v.FieldByIndex(idx).Bool(), join(path, "enabled")) {
			strict = false
		}
	}
	w.keys(n, v, fields, path, strict, gated)
}

// keys walks each key of mapping n. Merge keys (<<: *anchor) bring in the keys
// of the merged mappings, which the mapping's own keys may override.
func (w *walker) keys(n *yaml.Node, v reflect.Value, fields map[string][]int, path string, strict, gated bool) {
	firstLine := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			w.merge(val, v, fields, path, strict)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			w.failKey(join(path, "?"), k, "a key must be a name, got %s", kindName(k))
			continue
		}
		p := join(path, k.Value)
		if line, dup := firstLine[k.Value]; dup {
			w.failKey(p, k, "set twice (first on line %d)", line)
			continue
		}
		firstLine[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			w.failKey(p, k, "unknown key%s", suggest(k.Value, fields))
			continue
		}
		if gated && k.Value == "enabled" {
			continue // already walked by enabled
		}
		w.walk(val, v.FieldByIndex(idx), p, strict)
	}
}

// merge walks the mapping or list of mappings a merge key brings in.
func (w *walker) merge(n *yaml.Node, v reflect.Value, fields map[string][]int, path string, strict bool) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		w.keys(n, v, fields, path, strict, false)
	case yaml.SequenceNode:
		for _, e := range n.Content {
			w.merge(e, v, fields, path, strict)
		}
	default:
		w.failKey(join(path, "<<"), n, "a merge key needs a mapping, got %s", kindName(n))
	}
}

// enabled reads a section's enabled key from mapping n, expanding it strictly;
// def is the value when the key is absent. A bad value (already reported)
// counts as enabled, the strict choice.
func (w *walker) enabled(n *yaml.Node, def bool, path string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "enabled" || n.Content[i].Kind != yaml.ScalarNode {
			continue
		}
		val := n.Content[i+1]
		on := def
		nerr := len(w.errs)
		w.walk(val, reflect.ValueOf(&on).Elem(), path, true)
		if len(w.errs) > nerr {
			return true
		}
		if err := val.Decode(&on); err != nil {
			return true
		}
		return on
	}
	return def
}

// leaf expands a scalar value and checks that it decodes into t.
func (w *walker) leaf(n *yaml.Node, t reflect.Type, path string, strict bool) {
	if n.Kind == yaml.ScalarNode && !w.expand(n, t, path, strict) {
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		w.fail(path, n, "%s", decodeMessage(err))
	}
}

// expand replaces ${VAR} references in scalar n and reports whether the result
// is usable. The value stays a string for string-like targets; for a plain
// (unquoted) value going into a bool or a number the type is resolved again from
// the expanded text, as if it had been written in the file.
func (w *walker) expand(n *yaml.Node, t reflect.Type, path string, strict bool) bool {
	src, ok := w.orig[n]
	if !ok {
		if !strings.Contains(n.Value, "$") {
			return true
		}
		src = n.Value
		w.orig[n] = src
	}
	out, missing, err := expand(src, w.getenv)
	if err != nil {
		w.fail(path, n, "%v", err)
		return false
	}
	if strict && len(missing) > 0 {
		w.fail(path, n, "environment variable %s is not set (or empty)", strings.Join(missing, ", "))
		return false
	}
	n.Value = out
	const explicit = yaml.TaggedStyle | yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle
	stringLike := t.Kind() == reflect.String || unmarshalsItself(t)
	if !stringLike && n.Style&explicit == 0 {
		n.Tag = ""
	}
	return true
}

// unmarshalsItself reports whether t decodes its YAML value itself (like
// bot.Duration), so the walk treats it as one value whatever its Go kind.
func unmarshalsItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) || p.Implements(reflect.TypeFor[yaml.Unmarshaler]())
}

// yamlFields maps each YAML key of struct type t to its field's index path,
// following inline fields as yaml.v3 does.
func yamlFields(t reflect.Type) map[string][]int {
	fields := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if opts == "inline" || strings.Contains(","+opts+",", ",inline,") {
			for k, idx := range yamlFields(f.Type) {
				fields[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = []int{i}
	}
	return fields
}

// suggest is " (did you mean …?)" naming the known key nearest to an unknown
// one, or "" when none is close: at most a third of the key's letters (one to
// three) away, so a typo finds its key and a foreign word finds nothing.
func suggest(unknown string, fields map[string][]int) string {
	limit := min(max(len(unknown)/3, 1), 3)
	best, bestDist := "", limit+1
	for name := range fields {
		d := levenshtein.ComputeDistance(strings.ToLower(unknown), name)
		if d < bestDist || d == bestDist && name < best {
			best, bestDist = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// decodeMessage is a yaml.v3 decoding error without its "yaml: unmarshal
// errors" header and line prefixes (fail adds the line).
func decodeMessage(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		if strings.HasPrefix(m, "line ") {
			if _, rest, ok := strings.Cut(m, ": "); ok {
				m = rest
			}
		}
		msgs[i] = m
	}
	return strings.Join(msgs, "; ")
}

// isNull reports whether n is YAML null (~, null, or nothing).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindName says what n is, for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// join appends key to a dotted key path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
