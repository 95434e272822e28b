package main

import (
	"strings"
	"testing"
)

// --oci-token-host takes host names or HOST:PORT, never a URL or a
// link-local address, and says which value is wrong.
func TestOCITokenHostFlag(t *testing.T) {
	s := newServers(t)
	for value, want := range map[string]string{
		"https://auth.example.com/token": `invalid value "https://auth.example.com/token" for flag -oci-token-host: token host: "https://auth.example.com/token" is not a host name or HOST:PORT`,
		"169.254.169.254":                `"169.254.169.254" is a link-local or non-unicast address, never a token service`,
		"auth.example.com:x":             `"auth.example.com:x" is not a host name or HOST:PORT`,
	} {
		code, _, errOut := runCLI(t, withToken, "report", "--catalog", s.catalog, "--oci-token-host", value)
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("--oci-token-host %s: exit %d, stderr:\n%s", value, code, errOut)
		}
	}
	var hosts tokenHosts
	for _, v := range []string{"auth.example.com", "Token.Example.net:8443,quay.io"} {
		if err := hosts.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := hosts.String(); got != "auth.example.com,token.example.net:8443,quay.io" {
		t.Errorf("hosts = %s", got)
	}
}
