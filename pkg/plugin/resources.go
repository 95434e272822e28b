package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/check"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/discover"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/oci"
)

// maxCatalogBody bounds the /validate request: a catalog of catalog.MaxBytes
// with room for JSON escaping (catalog.Parse then enforces its own limit).
const maxCatalogBody = 2*catalog.MaxBytes + 1<<10

type serviceInfo struct {
	Name       string `json:"name"`
	Maintainer string `json:"maintainer"`
	Repo       string `json:"repo"`
	Chart      string `json:"chart"`
	// Advisories says whether the catalog entry names advisories, EOLProduct
	// its endoflife.date product ("" when none): which services can have
	// security and end-of-life values.
	Advisories bool   `json:"advisories"`
	EOLProduct string `json:"eolProduct"`
}

func hasAdvisories(s catalog.Service) bool {
	_, ok := s.AdvisoryRef()
	return ok
}

type servicesResponse struct {
	Services    []serviceInfo `json:"services"`
	Maintainers []string      `json:"maintainers"`
}

// handleServices lists the catalog's services and maintainers, for template
// variables and the query editor.
func (d *Datasource) handleServices(w http.ResponseWriter, _ *http.Request) {
	if !d.catalogReady(w) {
		return
	}
	out := servicesResponse{Services: []serviceInfo{}, Maintainers: []string{}}
	seen := map[string]bool{}
	for _, s := range d.catalog.Services {
		out.Services = append(out.Services, serviceInfo{Name: s.Name, Maintainer: s.Maintainer, Repo: s.Upstream.Repo, Chart: s.Chart.Name,
			Advisories: hasAdvisories(s), EOLProduct: s.EOLProduct()})
		if !seen[s.Maintainer] {
			seen[s.Maintainer] = true
			out.Maintainers = append(out.Maintainers, s.Maintainer)
		}
	}
	sort.Strings(out.Maintainers)
	writeJSON(w, http.StatusOK, out)
}

type validateRequest struct {
	Catalog string `json:"catalog"`
}

type validateResponse struct {
	Valid    bool            `json:"valid"`
	Services int             `json:"services"`
	Errors   []catalog.Error `json:"errors"`
}

// handleValidate checks a catalog sent by the config editor. It answers 200
// with the list of problems; only an unreadable request is a 400.
func (d *Datasource) handleValidate(w http.ResponseWriter, r *http.Request) {
	var req validateRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCatalogBody+1))
	switch {
	case err != nil:
		err = errors.New("the request body could not be read")
	case len(body) > maxCatalogBody:
		err = fmt.Errorf("the request is larger than %d KiB", maxCatalogBody>>10)
	case json.Unmarshal(body, &req) != nil:
		err = errors.New("the request is not a JSON object with a text field catalog")
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "request body must be JSON {\"catalog\": \"<yaml>\"}: " + err.Error()})
		return
	}
	resp := validateResponse{Errors: []catalog.Error{}}
	cat, err := catalog.Parse([]byte(req.Catalog))
	var errs catalog.Errors
	switch {
	case err == nil:
		resp.Valid, resp.Services = true, len(cat.Services)
	case errors.As(err, &errs):
		resp.Errors = errs
	default:
		resp.Errors = []catalog.Error{{Message: err.Error()}}
	}
	writeJSON(w, http.StatusOK, resp)
}

type upstreamVersion struct {
	Version string    `json:"version"`
	Tag     string    `json:"tag"`
	Time    time.Time `json:"time"`
}

type chartVersion struct {
	Version  string    `json:"version"`
	Packaged string    `json:"packaged"`
	Time     time.Time `json:"time"`
}

type versionsResponse struct {
	Service  string            `json:"service"`
	Upstream []upstreamVersion `json:"upstream"`
	Chart    []chartVersion    `json:"chart"`
	Notices  []string          `json:"notices"`
}

// handleVersions lists the upstream and chart versions of one service, as
// the engine reads them (normalised, in time order), for a version variable.
func (d *Datasource) handleVersions(w http.ResponseWriter, r *http.Request) {
	if !d.catalogReady(w) {
		return
	}
	name := strings.TrimSpace(r.URL.Query().Get("service"))
	if name == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "versions: give the service, as ?service=NAME"})
		return
	}
	svcs := d.catalog.Filter([]string{name}, "")
	if len(svcs) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("versions: service %s is not in the catalog", sources.Quote(name))})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), d.settings.Timeout())
	defer cancel()
	res := d.collector.Collect(ctx, svcs, nil)[0]
	if res.Err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": fmt.Sprintf("versions of %s: %v", name, res.Err)})
		return
	}
	out := versionsResponse{Service: name, Upstream: []upstreamVersion{}, Chart: []chartVersion{}, Notices: res.Notices}
	if out.Notices == nil {
		out.Notices = []string{}
	}
	for _, u := range res.Timeline.Upstream {
		out.Upstream = append(out.Upstream, upstreamVersion{Version: u.Version.String(), Tag: u.Tag, Time: u.Time})
	}
	for _, c := range res.Timeline.Charts {
		out.Chart = append(out.Chart, chartVersion{Version: c.Version.String(), Packaged: c.App.String(), Time: c.Created})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleCheck checks every service of the catalog, or ?service=NAME,
// against its data now (or at ?at=RFC3339): coverage, problems and fixes
// with their evidence (docs/catalog.md has the shape).
func (d *Datasource) handleCheck(w http.ResponseWriter, r *http.Request) {
	if !d.catalogReady(w) {
		return
	}
	q := r.URL.Query()
	svcs := d.catalog.Services
	if name := strings.TrimSpace(q.Get("service")); name != "" {
		if svcs = d.catalog.Filter([]string{name}, ""); len(svcs) == 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("check: service %s is not in the catalog", sources.Quote(name))})
			return
		}
	}
	at := time.Now().UTC()
	if raw := q.Get("at"); raw != "" {
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("check: at %s is not an RFC 3339 time such as 2025-09-30T00:00:00Z", sources.Quote(raw))})
			return
		}
		at = t.UTC()
	}
	ctx, cancel := context.WithTimeout(r.Context(), d.settings.Timeout())
	defer cancel()
	writeJSON(w, http.StatusOK, d.check(ctx, svcs, at))
}

// check runs the catalog check on the datasource's sources (and caches).
func (d *Datasource) check(ctx context.Context, svcs []catalog.Service, at time.Time) check.Report {
	repair := &discover.Discoverer{Upstreams: d.sources.GitHub, Charts: d.sources.Charts()}
	return check.Runner{Upstreams: d.sources.GitHub, Charts: d.sources.Charts(), Repair: repair.Repair}.Run(ctx, svcs, at)
}

// handleDiscover writes catalog entries from charts (docs/catalog.md):
// ?repo=URL (repeatable; every chart, or ?chart=NAME… of a single repo),
// ?oci=oci://HOST/PATH/NAME (repeatable), ?prometheus=true (the charts the
// cluster runs, joined to the repositories given and the catalog's). It
// makes the plugin fetch from hosts the catalog does not name, so only an
// org admin may call it (the config editor's "Add service").
func (d *Datasource) handleDiscover(w http.ResponseWriter, r *http.Request) {
	if u := backend.UserFromContext(r.Context()); u == nil || u.Role != "Admin" {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "discover: only an org admin can discover charts (it reads repositories the catalog does not name)"})
		return
	}
	q := r.URL.Query()
	var in discover.Input
	var repos []string
	for _, raw := range q["repo"] {
		if _, err := helmRepoURL(raw); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "discover: repo " + err.Error()})
			return
		}
		in.Repos = append(in.Repos, discover.RepoInput{URL: raw})
		repos = append(repos, raw)
	}
	if charts := q["chart"]; len(charts) > 0 {
		if len(in.Repos) != 1 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "discover: chart needs exactly one repo"})
			return
		}
		in.Repos[0].Charts = charts
	}
	for _, raw := range q["oci"] {
		i := strings.LastIndex(raw, "/")
		if _, _, err := oci.ParseRef(raw[:max(i, 0)], raw[i+1:]); !oci.IsOCI(raw) || err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("discover: oci %s is not an oci://HOST/PATH/NAME chart", sources.Quote(raw))})
			return
		}
		in.OCI = append(in.OCI, raw)
		repos = append(repos, raw)
	}
	fromProm := q.Get("prometheus") == "true"
	if len(repos) == 0 && !fromProm {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "discover: give repo=URL (and chart=NAME), oci=oci://HOST/PATH/NAME or prometheus=true"})
		return
	}
	if fromProm && d.settings.PrometheusURL == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "discover: prometheus=true needs the Prometheus URL in the datasource settings"})
		return
	}
	st := d.settings
	ctx, cancel := context.WithTimeout(r.Context(), 2*st.Timeout())
	defer cancel()
	disc, src, _, err := discover.Open(ctx, discover.Config{Catalog: d.catalog, Repos: repos, Sources: collector.SourcesConfig{
		GitHubURL: st.GitHubURL, GitHubToken: st.GitHubToken, Timeout: st.Timeout(), MaxIndexBytes: st.IndexLimitBytes(),
		OCICredentials: st.OCICredentials, OCIBudget: st.OCIBudget, PrometheusURL: st.PrometheusURL, PrometheusUser: st.PrometheusUser,
		PrometheusPassword: st.PrometheusPassword, PrometheusToken: st.PrometheusToken,
		TokenHint: "set a GitHub token in the datasource settings", PrometheusAuthHint: "the Prometheus user, password or token in the datasource settings"}}, &in, fromProm)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "discover: " + err.Error()})
		return
	}
	defer src.Close()
	writeJSON(w, http.StatusOK, disc.Run(ctx, in))
}

func helmRepoURL(raw string) (string, error) {
	if oci.IsOCI(raw) {
		return "", fmt.Errorf("%s is an OCI reference: give it as oci=", sources.Quote(raw))
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%s is not an http(s) Helm repository URL without credentials", sources.Quote(raw))
	}
	return u.String(), nil
}

// catalogReady answers 400 with the catalog's problem when it could not be used.
func (d *Datasource) catalogReady(w http.ResponseWriter) bool {
	if d.catalogErr != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": d.catalogErr.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
