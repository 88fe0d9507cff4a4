package expect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"go.yaml.in/yaml/v3"
)

// Expectation is one probe and the outcome it must have.
type Expectation struct {
	// Probe is the connection attempt. Probe.To is the name as written
	// (trimmed); Probe.ToWorkload is set instead for a "namespace/workload"
	// destination.
	Probe sim.Probe
	// Allow is true for "expect: allow", false for "expect: deny" and
	// "expect: undecided".
	Allow bool
	// Undecided is true for "expect: undecided": the outcome must depend on
	// something meshreach does not model (sim.Result.Undecided).
	Undecided bool
	// Transport is the transport an allowed connection must use;
	// sim.NoTransport when the file leaves it unchecked (always with deny
	// and undecided).
	Transport sim.Transport
	// Note is free text explaining why the outcome is expected.
	Note string
	// Index is the 1-based position of the expectation in its file.
	Index int
	// Pos is where the expectation starts (its list item).
	Pos mesh.Pos
}

// Ref returns the reference errors and reports use for the expectation:
// {Kind: "expectation", Name: "<Index>"}, rendered "expectation 3".
func (x Expectation) Ref() mesh.Ref {
	return mesh.Ref{Kind: "expectation", Name: strconv.Itoa(x.Index)}
}

// Want renders the expected outcome: "deny", "undecided", "allow"
// (transport not checked) or "allow mtls" (also "allow plaintext", "allow
// tls").
func (x Expectation) Want() string {
	switch {
	case x.Undecided:
		return "undecided"
	case !x.Allow:
		return "deny"
	case x.Transport == sim.NoTransport:
		return "allow"
	}
	return "allow " + x.Transport.String()
}

// String renders "from -> to:port/protocol: want", as [sim.Verdict.String]
// renders the outcome.
func (x Expectation) String() string { return x.Probe.String() + ": " + x.Want() }

// Load reads and parses the expectations file at path; positions in errors
// and expectations name path as given. A file that cannot be read is
// reported with the error of [os.ReadFile]; problems in its content as by
// [Parse].
func Load(path string) ([]Expectation, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// fields lists the keys an expectation may have, in the order the format
// documents them.
var fields = []string{"from", "to", "port", "protocol", "method", "path", "headers", "expect", "transport", "note"}

const fieldList = "from, to, port, protocol, method, path, headers, expect, transport or note"

// Parse parses an expectations file; name is used in positions. It returns
// every expectation in file order, or a [mesh.ErrorList] holding every
// problem found (never both). An empty file holds no expectations.
func Parse(name string, src []byte) ([]Expectation, error) {
	p := parser{file: name}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		p.syntax(err)
		return nil, p.errs.Err()
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.syntax(err)
		return nil, p.errs.Err()
	default:
		p.fail(extra.Line, mesh.Ref{}, "", fmt.Errorf("%w: a second YAML document; an expectations file is one list", mesh.ErrInvalidValue))
		return nil, p.errs.Err()
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	root = deref(root)
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.SequenceNode {
		p.fail(root.Line, mesh.Ref{}, "", fmt.Errorf("%w: want a list of expectations, got %s", mesh.ErrInvalidValue, kindName(root)))
		return nil, p.errs.Err()
	}
	var out []Expectation
	for i, item := range root.Content {
		if x, ok := p.expectation(i+1, deref(item)); ok {
			out = append(out, x)
		}
	}
	if len(p.errs) > 0 {
		p.errs.Sort()
		return nil, p.errs
	}
	return out, nil
}

type parser struct {
	file string
	errs mesh.ErrorList
}

func (p *parser) fail(line int, ref mesh.Ref, path string, err error) {
	p.errs = append(p.errs, &mesh.Error{Pos: mesh.Pos{File: p.file, Line: line}, Ref: ref, Path: path, Err: err})
}

// yamlLine finds the line in a go.yaml.in/yaml/v3 error message
// ("yaml: line 3: did not find expected key").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

func (p *parser) syntax(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	p.fail(line, mesh.Ref{}, "", fmt.Errorf("%w: %s", mesh.ErrSyntax, msg))
}

// expectation decodes one list item; ok is false when it had errors (they
// are recorded in p.errs).
func (p *parser) expectation(index int, n *yaml.Node) (Expectation, bool) {
	x := Expectation{Index: index, Pos: mesh.Pos{File: p.file, Line: n.Line}}
	ref := x.Ref()
	before := len(p.errs)
	bad := func(line int, path string, err error) { p.fail(line, ref, path, err) }
	if n.Kind != yaml.MappingNode {
		bad(n.Line, "", fmt.Errorf("%w: want a mapping with fields %s, got %s", mesh.ErrInvalidValue, fieldList, kindName(n)))
		return x, false
	}
	vals := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			bad(k.Line, "", fmt.Errorf("%w: a key must be a field name, got %s", mesh.ErrInvalidValue, kindName(k)))
			continue
		}
		if !isField(k.Value) {
			bad(k.Line, k.Value, fmt.Errorf("%w %q (want %s)", mesh.ErrUnknownField, k.Value, fieldList))
			continue
		}
		if first, ok := vals[k.Value]; ok {
			bad(k.Line, k.Value, fmt.Errorf("%w: field given twice (first at line %d)", mesh.ErrInvalidValue, first.Line))
			continue
		}
		vals[k.Value] = v
	}
	// scalar returns the string value of a field, recording an error when
	// it is missing (and required) or not a scalar.
	scalar := func(field string, required bool) (*yaml.Node, bool) {
		v, ok := vals[field]
		if !ok || v.Tag == "!!null" {
			if required {
				line := n.Line
				if ok {
					line = v.Line
				}
				bad(line, field, mesh.ErrMissingField)
			}
			return nil, false
		}
		if v.Kind != yaml.ScalarNode {
			bad(v.Line, field, fmt.Errorf("%w: want a single value, got %s", mesh.ErrInvalidValue, kindName(v)))
			return nil, false
		}
		return v, true
	}

	if v, ok := scalar("from", true); ok {
		id, err := mesh.ParseWorkloadID(v.Value)
		if err != nil {
			bad(v.Line, "from", fmt.Errorf("%w %q (want namespace/workload)", mesh.ErrInvalidValue, v.Value))
		}
		x.Probe.From = id
	}
	if v, ok := scalar("to", true); ok {
		to, pod, err := ParseDestination(v.Value)
		if err != nil {
			bad(v.Line, "to", err)
		}
		x.Probe.To, x.Probe.ToWorkload = to, pod
	}
	if v, ok := scalar("port", true); ok {
		n, err := strconv.ParseUint(v.Value, 10, 32)
		switch {
		case v.Tag != "!!int" || err != nil || n == 0 || n > 65535:
			bad(v.Line, "port", fmt.Errorf("%w %q (want a number from 1 to 65535)", mesh.ErrInvalidValue, v.Value))
		default:
			x.Probe.Port = uint32(n)
		}
	}
	if v, ok := scalar("protocol", false); ok {
		proto, found := lookup(v.Value, sim.TCP, sim.HTTP, sim.HTTP2, sim.GRPC, sim.HTTPS)
		if !found {
			bad(v.Line, "protocol", fmt.Errorf("%w %q (want tcp, http, http2, grpc or https)", mesh.ErrInvalidValue, v.Value))
		}
		x.Probe.Protocol = proto
	}
	// The request of an HTTP probe: a method and path as an HTTP client
	// sends them, headers as a mapping of names to strings.
	request := func(field string, line int) bool {
		if !x.Probe.Protocol.IsHTTP() {
			bad(line, field, fmt.Errorf("%w: %s needs protocol http, http2 or grpc", mesh.ErrInvalidValue, field))
			return false
		}
		return true
	}
	if v, ok := scalar("method", false); ok && request("method", v.Line) {
		if !isToken(v.Value) || v.Tag != "!!str" {
			bad(v.Line, "method", fmt.Errorf("%w %q (want an HTTP method such as GET)", mesh.ErrInvalidValue, v.Value))
		}
		x.Probe.Method = v.Value
	}
	if v, ok := scalar("path", false); ok && request("path", v.Line) {
		if !strings.HasPrefix(v.Value, "/") || v.Tag != "!!str" || strings.ContainsAny(v.Value, " \t\r\n") {
			bad(v.Line, "path", fmt.Errorf("%w %q (want an absolute path such as /api/v1?x=1)", mesh.ErrInvalidValue, v.Value))
		}
		x.Probe.Path = v.Value
	}
	if v, ok := vals["headers"]; ok && v.Tag != "!!null" && request("headers", v.Line) {
		x.Probe.Headers = p.headers(ref, v)
	}
	if v, ok := scalar("expect", true); ok {
		switch v.Value {
		case "allow":
			x.Allow = true
		case "deny":
		case "undecided":
			x.Undecided = true
		default:
			bad(v.Line, "expect", fmt.Errorf("%w %q (want allow, deny or undecided)", mesh.ErrInvalidValue, v.Value))
		}
	}
	if v, ok := scalar("transport", false); ok {
		t, found := lookup(v.Value, sim.MTLS, sim.Plaintext, sim.TLS)
		switch {
		case !found:
			bad(v.Line, "transport", fmt.Errorf("%w %q (want mtls, plaintext or tls)", mesh.ErrInvalidValue, v.Value))
		case vals["expect"] != nil && deref(vals["expect"]).Value == "deny":
			bad(v.Line, "transport", fmt.Errorf("%w %q: a denied connection has no transport (leave it out with expect: deny)", mesh.ErrInvalidValue, v.Value))
		case vals["expect"] != nil && deref(vals["expect"]).Value == "undecided":
			bad(v.Line, "transport", fmt.Errorf("%w %q: only an allowed connection has its transport checked (leave it out with expect: undecided)", mesh.ErrInvalidValue, v.Value))
		}
		x.Transport = t
	}
	if v, ok := scalar("note", false); ok {
		x.Note = strings.TrimSpace(v.Value)
	}
	return x, len(p.errs) == before
}

// headers decodes the headers field: a mapping of header names (HTTP
// tokens, each once whatever its case) to string values.
func (p *parser) headers(ref mesh.Ref, n *yaml.Node) map[string]string {
	if n.Kind != yaml.MappingNode {
		p.fail(n.Line, ref, "headers", fmt.Errorf("%w: want a mapping of header names to values, got %s", mesh.ErrInvalidValue, kindName(n)))
		return nil
	}
	out := map[string]string{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		path := "headers[" + k.Value + "]"
		switch {
		case k.Kind != yaml.ScalarNode || !isToken(k.Value):
			p.fail(k.Line, ref, "headers", fmt.Errorf("%w: header name %s is not an HTTP token", mesh.ErrInvalidValue, kindName(k)))
			continue
		case seen[strings.ToLower(k.Value)]:
			p.fail(k.Line, ref, path, fmt.Errorf("%w: header given twice (names are case-insensitive)", mesh.ErrInvalidValue))
			continue
		case v.Kind != yaml.ScalarNode || v.Tag != "!!str":
			p.fail(v.Line, ref, path, fmt.Errorf("%w: %s (want a string: quote it)", mesh.ErrInvalidValue, kindName(v)))
			continue
		case strings.ContainsAny(v.Value, "\r\n\x00"):
			p.fail(v.Line, ref, path, fmt.Errorf("%w: a header value cannot hold a line break", mesh.ErrInvalidValue))
			continue
		}
		seen[strings.ToLower(k.Value)] = true
		out[k.Value] = v.Value
	}
	return out
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// ParseDestination parses a destination as the to field spells it: a host
// name (returned as to, trimmed) or "namespace/workload" for a direct call
// to a pod IP (returned as pod). The error wraps [mesh.ErrInvalidValue].
func ParseDestination(s string) (to string, pod mesh.WorkloadID, err error) {
	t := strings.TrimSpace(s)
	switch {
	case strings.Contains(t, "/"):
		if pod, err = mesh.ParseWorkloadID(t); err == nil {
			return "", pod, nil
		}
	case validHost(t):
		return t, mesh.WorkloadID{}, nil
	}
	return "", mesh.WorkloadID{}, fmt.Errorf("%w %q (want a host name, or namespace/workload for a pod IP)", mesh.ErrInvalidValue, s)
}

func isField(k string) bool {
	for _, f := range fields {
		if f == k {
			return true
		}
	}
	return false
}

// lookup finds the value among candidates whose String() is s, exactly.
func lookup[T interface {
	comparable
	String() string
}](s string, candidates ...T) (T, bool) {
	for _, c := range candidates {
		if c.String() == s {
			return c, true
		}
	}
	var zero T
	return zero, false
}

// validHost reports whether s is a DNS name (letters, digits, hyphens, dots
// between non-empty labels, an optional trailing dot) of at most 253
// characters.
func validHost(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// deref follows YAML aliases to the node they point to.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}
