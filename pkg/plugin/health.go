package plugin

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/check"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// CheckHealth reports, in one message, whether the catalog is valid, GitHub is
// reachable (with the rate limit left and whether a token is set) and every
// chart repository of the catalog answers. Any failure makes the check fail
// and is named in the message.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	var failed, ok []string
	if d.catalogErr != nil {
		failed = append(failed, d.catalogErr.Error())
	} else {
		ok = append(ok, fmt.Sprintf("catalog valid: %d services", len(d.catalog.Services)))
	}

	rl, err := d.sources.GitHub.RateLimit(ctx)
	switch {
	case err != nil:
		failed = append(failed, fmt.Sprintf("GitHub at %s unreachable: %v", d.settings.GitHubURL, err))
	case rl.Unlimited:
		ok = append(ok, "GitHub reachable (no rate limit)")
	case rl.Authenticated:
		ok = append(ok, fmt.Sprintf("GitHub reachable with token: %d of %d REST requests left this hour, resets %s", rl.Core.Remaining, rl.Core.Limit, rl.Core.Reset.UTC().Format(time.RFC3339)))
	default:
		ok = append(ok, fmt.Sprintf("GitHub reachable with no token: %d of %d REST requests left this hour (60/hour without a token)", rl.Core.Remaining, rl.Core.Limit))
	}
	if !rl.Authenticated && d.catalog != nil {
		var tagged []string
		for _, s := range d.catalog.Services {
			if s.Upstream.Source == sources.KindTags {
				tagged = append(tagged, s.Name)
			}
		}
		if len(tagged) > 0 {
			// Not a failure: they work, with less history.
			ok = append(ok, fmt.Sprintf("no GitHub token: services %s (source: tags) get only their 10 newest tags, from GitHub's tag feed; set a token for the whole history", strings.Join(tagged, ", ")))
		}
	}
	if err == nil && !rl.BlockedUntil.IsZero() {
		failed = append(failed, fmt.Sprintf("GitHub rate limit exhausted: serving cached data until %s", rl.BlockedUntil.UTC().Format(time.RFC3339)))
	}

	if d.catalog != nil {
		bad := d.checkChartRepositories(ctx)
		failed = append(failed, bad...)
		if len(bad) == 0 {
			ok = append(ok, fmt.Sprintf("all %d charts found in their repositories", len(d.catalog.Services)))
		}
		// A warning, not a failure: the numbers still come, and GET /check says more.
		if s := check.Summary(d.check(ctx, d.catalog.Services, time.Now())); s != "" {
			ok = append(ok, "warning: "+s)
		}
	}

	var promServices []string
	if d.catalog != nil {
		for _, s := range d.catalog.Services {
			if s.Deployed != nil && s.Deployed.Prometheus != nil {
				promServices = append(promServices, s.Name)
			}
		}
	}
	switch {
	case d.sources.Prometheus != nil:
		if v, err := d.sources.Prometheus.Check(ctx); err != nil {
			failed = append(failed, fmt.Sprintf("deployed versions: %v", err))
		} else {
			if v != "" {
				v = " " + v
			}
			ok = append(ok, fmt.Sprintf("Prometheus%s reachable for the deployed versions of %d services", v, len(promServices)))
		}
	case len(promServices) > 0:
		// Not a failure: their other numbers work; the last hop stays null.
		ok = append(ok, fmt.Sprintf("no Prometheus URL: services %s read their deployed version from Prometheus, so their deployed metrics stay empty; set the Prometheus URL", strings.Join(promServices, ", ")))
	}

	for _, b := range d.sources.OCI.Budgets() {
		window := ""
		if b.Window > 0 {
			window = fmt.Sprintf(" per %s", b.Window)
		}
		ok = append(ok, fmt.Sprintf("OCI registry %s: %d of %d pulls left%s", b.Host, b.Remaining, b.Limit, window))
	}

	res := &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: strings.Join(ok, "; ")}
	if len(failed) > 0 {
		res.Status = backend.HealthStatusError
		res.Message = strings.Join(append(failed, ok...), "; ")
	}
	return res, nil
}

// checkChartRepositories fetches every chart of the catalog (through the
// shared cache, so a later query reuses the result) and names the failures.
func (d *Datasource) checkChartRepositories(ctx context.Context) []string {
	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
	)
	for _, s := range d.catalog.Services {
		wg.Add(1)
		go func(s catalog.Service) {
			defer wg.Done()
			if _, _, err := d.sources.Charts().ChartVersions(ctx, s.ChartRef()); err != nil {
				mu.Lock()
				failed = append(failed, fmt.Sprintf("service %s: chart repository %s: %v", s.Name, s.Chart.Repository, err))
				mu.Unlock()
			}
		}(s)
	}
	wg.Wait()
	sort.Strings(failed)
	return failed
}
