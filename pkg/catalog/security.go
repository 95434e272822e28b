package catalog

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/sources/eol"
	"github.com/lagwatch/lagwatch/pkg/sources/github"
	"go.yaml.in/yaml/v3"
)

// Advisories names the service's package in GitHub's global advisory
// database: an ecosystem (go, npm, pip, …) and the package as the database
// names it, or several where the package was renamed (Ollama's older
// advisories name github.com/jmorganca/ollama).
type Advisories struct {
	Ecosystem string   `yaml:"ecosystem" json:"ecosystem"`
	Package   Packages `yaml:"package" json:"package"`
}

// EOL names the service's product on endoflife.date.
type EOL struct {
	Product string `yaml:"product" json:"product"`
}

// Packages is one package name or a list of them.
type Packages struct {
	Names []string
	bad   string // what was found instead, for the validation message
}

// UnmarshalYAML reads a text value or a list of text values; anything else
// is reported by Parse with the field and line.
func (p *Packages) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		p.Names = []string{n.Value}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				p.bad = "a list holding something other than text"
				continue
			}
			p.Names = append(p.Names, c.Value)
		}
	default:
		p.bad = "a mapping"
	}
	return nil
}

// MarshalJSON writes the names as a list.
func (p Packages) MarshalJSON() ([]byte, error) {
	if p.Names == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(p.Names)
}

// MarshalYAML writes one name as a text value, several as a list.
func (p Packages) MarshalYAML() (any, error) {
	if len(p.Names) == 1 {
		return p.Names[0], nil
	}
	return p.Names, nil
}

// MaxPackages bounds advisories.package (each name is one request per refresh).
const MaxPackages = 5

func checkSecurity(s *Service, add func(field, format string, args ...any)) {
	if a := s.Advisories; a != nil {
		if !slices.Contains(github.Ecosystems, a.Ecosystem) {
			add("advisories.ecosystem", "%s is not a GitHub advisory ecosystem (one of %s)", quote.Value(a.Ecosystem), strings.Join(github.Ecosystems, ", "))
		}
		switch {
		case a.Package.bad != "":
			add("advisories.package", "found %s, expected a package name or a list of them", a.Package.bad)
		case len(a.Package.Names) == 0:
			add("advisories.package", "is required (the package as the advisory database names it, such as github.com/ollama/ollama)")
		case len(a.Package.Names) > MaxPackages:
			add("advisories.package", "lists %d packages, more than %d", len(a.Package.Names), MaxPackages)
		}
		for _, name := range a.Package.Names {
			if name == "" || len(name) > 214 || strings.ContainsAny(name, " \t\n,") {
				add("advisories.package", "%s is not a package name (no spaces or commas, at most 214 characters)", quote.Value(name))
			}
		}
	}
	if e := s.EOL; e != nil && !eol.ValidProduct(e.Product) {
		if e.Product == "" {
			add("eol.product", "is required (an endoflife.date product, such as redis)")
		} else {
			add("eol.product", "%s is not an endoflife.date product name (lower-case letters, digits, '.', '_', '+', '-')", quote.Value(e.Product))
		}
	}
}

// AdvisoryRef is where the service's advisories are read; false when it has none.
func (s Service) AdvisoryRef() (sources.AdvisoryRef, bool) {
	if s.Advisories == nil {
		return sources.AdvisoryRef{}, false
	}
	return sources.AdvisoryRef{Ecosystem: s.Advisories.Ecosystem, Packages: s.Advisories.Package.Names}, true
}

// EOLProduct is the service's endoflife.date product; "" when none.
func (s Service) EOLProduct() string {
	if s.EOL == nil {
		return ""
	}
	return s.EOL.Product
}

// NeedsEOL reports whether any service names an endoflife.date product (the
// endoflife.date host joins the allow-list only then).
func (c *Catalog) NeedsEOL() bool {
	for _, s := range c.Services {
		if s.EOLProduct() != "" {
			return true
		}
	}
	return false
}
