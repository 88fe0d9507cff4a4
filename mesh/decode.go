package mesh

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// This file is the YAML layer of the loader: documents with their
// positions, mappings with duplicate-key, alias and merge-key handling,
// typed scalars, and the per-object error and warning collection. Kinds are
// decoded in decode_k8s.go, decode_istio.go and decode_config.go.

const (
	// maxVisits bounds the nodes visited per document, so that alias
	// expansion ("billion laughs") cannot make the loader do unbounded work.
	maxVisits = 1 << 20
	// maxDepth bounds recursion in the walkers that follow arbitrary YAML.
	maxDepth = 200
)

// doc is one YAML document of a file, or a YAML text embedded in a string
// value of one (the mesh config in a ConfigMap).
type doc struct {
	file  string
	index int // 1-based document index in file
	// offset is added to node lines to get file lines; when fixed is
	// non-zero every node maps to that line (an embedded text whose lines
	// cannot be mapped back, such as a folded or quoted scalar).
	offset int
	fixed  int
	visits *int
	sh     *shared // nil: nothing shared
}

// shared is what the documents one goroutine decodes share: copies of the
// strings the model keeps, and room for mapping keys.
type shared struct {
	strs  interner
	pairs []pair // mapping keys of the current document
}

// reset readies sh for a new document, whose mapping keys reuse the
// room of the last one's.
func (sh *shared) reset() {
	clear(sh.pairs)
	sh.pairs = sh.pairs[:0]
}

// takePairs returns an empty slice with room for n pairs.
func (sh *shared) takePairs(n int) []pair {
	if sh == nil || n > 256 {
		return make([]pair, 0, n)
	}
	if cap(sh.pairs)-len(sh.pairs) < n {
		sh.pairs = make([]pair, 0, 1024) // the full one stays with its slices
	}
	k := len(sh.pairs)
	sh.pairs = sh.pairs[:k+n]
	return sh.pairs[k : k : k+n]
}

func (d *doc) line(n *yaml.Node) int {
	switch {
	case d.fixed > 0:
		return d.fixed
	case n == nil || n.Line == 0:
		return 0
	}
	return d.offset + n.Line
}

// embedded returns the doc for YAML text held in the string scalar n of d.
// A literal block scalar ("|") keeps its lines, so its inner line 1 is the
// line after the indicator; other styles map every inner node to n's line.
func (d *doc) embedded(n *yaml.Node) *doc {
	e := &doc{file: d.file, index: d.index, visits: d.visits, sh: d.sh}
	if n.Style&yaml.LiteralStyle != 0 && d.fixed == 0 {
		e.offset = d.line(n)
	} else {
		e.fixed = d.line(n)
	}
	return e
}

// obj collects the problems of one object (one document, or one item of a
// List). Its errors get the object's Ref when it is done, so errors found
// before the metadata was read still name the object.
type obj struct {
	doc    *doc
	ref    Ref
	errs   []*Error
	warns  []*Error
	budget bool // the visit budget ran out; reported once
}

func (o *obj) pos(n *yaml.Node) Pos {
	return Pos{File: o.doc.file, Doc: o.doc.index, Line: o.doc.line(n)}
}

// fail records an error at node n (nil: the object's own position).
func (o *obj) fail(n *yaml.Node, path string, err error) {
	o.errs = append(o.errs, &Error{Pos: o.pos(n), Path: path, Err: err})
}

// warn records a legal-but-suspicious finding at node n.
func (o *obj) warn(n *yaml.Node, path string, err error) {
	o.warns = append(o.warns, &Error{Pos: o.pos(n), Path: path, Err: err})
}

func (o *obj) failed() bool { return len(o.errs) > 0 }

// finish stamps the object's Ref on its findings.
func (o *obj) finish() (errs, warns []*Error) {
	for _, e := range o.errs {
		e.Ref = o.ref
	}
	for _, w := range o.warns {
		w.Ref = o.ref
	}
	return o.errs, o.warns
}

// visit charges one node to the document's budget.
func (o *obj) visit(n *yaml.Node) bool {
	*o.doc.visits++
	if *o.doc.visits <= maxVisits {
		return true
	}
	if !o.budget {
		o.budget = true
		o.fail(n, "", fmt.Errorf("%w: document too large or too many aliases (more than %d nodes)", ErrSyntax, maxVisits))
	}
	return false
}

// deref follows aliases. It returns nil for a nil node.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > maxDepth {
			return nil
		}
		n = n.Alias
	}
	return n
}

// valueKind is the JSON type a YAML node converts to.
type valueKind uint8

const (
	kindNull valueKind = iota
	kindBool
	kindInt
	kindFloat
	kindString
	kindMapping
	kindList
)

var valueKindNames = [...]string{"null", "a boolean", "an integer", "a number", "a string", "a mapping", "a list"}

// yaml11Bools are the plain scalars YAML 1.1 reads as booleans. Kubernetes
// (sigs.k8s.io/yaml, a YAML 1.1 parser) and Istio (which converts YAML with
// the same library) read `yes`, `on`, `n`… as booleans, so the loader does
// too: `hostNetwork: yes` is true, and an annotation `inject: yes` is a
// boolean where a string is required.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

// kindOf returns the JSON type of a dereferenced node.
func kindOf(n *yaml.Node) valueKind {
	switch n.Kind {
	case yaml.MappingNode:
		return kindMapping
	case yaml.SequenceNode:
		return kindList
	case yaml.DocumentNode:
		return kindNull
	}
	switch n.ShortTag() {
	case "!!null":
		return kindNull
	case "!!bool":
		return kindBool
	case "!!int":
		return kindInt
	case "!!float":
		return kindFloat
	case "!!str":
		// yaml11Bools' keys have one to three letters and start with
		// y, n or o.
		if v := n.Value; n.Style == 0 && len(v) > 0 && len(v) <= 3 && strings.IndexByte("yYnNoO", v[0]) >= 0 {
			if _, ok := yaml11Bools[v]; ok {
				return kindBool
			}
		}
	}
	// !!str, !!timestamp, !!binary and custom tags are text.
	return kindString
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && kindOf(n) == kindNull)
}

// wantErr says that n is not what was wanted.
func wantErr(n *yaml.Node, want string) error {
	if n == nil {
		return fmt.Errorf("%w (want %s)", ErrInvalidValue, want)
	}
	switch k := kindOf(n); k {
	case kindMapping, kindList, kindNull:
		return fmt.Errorf("%w: %s (want %s)", ErrInvalidValue, valueKindNames[k], want)
	case kindString:
		return fmt.Errorf("%w %q (want %s)", ErrInvalidValue, n.Value, want)
	default:
		if want == "a string" {
			// `version: 1` or `inject: yes`: Kubernetes reads YAML 1.1,
			// where these are a number and a boolean.
			return fmt.Errorf("%w %s (want a string: quote it)", ErrInvalidValue, n.Value)
		}
		return fmt.Errorf("%w %s (want %s)", ErrInvalidValue, n.Value, want)
	}
}

// pair is one key of a mapping. k is the key node (for its line), v the
// value, not yet dereferenced.
type pair struct {
	key  string
	k, v *yaml.Node
}

// mapping returns the keys of a mapping node in order, merge keys ("<<")
// expanded (explicit keys win, as in YAML 1.1). A null node is an empty
// mapping. Duplicate keys are syntax errors, as in sigs.k8s.io/yaml's
// strict mode that kubectl uses.
func (o *obj) mapping(n *yaml.Node, path string) []pair {
	return o.mappingDepth(n, path, 0)
}

func (o *obj) mappingDepth(n *yaml.Node, path string, depth int) []pair {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		o.fail(n, path, wantErr(n, "a mapping"))
		return nil
	}
	if depth > maxDepth {
		o.fail(n, path, fmt.Errorf("%w: merge keys nested too deeply", ErrSyntax))
		return nil
	}
	out := o.doc.sh.takePairs(len(n.Content) / 2)
	var seen map[string]*yaml.Node
	if len(n.Content) > 16 {
		seen = make(map[string]*yaml.Node, len(n.Content)/2)
	}
	find := func(key string) *yaml.Node {
		if seen != nil {
			return seen[key]
		}
		for _, p := range out {
			if p.key == key {
				return p.k
			}
		}
		return nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !o.visit(k) {
			return out
		}
		kd := deref(k)
		if kd == nil || kd.Kind != yaml.ScalarNode {
			o.fail(k, path, fmt.Errorf("%w: a mapping key must be a string", ErrSyntax))
			continue
		}
		if kd.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first := find(kd.Value); first != nil {
			o.fail(k, join(path, kd.Value), fmt.Errorf("%w: mapping key %q already defined at line %d", ErrSyntax, kd.Value, o.doc.line(first)))
			continue
		}
		if seen != nil {
			seen[kd.Value] = k
		}
		out = append(out, pair{key: kd.Value, k: k, v: v})
	}
	for _, m := range merges {
		m = deref(m)
		var srcs []*yaml.Node
		switch {
		case m != nil && m.Kind == yaml.MappingNode:
			srcs = []*yaml.Node{m}
		case m != nil && m.Kind == yaml.SequenceNode:
			for _, s := range m.Content {
				srcs = append(srcs, deref(s))
			}
		default:
			o.fail(m, path, fmt.Errorf("%w: a merge key (<<) needs a mapping or a list of mappings", ErrSyntax))
			continue
		}
		for _, s := range srcs {
			if s == nil || s.Kind != yaml.MappingNode {
				o.fail(m, path, fmt.Errorf("%w: a merge key (<<) needs a mapping or a list of mappings", ErrSyntax))
				continue
			}
			for _, p := range o.mappingDepth(s, path, depth+1) {
				if find(p.key) == nil {
					if seen != nil {
						seen[p.key] = p.k
					}
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// list returns the items of a sequence node; null is an empty list.
func (o *obj) list(n *yaml.Node, path string) []*yaml.Node {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		o.fail(n, path, wantErr(n, "a list"))
		return nil
	}
	for _, it := range n.Content {
		if !o.visit(it) {
			return nil
		}
	}
	return n.Content
}

// str returns a string scalar; ok is false for null (absent) and for
// errors, which are recorded.
func (o *obj) str(n *yaml.Node, path string) (s string, ok bool) {
	n = deref(n)
	if isNull(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || kindOf(n) != kindString {
		o.fail(n, path, wantErr(n, "a string"))
		return "", false
	}
	return o.keep(n.Value), true
}

// keep returns a copy of s, a value the model may keep: a node's value
// may share memory with its whole document.
func (o *obj) keep(s string) string {
	if o.doc.sh == nil {
		return strings.Clone(s)
	}
	return o.doc.sh.strs.keep(s)
}

// interner copies strings, sharing the copy of a short string with the
// next request for the same one while its slot of a small table holds it
// (label keys, protocols and namespace names repeat from object to
// object). The zero value is ready.
type interner struct{ slots [4096]string }

func (t *interner) keep(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) > 32:
		return strings.Clone(s)
	}
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	slot := &t.slots[h%uint32(len(t.slots))]
	if *slot != s {
		*slot = strings.Clone(s)
	}
	return *slot
}

// boolean returns a boolean scalar; ok is false for null and errors.
func (o *obj) boolean(n *yaml.Node, path string) (v, ok bool) {
	n = deref(n)
	if isNull(n) {
		return false, false
	}
	if n.Kind == yaml.ScalarNode && kindOf(n) == kindBool {
		return parseBool(n.Value), true
	}
	o.fail(n, path, wantErr(n, "true or false"))
	return false, false
}

func parseBool(s string) bool {
	if b, ok := yaml11Bools[s]; ok {
		return b
	}
	return strings.EqualFold(s, "true")
}

// integer returns an integer scalar in [lo, hi]; ok is false for null and
// errors. Kubernetes integer fields take JSON numbers only, so a quoted
// "8080" is an error.
func (o *obj) integer(n *yaml.Node, path string, lo, hi int64, want string) (int64, bool) {
	n = deref(n)
	if isNull(n) {
		return 0, false
	}
	if n.Kind == yaml.ScalarNode && kindOf(n) == kindInt {
		if v, err := strconv.ParseInt(n.Value, 0, 64); err == nil && v >= lo && v <= hi {
			return v, true
		}
	}
	o.fail(n, path, wantErr(n, want))
	return 0, false
}

// strMap returns a map of strings (labels, annotations, selectors). Null is
// nil; an empty mapping is a non-nil empty map.
func (o *obj) strMap(n *yaml.Node, path string) map[string]string {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	ps := o.mapping(n, path)
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		// The path is only needed for an error.
		if v := deref(p.v); v != nil && v.Kind == yaml.ScalarNode && kindOf(v) == kindString {
			m[o.keep(p.key)] = o.keep(v.Value)
		} else if isNull(v) {
			m[o.keep(p.key)] = ""
		} else {
			o.str(p.v, path+"["+p.key+"]")
		}
	}
	return m
}

// strList returns a list of strings.
func (o *obj) strList(n *yaml.Node, path string) []string {
	items := o.list(n, path)
	out := make([]string, 0, len(items))
	for i, it := range items {
		if s, ok := o.str(it, index(path, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

// timestamp reads an RFC 3339 time (metadata.creationTimestamp).
func (o *obj) timestamp(n *yaml.Node, path string) time.Time {
	n = deref(n)
	if isNull(n) {
		return time.Time{}
	}
	if n.Kind == yaml.ScalarNode && kindOf(n) == kindString {
		if t, err := time.Parse(time.RFC3339, n.Value); err == nil {
			return t
		}
	}
	o.fail(n, path, wantErr(n, "an RFC 3339 time"))
	return time.Time{}
}

// unknown records an unknown field.
func (o *obj) unknown(p pair, path string) {
	o.fail(p.k, join(path, p.key), fmt.Errorf("%w %q", ErrUnknownField, p.key))
}

// join appends a field name to a path; names starting with "[" are map
// keys or indexes and are appended as they are.
func join(path, name string) string {
	switch {
	case path == "":
		return name
	case strings.HasPrefix(name, "["):
		return path + name
	}
	return path + "." + name
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// at is a field path built only when a problem is reported: base joined
// with name, or with index i when name is "" (join and index).
type at struct {
	base, name string
	i          int
}

func (a at) String() string {
	if a.name == "" {
		return index(a.base, a.i)
	}
	return join(a.base, a.name)
}

// The …At helpers take the success path of str, boolean, integer,
// intOrName and protocol without building the path, and otherwise call
// them with it, so what they report is the same.

func (o *obj) strAt(n *yaml.Node, a at) (string, bool) {
	if v := deref(n); isNull(v) {
		return "", false
	} else if v.Kind == yaml.ScalarNode && kindOf(v) == kindString {
		return o.keep(v.Value), true
	}
	return o.str(n, a.String())
}

func (o *obj) booleanAt(n *yaml.Node, a at) (bool, bool) {
	if v := deref(n); isNull(v) {
		return false, false
	} else if v.Kind == yaml.ScalarNode && kindOf(v) == kindBool {
		return parseBool(v.Value), true
	}
	return o.boolean(n, a.String())
}

func (o *obj) integerAt(n *yaml.Node, a at, lo, hi int64, want string) (int64, bool) {
	if v := deref(n); isNull(v) {
		return 0, false
	} else if v.Kind == yaml.ScalarNode && kindOf(v) == kindInt {
		if i, err := strconv.ParseInt(v.Value, 0, 64); err == nil && i >= lo && i <= hi {
			return i, true
		}
	}
	return o.integer(n, a.String(), lo, hi, want)
}

// appendJSON converts a YAML node to JSON with the same typing rules as
// kindOf (sigs.k8s.io/yaml's YAMLToJSON). It is only called on nodes the
// walkers accepted, so it reports nothing.
func (o *obj) appendJSON(buf []byte, n *yaml.Node, depth int) ([]byte, error) {
	n = deref(n)
	if depth > maxDepth {
		return nil, errors.New("nesting too deep")
	}
	if n == nil {
		return append(buf, "null"...), nil
	}
	var err error
	switch kindOf(n) {
	case kindNull:
		return append(buf, "null"...), nil
	case kindBool:
		return strconv.AppendBool(buf, parseBool(n.Value)), nil
	case kindInt:
		if v, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return strconv.AppendInt(buf, v, 10), nil
		}
		if v, err := strconv.ParseUint(n.Value, 0, 64); err == nil {
			return strconv.AppendUint(buf, v, 10), nil
		}
		return nil, fmt.Errorf("integer %s out of range", n.Value)
	case kindFloat:
		f, perr := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if perr != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("number %s has no JSON form", n.Value)
		}
		return strconv.AppendFloat(buf, f, 'g', -1, 64), nil
	case kindString:
		return appendJSONString(buf, n.Value), nil
	case kindList:
		buf = append(buf, '[')
		for i, it := range n.Content {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = o.appendJSON(buf, it, depth+1); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	}
	buf = append(buf, '{')
	for i, p := range o.mappingDepth(n, "", 0) {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, p.key)
		buf = append(buf, ':')
		if buf, err = o.appendJSON(buf, p.v, depth+1); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

func appendJSONString(buf []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(buf, b...)
}

// dns1123Label reports whether s matches Kubernetes' label expression
// [a-z0-9]([-a-z0-9]*[a-z0-9])? (validation.dns1123LabelFmt).
func dns1123Label(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// isDNS1123Label reports whether s is a lower-case RFC 1123 label of at
// most 63 characters (k8s.io/apimachinery validation.IsDNS1123Label).
func isDNS1123Label(s string) bool { return len(s) <= 63 && dns1123Label(s) }

// isDNS1123Subdomain reports whether s is a lower-case RFC 1123 subdomain
// of at most 253 characters (validation.IsDNS1123Subdomain), the rule for
// most object names.
func isDNS1123Subdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if !dns1123Label(l) {
			return false
		}
	}
	return true
}

// orList renders "A, B or C".
func orList(vals []string) string {
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return vals[0]
	}
	return strings.Join(vals[:len(vals)-1], ", ") + " or " + vals[len(vals)-1]
}
