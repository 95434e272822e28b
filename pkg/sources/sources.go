// Package sources defines what Lagwatch reads from the outside world: upstream
// release timelines and Helm chart timelines. Each concrete source lives in its
// own sub-package behind one of the two small interfaces below; the lag engine
// never sees HTTP.
package sources

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
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

	// Metadata for discovery (lagwatch discover), as the chart publishes it.
	// Strings only, so that a ChartVersion stays comparable.
	Home    string // home URL ("" when absent)
	Sources string // source URLs, one per line
	Images  string // the ImagesAnnotation annotation as written (a YAML list of name/image)
}

// ImagesAnnotation is the Artifact Hub annotation that lists a chart's images.
const ImagesAnnotation = "artifacthub.io/images"

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

// MaxExamples is how many values a notice about left-out values names.
const MaxExamples = 3

// Summarize is the one notice for one cause: how many values it applies to
// and at most MaxExamples of them, quoted ("66 upstream tags do not parse as
// versions, e.g. "latest", "cli-1.0.0", "js_release_0.4.0""; one value:
// "upstream tags do not parse as versions: "latest""). A notice is per cause
// and service, never per value (lag-metrics.md). No values, no notice ("").
func Summarize(cause string, values []string) Notice {
	return SummarizeCount(cause, len(values), values)
}

// SummarizeCount is Summarize for a source that counts n values but keeps
// only a few as examples (at most MaxExamples of them are named).
func SummarizeCount(cause string, n int, examples []string) Notice {
	switch {
	case n <= 0:
		return ""
	case n == 1 && len(examples) == 1:
		return Notice(fmt.Sprintf("%s: %s", cause, quote.Value(examples[0])))
	case len(examples) == 0:
		return Notice(fmt.Sprintf("%d %s", n, cause))
	}
	ex := make([]string, 0, MaxExamples)
	for _, v := range examples[:min(len(examples), MaxExamples)] {
		ex = append(ex, quote.Value(v))
	}
	return Notice(fmt.Sprintf("%d %s, e.g. %s", n, cause, strings.Join(ex, ", ")))
}

// Advisory is one security advisory of GitHub's global advisory database as
// the source read it (withdrawn ones are never returned). Reading the ranges
// and versions is the engine's job.
type Advisory struct {
	ID              string    // GHSA id
	CVE             string    // "" when none
	Severity        string    // as GitHub writes it: low, medium, high, critical, unknown
	Published       time.Time // published_at
	Vulnerabilities []AdvisoryVulnerability
}

// AdvisoryVulnerability is one affected package of an advisory.
type AdvisoryVulnerability struct {
	Ecosystem string // the package's ecosystem as the database names it ("go", "pip")
	Package   string // the package as the database names it
	Range     string // vulnerable_version_range, e.g. "< 0.1.34" or ">= 0.3.0, < 0.3.12"
	Patched   string // first_patched_version; "" when none
}

// AdvisoryRef names the advisories of one upstream: a GitHub advisory
// ecosystem and the package names it has had (a renamed module has several).
type AdvisoryRef struct {
	Ecosystem string
	Packages  []string
}

// AdvisorySource returns the advisories that affect any of ref's packages.
type AdvisorySource interface {
	Advisories(ctx context.Context, ref AdvisoryRef) ([]Advisory, []Notice, error)
}

// EOLCycle is one release cycle of an endoflife.date product.
type EOLCycle struct {
	Name  string    // "7.2", "3"
	EOL   time.Time // eolFrom (midnight UTC); zero when the date is not known
	IsEOL bool      // isEol as endoflife.date says it now
}

// EOLSource returns the release cycles of an endoflife.date product.
type EOLSource interface {
	Cycles(ctx context.Context, product string) ([]EOLCycle, []Notice, error)
}

// OneNotice makes one notice of the problems of one cause: the only one as
// it is, or how many there are and at most three of them.
func OneNotice(what string, problems []string) []Notice {
	switch len(problems) {
	case 0:
		return nil
	case 1:
		return []Notice{Notice(what + ": " + problems[0])}
	}
	more := ""
	if len(problems) > 3 {
		more = "; …"
	}
	return []Notice{Notice(fmt.Sprintf("%s: %d values left out or unread: %s%s", what, len(problems), strings.Join(problems[:min(3, len(problems))], "; "), more))}
}

// StripURL drops the URL from a *url.Error, whose text repeats the whole URL
// (query string included): the callers' messages name the host or path
// they went to themselves.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
