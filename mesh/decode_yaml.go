package mesh

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// This file parses the YAML of one document into a yaml.Node tree. Most
// manifests use a small part of YAML: block mappings and sequences,
// one-line plain and quoted scalars, literal and folded block scalars,
// flow collections (JSON), comments. For a document written only with
// these, a direct scanner builds the very tree yaml.v3 would build (kinds,
// styles, resolved tags, values, lines and columns; comments are not kept,
// nothing reads them) several times faster. Anything else (anchors,
// aliases, tags, plain or quoted scalars over several lines, indentation
// indicators, tabs, CR line ends, directives, every syntax error) makes
// the scanner give up, and the document goes through yaml.v3, so every
// error message and every unusual construct is yaml.v3's own. The scanner
// accepts a document only if it is certain of yaml.v3's reading: see
// FuzzFastYAML and TestFastYAMLRandom, which compare both.

// parseYAML parses one document into n: with the direct scanner when it
// can, else with yaml.v3, whose panics on hostile input become syntax
// errors.
func parseYAML(src []byte, n *yaml.Node) error {
	var p fastParser
	doc, err := p.parse(src)
	if err == nil {
		*n = *doc
	}
	return err
}

// parse is parseYAML reusing p's buffers: the tree it returns is valid
// until the next call.
func (p *fastParser) parse(src []byte) (*yaml.Node, error) {
	if doc, ok := p.document(src); ok {
		return doc, nil
	}
	var n yaml.Node
	err := parseSlow(src, &n)
	return &n, err
}

func parseSlow(src []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: parser failure: %v", r)
		}
	}()
	return yaml.Unmarshal(src, n)
}

const (
	// fastMaxDepth bounds the nesting the direct scanner follows; deeper
	// documents go to yaml.v3 (which has its own limits).
	fastMaxDepth = 64
	// fastMaxKey is the longest key the direct scanner takes: yaml.v3
	// drops a simple key whose ':' is more than 1024 characters away.
	fastMaxKey = 1000
)

// fastParser is the direct scanner. Its zero value is ready. It may be
// reused for further documents, not concurrently: it hands out the nodes
// and Content slices of one document's tree again for the next.
type fastParser struct {
	s     string // the document
	i     int    // read offset
	line  int    // 1-based line of offset i
	ls    int    // offset of that line's start
	depth int
	// indent is the column of the innermost block collection (-1 at the
	// root), which bounds a block scalar's indentation.
	indent int
	ascii  bool // the document is ASCII: columns are byte offsets
	// started is set once the document's first line is read: a "---"
	// after it is refused.
	started bool

	nodes  [][]yaml.Node // blocks of nodes; nodes[nb][:nn] are in use
	nb, nn int
	ptrs   [][]*yaml.Node // blocks backing Content slices, likewise
	pb, pn int
	stack  []*yaml.Node // children of the collections being read
}

// fastFail aborts the direct scan (a panic caught by document).
type fastFail struct{}

func (p *fastParser) fail() { panic(fastFail{}) }

// document parses src, reporting false when the document is outside what
// the direct scanner reads.
func (p *fastParser) document(src []byte) (doc *yaml.Node, ok bool) {
	ascii, ok := checkText(src)
	if !ok {
		return nil, false
	}
	p.s, p.i, p.line, p.ls, p.depth, p.indent, p.started, p.ascii = string(src), 0, 1, 0, 0, -1, false, ascii
	p.stack = p.stack[:0]
	// Zero the nodes the last document used, to hand them out again.
	for _, b := range p.nodes[:p.nb] {
		clear(b)
	}
	if p.nb < len(p.nodes) {
		clear(p.nodes[p.nb][:p.nn])
	}
	p.nb, p.nn, p.pb, p.pn = 0, 0, 0, 0
	defer func() {
		if r := recover(); r != nil {
			if _, is := r.(fastFail); !is {
				panic(r)
			}
			doc, ok = nil, false
		}
		p.s = ""
	}()
	d := p.node()
	d.Kind = yaml.DocumentNode
	explicit := false
	if !p.content() {
		return nil, false
	}
	if p.col() == 0 && p.marker("---") {
		// An explicit start: the marker line holds nothing else.
		explicit = true
		d.Line, d.Column = p.line, 1
		p.i += 3
		p.endLine()
	}
	p.started = true
	if !p.content() {
		return nil, false
	}
	if !explicit {
		d.Line, d.Column = p.mark()
	}
	root := p.blockNode(true)
	if p.content() {
		return nil, false // more after the root node, or a "..." marker
	}
	d.Content = p.collect(len(p.stack), root)
	return d, true
}

// checkText reports whether src is text the direct scanner reads: UTF-8
// of the characters yaml.v3's reader accepts (readerc.go
// yaml_parser_update_buffer) with LF line ends, and no tab, CR, NEL, line
// or paragraph separator, or byte order mark, which yaml.v3 treats
// specially. ascii is true when every byte is below 0x80.
func checkText(src []byte) (ascii, ok bool) {
	for i, c := range src {
		switch asciiClass[c] {
		case asciiBad:
			return false, false
		case asciiHigh:
			return false, checkUTF8(src[i:])
		}
	}
	return true, true
}

const (
	asciiText = iota
	asciiBad  // a control character other than LF, or DEL
	asciiHigh // the start of a multi-byte character
)

var asciiClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= 0x80:
			t[c] = asciiHigh
		case c < 0x20 && c != '\n' || c == 0x7f:
			t[c] = asciiBad
		}
	}
	return t
}()

// checkUTF8 is checkText's test for text that is not all ASCII.
func checkUTF8(src []byte) bool {
	for i := 0; i < len(src); {
		c := src[i]
		if c < 0x80 {
			if asciiClass[c] == asciiBad {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0xa0, r >= 0xd800 && r < 0xe000, r == 0x2028, r == 0x2029, r == 0xfeff, r == 0xfffe, r == 0xffff:
			return false
		}
		i += size
	}
	return true
}

// col is the byte column of offset i. Indentation and the columns of block
// collections, which only spaces and "- " precede, are compared in bytes.
func (p *fastParser) col() int { return p.i - p.ls }

// mark is the position yaml.v3 gives a token starting at i: 1-based line
// and column, the column counted in characters.
func (p *fastParser) mark() (line, column int) {
	if p.ascii {
		return p.line, p.i - p.ls + 1
	}
	return p.line, utf8.RuneCountInString(p.s[p.ls:p.i]) + 1
}

// node returns a zeroed node from the blocks.
func (p *fastParser) node() *yaml.Node {
	if p.nb < len(p.nodes) && p.nn == len(p.nodes[p.nb]) {
		p.nb, p.nn = p.nb+1, 0
	}
	if p.nb == len(p.nodes) {
		p.nodes = append(p.nodes, make([]yaml.Node, 128))
	}
	n := &p.nodes[p.nb][p.nn]
	p.nn++
	return n
}

// collect returns the nodes pushed since base, plus extra if not nil, as a
// Content slice, and pops them.
func (p *fastParser) collect(base int, extra *yaml.Node) []*yaml.Node {
	if extra != nil {
		p.stack = append(p.stack, extra)
	}
	n := len(p.stack) - base
	if n == 0 {
		return nil
	}
	for p.pb < len(p.ptrs) && len(p.ptrs[p.pb])-p.pn < n {
		p.pb, p.pn = p.pb+1, 0
	}
	if p.pb == len(p.ptrs) {
		p.ptrs = append(p.ptrs, make([]*yaml.Node, max(512, n)))
	}
	out := p.ptrs[p.pb][p.pn : p.pn+n : p.pn+n]
	p.pn += n
	copy(out, p.stack[base:])
	p.stack = p.stack[:base]
	return out
}

func (p *fastParser) at(c byte) bool { return p.i < len(p.s) && p.s[p.i] == c }

// blankAt reports whether offset j is a space, a line end or the end.
func (p *fastParser) blankAt(j int) bool {
	return j >= len(p.s) || p.s[j] == ' ' || p.s[j] == '\n'
}

func (p *fastParser) skipSpaces() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// marker reports whether a document marker starts at i (at column 0).
func (p *fastParser) marker(m string) bool {
	return strings.HasPrefix(p.s[p.i:], m) && p.blankAt(p.i+3)
}

// endLine consumes the rest of the line, which may hold spaces and a
// comment only, and moves to the next line.
func (p *fastParser) endLine() {
	p.skipSpaces()
	if p.i < len(p.s) && p.s[p.i] == '#' {
		if p.i > p.ls && p.s[p.i-1] != ' ' {
			p.fail() // "a"#b: not a comment for YAML, a token for libyaml
		}
		if j := strings.IndexByte(p.s[p.i:], '\n'); j >= 0 {
			p.i += j
		} else {
			p.i = len(p.s)
		}
	}
	switch {
	case p.i == len(p.s):
	case p.s[p.i] == '\n':
		p.i++
		p.line++
		p.ls = p.i
	default:
		p.fail()
	}
}

// content moves from a line start to the first character of the next line
// with content, skipping blank and comment lines. It reports false at the
// end of the document. A document marker inside the document is refused.
func (p *fastParser) content() bool {
	for {
		p.skipSpaces()
		switch {
		case p.i == len(p.s):
			return false
		case p.s[p.i] == '\n' || p.s[p.i] == '#':
			p.endLine()
			continue
		}
		if p.col() == 0 && (p.started && p.marker("---") || p.marker("...")) {
			p.fail()
		}
		return true
	}
}

// nextIndent moves to the next content line and returns its indentation,
// or -1 at the end of the document.
func (p *fastParser) nextIndent() int {
	if !p.content() {
		return -1
	}
	return p.col()
}

// isEntry reports whether a block sequence entry ("- ") starts at i.
func (p *fastParser) isEntry() bool { return p.at('-') && p.blankAt(p.i+1) }

// enter starts a collection whose block indentation is indent; the
// function it returns ends it.
func (p *fastParser) enter(indent int) func() {
	p.depth++
	if p.depth > fastMaxDepth {
		p.fail()
	}
	outer := p.indent
	p.indent = indent
	return func() { p.depth--; p.indent = outer }
}

// blockNode reads the block node starting at i. lineStart is true when the node starts its line
// (false after "- "); only then may it be a block sequence. The node ends
// at the start of the next content line (or the end).
func (p *fastParser) blockNode(lineStart bool) *yaml.Node {
	col := p.col()
	if p.isEntry() {
		if !lineStart {
			p.fail() // "- - a"
		}
		return p.blockSeq(col)
	}
	v, key := p.inline(true)
	if key {
		return p.blockMapping(col, v)
	}
	return v
}

// inline reads a scalar or flow collection that starts at i. If it is
// followed by ": " it is a mapping key (allowed only when mayKey): then key
// is true and i is after the ':'. Otherwise the rest of the line must be
// blank, and i is at the next line.
func (p *fastParser) inline(mayKey bool) (n *yaml.Node, key bool) {
	start := p.i
	switch {
	case p.at('{') || p.at('['):
		n = p.flow()
	case p.at('|') || p.at('>'):
		return p.blockScalar(), false
	default:
		n = p.scalar(false)
	}
	p.skipSpaces()
	if p.at(':') && p.blankAt(p.i+1) {
		if !mayKey || n.Kind != yaml.ScalarNode || p.i-start > fastMaxKey {
			p.fail()
		}
		p.i++
		return n, true
	}
	p.endLine()
	return n, false
}

// blockMapping reads a block mapping at column col whose first key was
// just read; i is after its ':'.
func (p *fastParser) blockMapping(col int, key *yaml.Node) *yaml.Node {
	defer p.enter(col)()
	m := p.node()
	m.Kind, m.Tag, m.Line, m.Column = yaml.MappingNode, "!!map", key.Line, key.Column
	base := len(p.stack)
	for {
		p.stack = append(p.stack, key)
		p.stack = append(p.stack, p.mappingValue(col))
		ind := p.nextIndent()
		if ind < col {
			break
		}
		if ind > col || p.isEntry() {
			p.fail()
		}
		var isKey bool
		if key, isKey = p.inline(true); !isKey {
			p.fail()
		}
	}
	m.Content = p.collect(base, nil)
	return m
}

// mappingValue reads the value after a key's ':' (at i) in a mapping at
// column col.
func (p *fastParser) mappingValue(col int) *yaml.Node {
	line, column := p.mark() // the empty value's place, after ':'
	p.skipSpaces()
	if !p.at('\n') && !p.at('#') && p.i < len(p.s) {
		v, _ := p.inline(false)
		return v
	}
	p.endLine()
	switch ind := p.nextIndent(); {
	case ind > col:
		return p.blockNode(true)
	case ind == col && p.isEntry():
		// An indentless sequence: "key:\n- a".
		return p.blockSeq(col)
	}
	return p.empty(line, column)
}

// empty is the null node of an absent value; yaml.v3 places it just after
// the ':' or '-' before it.
func (p *fastParser) empty(line, column int) *yaml.Node {
	n := p.node()
	n.Kind, n.Tag, n.Line, n.Column = yaml.ScalarNode, "!!null", line, column
	return n
}

// blockSeq reads a block sequence whose entries start at column col; i is
// at the first '-'. It ends at a line indented less, or at one of the same
// column without "- " (the next key when the sequence is the indentless
// value of a key at that column).
func (p *fastParser) blockSeq(col int) *yaml.Node {
	defer p.enter(col)()
	s := p.node()
	s.Kind, s.Tag, s.Line, s.Column = yaml.SequenceNode, "!!seq", p.line, col+1
	base := len(p.stack)
	for {
		p.i++
		line, column := p.mark() // the empty entry's place, after '-'
		p.skipSpaces()
		var item *yaml.Node
		if !p.at('\n') && !p.at('#') && p.i < len(p.s) {
			item = p.blockNode(false)
		} else {
			p.endLine()
			if ind := p.nextIndent(); ind > col {
				item = p.blockNode(true)
			} else {
				item = p.empty(line, column)
			}
		}
		p.stack = append(p.stack, item)
		ind := p.nextIndent()
		if ind < col || ind == col && !p.isEntry() {
			break
		}
		if ind > col {
			p.fail()
		}
	}
	s.Content = p.collect(base, nil)
	return s
}

// scalar reads a plain or single-line quoted scalar at i.
func (p *fastParser) scalar(flow bool) *yaml.Node {
	n := p.node()
	n.Kind = yaml.ScalarNode
	n.Line, n.Column = p.mark()
	switch {
	case p.at('"'):
		n.Value, n.Tag, n.Style = p.doubleQuoted(), "!!str", yaml.DoubleQuotedStyle
	case p.at('\''):
		n.Value, n.Tag, n.Style = p.singleQuoted(), "!!str", yaml.SingleQuotedStyle
	default:
		n.Value = p.plain(flow)
		n.Tag = plainTag(n.Value)
	}
	return n
}

// plain reads a plain scalar on one line. It stops at ": ", at " #", at
// the line end and, in a flow collection, at ",[]{}?". yaml.v3 would go on
// to a continuation line; callers refuse what follows instead.
func (p *fastParser) plain(flow bool) string {
	s := p.s
	start := p.i
	if start >= len(s) {
		p.fail()
	}
	switch c := s[start]; c {
	case '-':
		// "-1", "-x"; "- " is an entry and ",[]{}" would end it at once.
		if start+1 >= len(s) || !isWordByte(s[start+1]) {
			p.fail()
		}
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ' ', '\n':
		p.fail()
	}
	i, end := start, start
	for {
		if s[i] == '#' {
			break
		}
		for i < len(s) && s[i] != ' ' && s[i] != '\n' {
			c := s[i]
			if c == ':' && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n') {
				goto done
			}
			if flow && (c == ',' || c == '?' || c == '[' || c == ']' || c == '{' || c == '}') {
				goto done
			}
			i++
			end = i
		}
		if i == len(s) || s[i] == '\n' {
			break
		}
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) || s[i] == '\n' {
			break
		}
	}
done:
	p.i = end
	return s[start:end]
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.'
}

// blockScalar reads a literal (|) or folded (>) block scalar without an
// indentation indicator, as yaml.v3 does (scannerc.go
// yaml_parser_scan_block_scalar, yaml_parser_scan_block_scalar_breaks). It
// ends at the first character of the next line indented less than its
// content, or at the end.
func (p *fastParser) blockScalar() *yaml.Node {
	n := p.node()
	n.Kind, n.Tag = yaml.ScalarNode, "!!str"
	n.Line, n.Column = p.mark()
	literal := p.s[p.i] == '|'
	if literal {
		n.Style = yaml.LiteralStyle
	} else {
		n.Style = yaml.FoldedStyle
	}
	p.i++
	chomp := 0
	switch {
	case p.at('+'):
		chomp = 1
		p.i++
	case p.at('-'):
		chomp = -1
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.fail() // an indentation indicator
	}
	if p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != '\n' {
		p.fail()
	}
	p.endLine()
	s := p.s
	indent := 0
	// breaks eats indentation and empty lines; it returns the line breaks
	// seen and, the first time, sets the content's indentation.
	breaks := func() int {
		nl, maxIndent := 0, 0
		for {
			for (indent == 0 || p.col() < indent) && p.at(' ') {
				p.i++
			}
			maxIndent = max(maxIndent, p.col())
			if !p.at('\n') {
				break
			}
			p.i++
			p.line++
			p.ls = p.i
			nl++
		}
		if indent == 0 {
			indent = max(maxIndent, p.indent+1, 1)
		}
		return nl
	}
	var b []byte
	trailing := breaks()
	leadingBreak, leadingBlank := false, false
	for p.col() == indent && p.i < len(s) {
		trailingBlank := s[p.i] == ' '
		if !literal && !leadingBlank && !trailingBlank && leadingBreak {
			if trailing == 0 {
				b = append(b, ' ')
			}
		} else if leadingBreak {
			b = append(b, '\n')
		}
		for ; trailing > 0; trailing-- {
			b = append(b, '\n')
		}
		leadingBlank = trailingBlank
		end := strings.IndexByte(s[p.i:], '\n')
		if end < 0 {
			end = len(s) - p.i
		}
		b = append(b, s[p.i:p.i+end]...)
		p.i += end
		leadingBreak = false
		if p.i < len(s) {
			p.i++
			p.line++
			p.ls = p.i
			leadingBreak = true
		}
		trailing = breaks()
	}
	if chomp != -1 && leadingBreak {
		b = append(b, '\n')
	}
	if chomp == 1 {
		for ; trailing > 0; trailing-- {
			b = append(b, '\n')
		}
	}
	n.Value = string(b)
	return n
}

// singleQuoted reads a single-quoted scalar that closes on its line.
func (p *fastParser) singleQuoted() string {
	s := p.s
	start := p.i + 1
	var b []byte
	for i := start; i < len(s); i++ {
		switch s[i] {
		case '\n':
			p.fail()
		case '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				b = append(b, s[start:i+1]...)
				i++
				start = i + 1
				continue
			}
			p.i = i + 1
			if b == nil {
				return s[start:i]
			}
			return string(append(b, s[start:i]...))
		}
	}
	p.fail()
	return ""
}

// doubleQuoted reads a double-quoted scalar that closes on its line.
func (p *fastParser) doubleQuoted() string {
	s := p.s
	start := p.i + 1
	var b []byte
	for i := start; i < len(s); i++ {
		switch s[i] {
		case '\n':
			p.fail()
		case '"':
			p.i = i + 1
			if b == nil {
				return s[start:i]
			}
			return string(append(b, s[start:i]...))
		case '\\':
			if i+1 >= len(s) {
				p.fail()
			}
			b = append(b, s[start:i]...)
			e := s[i+1]
			i++
			if r, ok := simpleEscapes[e]; ok {
				b = append(b, r...)
			} else {
				size := 0
				switch e {
				case 'x':
					size = 2
				case 'u':
					size = 4
				case 'U':
					size = 8
				}
				if size == 0 || i+size >= len(s) {
					p.fail() // unknown escape or line break: yaml.v3 decides
				}
				v, err := strconv.ParseUint(s[i+1:i+1+size], 16, 32)
				if err != nil || v >= 0xd800 && v <= 0xdfff || v > 0x10ffff {
					p.fail()
				}
				b = utf8.AppendRune(b, rune(v))
				i += size
			}
			start = i + 1
		}
	}
	p.fail()
	return ""
}

// simpleEscapes are yaml.v3's one-character escapes
// (scannerc.go yaml_parser_scan_flow_scalar).
var simpleEscapes = map[byte]string{
	'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", 'n': "\n", 'v': "\v", 'f': "\f", 'r': "\r", 'e': "\x1b",
	' ': " ", '"': "\"", '\'': "'", '\\': "\\", 'N': "\u0085", '_': "\u00a0", 'L': "\u2028", 'P': "\u2029",
}

// flowSpace skips spaces, line breaks and comments inside a flow
// collection.
func (p *fastParser) flowSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ':
			p.i++
		case '\n':
			p.i++
			p.line++
			p.ls = p.i
			if p.marker("---") || p.marker("...") {
				p.fail()
			}
		case '#':
			if c := p.s[p.i-1]; c != ' ' && c != '\n' {
				p.fail()
			}
			p.endLine()
		default:
			return
		}
	}
}

// flow reads a flow mapping or sequence at i, which may span lines.
func (p *fastParser) flow() *yaml.Node {
	defer p.enter(p.indent)()
	n := p.node()
	n.Line, n.Column = p.mark()
	n.Style = yaml.FlowStyle
	mapping := p.s[p.i] == '{'
	closer := byte(']')
	if mapping {
		n.Kind, n.Tag, closer = yaml.MappingNode, "!!map", '}'
	} else {
		n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
	}
	p.i++
	base := len(p.stack)
	p.flowSpace()
	if p.at(closer) {
		p.i++
		return n
	}
	for {
		if mapping {
			start := p.i
			k := p.flowItem(true)
			p.skipSpaces()
			if !p.at(':') || p.i-start > fastMaxKey {
				p.fail()
			}
			p.i++
			p.flowSpace()
			p.stack = append(p.stack, k, p.flowItem(false))
		} else {
			p.stack = append(p.stack, p.flowItem(false))
		}
		p.flowSpace()
		switch {
		case p.at(','):
			p.i++
			p.flowSpace()
			if p.at(closer) {
				p.fail() // a trailing comma
			}
			continue
		case p.at(closer):
			p.i++
			n.Content = p.collect(base, nil)
			return n
		}
		p.fail()
	}
}

// flowItem reads a key (a scalar on the line of its ':') or a value in a
// flow collection.
func (p *fastParser) flowItem(key bool) *yaml.Node {
	if p.at('{') || p.at('[') {
		if key {
			p.fail()
		}
		return p.flow()
	}
	plain := !p.at('"') && !p.at('\'')
	n := p.scalar(true)
	if plain && !key {
		// A plain scalar that reaches its line end would continue on the
		// next line unless that starts with ',', ']' or '}'.
		save, line, ls := p.i, p.line, p.ls
		p.skipSpaces()
		if p.i == len(p.s) || p.s[p.i] == '\n' || p.s[p.i] == '#' {
			p.flowSpace()
			if !p.at(',') && !p.at(']') && !p.at('}') {
				p.fail()
			}
		}
		p.i, p.line, p.ls = save, line, ls
	}
	return n
}

// plainTag is the tag yaml.v3 resolves for a plain scalar (resolve.go
// resolve with an empty tag): null, bool, int, float, timestamp, merge or
// str. The words are those of resolve's resolveMap, which it consults
// first for every scalar that starts with one of their first characters.
func plainTag(v string) string {
	switch v {
	case "":
		return "!!null"
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return "!!bool"
	case "~", "null", "Null", "NULL":
		return "!!null"
	case "<<":
		return "!!merge"
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return "!!float"
	}
	switch c := v[0]; {
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		return numberTag(v)
	case c == '.':
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return "!!float"
		}
	}
	return "!!str"
}

// numberChar marks the characters of integers (decimal, 0x, 0o and 0b,
// with a sign and '_') and floats.
var numberChar = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEFxXoO_+-." {
		t[c] = true
	}
	return t
}()

var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// numberTag resolves a plain scalar starting with a digit or sign as
// resolve.go does: timestamp, int (decimal, 0x, 0o, 0b, with '_'), float
// or str.
func numberTag(v string) string {
	if isTimestamp(v) {
		return "!!timestamp"
	}
	// Every form below is made of these characters ("100m" and "64Mi"
	// are not), so the parsing is skipped for anything else.
	for i := 0; i < len(v); i++ {
		if !numberChar[v[i]] {
			return "!!str"
		}
	}
	plain := strings.ReplaceAll(v, "_", "")
	if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return "!!int"
	}
	if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return "!!int"
	}
	if yamlStyleFloat.MatchString(plain) {
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return "!!float"
		}
	}
	for _, b := range []struct {
		prefix string
		base   int
	}{{"0b", 2}, {"0o", 8}} {
		if rest, ok := strings.CutPrefix(plain, b.prefix); ok {
			if _, err := strconv.ParseInt(rest, b.base, 64); err == nil {
				return "!!int"
			}
			if _, err := strconv.ParseUint(rest, b.base, 64); err == nil {
				return "!!int"
			}
		} else if rest, ok := strings.CutPrefix(plain, "-"+b.prefix); ok {
			if _, err := strconv.ParseInt("-"+rest, b.base, 64); err == nil {
				return "!!int"
			}
		}
	}
	return "!!str"
}

// isTimestamp is resolve.go parseTimestamp's test.
func isTimestamp(s string) bool {
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return false
	}
	for _, format := range []string{"2006-1-2T15:4:5.999999999Z07:00", "2006-1-2t15:4:5.999999999Z07:00", "2006-1-2 15:4:5.999999999", "2006-1-2"} {
		if _, err := time.Parse(format, s); err == nil {
			return true
		}
	}
	return false
}
