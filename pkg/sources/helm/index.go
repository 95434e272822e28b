package helm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/sources"
	"go.yaml.in/yaml/v3"
)

// ErrNeedFullDecode is returned by ParseIndex when, after it has consumed part
// of the input, it meets a layout it cannot stream (an indentation Helm never
// writes, an alias to an anchor in another chart, ...). The caller should
// decode the whole document again with DecodeIndex.
var ErrNeedFullDecode = errors.New("index layout cannot be streamed")

// Charts maps chart names to their versions in index order.
type Charts map[string][]sources.ChartVersion

// entry is the part of an index entry Lagwatch uses. Versions are taken as
// the scalar text of the YAML node, so `appVersion: 1.10` stays "1.10".
type entry struct {
	Version    scalar `yaml:"version"`
	AppVersion scalar `yaml:"appVersion"`
	Created    scalar `yaml:"created"`
	Deprecated scalar `yaml:"deprecated"`
}

// scalar is the raw text of a scalar node ("" for null).
type scalar string

func (s *scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a scalar, found a %s", n.Line, kindName(n.Kind))
	}
	if n.Tag == "!!null" {
		*s = ""
		return nil
	}
	*s = scalar(n.Value)
	return nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.AliasNode:
		return "alias"
	case yaml.DocumentNode:
		return "document"
	}
	return "node"
}

func (e entry) chartVersion() sources.ChartVersion {
	cv := sources.ChartVersion{Version: string(e.Version), AppVersion: string(e.AppVersion), CreatedRaw: string(e.Created)}
	cv.Deprecated, _ = strconv.ParseBool(string(e.Deprecated))
	// created mixes offsets and 0-9 fractional digits; anything unparsable
	// stays zero and the engine reports it.
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(e.Created))); err == nil {
		cv.Created = t.UTC()
	}
	return cv
}

func convert(entries []entry) []sources.ChartVersion {
	out := make([]sources.ChartVersion, len(entries))
	for i, e := range entries {
		out[i] = e.chartVersion()
	}
	return out
}

// DecodeIndex decodes a whole index document into the minimal entry struct and
// returns the named charts (every chart when names is empty). It is the
// reference for ParseIndex and its fallback for documents not in the block
// layout Helm writes (JSON, flow style). yaml.v3 refuses excessive alias
// expansion, so an alias bomb is an error.
func DecodeIndex(r io.Reader, names []string) (Charts, error) {
	var doc struct {
		Entries map[string][]entry `yaml:"entries"`
	}
	if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Charts{}, nil // an empty document has no charts
		}
		return nil, fmt.Errorf("decoding index: %w", err)
	}
	out := Charts{}
	for name, entries := range doc.Entries {
		if len(names) == 0 || contains(names, name) {
			out[name] = convert(entries)
		}
	}
	return out, nil
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// ParseIndex reads an index line by line and decodes only the blocks under
// the top-level "entries:" whose chart key is one of names; every other chart
// is skipped without being parsed, so memory stays proportional to the wanted
// charts, not to the index. The indentation of the chart keys is detected.
//
// A document that is not in Helm's block layout (JSON, or no top-level
// "entries:" line) is decoded whole with DecodeIndex. When an unstreamable
// layout shows up after part of the input was consumed, ParseIndex returns an
// error wrapping ErrNeedFullDecode.
func ParseIndex(r io.Reader, names []string) (Charts, error) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	p := &streamParser{lr: lineReader{br: bufio.NewReaderSize(r, 64<<10)}, want: want, out: Charts{}}
	return p.run()
}

type streamParser struct {
	lr   lineReader
	want map[string]bool
	out  Charts

	lineNo int
	indent int          // indentation of chart keys; 0 until known
	sawKey bool         // a chart key was seen
	keep   string       // chart whose block is being collected, "" when skipping
	block  bytes.Buffer // lines of the kept block
}

func (p *streamParser) run() (Charts, error) {
	// Phase 1: find the top-level "entries:" line. What comes before it is
	// kept so that a document in another layout can be decoded whole.
	var prefix bytes.Buffer
	started := false // a line with content was seen
	for {
		raw, err := p.lr.next()
		if len(raw) > 0 {
			p.lineNo++
			line := trimEOL(raw)
			if p.lineNo == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			}
			prefix.Write(raw)
			if c := firstSignificant(line); !started && c != 0 && c != '#' {
				started = true
				if c == '{' || c == '[' { // JSON or flow style
					return DecodeIndex(io.MultiReader(&prefix, p.lr.br), p.names())
				}
			}
			if rest, ok := bytes.CutPrefix(line, []byte("entries:")); ok {
				if len(stripComment(rest)) != 0 {
					// entries: {...} on one line: not the block layout.
					return DecodeIndex(io.MultiReader(&prefix, p.lr.br), p.names())
				}
				break
			}
		}
		if err == io.EOF {
			return DecodeIndex(&prefix, p.names())
		}
		if err != nil {
			return nil, err
		}
	}
	// Phase 2: the entries block, chart by chart.
	inEntries := true
	for {
		raw, err := p.lr.next()
		if len(raw) > 0 {
			p.lineNo++
			if inEntries {
				var done bool
				if done, err = p.entriesLine(raw); err != nil {
					return nil, err
				}
				inEntries = !done
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if err := p.flush(); err != nil {
		return nil, err
	}
	return p.out, nil
}

func (p *streamParser) names() []string {
	out := make([]string, 0, len(p.want))
	for n := range p.want {
		out = append(out, n)
	}
	return out
}

// entriesLine handles one line after "entries:"; done reports the end of the
// entries block (a line at column 0).
func (p *streamParser) entriesLine(raw []byte) (done bool, err error) {
	line := trimEOL(raw)
	ind := indentOf(line)
	if ind == len(line) || line[ind] == '#' {
		// Blank or comment: no structure; part of the current block.
		if p.keep != "" {
			p.block.Write(raw)
		}
		return false, nil
	}
	if ind == 0 {
		if bytes.HasPrefix(line, []byte("- ")) || bytes.Equal(line, []byte("-")) {
			return false, fmt.Errorf("line %d: %w: sequence at column 0 under entries", p.lineNo, ErrNeedFullDecode)
		}
		return true, p.flush()
	}
	if p.indent == 0 {
		p.indent = ind
	}
	switch {
	case ind > p.indent:
		if p.keep != "" {
			p.block.Write(raw)
		}
		return false, nil
	case ind < p.indent:
		return false, fmt.Errorf("line %d: %w: indentation %d, chart keys are at %d", p.lineNo, ErrNeedFullDecode, ind, p.indent)
	}
	text := line[ind:]
	if text[0] == '-' && (len(text) == 1 || text[1] == ' ') {
		// "- " at the key's indentation: an item of the current chart's list,
		// as Helm writes it.
		if p.keep != "" {
			p.block.Write(raw)
		}
		if !p.sawKey {
			return false, fmt.Errorf("line %d: %w: list item before any chart key", p.lineNo, ErrNeedFullDecode)
		}
		return false, nil
	}
	name, err := chartKey(text)
	if err != nil {
		return false, fmt.Errorf("line %d: %w: %v", p.lineNo, ErrNeedFullDecode, err)
	}
	if err := p.flush(); err != nil {
		return false, err
	}
	p.sawKey = true
	if p.want[name] {
		if _, dup := p.out[name]; dup {
			return false, fmt.Errorf("line %d: chart %q is listed twice under entries", p.lineNo, name)
		}
		p.keep = name
		p.block.Write(raw)
	}
	return false, nil
}

// flush decodes the kept block, if any.
func (p *streamParser) flush() error {
	if p.keep == "" {
		return nil
	}
	name := p.keep
	p.keep = ""
	defer p.block.Reset()
	var m map[string][]entry
	if err := yaml.Unmarshal(p.block.Bytes(), &m); err != nil {
		if strings.Contains(err.Error(), "unknown anchor") {
			return fmt.Errorf("chart %q: %w: %v", name, ErrNeedFullDecode, err)
		}
		return fmt.Errorf("chart %q (ending at line %d): %w", name, p.lineNo, err)
	}
	p.out[name] = convert(m[name])
	return nil
}

// chartKey returns the key of a "key:" or "key: value" line (indentation
// removed); quoted keys are unquoted.
func chartKey(text []byte) (string, error) {
	switch text[0] {
	case '"', '\'':
		end := closingQuote(text)
		if end < 0 || end+1 >= len(text) || text[end+1] != ':' {
			return "", fmt.Errorf("unterminated quoted key %q", text)
		}
		var key string
		if err := yaml.Unmarshal(text[:end+1], &key); err != nil {
			return "", fmt.Errorf("quoted key %q: %v", text[:end+1], err)
		}
		return key, nil
	case '?', '{', '[', '&', '*', '!', '|', '>', '%', '@', '`':
		return "", fmt.Errorf("unsupported key syntax %q", text)
	}
	for i := 0; i < len(text); i++ {
		if text[i] == ':' && (i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\t') {
			return string(bytes.TrimRight(text[:i], " \t")), nil
		}
		if text[i] == ' ' && i+1 < len(text) && text[i+1] == '#' {
			break
		}
	}
	return "", fmt.Errorf("no mapping key in %q", text)
}

// closingQuote returns the index of the quote closing text[0], or -1.
func closingQuote(text []byte) int {
	q := text[0]
	for i := 1; i < len(text); i++ {
		switch {
		case q == '"' && text[i] == '\\':
			i++
		case text[i] == q:
			if q == '\'' && i+1 < len(text) && text[i+1] == '\'' {
				i++ // '' is an escaped quote
				continue
			}
			return i
		}
	}
	return -1
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// indentOf counts leading spaces (tabs are not indentation in YAML).
func indentOf(line []byte) int {
	i := 0
	for i < len(line) && line[i] == ' ' {
		i++
	}
	return i
}

func firstSignificant(line []byte) byte {
	t := bytes.TrimLeft(line, " \t")
	if len(t) == 0 {
		return 0
	}
	return t[0]
}

// stripComment trims spaces and a trailing "# comment".
func stripComment(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '#' {
		return nil
	}
	if i := bytes.Index(b, []byte(" #")); i >= 0 {
		b = bytes.TrimSpace(b[:i])
	}
	return b
}

// lineReader returns lines including their "\n"; lines longer than the
// buffer are assembled in a scratch slice.
type lineReader struct {
	br   *bufio.Reader
	long []byte
}

func (lr *lineReader) next() ([]byte, error) {
	line, err := lr.br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	lr.long = append(lr.long[:0], line...)
	for err == bufio.ErrBufferFull {
		line, err = lr.br.ReadSlice('\n')
		lr.long = append(lr.long, line...)
	}
	return lr.long, err
}
