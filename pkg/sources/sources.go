// Package sources defines what Lagwatch reads from the outside world: upstream
// release timelines and Helm chart timelines. Each concrete source lives in its
// own sub-package behind one of the two small interfaces below; the lag engine
// never sees HTTP.
package sources

import (
	"context"
	"time"

	"github.com/lagwatch/lagwatch/pkg/quote"
)

// Release is one upstream release or tag exactly as the source reported it.
// Normalising the tag into a version is the engine's job, not the source's.
type Release struct {
	Tag        string    // tag name, e.g. "v0.12.3" or "chroma-1.1.1"
	Time       time.Time // release publish time, or the tag's date for tags
	Prerelease bool      // GitHub's prerelease flag (always false for tags)
}

// ChartVersion is one entry of a chart in a Helm repository index.
type ChartVersion struct {
	Version    string    // chart version
	AppVersion string    // appVersion as written in the index ("" when absent)
	Created    time.Time // the entry's created time (zero when absent or unparsable)
	CreatedRaw string    // created as written, for messages about it
	Deprecated bool
}

// Notice is a non-fatal remark about fetched data, for example that cached
// data is served because the source is rate limited.
type Notice string

// Upstream kinds.
const (
	KindReleases = "releases"
	KindTags     = "tags"
)

// UpstreamRef names an upstream timeline.
type UpstreamRef struct {
	Repo string // GitHub "owner/name"
	Kind string // KindReleases or KindTags
}

// ChartRef names a chart in a Helm HTTP repository.
type ChartRef struct {
	Repository string // repository base URL; index.yaml is fetched below it
	Name       string // chart name
}

// UpstreamSource returns an upstream release timeline. Drafts are never
// returned. Notices describe stale or degraded data that is still usable.
type UpstreamSource interface {
	Releases(ctx context.Context, ref UpstreamRef) ([]Release, []Notice, error)
}

// Prefetcher is an UpstreamSource that can read many timelines at once more
// cheaply than one by one (GitHub GraphQL). The collector calls it before a
// collection; what it could not read is fetched one by one as usual.
type Prefetcher interface {
	Prefetch(ctx context.Context, refs []UpstreamRef)
}

// ChartSource returns every version of one chart in a repository.
type ChartSource interface {
	ChartVersions(ctx context.Context, ref ChartRef) ([]ChartVersion, []Notice, error)
}

// DeployedRef names where the running version of a service is read: a
// Prometheus query and the label of its series that holds the version.
type DeployedRef struct {
	Query string
	Label string
}

// DeployedSample is what was seen running at one time: the version label of
// every series that had a sample then (a query can return several).
type DeployedSample struct {
	At       time.Time
	Versions []string
}

// DeployedSource returns what ran over [from, to]: samples in time order.
type DeployedSource interface {
	Deployed(ctx context.Context, ref DeployedRef, from, to time.Time) ([]DeployedSample, []Notice, error)
}

// Quote is quote.Value.
//
// Deprecated: use quote.Value; kept while pkg/sources/oci, edited on other
// branches, still calls it.
func Quote(s string) string { return quote.Value(s) }
