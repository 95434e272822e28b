// Package plugin is the thin Grafana layer of Lagwatch: it reads the instance
// settings, answers queries, resources and health checks, and leaves fetching
// to pkg/sources, lag math to pkg/engine and frames to pkg/frames.
package plugin

import (
	"context"
	"fmt"
	"net/http"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/collector"
	"github.com/lagwatch/lagwatch/pkg/frames"
	"github.com/lagwatch/lagwatch/pkg/models"
)

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// Datasource is one configured Lagwatch datasource instance. Its caches live
// as long as the instance: Grafana makes a new one when the settings change.
type Datasource struct {
	settings   *models.Settings
	catalog    *catalog.Catalog
	catalogErr error // why the catalog could not be used; queries and health say so
	sources    *collector.Sources
	collector  *collector.Collector
	resources  backend.CallResourceHandler
}

// NewDatasource creates an instance from Grafana's settings. Bad settings are
// an error; a bad catalog is not, so that the health check and the config
// editor can show what is wrong with it.
func NewDatasource(_ context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	st, err := models.LoadSettings(s)
	if err != nil {
		return nil, err
	}
	d := &Datasource{settings: st}
	src, origin, err := st.CatalogSource()
	if err == nil {
		d.catalog, err = catalog.Parse(src)
		if err != nil {
			err = fmt.Errorf("catalog from %s: %w", origin, err)
		}
	}
	d.catalogErr = err
	d.sources, err = collector.NewSources(collector.SourcesConfig{
		GitHubURL: st.GitHubURL, GitHubToken: st.GitHubToken, Catalog: d.catalog,
		CacheTTL: st.TTL, Timeout: st.Timeout(), MaxIndexBytes: st.IndexLimitBytes(),
		OCICredentials: st.OCICredentials, OCIBudget: st.OCIBudget, OCICacheDir: st.OCICacheDir,
		OCITokenHosts: st.TokenHosts, OCITokenHostsHint: "OCI token hosts (jsonData.ociTokenHosts) in the datasource settings",
		PrometheusURL: st.PrometheusURL, PrometheusUser: st.PrometheusUser,
		PrometheusPassword: st.PrometheusPassword, PrometheusToken: st.PrometheusToken,
		PrometheusHint:     "set the Prometheus URL in the datasource settings",
		PrometheusAuthHint: "the Prometheus user, password or token in the datasource settings",
		EOLURL:             st.EOLURL, EOLHint: "jsonData.eolUrl in the datasource settings",
	})
	if err != nil {
		return nil, err
	}
	d.collector = d.sources.Collector()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services", d.handleServices)
	mux.HandleFunc("POST /validate", d.handleValidate)
	mux.HandleFunc("GET /versions", d.handleVersions)
	mux.HandleFunc("GET /check", d.handleCheck)
	mux.HandleFunc("GET /discover", d.handleDiscover)
	d.resources = httpadapter.New(mux)
	return d, nil
}

// Dispose releases the instance's idle connections.
func (d *Datasource) Dispose() { d.sources.Close() }

// QueryData answers every query of the request independently: one bad query
// does not fail the others.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	for _, q := range req.Queries {
		resp.Responses[q.RefID] = d.query(ctx, q)
	}
	return resp, nil
}

func (d *Datasource) query(ctx context.Context, q backend.DataQuery) backend.DataResponse {
	qm, err := models.ParseQuery(q.JSON, q.QueryType)
	if err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, fmt.Sprintf("query %s: %v", q.RefID, err))
	}
	if d.catalogErr != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, d.catalogErr.Error())
	}
	from, to := q.TimeRange.From.UTC(), q.TimeRange.To.UTC()
	if err := models.CheckTimeRange(from, to); err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, fmt.Sprintf("query %s: %v", q.RefID, err))
	}
	// A query waits at most the request timeout of the settings; fetches
	// still running go on in the cache for the next query.
	ctx, cancel := context.WithTimeout(ctx, d.settings.Timeout())
	defer cancel()
	results := d.collector.Collect(ctx, d.catalog.Filter(qm.Services, qm.Maintainer), nil)
	if qm.NeedsDeployed() {
		d.collector.AddDeployed(ctx, results, collector.DeployedRange{From: from, To: to, WhatIf: qm.DeployedVersion})
	}
	results = append(results, d.unknownServices(qm.Services)...)
	collector.AtLeast(results, qm.Severity())
	var resp backend.DataResponse
	switch qm.QueryType {
	case models.QueryLag:
		resp.Frames = frames.Lag(ctx, results, qm.Metrics, from, to, q.Interval, q.MaxDataPoints)
	case models.QueryCurrent:
		resp.Frames = frames.Current(results, qm.Metrics, to, d.settings.Verdict())
	case models.QueryStatus:
		resp.Frames = append(resp.Frames, frames.Status(results, from, to, d.settings.Verdict()))
	case models.QueryEvents:
		resp.Frames = append(resp.Frames, frames.Events(results, qm.EventKinds, from, to))
	}
	for _, r := range results {
		if r.Err != nil {
			backend.Logger.FromContext(ctx).Warn("Service failed", "service", r.Service.Name, "error", r.Err)
		}
	}
	return resp
}

// unknownServices turns requested names that are not in the catalog (a stale
// $service value, a removed service) into failed results: they show as
// errors beside the other services instead of failing the query.
func (d *Datasource) unknownServices(names []string) []collector.Result {
	known := map[string]bool{}
	for _, s := range d.catalog.Services {
		known[s.Name] = true
	}
	var out []collector.Result
	for _, n := range names {
		if !known[n] {
			out = append(out, collector.Result{Service: catalog.Service{Name: n},
				Err: fmt.Errorf("service %q is not in the catalog", n)})
		}
	}
	return out
}

// CallResource serves GET /services, GET /versions and POST /validate.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	return d.resources.CallResource(ctx, req, sender)
}
