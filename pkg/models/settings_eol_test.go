package models

import (
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func TestEOLURLSetting(t *testing.T) {
	st, err := LoadSettings(backend.DataSourceInstanceSettings{})
	if err != nil || st.EOLURL != DefaultEOLURL {
		t.Errorf("default eolUrl: %q, %v", st.EOLURL, err)
	}
	st, err = LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(`{"eolUrl":" http://eol.internal:8080/ "}`)})
	if err != nil || st.EOLURL != "http://eol.internal:8080" {
		t.Errorf("eolUrl: %q, %v", st.EOLURL, err)
	}
	for raw, want := range map[string]string{
		`{"eolUrl":"endoflife.date"}`:             `jsonData.eolUrl "endoflife.date" is not an http(s) URL`,
		`{"eolUrl":"https://u:p@endoflife.date"}`: `is not an http(s) URL without credentials`,
		`{"eolUrl":7}`:                            `jsonData.eolUrl must be a text`,
	} {
		_, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(raw)})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "u:p@") {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
}
