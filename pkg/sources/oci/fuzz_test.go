package oci

import (
	"bytes"
	"encoding/json"
	"slices"
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

// FuzzHelmConfig: any config blob decodes, with a version and appVersion
// of at most maxVersionLen bytes, or fails without Go type names.
// Seeds: Chart.yaml-as-JSON of the real Redis versions.
func FuzzHelmConfig(f *testing.F) {
	for _, v := range fakes.RedisVersions(f)[:3] {
		b, _ := json.Marshal(map[string]any{"apiVersion": "v2", "name": "redis", "version": v.Version, "appVersion": v.AppVersion, "deprecated": false})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeHelmConfig(b)
		if err != nil {
			if bad := fakes.GoTypeIn(err.Error()); bad != "" {
				t.Errorf("message %q shows %q", err, bad)
			}
			return
		}
		if len(c.Version) > maxVersionLen || len(c.AppVersion) > maxVersionLen {
			t.Errorf("accepted a version of %d and an appVersion of %d bytes", len(c.Version), len(c.AppVersion))
		}
	})
}

// FuzzTagList: the streaming tag-list decoder agrees with a full decode of
// the page: whatever it accepts is a JSON object whose "tags" it reports,
// and an object whose "tags" is absent, null or a list of strings (or
// nulls, read as "") is accepted, unless a key is written twice or escaped (where the two may
// differ: the stream reports every "tags" list, a full decode the last).
// Failures are one message. Seeds: the real Redis tags as the fake
// registry pages them, and testdata/fuzz/FuzzTagList.
func FuzzTagList(f *testing.F) {
	var tags []string
	for _, v := range fakes.RedisVersions(f)[:20] {
		tags = append(tags, strings.ReplaceAll(v.Version, "+", "_"))
	}
	tags = append(tags, "latest", "sha256-"+strings.Repeat("ab", 32)+".sig")
	page, _ := json.Marshal(map[string]any{"name": "bitnamicharts/redis", "tags": tags})
	f.Add(page)
	f.Add([]byte(`{"name":"x","tags":null}`))
	f.Add([]byte(`{"child":[],"manifest":{"sha256:ab":{"tag":["1.0.0"],"size":1e999}},"name":"x","tags":["1.0.0"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []string
		err := decodeTags(bytes.NewReader(b), func(tag string) error { got = append(got, tag); return nil })
		if err != nil && err != errTagList {
			t.Fatalf("error %v", err)
		}
		var ref map[string]json.RawMessage
		refErr := json.NewDecoder(bytes.NewReader(b)).Decode(&ref)
		var want []string // null elements read as "", as they do in a []string
		listed := refErr == nil && ref != nil && (ref["tags"] == nil || json.Unmarshal(ref["tags"], &want) == nil)
		if err == nil {
			if !listed {
				t.Fatalf("accepted %q, a full decode finds no tag list (%v)", b, refErr)
			}
			if len(got) < len(want) || !slices.Equal(got[len(got)-len(want):], want) {
				t.Fatalf("reported %q, the last tags are %q", got, want)
			}
		}
		plain := bytes.Count(b, []byte(`"tags"`)) <= 1 && !bytes.Contains(b, []byte(`\`))
		if plain && listed && (err != nil || !slices.Equal(got, want)) {
			t.Fatalf("%q: reported %q, %v; a full decode finds %q", b, got, err, want)
		}
	})
}
