// Package registrylogin reads OCI registry logins, given in the datasource
// settings (secureJsonData.ociCredentials) and to the CLI
// (LAGWATCH_OCI_CREDENTIALS) in one format, so that the settings read them
// without depending on the OCI source.
package registrylogin

import (
	"fmt"
	"strings"
)

// Login is a registry login: basic auth to the registry's token realm, or to
// the registry itself when it asks for basic auth.
type Login struct{ Username, Password string }

// Parse reads registry logins, one per line: `HOST USERNAME:PASSWORD` (blank
// lines and lines starting with # are ignored), keyed by lower-case host
// (docker.io is registry-1.docker.io). Errors name the line and the host,
// never the password.
func Parse(text string) (map[string]Login, error) {
	out := map[string]Login{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		host, login, _ := strings.Cut(line, " ")
		user, pass, ok := strings.Cut(strings.TrimSpace(login), ":")
		host = strings.ToLower(strings.TrimPrefix(host, "oci://"))
		switch {
		case host == "" || strings.ContainsAny(host, "/@"):
			return nil, fmt.Errorf("line %d: expected HOST USERNAME:PASSWORD, the host is missing or not a host name", i+1)
		case !ok || user == "" || pass == "":
			return nil, fmt.Errorf("line %d (%s): expected HOST USERNAME:PASSWORD", i+1, host)
		case out[host] != (Login{}):
			return nil, fmt.Errorf("line %d: %s is given twice", i+1, host)
		}
		if host == "docker.io" || host == "index.docker.io" {
			host = "registry-1.docker.io"
		}
		out[host] = Login{Username: user, Password: pass}
	}
	return out, nil
}
