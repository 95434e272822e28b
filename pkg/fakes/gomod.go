package fakes

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// serveGoMod answers GET /repos/{owner}/{repo}/contents/go.mod like GitHub's
// contents API: a JSON file object whose content is base64 wrapped in lines
// of 60 characters, or 404 when the repository or the file does not exist.
// Called with g.mu held.
func (g *GitHub) serveGoMod(w http.ResponseWriter, repo string) {
	r := g.repos[strings.ToLower(repo)]
	if r == nil || r.gomod == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/contents#get-repository-content", "status": "404"})
		return
	}
	enc := base64.StdEncoding.EncodeToString(r.gomod)
	var lines []string
	for len(enc) > 60 {
		lines = append(lines, enc[:60])
		enc = enc[60:]
	}
	lines = append(lines, enc)
	// GitHub's sha is the git blob id.
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(r.gomod)) + "\x00"))
	h.Write(r.gomod)
	writeJSON(w, http.StatusOK, map[string]any{
		"type": "file", "encoding": "base64", "size": len(r.gomod), "name": "go.mod", "path": "go.mod",
		"content": strings.Join(lines, "\n") + "\n", "sha": hex.EncodeToString(h.Sum(nil)),
	})
}
