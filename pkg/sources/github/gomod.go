package github

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

// MaxGoModBytes bounds the answer for a go.mod (GitHub's contents API
// inlines files up to 1 MB; a go.mod is a few KB).
const MaxGoModBytes = 1 << 20

// GoModule tells whether repo is a Go module and which: it reads go.mod at
// the root of the default branch (GET /repos/OWNER/NAME/contents/go.mod, one
// request, not cached) and returns its module path. A 404 means no go.mod:
// ok is false and err nil. lagwatch discover and check use it to propose
// and verify advisories for Go upstreams.
func (s *Source) GoModule(ctx context.Context, repo string) (module string, ok bool, err error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return "", false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/repos/"+owner+"/"+name+"/contents/go.mod", nil)
	if err != nil {
		return "", false, fmt.Errorf("go.mod of %s: %w", repo, err)
	}
	resp, err := s.send(req, resourceCore, repo)
	if err != nil {
		return "", false, s.redact(err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return "", false, nil
	default:
		return "", false, s.redact(s.statusError(repo, req, resp))
	}
	var file struct {
		Type     string `json:"type"`
		Encoding string `json:"encoding"`
		Content  string `json:"content"`
	}
	c := &capped{r: resp.Body, n: 2 * MaxGoModBytes} // base64 and JSON around it
	if err := json.NewDecoder(c).Decode(&file); err != nil {
		if c.hit {
			return "", false, fmt.Errorf("go.mod of %s: GET %s: the answer is larger than %d MB, more than GitHub inlines", repo, req.URL.RequestURI(), 2*MaxGoModBytes>>20)
		}
		return "", false, fmt.Errorf("go.mod of %s: GET %s: the answer is not the JSON file object GitHub sends", repo, req.URL.RequestURI())
	}
	if file.Type != "file" || file.Encoding != "base64" {
		return "", false, fmt.Errorf("go.mod of %s: GET %s: expected a base64 file, got type %s, encoding %s", repo, req.URL.RequestURI(), strconv.Quote(file.Type), strconv.Quote(file.Encoding))
	}
	// GitHub wraps the base64 text in lines.
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(file.Content), ""))
	if err != nil {
		return "", false, fmt.Errorf("go.mod of %s: GET %s: the content is not base64", repo, req.URL.RequestURI())
	}
	module, err = ModulePath(raw)
	if err != nil {
		return "", false, fmt.Errorf("go.mod of %s: %w", repo, err)
	}
	return module, true, nil
}

// ModulePath reads the module directive of a go.mod: `module PATH` or
// `module "PATH"`, comments ignored.
func ModulePath(gomod []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	sc.Buffer(make([]byte, 0, 4096), MaxGoModBytes)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module")
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		path := strings.TrimSpace(rest)
		if unq, err := strconv.Unquote(path); err == nil {
			path = unq
		}
		if path == "" || len(path) > 300 || strings.ContainsAny(path, "\"'`,") || strings.IndexFunc(path, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return "", fmt.Errorf("the module directive %s names no module path", strconv.Quote(cutText(strings.TrimSpace(line))))
		}
		return path, nil
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("go.mod could not be read: %w", err)
	}
	return "", errors.New("go.mod has no module directive")
}

func cutText(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
