package deploy

import (
	"maps"
	"slices"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/fakes"
	"github.com/lagwatch/lagwatch/pkg/fixtures"
)

// TestAlertRulesOnCatalogMistakes runs every provisioned rule on the catalog
// mistakes of testdata/catalogs/mistakes.yaml at evalAt: a service whose
// packaged version cannot be compared with upstream (the chart version read
// as the app version; a tag pattern that matches nothing) keeps its alert
// instance with a null value, which the rule's noDataState turns into
// NoData; never a number that reads OK. Rules that name services run on
// every service of that catalog.
func TestAlertRulesOnCatalogMistakes(t *testing.T) {
	st := fakes.NewStack(t)
	cat, err := fixtures.CatalogFile("mistakes.yaml", st.Helm.URL(), st.OCI.Host())
	if err != nil {
		t.Fatal(err)
	}
	ds := newDatasourceOn(t, string(cat), st.GitHub.URL(), st.Prometheus.URL(), nil)
	unknown := []string{"ollama-from-version", "ollama-no-match"}
	for _, r := range alertRules(t) {
		if r.NoDataState != "NoData" {
			t.Errorf("rule %s: noDataState %q: a null value would not read as NoData", r.UID, r.NoDataState)
		}
		model := maps.Clone(r.lagwatchQuery(t).Model)
		delete(model, "services") // every service of the mistakes catalog
		delete(model, "maintainer")
		t.Run(r.UID, func(t *testing.T) {
			run := runRule(t, ds, r, model, evalAt)
			for _, svc := range unknown {
				v, ok := run.values[svc]
				switch {
				case !ok:
					t.Errorf("%s: no alert instance; it must stay, null, to go NoData", svc)
				case v != nil:
					t.Errorf("%s: value %v, want null (NoData): its packaged version cannot be compared with upstream", svc, *v)
				}
				if slices.Contains(run.firing, svc) {
					t.Errorf("%s fires on a null", svc)
				}
			}
		})
	}
}
