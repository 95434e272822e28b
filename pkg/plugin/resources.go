package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/quote"
)

// maxCatalogBody bounds the /validate request: a catalog of catalog.MaxBytes
// with room for JSON escaping (catalog.Parse then enforces its own limit).
const maxCatalogBody = 2*catalog.MaxBytes + 1<<10

type serviceInfo struct {
	Name       string `json:"name"`
	Maintainer string `json:"maintainer"`
	Repo       string `json:"repo"`
	Chart      string `json:"chart"`
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
		out.Services = append(out.Services, serviceInfo{Name: s.Name, Maintainer: s.Maintainer, Repo: s.Upstream.Repo, Chart: s.Chart.Name})
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
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("versions: service %s is not in the catalog", quote.Value(name))})
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
