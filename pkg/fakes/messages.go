package fakes

import "regexp"

var (
	quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	goType = regexp.MustCompile(`\*?\b[a-z][a-z0-9]*\.[A-Z]\w*|\bmap\[|\[\][a-z*]|\bGo (?:struct|value|type)\b|\bunmarshal\b|!!(?:str|map|seq|int|bool|float|null)\b|interface \{\}`)
)

// GoTypeIn returns the first thing in a user-facing message that looks like
// a Go type name or a decoder's internals ("*url.Error", "map[string]…",
// "cannot unmarshal !!seq"), or "" when there is none. Quoted values (echoed
// input) are not looked at.
func GoTypeIn(msg string) string {
	return goType.FindString(quoted.ReplaceAllString(msg, `""`))
}
