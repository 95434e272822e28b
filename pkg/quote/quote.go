// Package quote quotes values read from outside (a tag, an appVersion, a
// YAML key, a server's message) for error messages and notices.
package quote

import (
	"fmt"
	"strings"
)

// MaxRunes is how much of an outside value a message quotes.
const MaxRunes = 80

// Value quotes s in Go syntax, cut to MaxRunes characters with "…", so that a
// hostile 100 KB value cannot make a 100 KB notice.
func Value(s string) string {
	r := []rune(s)
	if len(r) > MaxRunes {
		return fmt.Sprintf("%q…", string(r[:MaxRunes]))
	}
	return fmt.Sprintf("%q", s)
}

// Cut shortens s to MaxRunes characters, marking the cut with "…", for an
// outside value shown as an example.
func Cut(s string) string {
	if r := []rune(s); len(r) > MaxRunes {
		return string(r[:MaxRunes]) + "…"
	}
	return s
}

// YAML writes s as a YAML single-quoted scalar, the way a catalog holds a
// pattern: no backslash escapes, a quote doubled. It does not cut s.
func YAML(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
