package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/lagwatch/lagwatch/pkg/catalog"
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
	if d.catalogErr != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": d.catalogErr.Error()})
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
