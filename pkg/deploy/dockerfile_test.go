package deploy

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string   // upper case: FROM, COPY, ...
	args []string // whitespace-separated
	raw  string   // everything after the command
}

type stage struct {
	name  string // AS name, or its index
	image string // after ARG substitution
	ins   []instruction
}

type dockerfile struct {
	args   map[string]string // global ARG defaults (before the first FROM)
	stages []*stage
}

func parseDockerfile(t *testing.T, src []byte) dockerfile {
	t.Helper()
	df := dockerfile{args: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(src))
	var buf strings.Builder
	start := 0
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if buf.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if buf.Len() == 0 {
			start = n
		}
		if cont, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), "\\"); ok {
			buf.WriteString(cont + " ")
			continue
		}
		buf.WriteString(line)
		text := strings.TrimSpace(buf.String())
		buf.Reset()
		cmd, rest, _ := strings.Cut(text, " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.Fields(rest), raw: strings.TrimSpace(rest)}
		switch {
		case in.cmd == "FROM":
			st := &stage{}
			var words []string
			for _, a := range in.args {
				if !strings.HasPrefix(a, "--") {
					words = append(words, a)
				}
			}
			if len(words) == 0 {
				t.Fatalf("Dockerfile:%d: FROM without an image", in.line)
			}
			st.image = expand(words[0], df.args)
			st.name = st.image
			if len(words) == 3 && strings.EqualFold(words[1], "AS") {
				st.name = words[2]
			}
			df.stages = append(df.stages, st)
		case in.cmd == "ARG" && len(df.stages) == 0:
			k, v, _ := strings.Cut(in.raw, "=")
			df.args[k] = v
		case len(df.stages) > 0:
			cur := df.stages[len(df.stages)-1]
			cur.ins = append(cur.ins, in)
		}
	}
	return df
}

var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

func expand(s string, args map[string]string) string {
	return argRef.ReplaceAllStringFunc(s, func(m string) string {
		k := argRef.FindStringSubmatch(m)[1]
		if v, ok := args[k]; ok {
			return v
		}
		return m
	})
}

func (s *stage) find(cmd string) []instruction {
	var out []instruction
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func (s *stage) runs() string {
	var b strings.Builder
	for _, in := range s.find("RUN") {
		b.WriteString(in.raw + "\n")
	}
	return b.String()
}

// copySources returns the sources of a COPY (all words but flags and the destination).
func copySources(in instruction) (sources []string, from string) {
	var words []string
	for _, a := range in.args {
		if f, ok := strings.CutPrefix(a, "--from="); ok {
			from = f
			continue
		}
		if !strings.HasPrefix(a, "--") {
			words = append(words, a)
		}
	}
	if len(words) < 2 {
		return nil, from
	}
	return words[:len(words)-1], from
}

// dockerignore is a minimal reader of .dockerignore: plain paths, * and ?
// globs, and a leading **/ (any depth). Exceptions (!) are not used here and
// are rejected so that the check never silently misreads the file.
type dockerignore []string

func readDockerignore(t *testing.T) dockerignore {
	t.Helper()
	var pats dockerignore
	for i, line := range strings.Split(string(readFile(t, ".dockerignore")), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			t.Fatalf(".dockerignore:%d: exceptions are not supported by this check", i+1)
		}
		pats = append(pats, strings.Trim(path.Clean(line), "/"))
	}
	return pats
}

// excludes reports whether the context path p (slash-separated, relative) or
// one of its parents is excluded.
func (d dockerignore) excludes(p string) (string, bool) {
	p = strings.Trim(path.Clean(p), "/")
	parts := strings.Split(p, "/")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], "/")
		for _, pat := range d {
			if any, ok := strings.CutPrefix(pat, "**/"); ok {
				if m, _ := path.Match(any, parts[i-1]); m {
					return pat, true
				}
				continue
			}
			if m, _ := path.Match(pat, prefix); m {
				return pat, true
			}
		}
	}
	return "", false
}

func TestDockerfile(t *testing.T) {
	p := pluginManifest(t)
	df := parseDockerfile(t, readFile(t, "Dockerfile"))
	ignore := readDockerignore(t)
	if len(df.stages) != 5 {
		t.Fatalf("want 5 stages (frontend, backend, exporter-build, exporter, Grafana last), got %d", len(df.stages))
	}
	names := map[string]bool{}
	for _, st := range df.stages {
		names[st.name] = true
	}

	// Every COPY from the build context names files that exist and are
	// not excluded by .dockerignore; every COPY --from names a stage.
	for _, st := range df.stages {
		for _, in := range st.find("COPY") {
			srcs, from := copySources(in)
			if from != "" {
				if !names[from] {
					t.Errorf("Dockerfile:%d: COPY --from=%s: no such stage", in.line, from)
				}
				continue
			}
			for _, src := range srcs {
				if strings.ContainsAny(src, "*?[") {
					t.Errorf("Dockerfile:%d: COPY %s: use plain paths so this check can follow them", in.line, src)
					continue
				}
				if _, err := os.Stat(repoPath(t, src)); err != nil {
					t.Errorf("Dockerfile:%d: COPY %s: %v", in.line, src, err)
				}
				if pat, ok := ignore.excludes(src); ok {
					t.Errorf("Dockerfile:%d: COPY %s: excluded from the build context by .dockerignore %q", in.line, src, pat)
				}
			}
		}
	}

	front, back, final := df.stages[0], df.stages[1], df.stages[len(df.stages)-1]
	t.Run("exporter", func(t *testing.T) {
		var build, run *stage
		for i := range df.stages {
			switch df.stages[i].name {
			case "exporter-build":
				build = df.stages[i]
			case "exporter":
				run = df.stages[i]
			}
		}
		if build == nil || run == nil {
			t.Fatal("no exporter-build and exporter stages (docker-compose.yaml builds target exporter)")
		}
		if !strings.Contains(build.runs(), "./cmd/lagwatch") {
			t.Errorf("exporter-build does not build ./cmd/lagwatch")
		}
		entry := run.find("ENTRYPOINT")
		if len(entry) != 1 || !strings.Contains(strings.Join(entry[0].args, " "), `"serve"`) {
			t.Errorf("exporter ENTRYPOINT %v, want lagwatch serve", entry)
		}
	})
	t.Run("frontend", func(t *testing.T) {
		if !regexp.MustCompile(`^node:20[.-]`).MatchString(front.image) {
			t.Errorf("frontend image %q is not Node 20", front.image)
		}
		runs := front.runs()
		for _, want := range []string{"npm ci", "npm run build"} {
			if !strings.Contains(runs, want) {
				t.Errorf("frontend stage does not run %q", want)
			}
		}
		var pkg struct {
			Scripts map[string]string `json:"scripts"`
		}
		readJSON(t, "package.json", &pkg)
		if pkg.Scripts["build"] == "" {
			t.Errorf("package.json has no build script")
		}
		// The webpack config the build script names must be copied in.
		if m := regexp.MustCompile(`-c\s+(\S+)`).FindStringSubmatch(pkg.Scripts["build"]); m != nil {
			cfg := strings.TrimPrefix(m[1], "./")
			if _, err := os.Stat(repoPath(t, cfg)); err != nil {
				t.Errorf("build script config %s: %v", cfg, err)
			}
			copied := false
			for _, in := range front.find("COPY") {
				srcs, _ := copySources(in)
				for _, s := range srcs {
					if strings.HasPrefix(cfg, strings.TrimSuffix(s, "/")) {
						copied = true
					}
				}
			}
			if !copied {
				t.Errorf("the frontend stage does not copy %s", cfg)
			}
		}
	})
	t.Run("backend", func(t *testing.T) {
		if !regexp.MustCompile(`^golang:1\.2[6-9]`).MatchString(back.image) {
			t.Errorf("backend image %q is not Go ≥ 1.26 (go.mod)", back.image)
		}
		runs := back.runs()
		for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", `GOARCH="$arch"`, `arch="${TARGETARCH:-amd64}"`, "./pkg",
			p.Executable + `_linux_${arch}`} {
			if !strings.Contains(runs, want) {
				t.Errorf("backend stage RUN lacks %q", want)
			}
		}
		if !strings.HasPrefix(p.Executable, "gpx_") {
			t.Errorf("plugin.json executable %q does not start with gpx_", p.Executable)
		}
	})
	t.Run("final", func(t *testing.T) {
		m := regexp.MustCompile(`^grafana/grafana(-oss)?:(\d+\.\d+\.\d+)$`).FindStringSubmatch(final.image)
		if m == nil {
			t.Fatalf("final image %q is not a pinned Grafana OSS image (grafana/grafana:X.Y.Z)", final.image)
		}
		c, err := semver.NewConstraint(p.Dependencies.GrafanaDependency)
		if err != nil {
			t.Fatalf("plugin.json grafanaDependency %q: %v", p.Dependencies.GrafanaDependency, err)
		}
		if v := semver.MustParse(m[2]); !c.Check(v) {
			t.Errorf("Grafana %s does not satisfy grafanaDependency %s", v, p.Dependencies.GrafanaDependency)
		}
		want := pluginDir + p.ID + "/"
		copies := final.find("COPY")
		if len(copies) != 2 {
			t.Fatalf("final stage: want 2 COPY --from (frontend, backend), got %d", len(copies))
		}
		for _, in := range copies {
			if dest := in.args[len(in.args)-1]; dest != want {
				t.Errorf("Dockerfile:%d: plugin copied to %s, want %s (the id in src/plugin.json)", in.line, dest, want)
			}
		}
		env := ""
		for _, in := range final.find("ENV") {
			env += in.raw + "\n"
		}
		if !strings.Contains(env, "GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS="+p.ID+"\n") {
			t.Errorf("final stage must allow exactly %s unsigned, ENV is %q", p.ID, env)
		}
		if !strings.Contains(final.runs(), "test -x \"/var/lib/grafana/plugins/"+p.ID+"/"+p.Executable+"_linux_${TARGETARCH:-amd64}\"") {
			t.Errorf("final stage does not check that the plugin binary is executable")
		}
	})
}

func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	ignore := readDockerignore(t)
	for _, p := range []string{"pkg/main.go", "go.mod", "go.sum", "src/plugin.json", "package.json", "package-lock.json", ".config/webpack"} {
		if pat, ok := ignore.excludes(p); ok {
			t.Errorf("%s is excluded by %q", p, pat)
		}
	}
	for _, p := range []string{"node_modules/react", "src/node_modules/x", "dist/module.js", ".git/HEAD", "testdata/fixtures"} {
		if _, ok := ignore.excludes(p); !ok {
			t.Errorf("%s should be left out of the build context", p)
		}
	}
	if _, err := os.Stat(filepath.Join(root(t), "pkg", "main.go")); err != nil {
		t.Errorf("the backend entry point moved: %v", err)
	}
}
