// Package quote quotes values read from outside (a tag, an appVersion, a
// YAML key, a server's message) for error messages and notices.
package quote

import "fmt"

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
