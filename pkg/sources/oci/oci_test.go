package oci

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/helm"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	reg   *fakes.OCI
	clock *fakes.Clock
	src   *Source
	ref   sources.ChartRef
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	reg := fakes.NewOCI(t)
	clock := fakes.NewClock(t0)
	cfg.HTTPClient, cfg.AllowHost, cfg.Now = clientFor(reg), allowFor(reg), clock.Now
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 15 * time.Minute
	}
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{reg: reg, clock: clock, src: src, ref: sources.ChartRef{Repository: "oci://" + reg.Host() + "/bitnamicharts", Name: "redis"}}
}

// clientFor is the client the plugin and the CLI use (collector.NewSources):
// only the registry's host allowed, redirects under sources.CheckRedirect.
// The allow-list of each registry is shared by clientFor and allowFor.
func clientFor(reg *fakes.OCI) *http.Client {
	return &http.Client{Transport: allowLists(reg), CheckRedirect: sources.CheckRedirect}
}

func allowFor(reg *fakes.OCI) func(string) { return allowLists(reg).Allow }

var (
	allowMu sync.Mutex
	allowOf = map[*fakes.OCI]*sources.AllowHosts{}
)

func allowLists(reg *fakes.OCI) *sources.AllowHosts {
	allowMu.Lock()
	defer allowMu.Unlock()
	if a := allowOf[reg]; a != nil {
		return a
	}
	var next http.RoundTripper
	if rt := reg.Transport(); rt != nil {
		next = rt
	}
	a := sources.NewAllowHosts(next, reg.Host())
	allowOf[reg] = a
	return a
}

func (e *env) get(t *testing.T) ([]sources.ChartVersion, []sources.Notice) {
	t.Helper()
	vs, notices, err := e.src.ChartVersions(context.Background(), e.ref)
	if err != nil {
		t.Fatal(err)
	}
	return vs, notices
}

func noticeWith(ns []sources.Notice, text string) bool {
	for _, n := range ns {
		if strings.Contains(string(n), text) {
			return true
		}
	}
	return false
}

// The real Bitnami Redis history over OCI: every version, appVersion and push
// time comes back; a warm refresh costs no manifest GET, a new tag one.
func TestRedisOverOCI(t *testing.T) {
	e := newEnv(t, Config{Budget: 1000})
	redis := fakes.RedisVersions(t)
	e.reg.Put("bitnamicharts/redis", redis)
	vs, notices := e.get(t)
	if len(vs) != len(redis) {
		t.Fatalf("%d versions, want %d", len(vs), len(redis))
	}
	byVersion := map[string]sources.ChartVersion{}
	for _, v := range vs {
		byVersion[v.Version] = v
	}
	for _, want := range redis {
		got := byVersion[want.Version]
		if got.AppVersion != want.AppVersion || !got.Created.Equal(want.Created) {
			t.Fatalf("%s: %+v, want appVersion %s created %s", want.Version, got, want.AppVersion, want.Created)
		}
	}
	if vs[0].Version != "23.1.1" || !noticeWith(notices, "2 tags are not chart versions") {
		t.Errorf("newest %s, notices %q", vs[0].Version, notices)
	}
	if got := e.reg.ManifestGETs(); got != len(redis) {
		t.Errorf("cold: %d manifest GETs, want %d", got, len(redis))
	}
	if got := e.reg.RequestsTo("GET token"); got != 1 {
		t.Errorf("%d token requests, want 1 (reused)", got)
	}

	e.reg.ResetCounters()
	e.clock.Advance(time.Hour)
	e.get(t)
	if got := e.reg.ManifestGETs(); got != 0 {
		t.Errorf("warm refresh: %d manifest GETs, want 0", got)
	}
	if heads := e.reg.RequestsTo("HEAD manifest"); heads > recheck {
		t.Errorf("warm refresh: %d HEADs, want at most %d", heads, recheck)
	}

	e.reg.Put("bitnamicharts/redis", append(redis, fakes.OCIVersion{Version: "23.2.0", AppVersion: "8.2.2", Created: t0}))
	e.reg.ResetCounters()
	e.clock.Advance(time.Hour)
	vs, _ = e.get(t)
	if got := e.reg.ManifestGETs(); got != 1 || vs[0].Version != "23.2.0" || vs[0].AppVersion != "8.2.2" {
		t.Errorf("a new tag: %d manifest GETs, newest %+v", got, vs[0])
	}
}

// The same chart over HTTP and over OCI gives the same lag numbers.
func TestSameNumbersAsHTTP(t *testing.T) {
	e := newEnv(t, Config{Budget: 1000})
	redis := fakes.RedisVersions(t)
	e.reg.Put("bitnamicharts/redis", redis)
	overOCI, _ := e.get(t)

	var index strings.Builder
	index.WriteString("apiVersion: v1\nentries:\n  redis:\n")
	for i := len(redis) - 1; i >= 0; i-- {
		v := redis[i]
		fmt.Fprintf(&index, "  - name: redis\n    version: %s\n    appVersion: %s\n    created: %q\n    urls:\n    - oci://registry-1.docker.io/bitnamicharts/redis:%s\n", v.Version, v.AppVersion, v.Created.Format(time.RFC3339), v.Version)
	}
	h := fakes.NewHelm(t, fakes.FixturesDir())
	h.Replace("bitnami", []byte(index.String()))
	overHTTP, _, err := helm.New(helm.Config{HTTPClient: h.Client()}).ChartVersions(context.Background(), sources.ChartRef{Repository: h.RepoURL("bitnami"), Name: "redis"})
	if err != nil {
		t.Fatal(err)
	}
	// Upstream: one Redis release per distinct appVersion, a day before the
	// first chart that shipped it.
	var ups []sources.Release
	seen := map[string]bool{}
	for _, v := range redis {
		if !seen[v.AppVersion] {
			seen[v.AppVersion] = true
			ups = append(ups, sources.Release{Tag: v.AppVersion, Time: v.Created.Add(-24 * time.Hour)})
		}
	}
	spec := engine.Spec{VersionPattern: `^(\d+\.\d+\.\d+)`}
	a, _, errA := engine.Build(spec, ups, overOCI)
	b, _, errB := engine.Build(spec, ups, overHTTP)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	var times []time.Time
	for at := redis[0].Created.Add(-time.Hour); at.Before(t0); at = at.Add(36 * time.Hour) {
		times = append(times, at)
	}
	if !reflect.DeepEqual(a.Sweep(times), b.Sweep(times)) {
		t.Fatal("the same chart over OCI and HTTP gives different numbers")
	}
	if st := a.At(t0); !st.HasChart || st.Chart.Version.String() != "23.1.1" {
		t.Errorf("at %s the chart is %v", t0, st.Chart.Version)
	}
}

// A cold start of a 300-version chart spends at most the budget per refresh,
// newest first, and backfills on later refreshes until the history is whole.
func TestBudgetAndBackfill(t *testing.T) {
	e := newEnv(t, Config{Budget: 20})
	all := fakes.SyntheticVersions(300, t0.AddDate(-1, 0, 0))
	e.reg.Put("bitnamicharts/redis", all)
	vs, notices := e.get(t)
	if got := e.reg.ManifestGETs(); got != 20 || len(vs) != 20 || vs[0].Version != all[299].Version {
		t.Fatalf("cold: %d manifest GETs, %d versions, newest %s", got, len(vs), vs[0].Version)
	}
	if !noticeWith(notices, "history incomplete: 280 of 300 versions not read yet; up to 20 are read per refresh") {
		t.Errorf("notices %q", notices)
	}
	for refresh := 2; len(vs) < 300; refresh++ {
		if refresh > 15 {
			t.Fatalf("still %d versions after %d refreshes", len(vs), refresh-1)
		}
		e.clock.Advance(time.Hour)
		before := e.reg.ManifestGETs()
		vs, notices = e.get(t)
		if spent := e.reg.ManifestGETs() - before; spent > 20 {
			t.Fatalf("refresh %d spent %d manifest GETs", refresh, spent)
		}
	}
	if e.reg.ManifestGETs() != 300 || noticeWith(notices, "history incomplete") {
		t.Errorf("%d manifest GETs in all, notices %q", e.reg.ManifestGETs(), notices)
	}
}

// Private charts: without credentials the message says where to give them;
// wrong ones are refused; right ones work through the token realm.
func TestCredentials(t *testing.T) {
	e := newEnv(t, Config{})
	e.reg.Put("bitnamicharts/redis", fakes.SyntheticVersions(3, t0))
	e.reg.RequireLogin("bitnamicharts/redis", "robot", "s3cret")
	_, _, err := e.src.ChartVersions(context.Background(), e.ref)
	if err == nil || !strings.Contains(err.Error(), "did not issue a token for bitnamicharts/redis; if the chart is private, the registry needs credentials: add them under OCI registry credentials in the datasource settings") {
		t.Errorf("anonymous: %v", err)
	}
	for pass, want := range map[string]string{"wrong": "did not issue a token for bitnamicharts/redis; if the chart is private, the registry needs credentials: set LAGWATCH_OCI_CREDENTIALS", "s3cret": ""} {
		src, _ := New(Config{HTTPClient: clientFor(e.reg), AllowHost: allowFor(e.reg), Credentials: map[string]Credential{e.reg.Host(): {Username: "robot", Password: pass}}, CredentialsHint: "set LAGWATCH_OCI_CREDENTIALS"})
		vs, _, err := src.ChartVersions(context.Background(), e.ref)
		switch {
		case want == "" && (err != nil || len(vs) != 3):
			t.Errorf("right credentials: %d versions, %v", len(vs), err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), pass)):
			t.Errorf("wrong credentials: %v", err)
		}
	}
}

// 429 with Retry-After: nothing is sent to the registry until then, and the
// last good data is served with a notice.
func TestTooManyRequests(t *testing.T) {
	e := newEnv(t, Config{CacheTTL: time.Minute})
	e.reg.Put("bitnamicharts/redis", fakes.SyntheticVersions(5, t0))
	good, _ := e.get(t)
	e.reg.Put("bitnamicharts/redis", fakes.SyntheticVersions(6, t0)) // one new tag, whose manifest GET meets the 429
	e.reg.Limit(2 * time.Hour)
	e.clock.Advance(2 * time.Minute)
	vs, notices := e.get(t)
	if len(vs) != len(good) || !noticeWith(notices, "too many requests (HTTP 429, pull limit); no requests until") {
		t.Fatalf("%d versions, notices %q", len(vs), notices)
	}
	requests := e.reg.Requests()
	e.clock.Advance(time.Hour)
	if _, notices := e.get(t); e.reg.Requests() != requests || !noticeWith(notices, "asked for no requests until") {
		t.Errorf("%d requests sent while blocked; notices %q", e.reg.Requests()-requests, notices)
	}
	e.reg.Limit(0)
	e.clock.Advance(2 * time.Hour)
	if vs, _ := e.get(t); len(vs) != 6 {
		t.Errorf("after the block: %d versions", len(vs))
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t, Config{})
	if _, _, err := e.src.ChartVersions(context.Background(), e.ref); err == nil || !strings.Contains(err.Error(), "HTTP 404: no such chart or version in the registry") || !strings.Contains(err.Error(), "oci://"+e.reg.Host()+"/bitnamicharts/redis") {
		t.Errorf("unknown chart: %v", err)
	}
	versions := fakes.SyntheticVersions(3, t0)
	versions[1].Created = time.Time{}
	e.reg.Put("bitnamicharts/redis", versions)
	e.clock.Advance(time.Hour)
	vs, notices := e.get(t)
	if len(vs) != 3 || !noticeWith(notices, "1 versions have no org.opencontainers.image.created annotation") || !noticeWith(notices, versions[1].Version) {
		t.Errorf("undated: %d versions, notices %q", len(vs), notices)
	}
	e2 := newEnv(t, Config{})
	e2.reg.Put("bitnamicharts/redis", versions)
	e2.reg.Corrupt(true)
	if _, _, err := e2.src.ChartVersions(context.Background(), e2.ref); err == nil || !strings.Contains(err.Error(), "does not match its digest") {
		t.Errorf("corrupt manifest: %v", err)
	}
	for _, bad := range []struct{ repo, name, want string }{
		{"oci://u:p@ghcr.io/x", "a", "holds credentials"},
		{"oci://ghcr.io/x:1.0", "a", "without a tag"},
		{"https://ghcr.io/x", "a", "not an oci://HOST/PATH reference"},
		{"oci://ghcr.io/X", "a", "lower case"},
	} {
		if _, _, err := ParseRef(bad.repo, bad.name); err == nil || !strings.Contains(err.Error(), bad.want) || strings.Contains(err.Error(), ":p@") {
			t.Errorf("%s: %v", bad.repo, err)
		}
	}
	if host, repo, err := ParseRef("oci://docker.io/bitnamicharts", "redis"); err != nil || host != "registry-1.docker.io" || repo != "bitnamicharts/redis" {
		t.Errorf("docker.io: %s %s %v", host, repo, err)
	}
}

// With a cache directory a restart pays no manifest GET; a corrupt record
// there is ignored and replaced, a file that is not a record is left alone.
func TestDiskCache(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, Config{CacheDir: dir})
	e.reg.Put("bitnamicharts/redis", fakes.SyntheticVersions(10, t0))
	first, _ := e.get(t)
	files, _ := filepath.Glob(filepath.Join(dir, recordsDir, "*.json"))
	if len(files) != 10 { // one record per version
		t.Fatalf("%d files in the cache", len(files))
	}
	sort.Strings(files)
	if err := os.WriteFile(files[0], []byte("not what the name says"), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, recordsDir, "foreign")
	if err := os.WriteFile(foreign, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	restarted, err := New(Config{HTTPClient: clientFor(e.reg), AllowHost: allowFor(e.reg), CacheDir: dir, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	before := e.reg.ManifestGETs()
	vs, _, err := restarted.ChartVersions(context.Background(), e.ref)
	if err != nil || !reflect.DeepEqual(vs, first) {
		t.Fatalf("after a restart %+v, %v; want %+v", vs, err, first)
	}
	if fetched := e.reg.ManifestGETs() - before; fetched != 1 {
		t.Errorf("after a restart %d manifests fetched, want 1 (the corrupt record)", fetched)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("a file that is not a record: %v", err)
	}
}

// A tag list whose next page points back to itself stops.
func TestTagListLoop(t *testing.T) {
	rec := fakes.NewRecorder(t)
	rec.Handle(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `</v2/x/tags/list?n=1000>; rel="next"`)
		fmt.Fprint(w, `{"tags":["latest"]}`)
	})
	src, _ := New(Config{})
	host := strings.TrimPrefix(rec.URL(), "http://")
	vs, notices, err := src.ChartVersions(context.Background(), sources.ChartRef{Repository: "oci://" + host, Name: "x"})
	if err != nil || len(vs) != 0 || rec.Requests() != 1 || !noticeWith(notices, "1 tags are not chart versions") {
		t.Errorf("%v %q %v, %d requests", vs, notices, err, rec.Requests())
	}
}

// A registry that announces its pull budget (Docker Hub: 100 per 6 hours
// anonymously) keeps its last pulls: reading stops with a reserve left.
func TestAnnouncedBudgetIsKept(t *testing.T) {
	e := newEnv(t, Config{Budget: 1000})
	e.reg.SetPullLimit(100)
	e.reg.Put("bitnamicharts/redis", fakes.SyntheticVersions(300, t0.AddDate(-1, 0, 0)))
	vs, notices := e.get(t)
	if got := e.reg.ManifestGETs(); got != 100-reserve {
		t.Errorf("%d manifest GETs, want %d (the announced 100 less the reserve)", got, 100-reserve)
	}
	if len(vs) != 100-reserve || !noticeWith(notices, "history incomplete: 210 of 300") {
		t.Errorf("%d versions, notices %q", len(vs), notices)
	}
	if b := e.src.Budgets(); len(b) != 1 || b[0].Limit != 100 || b[0].Remaining != reserve || b[0].Window != 6*time.Hour {
		t.Errorf("budgets %+v", b)
	}
}
