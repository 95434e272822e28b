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

	"github.com/lagwatch/lagwatch/pkg/quote"
	"github.com/lagwatch/lagwatch/pkg/sources"
	"github.com/lagwatch/lagwatch/pkg/yamlsafe"
	"go.yaml.in/yaml/v3"
)

// ErrNeedFullDecode is returned by ParseIndex when, after it has consumed part
// of the input, it meets a layout it cannot stream (an indentation Helm never
// writes, an alias to an anchor in another chart, ...). The caller should
// decode the whole document again with DecodeIndex.
var ErrNeedFullDecode = errors.New("index layout cannot be streamed")

// Charts maps chart names to their versions in index order.
type Charts map[string][]sources.ChartVersion

// Limits of the decoders. The streaming reader decodes one version entry at a
// time; a document that cannot be streamed is decoded whole, which costs
// about 45 times its size in memory, so it has a smaller limit and only one
// such decode runs at a time in the process.
const (
	// MaxFullDecode is the largest index decoded whole (JSON, flow style).
	MaxFullDecode = 8 << 20
	maxEntryBytes = 1 << 20  // one version entry of a chart
	batchBytes    = 64 << 10 // version entries decoded at once
	maxLineBytes  = 1 << 20  // one line of an index
)

var (
	entryLimits = yamlsafe.Limits{MaxBytes: maxEntryBytes + batchBytes, MaxKeys: 1000, MaxDepth: 32}
	fullLimits  = yamlsafe.Limits{MaxBytes: MaxFullDecode}
	fullDecodes = make(chan struct{}, 1)
)

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	case yaml.DocumentNode:
		return "document"
	}
	return "plain value"
}

// versionsFromNode reads a chart's list of version entries. Versions are the
// scalar text of their nodes, so `appVersion: 1.10` stays "1.10".
func versionsFromNode(name string, n *yaml.Node) ([]sources.ChartVersion, error) {
	return versionsAt(name, n, 0)
}

// versionsAt is versionsFromNode for a node parsed from a piece of the
// document that starts after line off.
func versionsAt(name string, n *yaml.Node, off int) ([]sources.ChartVersion, error) {
	if n = yamlsafe.Resolve(n); n == nil {
		return nil, fmt.Errorf("chart %s: an alias points nowhere", quote.Value(name))
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return []sources.ChartVersion{}, nil // listed, with no versions
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: chart %s: expected a list of versions, found a %s", n.Line+off, quote.Value(name), kindName(n))
	}
	out := make([]sources.ChartVersion, 0, len(n.Content))
	for _, item := range n.Content {
		cv, err := entryFromNode(name, item, off)
		if err != nil {
			return nil, err
		}
		out = append(out, cv)
	}
	return out, nil
}

// entryFromNode reads the four fields Lagwatch uses from one version entry.
func entryFromNode(name string, n *yaml.Node, off int) (sources.ChartVersion, error) {
	line := n.Line + off
	if n = yamlsafe.Resolve(n); n == nil || n.Kind != yaml.MappingNode {
		what := "an alias that points nowhere"
		if n != nil {
			what = "a " + kindName(n)
		}
		return sources.ChartVersion{}, fmt.Errorf("line %d: chart %s: a version entry is %s, expected a mapping", line, quote.Value(name), what)
	}
	var version, app, created, deprecated string
	var meta sources.ChartVersion
	for i := 0; i+1 < len(n.Content); i += 2 {
		var into *string
		switch n.Content[i].Value {
		case "home", "sources", "annotations":
			metadata(&meta, n.Content[i].Value, yamlsafe.Resolve(n.Content[i+1]))
			continue
		case "<<":
			// Merge keys would need alias expansion, which a hostile index
			// turns into a bomb; Helm never writes them.
			return sources.ChartVersion{}, fmt.Errorf("line %d: chart %s: merge keys (<<) are not supported in a version entry", n.Content[i].Line+off, quote.Value(name))
		case "version":
			into = &version
		case "appVersion":
			into = &app
		case "created":
			into = &created
		case "deprecated":
			into = &deprecated
		default:
			continue
		}
		v := yamlsafe.Resolve(n.Content[i+1])
		if v == nil || v.Kind != yaml.ScalarNode {
			what := "an alias that points nowhere"
			if v != nil {
				what = "a " + kindName(v)
			}
			return sources.ChartVersion{}, fmt.Errorf("line %d: chart %s: %s is %s, expected a plain value", n.Content[i+1].Line+off, quote.Value(name), n.Content[i].Value, what)
		}
		if v.Tag != "!!null" {
			*into = v.Value
		}
	}
	cv := sources.ChartVersion{Version: version, AppVersion: app, CreatedRaw: created, Home: meta.Home, Sources: meta.Sources, Images: meta.Images}
	cv.Deprecated, _ = strconv.ParseBool(deprecated)
	// created mixes offsets and 0-9 fractional digits; anything unparsable,
	// or before 1970, stays zero and the engine reports it.
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(created)); err == nil && t.Year() >= 1970 {
		cv.Created = t.UTC()
	}
	return cv, nil
}

// maxMetadata bounds the source URLs kept per version and the length of
// each metadata value: discovery needs a few.
const maxMetadata, maxMetadataBytes = 10, 4096

// metadata reads the discovery metadata of a version entry (home, sources,
// the images annotation). A value of another shape is ignored: metadata
// never makes an index unreadable.
func metadata(into *sources.ChartVersion, key string, v *yaml.Node) {
	scalar := func(n *yaml.Node) (string, bool) {
		n = yamlsafe.Resolve(n)
		if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" || len(n.Value) > maxMetadataBytes {
			return "", false
		}
		return n.Value, true
	}
	if v == nil {
		return
	}
	switch key {
	case "home":
		into.Home, _ = scalar(v)
	case "sources":
		if v.Kind != yaml.SequenceNode {
			return
		}
		var urls []string
		for _, item := range v.Content {
			if s, ok := scalar(item); ok && len(urls) < maxMetadata && !strings.Contains(s, "\n") {
				urls = append(urls, s)
			}
		}
		into.Sources = strings.Join(urls, "\n")
	case "annotations":
		if v.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(v.Content); i += 2 {
			if v.Content[i].Value == sources.ImagesAnnotation {
				into.Images, _ = scalar(v.Content[i+1])
			}
		}
	}
}

// DecodeIndex decodes a whole index document and returns the named charts
// (every chart when names is empty). It is the reference for ParseIndex and
// its fallback for documents not in the block layout Helm writes (JSON, flow
// style). The document must be at most MaxFullDecode bytes; duplicate keys,
// excessive nesting and oversized mappings are errors (pkg/yamlsafe), and
// aliases are never expanded.
func DecodeIndex(r io.Reader, names []string) (Charts, error) {
	src, err := io.ReadAll(io.LimitReader(r, MaxFullDecode+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxFullDecode {
		return nil, errTooLargeToDecode
	}
	fullDecodes <- struct{}{}
	defer func() { <-fullDecodes }()
	root, err := yamlsafe.Parse(src, fullLimits)
	switch {
	case errors.Is(err, yamlsafe.ErrEmpty):
		return Charts{}, nil // an empty document has no charts
	case err != nil && looksLikeHTML(src):
		return nil, errHTML
	case err != nil:
		return nil, fmt.Errorf("not a valid index: %w", err)
	case root.Kind != yaml.MappingNode:
		if looksLikeHTML(src) {
			return nil, errHTML
		}
		return nil, fmt.Errorf("not a Helm repository index: the document is a %s, expected a mapping with entries", kindName(root))
	}
	out := Charts{}
	entries := yamlsafe.Resolve(mappingValue(root, "entries"))
	if entries == nil || (entries.Kind == yaml.ScalarNode && entries.Tag == "!!null") {
		return out, nil
	}
	if entries.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: entries is a %s, expected a mapping of chart names", entries.Line, kindName(entries))
	}
	for i := 0; i+1 < len(entries.Content); i += 2 {
		name := entries.Content[i].Value
		if len(names) > 0 && !contains(names, name) {
			continue
		}
		if out[name], err = versionsFromNode(name, entries.Content[i+1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

var errTooLargeToDecode = fmt.Errorf("the index is not in the block layout Helm writes (JSON or flow style) and is larger than %d MB, the most Lagwatch decodes at once", MaxFullDecode>>20)

var errHTML = errors.New("the server sent an HTML page, not a Helm repository index (check chart.repository in the catalog)")

func looksLikeHTML(src []byte) bool {
	t := bytes.TrimLeft(bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(t) > 0 && t[0] == '<'
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
// error wrapping ErrNeedFullDecode. Nil names reads every chart (discovery).
func ParseIndex(r io.Reader, names []string) (Charts, error) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	p := &streamParser{lr: lineReader{br: bufio.NewReaderSize(r, 64<<10), max: MaxFullDecode}, want: want, all: names == nil, out: Charts{}, keys: map[string]int{}}
	return p.run()
}

type streamParser struct {
	lr   lineReader
	want map[string]bool
	all  bool // every chart is wanted
	out  Charts

	lineNo     int
	entries    int            // line of the top-level "entries:" key
	indent     int            // indentation of chart keys; 0 until known
	keys       map[string]int // every chart key seen -> its line
	keep       string         // chart whose versions are being read, "" when skipping
	itemIndent int            // indentation of the kept chart's "- " items; -1 until seen
	item       bytes.Buffer   // lines of the version entries not decoded yet
	itemStart  int            // where the current entry starts in item
	batchLine  int            // the line before the first one in item
	versions   []sources.ChartVersion
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
			if prefix.Len() > MaxFullDecode {
				return nil, errTooLargeToDecode
			}
			if c := firstSignificant(line); !started && c != 0 && c != '#' {
				started = true
				// JSON, flow style, or a document whose first key is
				// indented: not the block layout; decode it whole.
				if c == '{' || c == '[' || c == '<' || indentOf(line) > 0 || bytes.HasPrefix(line, []byte("\t")) {
					return DecodeIndex(io.MultiReader(&prefix, p.lr.br), p.names())
				}
			}
			if rest, ok := bytes.CutPrefix(line, []byte("entries:")); ok {
				if len(stripComment(rest)) != 0 {
					// entries: {...} on one line: not the block layout.
					return DecodeIndex(io.MultiReader(&prefix, p.lr.br), p.names())
				}
				p.entries = p.lineNo
				break
			}
		}
		if err == io.EOF {
			return DecodeIndex(&prefix, p.names())
		}
		if errors.Is(err, errLongLine) {
			return nil, errTooLargeToDecode
		}
		if err != nil {
			return nil, err
		}
	}
	p.lr.max = maxLineBytes
	// Phase 2: the entries block, chart by chart, then the rest of the
	// document, where only another top-level "entries:" matters.
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
			if !inEntries && bytes.HasPrefix(raw, []byte("entries:")) {
				return nil, fmt.Errorf("line %d: key \"entries\" is repeated (first at line %d)", p.lineNo, p.entries)
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
	if p.all {
		return nil
	}
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
	if c := firstSignificant(line); c == 0 || c == '#' {
		// Blank or comment: no structure; part of the current entry.
		if p.item.Len() > 0 {
			p.item.Write(raw)
		}
		return false, nil
	}
	if line[ind] == '\t' {
		return false, fmt.Errorf("line %d: a tab indents this line; YAML allows only spaces", p.lineNo)
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
	if ind < p.indent {
		return false, fmt.Errorf("line %d: %w: indentation %d, chart keys are at %d", p.lineNo, ErrNeedFullDecode, ind, p.indent)
	}
	text := line[ind:]
	isItem := text[0] == '-' && (len(text) == 1 || text[1] == ' ')
	if ind == p.indent && !isItem {
		return false, p.chartKeyLine(text)
	}
	if len(p.keys) == 0 {
		return false, fmt.Errorf("line %d: %w: list item before any chart key", p.lineNo, ErrNeedFullDecode)
	}
	if p.keep == "" {
		return false, nil // a line of a chart nobody watches
	}
	switch {
	case isItem && (p.itemIndent < 0 || ind == p.itemIndent):
		// Entries are decoded in batches: one decode per entry would cost
		// more than the entries themselves.
		if p.item.Len() >= batchBytes {
			if err := p.flushItem(); err != nil {
				return false, err
			}
		}
		p.itemIndent, p.itemStart = ind, p.item.Len()
	case p.itemIndent < 0 || ind <= p.itemIndent:
		return false, fmt.Errorf("line %d: %w: chart %s is not a list of version entries", p.lineNo, ErrNeedFullDecode, quote.Value(p.keep))
	}
	if p.item.Len()-p.itemStart+len(raw) > maxEntryBytes {
		return false, fmt.Errorf("line %d: a version entry of chart %s is larger than %d MB", p.lineNo, quote.Value(p.keep), maxEntryBytes>>20)
	}
	if p.item.Len() == 0 {
		p.batchLine = p.lineNo - 1
	}
	p.item.Write(raw)
	return false, nil
}

// chartKeyLine starts a chart: the previous one is finished, and the new one
// is read when it is watched.
func (p *streamParser) chartKeyLine(text []byte) error {
	name, rest, err := chartKey(text)
	if err != nil {
		return fmt.Errorf("line %d: %w: %v", p.lineNo, ErrNeedFullDecode, err)
	}
	if err := p.flush(); err != nil {
		return err
	}
	if first, dup := p.keys[name]; dup {
		return fmt.Errorf("line %d: chart %s is listed twice under entries (first at line %d)", p.lineNo, quote.Value(name), first)
	}
	p.keys[name] = p.lineNo
	if !p.all && !p.want[name] {
		return nil
	}
	switch v := string(stripComment(rest)); v {
	case "", "[]", "null", "~":
	default:
		// An inline list, an alias or an anchor: not the block layout.
		return fmt.Errorf("line %d: %w: chart %s has an inline value", p.lineNo, ErrNeedFullDecode, quote.Value(name))
	}
	p.keep, p.itemIndent, p.versions = name, -1, []sources.ChartVersion{}
	return nil
}

// flushItem decodes the version entry read so far, if any.
func (p *streamParser) flushItem() error {
	if p.item.Len() == 0 {
		return nil
	}
	defer func() { p.item.Reset(); p.itemStart = 0 }()
	root, err := yamlsafe.Parse(p.item.Bytes(), entryLimits)
	var ye *yamlsafe.Error
	switch {
	case err != nil && strings.Contains(err.Error(), "unknown anchor"):
		// An alias to an anchor in another entry.
		return fmt.Errorf("chart %s: %w: %v", quote.Value(p.keep), ErrNeedFullDecode, err)
	case errors.As(err, &ye) && ye.Line > 0:
		return fmt.Errorf("chart %s: %w", quote.Value(p.keep), ye.Shift(p.batchLine))
	case err != nil:
		return fmt.Errorf("chart %s (entries ending at line %d): %w", quote.Value(p.keep), p.lineNo, err)
	case root.Kind != yaml.SequenceNode:
		return fmt.Errorf("line %d: %w: chart %s is not a list of version entries", p.lineNo, ErrNeedFullDecode, quote.Value(p.keep))
	}
	vs, err := versionsAt(p.keep, root, p.batchLine)
	p.versions = append(p.versions, vs...)
	return err
}

// flush finishes the kept chart, if any.
func (p *streamParser) flush() error {
	if p.keep == "" {
		return nil
	}
	if err := p.flushItem(); err != nil {
		return err
	}
	p.out[p.keep] = p.versions
	p.keep, p.versions = "", nil
	return nil
}

// chartKey returns the key of a "key:" or "key: value" line (indentation
// removed; quoted keys are unquoted) and what follows the colon.
func chartKey(text []byte) (string, []byte, error) {
	switch text[0] {
	case '"', '\'':
		end := closingQuote(text)
		if end < 0 || end+1 >= len(text) || text[end+1] != ':' {
			return "", nil, fmt.Errorf("unterminated quoted key %s", quote.Value(string(text)))
		}
		var key string
		if err := yaml.Unmarshal(text[:end+1], &key); err != nil {
			return "", nil, fmt.Errorf("quoted key %s: %v", quote.Value(string(text[:end+1])), err)
		}
		return key, text[end+2:], nil
	case '?', '{', '[', '&', '*', '!', '|', '>', '%', '@', '`':
		return "", nil, fmt.Errorf("unsupported key syntax %s", quote.Value(string(text)))
	}
	for i := 0; i < len(text); i++ {
		if text[i] == ':' && (i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\t') {
			return string(bytes.TrimRight(text[:i], " \t")), text[i+1:], nil
		}
		if text[i] == ' ' && i+1 < len(text) && text[i+1] == '#' {
			break
		}
	}
	return "", nil, fmt.Errorf("no mapping key in %s", quote.Value(string(text)))
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

var errLongLine = fmt.Errorf("a line is longer than %d MB: not a Helm repository index", maxLineBytes>>20)

// lineReader returns lines including their "\n"; lines longer than the
// buffer are assembled in a scratch slice, up to max bytes.
type lineReader struct {
	br   *bufio.Reader
	long []byte
	max  int
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
		if len(lr.long) > lr.max {
			return nil, errLongLine
		}
	}
	return lr.long, err
}
