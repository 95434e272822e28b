package oci

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
)

// FuzzManifest: any manifest decodes to a Helm chart manifest with a valid
// config digest, or to an error that names no Go type. Seeds: manifests of
// the real Redis history as the fake registry writes them, and
// testdata/fuzz/FuzzManifest.
func FuzzManifest(f *testing.F) {
	for _, v := range fakes.RedisVersions(f)[:3] {
		m := map[string]any{
			"schemaVersion": 2, "mediaType": mediaManifest,
			"config":      map[string]any{"mediaType": mediaConfig, "digest": "sha256:" + strings.Repeat("ab", 32), "size": 100},
			"annotations": map[string]string{annoCreated: v.Created.Format("2006-01-02T15:04:05Z07:00"), "org.opencontainers.image.version": v.Version},
		}
		b, _ := json.Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(b)
		if err != nil {
			if bad := fakes.GoTypeIn(err.Error()); bad != "" {
				t.Errorf("message %q shows %q", err, bad)
			}
			return
		}
		if m.Config.MediaType != mediaConfig || !validDigest(m.Config.Digest) {
			t.Fatalf("accepted %+v", m.Config)
		}
	})
}

// FuzzHelmConfig: any config blob decodes or fails without Go type names.
// Seeds: Chart.yaml-as-JSON of the real Redis versions.
func FuzzHelmConfig(f *testing.F) {
	for _, v := range fakes.RedisVersions(f)[:3] {
		b, _ := json.Marshal(map[string]any{"apiVersion": "v2", "name": "redis", "version": v.Version, "appVersion": v.AppVersion, "deprecated": false})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := DecodeHelmConfig(b); err != nil {
			if bad := fakes.GoTypeIn(err.Error()); bad != "" {
				t.Errorf("message %q shows %q", err, bad)
			}
		}
	})
}
