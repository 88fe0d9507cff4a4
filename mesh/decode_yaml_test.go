package mesh

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// These tests are internal: the direct scanner is unexported, and what
// they check is that it builds exactly yaml.v3's tree whenever it accepts
// a document.

// sameTree compares two node trees on everything the loader reads (kind,
// style, tag, value, anchor, alias, line, column, children) and returns
// the first difference, or "".
func sameTree(want, got *yaml.Node, path string) string {
	switch {
	case want == nil && got == nil:
		return ""
	case want == nil || got == nil:
		return fmt.Sprintf("%s: node %v, want %v", path, got, want)
	}
	type fields struct {
		Kind         yaml.Kind
		Style        yaml.Style
		Tag, Value   string
		Anchor       string
		Alias        bool
		Line, Column int
		Children     int
	}
	w := fields{want.Kind, want.Style, want.Tag, want.Value, want.Anchor, want.Alias != nil, want.Line, want.Column, len(want.Content)}
	g := fields{got.Kind, got.Style, got.Tag, got.Value, got.Anchor, got.Alias != nil, got.Line, got.Column, len(got.Content)}
	if w != g {
		return fmt.Sprintf("%s: got %+v, want %+v", path, g, w)
	}
	for i := range want.Content {
		if d := sameTree(want.Content[i], got.Content[i], fmt.Sprintf("%s/%d", path, i)); d != "" {
			return d
		}
	}
	return ""
}

// checkFast parses src with the direct scanner p (nil: a new one) and,
// when it accepts, checks that yaml.v3 reads the same tree. It reports
// whether the direct scanner accepted.
func checkFast(t *testing.T, p *fastParser, src []byte) bool {
	t.Helper()
	if p == nil {
		p = &fastParser{}
	}
	got, ok := p.document(src)
	if !ok {
		return false
	}
	var want yaml.Node
	if err := parseSlow(src, &want); err != nil {
		t.Fatalf("direct scanner accepted what yaml.v3 rejects (%v):\n%s", err, src)
	}
	if d := sameTree(&want, got, "doc"); d != "" {
		t.Fatalf("direct scanner differs from yaml.v3: %s\ninput:\n%s", d, src)
	}
	return true
}

// fastCases are documents for the direct scanner: fast says whether it
// must accept them (false: it must leave them to yaml.v3).
var fastCases = []struct {
	name, reason, src string
	fast              bool
}{
	{"mapping", "the common case", "a: 1\nb: two\nc:\n  d: [x, \"y\", 'z']\n", true},
	{"indentless", "a sequence at its key's column", "a:\n- 1\n- b: 2\n  c: 3\nd: 4\n", true},
	{"indented seq", "a sequence deeper than its key", "a:\n  - x\n  -   y: 1\n      z: 2\n", true},
	{"nulls", "empty values sit after ':' or '-'", "a:\nb:   \nc: # c\nd:\n-\n- # x\n-\ne:\n", true},
	{"null seq end", "an empty last entry", "a:\n  -\n", true},
	{"root seq", "a top-level sequence", "- a\n- - b\n", false},
	{"root seq ok", "a top-level sequence", "- a\n-\n  - b\n", true},
	{"deep root", "the root may be indented", "   a: 1\n   b: 2\n", true},
	{"explicit start", "a marker and a comment", "--- # doc\na: 1\n", true},
	{"start with content", "content on the marker line", "--- a\n", false},
	{"end marker", "a document end", "a: 1\n...\n", false},
	{"comments", "comments everywhere", "# head\na: 1 # line\n  # odd indent\nb: # x\n  c: d#e\n", true},
	{"comment no space", "#b glued to a quote", "a: \"x\"#b\n", false},
	{"tags", "resolution of plain scalars", "a: [1, -2, 0x1F, 0o17, 0b101, 1_000, 1.5, .5, -.inf, .nan, 1e3, 08, 0777, true, False, null, ~, yes, No, on, 2024-01-02, 2024-01-02T03:04:05Z, +1, -x, '1', \"true\", 3.0.1, 1.2.3e4, 0b, -0b1, -0o7, 99999999999999999999, -99999999999999999999]\n", true},
	{"merge", "a merge key", "<<: {a: 1}\n", true},
	{"quotes", "escapes", `a: "x\"y\\z\n\t\u00e9\x41\U0001F600\ "` + "\nb: 'it''s'\n", true},
	{"json slash", "a JSON escape yaml.v3 rejects", `a: "\/"` + "\n", false},
	{"bad escape", "yaml.v3 reports it", `a: "\q"` + "\n", false},
	{"surrogate", "yaml.v3 reports it", `a: "\ud800"` + "\n", false},
	{"multi-line plain", "continuation lines", "a: b\n  c\n", false},
	{"multi-line plain seq", "continuation of an entry", "a:\n- x\n  y\n", false},
	{"multi-line quoted", "a quote across lines", "a: \"b\n  c\"\n", false},
	{"flow lines", "a flow mapping across lines (JSON)", "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    {\"c\": null}\n  ]\n}\n", true},
	{"flow plain lines", "a plain scalar before a line break in flow", "a: [x\n  , y]\n", true},
	{"flow plain continued", "a plain scalar continued in flow", "a: [x\n  y]\n", false},
	{"flow adjacent value", "JSON's \"a\":1", "{\"a\":1,\"b\":\"c\"}\n", true},
	{"flow plain colon", "a:1 is one plain scalar", "{a:1}\n", false},
	{"flow trailing comma", "left to yaml.v3", "[a, ]\n", false},
	{"flow pair in seq", "a single-pair mapping", "[a: b]\n", false},
	{"flow in block", "a flow value spanning lines, then a key", "a: {b: 1,\nc: 2}\nd: 3\n", true},
	{"flow key", "a flow collection as key", "{a: 1}: b\n", false},
	{"anchor", "left to yaml.v3", "a: &x 1\nb: *x\n", false},
	{"literal", "a literal block scalar", "a: |\n  x\n   y\n\n  # not a comment\nb: 1\n", true},
	{"literal chomping", "strip, keep and clip", "a: |-\n  x\n\n\nb: |+\n  y\n\n\nc: |\n  z\n\n", true},
	{"folded", "a folded block scalar", "a: >\n  x\n  y\n\n  z\n    more\n  w\nb: >-\n\n  v\n", true},
	{"block scalar empty", "no content lines", "a: |\nb: >\n\nc: 1\n", true},
	{"block scalar end", "at the end of input", "- |\n  x\n  y", true},
	{"block scalar in seq", "indentation bounded by the sequence", "a:\n- |\n  x\n- >\n   y\n   z\n-\n  |\n  w\n", true},
	{"block scalar root", "the root is a block scalar", "|\n x\n", true},
	{"block scalar blank lead", "leading blank lines set the indentation", "a: |\n    \n  x\n", false},
	{"block scalar indicator", "an indentation indicator", "a: |2\n   x\n", false},
	{"block scalar comment", "a comment after the header", "a: | # c\n  x\n", true},
	{"block scalar dedent", "a line less indented than the content", "a: |\n    x\n  y\n", false},
	{"tab", "left to yaml.v3", "a:\tb\n", false},
	{"crlf", "left to yaml.v3", "a: b\r\n", false},
	{"utf8", "columns count characters", "# §…\né: \"ü\"\nb: {ä: ö, ü: [ß, é]}\nc: 'x' # ✓\nd: |\n  ü\n", true},
	{"nel", "a line break for yaml.v3", "a: b\u0085c\n", false},
	{"bom", "a byte order mark inside", "a: \ufeffb\n", false},
	{"bad utf8", "invalid UTF-8", "a: \xff\n", false},
	{"bad indent", "a syntax error", "a:\n    b: 1\n  c: 2\n", false},
	{"nested map same line", "a syntax error", "a: b: c\n", false},
	{"seq in map", "a syntax error", "a: 1\n- b\n", false},
	{"key colon space", "a key before ' :'", "a  : 1\n'b' : 2\n\"c\": 3\n", true},
	{"plain with indicators", "indicators inside plain scalars", "a: x:y,z[0]{1} #c\nb: http://h:80/p?q#f\nc: -\n", false},
	{"plain with indicators ok", "indicators inside plain scalars", "a: x:y,z[0]{1} #c\nb: http://h:80/p?q#f\nc: a - b\n", true},
	{"dash plain", "-x and --x", "a: -x\nb: --x\n", false},
	{"long key", "over yaml.v3's simple-key limit", strings.Repeat("k", 1100) + ": 1\n", false},
	{"deep", "over the depth bound", strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n", false},
	{"empty flow", "empty collections", "a: {}\nb: []\nc: [{}, []]\n", true},
	{"scalar root", "a document that is a scalar", "hello\n", true},
	{"scalar root continued", "a multi-line scalar root", "hello\nworld\n", false},
	{"only comment", "no content", "# nothing\n", false},
	{"no final newline", "the end of input ends the line", "a:\n  b: c", true},
	{"null end", "an empty value at the end of input", "a:", true},
	{"compact map in seq after seq", "entries of a compact mapping", "- a: 1\n  b:\n  - x\n  c: 2\n- d\n", true},
	{"seq item under compact map", "a '-' at the mapping's column", "- a: 1\n  - b\n", false},
}

func TestFastYAML(t *testing.T) {
	t.Parallel()
	for _, tc := range fastCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := checkFast(t, nil, []byte(tc.src)); got != tc.fast {
				t.Errorf("%s: direct scanner accepted = %t, want %t", tc.reason, got, tc.fast)
			}
		})
	}
}

// TestFastYAMLTestdata runs the comparison on every document of the
// fixtures and checks that the plain ones take the direct path.
func TestFastYAMLTestdata(t *testing.T) {
	t.Parallel()
	fast, all := 0, 0
	err := filepath.WalkDir("testdata", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !isManifestName(e.Name()) {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, c := range splitDocuments(src) {
			all++
			if checkFast(t, nil, c.text) {
				fast++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Most fixture documents are plain block YAML; the others test
	// anchors, block scalars, syntax errors and the like.
	if fast*2 < all {
		t.Errorf("the direct scanner took %d of %d fixture documents, want most", fast, all)
	}
}

// FuzzFastYAML checks on arbitrary input that the direct scanner either
// gives up or builds exactly yaml.v3's tree.
func FuzzFastYAML(f *testing.F) {
	for _, tc := range fastCases {
		f.Add([]byte(tc.src))
	}
	_ = filepath.WalkDir("testdata", func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && isManifestName(e.Name()) {
			if src, err := os.ReadFile(path); err == nil {
				for _, c := range splitDocuments(src) {
					f.Add(c.text)
				}
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, src []byte) {
		checkFast(t, nil, src)
	})
}

// randomYAML writes a document of random lines built from the pieces the
// direct scanner handles and some it must refuse, indented at random, so
// that many are valid YAML of varied nesting and many are near misses.
func randomYAML(r *rand.Rand) []byte {
	indents := []string{"", "", " ", "  ", "  ", "   ", "    ", "      "}
	heads := []string{"", "- ", "- ", "a: ", "b: ", "a:", "c:", "- k: ", "- k:", "'q': ", "\"d\": ", "-", "é: ", "? "}
	values := []string{"", "x", "1", "-1", "0x1f", "1.5", "true", "null", "~", "x:y", "a b", "a #c", "# c", "\"s\"", "'t''u'",
		"\"e\\n\\u00e9\"", "{a: 1, b: [x, y]}", "[1, {c: d}]", "{", "[", "]", "}", ",", "|", ">-", "|+", "&a x", "*a", "!t x",
		"\"open", "ü", "2024-01-01", "<<", "{\"j\":1}", "[a,", "b]", "--- ", "...", "x: y", "- z", "a\tb"}
	var b strings.Builder
	if r.IntN(8) == 0 {
		b.WriteString("---\n")
	}
	for range 1 + r.IntN(12) {
		b.WriteString(indents[r.IntN(len(indents))])
		b.WriteString(heads[r.IntN(len(heads))])
		b.WriteString(values[r.IntN(len(values))])
		if r.IntN(10) > 0 {
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// TestFastYAMLRandom compares the direct scanner with yaml.v3 on random
// documents and checks that it takes a fair share of them. One scanner
// reads them all, as the loader reuses one for a run of documents.
func TestFastYAMLRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	fast := 0
	var p fastParser
	for i := range n {
		src := randomYAML(r)
		if i%2 == 0 {
			src = treeYAML(r)
		}
		if checkFast(t, &p, src) {
			fast++
		}
	}
	// Scalars that look like numbers, timestamps and the words YAML
	// resolves, for the tags.
	const alphabet = "0123456789_+-.eExXoObBaAfFmiTZ: tTrueNnl~<"
	for range n {
		v := make([]byte, 1+r.IntN(10))
		for i := range v {
			v[i] = alphabet[r.IntN(len(alphabet))]
		}
		if checkFast(t, &p, []byte("a: "+string(v)+"\n")) {
			fast++
		}
	}
	if fast < n/20 {
		t.Errorf("the direct scanner took %d of %d random documents, want at least 5%%", fast, 2*n)
	}
	t.Logf("direct scanner took %d of %d random documents", fast, 2*n)
}

// treeYAML writes a random nested document in block style with random
// layout choices (indentless or indented sequences, compact mappings,
// flow collections, quoted, plain and block scalars, comments, blank
// lines), then, one time in four, changes one byte.
func treeYAML(r *rand.Rand) []byte {
	scalars := []string{"x", "y z", "1", "-2", "3.5", "true", "null", "x:y", "a-b", "\"q\"", "'s'", "\"\\t\"", "é", "<<", "2024-01-01", "0o7"}
	keys := []string{"a", "b", "c", "\"d\"", "'e'", "1", "f.g/h", "ü"}
	var b strings.Builder
	pad := func(n int) { b.WriteString(strings.Repeat(" ", n)) }
	extra := func() {
		switch r.IntN(10) {
		case 0:
			b.WriteString(" # c")
		case 1:
			b.WriteString("  ")
		}
		b.WriteByte('\n')
		if r.IntN(12) == 0 {
			b.WriteString("\n")
		}
		if r.IntN(15) == 0 {
			pad(r.IntN(6))
			b.WriteString("# comment\n")
		}
	}
	var flowValue func(depth int) string
	flowValue = func(depth int) string {
		if depth > 2 || r.IntN(2) == 0 {
			return scalars[r.IntN(len(scalars))]
		}
		var items []string
		mapping := r.IntN(2) == 0
		for range r.IntN(3) {
			if mapping {
				items = append(items, keys[r.IntN(len(keys))]+": "+flowValue(depth+1))
			} else {
				items = append(items, flowValue(depth+1))
			}
		}
		sep := []string{", ", ",", ",\n  "}[r.IntN(3)]
		if mapping {
			return "{" + strings.Join(items, sep) + "}"
		}
		return "[" + strings.Join(items, sep) + "]"
	}
	// value writes a value after "key:" or "-" (already written) whose
	// block indentation is ind.
	var value, mapping func(ind, depth int)
	value = func(ind, depth int) {
		switch k := r.IntN(6); {
		case depth > 4 || k == 0:
			b.WriteString(" " + scalars[r.IntN(len(scalars))])
			extra()
		case k == 1:
			b.WriteString(" " + flowValue(0))
			extra()
		case k == 2:
			b.WriteString([]string{" |", " >", " |-", " >+"}[r.IntN(4)])
			extra()
			for range r.IntN(4) {
				pad(ind + 2 + r.IntN(2))
				b.WriteString(scalars[r.IntN(len(scalars))])
				b.WriteByte('\n')
			}
		case k == 3:
			b.WriteByte('\n')
			seqInd := ind + 2*r.IntN(2)
			for range 1 + r.IntN(3) {
				pad(seqInd)
				b.WriteString("-")
				value(seqInd, depth+1)
			}
		case k == 4:
			b.WriteString("")
			extra()
		default:
			b.WriteByte('\n')
			mapping(ind+2+r.IntN(2), depth+1)
		}
	}
	mapping = func(ind, depth int) {
		for range 1 + r.IntN(4) {
			pad(ind)
			b.WriteString(keys[r.IntN(len(keys))] + ":")
			value(ind, depth)
		}
	}
	mapping(r.IntN(2), 0)
	out := []byte(b.String())
	if r.IntN(4) == 0 && len(out) > 0 {
		i := r.IntN(len(out))
		out[i] = " \n:-#{}[],'\"|>a"[r.IntN(15)]
	}
	return out
}
