package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Fixed names the deployment files agree on.
const (
	pluginDir        = "/var/lib/grafana/plugins/"
	lagwatchUID      = "lagwatch"
	prometheusUID    = "prometheus"
	dashboardUID     = "lagwatch-release-lag"
	catalogMount     = "/etc/lagwatch"
	provisioningPath = "/etc/grafana/provisioning"
)

// root is the repository root (the directory holding go.mod).
func root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

func repoPath(t testing.TB, rel string) string {
	return filepath.Join(root(t), filepath.FromSlash(rel))
}

func readFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readYAML(t testing.TB, rel string, into any) {
	t.Helper()
	if err := yaml.Unmarshal(readFile(t, rel), into); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

func readJSON(t testing.TB, rel string, into any) {
	t.Helper()
	if err := json.Unmarshal(readFile(t, rel), into); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

// pluginJSON is the part of src/plugin.json the deployment depends on.
type pluginJSON struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	Executable   string `json:"executable"`
	Backend      bool   `json:"backend"`
	Dependencies struct {
		GrafanaDependency string `json:"grafanaDependency"`
	} `json:"dependencies"`
}

func pluginManifest(t testing.TB) pluginJSON {
	var p pluginJSON
	readJSON(t, "src/plugin.json", &p)
	if p.ID == "" || p.Executable == "" {
		t.Fatalf("src/plugin.json has no id or executable: %+v", p)
	}
	return p
}
