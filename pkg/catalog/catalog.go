// Package catalog parses and validates the services catalog: the list of
// services Lagwatch watches, each with its upstream and its Helm chart.
package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/lagwatch/lagwatch/pkg/engine"
	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/oci"
	"github.com/lagwatch/lagwatch/pkg/yamlsafe"
	"go.yaml.in/yaml/v3"
)

// Maintainer classes with a meaning of their own; any other non-empty text is allowed.
const (
	MaintainerVendor    = "vendor"
	MaintainerCommunity = "community"
)

// Where the packaged version comes from.
const (
	FromAppVersion = "appVersion"
	FromVersion    = "version"
)

// Catalog is a validated list of services, in file order.
type Catalog struct {
	Services []Service `yaml:"services" json:"services"`
}

// Service is one watched piece of software.
type Service struct {
	Name       string    `yaml:"name" json:"name"`
	Maintainer string    `yaml:"maintainer" json:"maintainer"`
	Upstream   Upstream  `yaml:"upstream" json:"upstream"`
	Chart      Chart     `yaml:"chart" json:"chart"`
	Deployed   *Deployed `yaml:"deployed" json:"deployed,omitempty"` // what runs; nil: unknown
	// Security inputs (lag-metrics.md, "Security fixes and end of life"); nil: none, the metrics are null.
	Advisories *Advisories `yaml:"advisories" json:"advisories,omitempty"`
	EOL        *EOL        `yaml:"eol" json:"eol,omitempty"`
}

// Deployed says which version of the service runs (lag-metrics.md, "The last
// hop"): a pinned version, or a Prometheus query whose series carry the
// running version in a label. Exactly one of the two.
type Deployed struct {
	Version    string              `yaml:"version" json:"version,omitempty"`
	Prometheus *DeployedPrometheus `yaml:"prometheus" json:"prometheus,omitempty"`
}

// DeployedPrometheus is a PromQL expression and the label of its series
// that holds the running version.
type DeployedPrometheus struct {
	Query string `yaml:"query" json:"query"`
	Label string `yaml:"label" json:"label"`
}

// Upstream is where the vendor publishes releases.
type Upstream struct {
	Repo        string `yaml:"repo" json:"repo"`                         // GitHub owner/name
	Source      string `yaml:"source" json:"source"`                     // releases (default) or tags
	TagPattern  string `yaml:"tagPattern" json:"tagPattern,omitempty"`   // regexp with one capture group
	Prereleases bool   `yaml:"prereleases" json:"prereleases,omitempty"` // count prereleases
}

// Chart is the Helm chart that packages the service.
type Chart struct {
	Repository     string `yaml:"repository" json:"repository"`                   // Helm HTTP repository URL, or oci://HOST/PATH
	Name           string `yaml:"name" json:"name"`                               // chart name in index.yaml
	VersionFrom    string `yaml:"versionFrom" json:"versionFrom"`                 // appVersion (default) or version
	VersionPattern string `yaml:"versionPattern" json:"versionPattern,omitempty"` // regexp with one capture group
}

// UpstreamRef is the source reference of the service's upstream.
func (s Service) UpstreamRef() sources.UpstreamRef {
	return sources.UpstreamRef{Repo: s.Upstream.Repo, Kind: s.Upstream.Source}
}

// ChartRef is the source reference of the service's chart.
func (s Service) ChartRef() sources.ChartRef {
	return sources.ChartRef{Repository: s.Chart.Repository, Name: s.Chart.Name}
}

// Error is one validation problem. Line is 0 when unknown.
type Error struct {
	Service string `json:"service,omitempty"`
	Field   string `json:"field,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func (e Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Service != "" {
		fmt.Fprintf(&b, "service %q: ", e.Service)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "%s: ", e.Field)
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every validation problem of one catalog.
type Errors []Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return "invalid catalog: " + strings.Join(msgs, "; ")
}

var (
	repoRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$`)
	nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// MaxBytes is the largest catalog read (a 100-service catalog is ~30 KB).
const MaxBytes = 1 << 20

// limits bound the YAML of a catalog before it is decoded: no mapping of a
// catalog has more than a handful of keys.
var limits = yamlsafe.Limits{MaxBytes: MaxBytes, MaxNodes: 200_000, MaxKeys: 100, MaxDepth: 16}

// Parse reads and validates a catalog. The error, when not nil, is an Errors
// naming every problem found with its service, field and line.
func Parse(src []byte) (*Catalog, error) {
	if len(src) > MaxBytes {
		return nil, Errors{{Message: fmt.Sprintf("catalog is %d bytes, more than the limit of %d KiB", len(src), MaxBytes>>10)}}
	}
	// Checked first (duplicate keys, sizes) in linear time, so that decoding
	// below stays cheap whatever the input.
	root, err := yamlsafe.Parse(src, limits)
	if errors.Is(err, yamlsafe.ErrEmpty) {
		return nil, Errors{{Message: "catalog is empty: expected a top-level 'services' list"}}
	}
	if err != nil {
		var ye *yamlsafe.Error
		if errors.As(err, &ye) {
			return nil, Errors{{Line: ye.Line, Message: ye.Text()}}
		}
		return nil, Errors{{Message: err.Error()}}
	}
	if root.Kind != yaml.MappingNode || mappingValue(root, "services") == nil {
		// Said without quoting the document: a catalog file path may point
		// at any file of the server.
		return nil, Errors{{Message: "not a catalog: expected a top-level 'services' list"}}
	}
	var cat Catalog
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true) // a misspelt field is an error, not a silent default
	if err := dec.Decode(&cat); err != nil {
		return nil, Errors{yamlError(err)}
	}
	doc := root
	var errs Errors
	if len(cat.Services) == 0 {
		errs = append(errs, Error{Field: "services", Message: "no services: expected a top-level 'services' list with at least one entry"})
	}
	lines := serviceLines(doc)
	seen := map[string]bool{}
	for i := range cat.Services {
		s := &cat.Services[i]
		applyDefaults(s)
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		add := func(field, format string, args ...any) {
			errs = append(errs, Error{Service: name, Field: field, Line: lines.line(i, field), Message: fmt.Sprintf(format, args...)})
		}
		switch {
		case s.Name == "":
			add("name", "is required")
		case !nameRe.MatchString(s.Name):
			add("name", "%q must be letters, digits, '.', '_' or '-'", s.Name)
		case seen[s.Name]:
			add("name", "%q is used by another service", s.Name)
		}
		seen[s.Name] = true
		if s.Maintainer == "" {
			add("maintainer", "is required (vendor, community or a free-text name)")
		}
		if !repoRe.MatchString(s.Upstream.Repo) {
			add("upstream.repo", "%q is not a GitHub owner/name", s.Upstream.Repo)
		}
		if s.Upstream.Source != sources.KindReleases && s.Upstream.Source != sources.KindTags {
			add("upstream.source", "%q must be %q or %q", s.Upstream.Source, sources.KindReleases, sources.KindTags)
		}
		if _, err := engine.CompilePattern(s.Upstream.TagPattern); err != nil {
			add("upstream.tagPattern", "%v", err)
		}
		if msg := checkRepository(s.Chart.Repository, s.Chart.Name); msg != "" {
			add("chart.repository", "%s", msg)
		}
		if s.Chart.Name == "" {
			add("chart.name", "is required")
		}
		if s.Chart.VersionFrom != FromAppVersion && s.Chart.VersionFrom != FromVersion {
			add("chart.versionFrom", "%q must be %q or %q", s.Chart.VersionFrom, FromAppVersion, FromVersion)
		}
		if _, err := engine.CompilePattern(s.Chart.VersionPattern); err != nil {
			add("chart.versionPattern", "%v", err)
		}
		checkDeployed(s.Deployed, add)
		checkSecurity(s, add)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &cat, nil
}

// MaxQueryBytes bounds a deployed.prometheus.query.
const MaxQueryBytes = 4096

var labelNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func checkDeployed(d *Deployed, add func(field, format string, args ...any)) {
	if d == nil {
		return
	}
	switch {
	case d.Version == "" && d.Prometheus == nil:
		add("deployed", "needs either version (the version you run) or prometheus (a query and the label holding the version)")
	case d.Version != "" && d.Prometheus != nil:
		add("deployed", "has both version and prometheus: give one of them")
	case d.Version != "":
		if _, err := engine.PinnedDeployed(d.Version); err != nil {
			add("deployed.version", "%v", err)
		}
	default:
		p := d.Prometheus
		switch {
		case strings.TrimSpace(p.Query) == "":
			add("deployed.prometheus.query", "is required (a PromQL expression whose series carry the running version in a label)")
		case len(p.Query) > MaxQueryBytes:
			add("deployed.prometheus.query", "is %d bytes, more than the limit of %d", len(p.Query), MaxQueryBytes)
		}
		switch {
		case p.Label == "":
			add("deployed.prometheus.label", "is required (the label of the query's series that holds the version, such as version)")
		case !labelNameRe.MatchString(p.Label):
			add("deployed.prometheus.label", "%s is not a Prometheus label name (letters, digits and '_', not starting with a digit)", quote.Value(p.Label))
		}
	}
}

func applyDefaults(s *Service) {
	if s.Upstream.Source == "" {
		s.Upstream.Source = sources.KindReleases
	}
	if s.Chart.VersionFrom == "" {
		s.Chart.VersionFrom = FromAppVersion
	}
}

func checkRepository(raw, name string) string {
	if raw == "" {
		return "is required (an http(s) Helm repository that serves index.yaml, or an oci:// registry path)"
	}
	if oci.IsOCI(raw) {
		if name == "" {
			return "" // chart.name reports it
		}
		if _, _, err := oci.ParseRef(raw, name); err != nil {
			return err.Error()
		}
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%s is not an http(s) URL nor an oci:// registry path", quote.Value(raw))
	}
	if u.User != nil {
		// The catalog is not secret: it is shown in the editor, in errors and in frames.
		return fmt.Sprintf("%q holds credentials; the catalog is not a secret store, use a repository that needs none", u.Redacted())
	}
	return ""
}

// yamlError turns a YAML library error into an Error, keeping its line
// number and saying what was expected in catalog words, not Go types.
func yamlError(err error) Error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	if m := typeErrRe.FindStringSubmatch(msg); m != nil {
		found, ok := yamlKinds[m[1]]
		if !ok {
			found = "a value tagged " + m[1]
		}
		msg = fmt.Sprintf("found %s, expected %s", found, goKind(m[3]))
	} else if m := unknownFieldRe.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("unknown field %q", m[1])
	}
	return Error{Line: line, Message: msg}
}

var (
	typeErrRe      = regexp.MustCompile("^cannot unmarshal (!\\S*)(?: (`.*`))? into (\\S+)$")
	unknownFieldRe = regexp.MustCompile(`^field (.+) not found in type \S+$`)
	yamlKinds      = map[string]string{"!!map": "a mapping", "!!seq": "a list", "!!str": "a text value", "!!int": "a number", "!!float": "a number", "!!bool": "true or false", "!!null": "nothing", "!!binary": "binary data", "!!timestamp": "a time"}
)

// goKind names what a Go type expects, in catalog words.
func goKind(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case t == "string":
		return "a text value"
	case t == "bool":
		return "true or false"
	}
	return "a mapping"
}

// lineIndex remembers where each service and each of its fields start.
type lineIndex []map[string]int

func (li lineIndex) line(i int, field string) int {
	if i >= len(li) {
		return 0
	}
	if l, ok := li[i][field]; ok {
		return l
	}
	// A missing field: point at its parent section, else at the service.
	if dot := strings.LastIndex(field, "."); dot > 0 {
		if l, ok := li[i][field[:dot]]; ok {
			return l
		}
	}
	return li[i][""]
}

func serviceLines(doc *yaml.Node) lineIndex {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	list := mappingValue(root, "services")
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil
	}
	out := make(lineIndex, len(list.Content))
	for i, svc := range list.Content {
		m := map[string]int{"": svc.Line}
		collectLines(svc, "", m)
		out[i] = m
	}
	return out
}

func collectLines(n *yaml.Node, prefix string, into map[string]int) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := prefix + n.Content[i].Value
		into[key] = n.Content[i].Line
		collectLines(n.Content[i+1], key+".", into)
	}
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Hosts lists every host the catalog allows Lagwatch to fetch from, sorted.
func (c *Catalog) Hosts() []string {
	set := map[string]bool{}
	for _, s := range c.Services {
		if oci.IsOCI(s.Chart.Repository) {
			if host, _, err := oci.ParseRef(s.Chart.Repository, s.Chart.Name); err == nil {
				set[host] = true
			}
		} else if u, err := url.Parse(s.Chart.Repository); err == nil {
			set[u.Host] = true
		}
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// Filter returns the services whose name is in names (all when names is
// empty) and whose maintainer equals maintainer (any when empty), in catalog order.
func (c *Catalog) Filter(names []string, maintainer string) []Service {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []Service
	for _, s := range c.Services {
		if len(want) > 0 && !want[s.Name] {
			continue
		}
		if maintainer != "" && s.Maintainer != maintainer {
			continue
		}
		out = append(out, s)
	}
	return out
}
