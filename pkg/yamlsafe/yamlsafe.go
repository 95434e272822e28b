// Package yamlsafe parses untrusted YAML (and JSON, which is YAML) into a node
// tree with bounded cost.
//
// go.yaml.in/yaml/v3 checks for duplicate mapping keys while decoding into Go
// values by comparing every pair of keys and building an error string per
// duplicate pair: a 30 KB mapping of one repeated key costs gigabytes, and a
// large mapping of distinct keys costs minutes of CPU. Parsing into a
// yaml.Node runs no such check, so Parse does that, then walks the tree once:
// duplicate keys are found with a map (the first one is the error), and the
// number of nodes, keys per mapping and nesting depth are capped. Callers
// then read the tree themselves, or decode it into small Go values whose
// mappings the limits keep small.
package yamlsafe

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lagwatch/lagwatch/pkg/quote"
	"go.yaml.in/yaml/v3"
)

// Limits bound one document. A zero field takes the Default value.
type Limits struct {
	MaxBytes   int // input size
	MaxNodes   int // nodes in the tree (an alias counts once; it is not expanded)
	MaxKeys    int // keys of one mapping
	MaxDepth   int // nesting of mappings and sequences
	MaxElement int // items of one sequence
}

// Default limits: far above any real catalog or Helm index block, far below
// what would hurt the process.
var Default = Limits{MaxBytes: 16 << 20, MaxNodes: 2_000_000, MaxKeys: 10_000, MaxDepth: 64, MaxElement: 500_000}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = Default.MaxBytes
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = Default.MaxNodes
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = Default.MaxKeys
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = Default.MaxDepth
	}
	if l.MaxElement <= 0 {
		l.MaxElement = Default.MaxElement
	}
	return l
}

// ErrEmpty is returned for a document with no content.
var ErrEmpty = errors.New("the document is empty")

// Error is a problem with the document, with its line when known (0 when
// not), and for a repeated key the line of its first use.
type Error struct {
	Line    int
	First   int
	Message string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Text())
	}
	return e.Text()
}

// Text is the message without the line it is on.
func (e *Error) Text() string {
	if e.First > 0 {
		return fmt.Sprintf("%s (first at line %d)", e.Message, e.First)
	}
	return e.Message
}

// Shift returns the error with its lines moved down by off, for a document
// that is a piece of a larger one starting after line off.
func (e *Error) Shift(off int) *Error {
	out := *e
	if out.Line > 0 {
		out.Line += off
	}
	if out.First > 0 {
		out.First += off
	}
	return &out
}

// Parse parses one YAML document within the limits and returns its root
// content node (the document node's child). Syntax errors keep the YAML
// library's line number; duplicate keys name both lines.
func Parse(src []byte, limits Limits) (*yaml.Node, error) {
	l := limits.withDefaults()
	if len(src) > l.MaxBytes {
		return nil, &Error{Message: fmt.Sprintf("the document is %d bytes, more than the limit of %d", len(src), l.MaxBytes)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, syntaxError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, ErrEmpty
	}
	root := doc.Content[0]
	w := walker{l: l}
	if err := w.check(root, 1); err != nil {
		return nil, err
	}
	return root, nil
}

type walker struct {
	l     Limits
	nodes int
}

func (w *walker) check(n *yaml.Node, depth int) error {
	w.nodes++
	if w.nodes > w.l.MaxNodes {
		return &Error{Line: n.Line, Message: fmt.Sprintf("the document has more than %d values", w.l.MaxNodes)}
	}
	if depth > w.l.MaxDepth {
		return &Error{Line: n.Line, Message: fmt.Sprintf("the document nests deeper than %d levels", w.l.MaxDepth)}
	}
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content)/2 > w.l.MaxKeys {
			return &Error{Line: n.Line, Message: fmt.Sprintf("a mapping has %d keys, more than the limit of %d", len(n.Content)/2, w.l.MaxKeys)}
		}
		seen := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return &Error{Line: k.Line, Message: "a mapping key is not a plain value (complex keys are not supported)"}
			}
			if first, dup := seen[k.Value]; dup {
				return &Error{Line: k.Line, First: first, Message: fmt.Sprintf("key %s is repeated", quote.Value(k.Value))}
			}
			seen[k.Value] = k.Line
			if err := w.check(n.Content[i+1], depth+1); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		if len(n.Content) > w.l.MaxElement {
			return &Error{Line: n.Line, Message: fmt.Sprintf("a list has %d items, more than the limit of %d", len(n.Content), w.l.MaxElement)}
		}
		for _, c := range n.Content {
			if err := w.check(c, depth+1); err != nil {
				return err
			}
		}
	}
	// Alias nodes are not followed: readers resolve one alias at a time and
	// never expand recursively.
	return nil
}

// Resolve returns the node an alias points to (n itself otherwise).
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// syntaxError turns a YAML library error into an Error with the line it names.
func syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		_, rest, _ := strings.Cut(msg, ":")
		return &Error{Line: line, Message: strings.TrimSpace(rest)}
	}
	if errors.Is(err, io.EOF) {
		return ErrEmpty
	}
	return &Error{Message: msg}
}
