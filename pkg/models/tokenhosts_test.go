package models

import (
	"reflect"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// jsonData.ociTokenHosts: host names or HOST:PORT, comma or space separated;
// a URL or a link-local address is refused naming the setting.
func TestOCITokenHosts(t *testing.T) {
	load := func(v string) (*Settings, error) {
		return LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(`{"ociTokenHosts":` + v + `}`)})
	}
	st, err := load(`"auth.example.com, Token.Example.net:8443 quay.io"`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"auth.example.com", "token.example.net:8443", "quay.io"}; !reflect.DeepEqual(st.TokenHosts, want) {
		t.Errorf("TokenHosts = %q, want %q", st.TokenHosts, want)
	}
	for v, want := range map[string]string{
		`"https://auth.example.com/token"`: `jsonData.ociTokenHosts: "https://auth.example.com/token" is not a host name or HOST:PORT`,
		`"169.254.169.254"`:                `jsonData.ociTokenHosts: "169.254.169.254" is a link-local or non-unicast address, never a token service`,
		`["a"]`:                            `jsonData.ociTokenHosts must be`,
	} {
		if _, err := load(v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", v, err, want)
		}
	}
}
