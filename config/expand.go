package config

import (
	"fmt"
	"slices"
	"strings"
)

// expand replaces each ${NAME} in s with getenv(NAME) and each $$ with one $.
// Any other $ is kept as it is, so a bcrypt hash ($2a$10$…) needs no escaping;
// $${ writes a literal ${. It returns, in order and once each, the names whose
// value is empty (unset): the caller decides whether that is an error. A
// malformed reference (no closing brace, a name that is not letters, digits and
// underscores) is always an error.
func expand(s string, getenv func(string) string) (string, []string, error) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	var b strings.Builder
	var missing []string
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", nil, fmt.Errorf("unclosed ${: write $${ for a literal ${")
			}
			name := s[i+2 : i+2+end]
			if !isVarName(name) {
				return "", nil, fmt.Errorf("${%s}: %q is not a variable name (letters, digits and _; no defaults or other shell syntax)", name, name)
			}
			v := getenv(name)
			if v == "" && !slices.Contains(missing, name) {
				missing = append(missing, name)
			}
			b.WriteString(v)
			i += end + 3
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), missing, nil
}

// isVarName reports whether s is an environment variable name as shells accept
// it: a letter or underscore, then letters, digits and underscores.
func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
