package mesh

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	meshconfig "istio.io/api/mesh/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
)

// TestDNS1123Label compares the label check with Kubernetes' expression
// (k8s.io/apimachinery validation.dns1123LabelFmt) on random strings.
func TestDNS1123Label(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	r := rand.New(rand.NewPCG(3, 4))
	const alphabet = "ab09-.A_\n"
	for range 50000 {
		b := make([]byte, r.IntN(6))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		if s := string(b); dns1123Label(s) != re.MatchString(s) {
			t.Fatalf("dns1123Label(%q) = %t, the expression says %t", s, dns1123Label(s), re.MatchString(s))
		}
	}
}

// TestSplitDocuments compares splitDocuments with a line-by-line reference
// (the loader's first version, which classified every line) on random
// streams of markers, directives, comments and content.
func TestSplitDocuments(t *testing.T) {
	t.Parallel()
	lines := []string{"---", "--- # c", "--- a: 1", "---x", "...", "... # c", "....", "%YAML 1.2", "  %x", "# c", "", "  ", "\t",
		"a: 1", " b", "-", "- x", ".5", "\ufeff---", "--- \r", "a\r", "\u00a0"}
	r := rand.New(rand.NewPCG(5, 6))
	type doc struct {
		Index, First int
		Text         string
	}
	flat := func(cs []chunk) (out []doc) {
		for _, c := range cs {
			out = append(out, doc{c.index, c.first, string(c.text)})
		}
		return out
	}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(10) {
			b.WriteString(lines[r.IntN(len(lines))])
			if r.IntN(8) > 0 {
				b.WriteByte('\n')
			}
		}
		src := []byte(b.String())
		if d := cmp.Diff(flat(splitDocumentsRef(src)), flat(splitDocuments(src))); d != "" {
			t.Fatalf("splitDocuments(%q) differs from the reference (-ref +got):\n%s", src, d)
		}
	}
}

func splitDocumentsRef(src []byte) []chunk {
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	var out []chunk
	start, startLine, line := 0, 1, 1
	content, directive := false, false
	flush := func(end int) {
		if content {
			out = append(out, chunk{index: len(out) + 1, first: startLine, text: src[start:end]})
		}
		content = false
	}
	for i := 0; i < len(src); {
		j := bytes.IndexByte(src[i:], '\n')
		next := len(src)
		if j >= 0 {
			next = i + j + 1
		}
		l := bytes.TrimRight(src[i:next], "\r\n")
		switch {
		case isMarker(l, "---"):
			// A new document starts here, unless only a directive came
			// before, which belongs to this document.
			flush(i)
			if !directive {
				start, startLine = i, line
			}
			directive = false
			if rest := strings.TrimSpace(string(l[3:])); rest != "" && !strings.HasPrefix(rest, "#") {
				content = true
			}
		case isMarker(l, "..."):
			flush(next)
			start, startLine, directive = next, line+1, false
		default:
			switch t := bytes.TrimSpace(l); {
			case len(t) == 0 || t[0] == '#':
			case t[0] == '%' && !content:
				if !directive {
					start, startLine = i, line
				}
				directive = true
			default:
				content = true
			}
		}
		i = next
		line++
	}
	flush(len(src))
	return out
}

// protoKinds are the messages decodeProto fills, with whether the CRD's
// stricter typing applies (not to the mesh config).
var protoKinds = []struct {
	kind string
	msg  func() proto.Message
	crd  bool
}{
	{"Sidecar", func() proto.Message { return &networking.Sidecar{} }, true},
	{"DestinationRule", func() proto.Message { return &networking.DestinationRule{} }, true},
	{"ServiceEntry", func() proto.Message { return &networking.ServiceEntry{} }, true},
	{"PeerAuthentication", func() proto.Message { return &security.PeerAuthentication{} }, true},
	{"AuthorizationPolicy", func() proto.Message { return &security.AuthorizationPolicy{} }, true},
	{"MeshConfig", func() proto.Message { return &meshconfig.MeshConfig{} }, false},
}

// checkProtoSet walks node as the spec of protoKinds[k] and, when the walk
// accepts it and setMessage does not give up, checks that setMessage gives
// protojson's message. It reports whether setMessage was used.
func checkProtoSet(t *testing.T, k int, node *yaml.Node) bool {
	t.Helper()
	pk := protoKinds[k]
	newObj := func() *obj {
		visits := 0
		return &obj{doc: &doc{file: "f.yaml", index: 1, visits: &visits}}
	}
	o := newObj()
	direct := pk.msg()
	(&protoWalk{o: o, nodes: map[string]*yaml.Node{}, crd: pk.crd}).message(node, direct.ProtoReflect().Descriptor(), "spec", 0)
	if o.failed() {
		return false
	}
	if !o.setMessage(node, direct.ProtoReflect(), 0) || o.failed() {
		return false
	}
	viaJSON := pk.msg()
	oj := newObj()
	oj.decodeProtoJSON(node, "spec", viaJSON)
	if oj.failed() {
		t.Fatalf("%s: setMessage accepted what protojson rejects: %v", pk.kind, oj.errs[0])
	}
	if !proto.Equal(direct, viaJSON) {
		t.Fatalf("%s: setMessage gave\n%v\nprotojson gave\n%v", pk.kind, direct, viaJSON)
	}
	return true
}

// specOf returns the spec node of an Istio document and its protoKinds
// index, or the root as a mesh config.
func specOf(root *yaml.Node) (*yaml.Node, int) {
	if len(root.Content) == 0 {
		return nil, 0
	}
	top := deref(root.Content[0])
	kind := deref(lookup(top, "kind"))
	spec := lookup(top, "spec")
	for i, pk := range protoKinds {
		if kind != nil && kind.Value == pk.kind && spec != nil {
			return spec, i
		}
	}
	return top, len(protoKinds) - 1
}

// TestProtoSetFixtures compares setMessage with protojson on every Istio
// spec of the fixtures.
func TestProtoSetFixtures(t *testing.T) {
	t.Parallel()
	direct := 0
	err := filepath.WalkDir("testdata", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !isManifestName(e.Name()) {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, c := range splitDocuments(src) {
			var root yaml.Node
			if parseYAML(c.text, &root) != nil {
				continue
			}
			if n, k := specOf(&root); n != nil && k < len(protoKinds)-1 && checkProtoSet(t, k, n) {
				direct++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if direct < 20 {
		t.Errorf("setMessage decoded %d fixture specs, want most of the valid ones", direct)
	}
}

// FuzzProtoSet checks on arbitrary specs that setMessage either gives up
// or gives protojson's message.
func FuzzProtoSet(f *testing.F) {
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
	f.Add([]byte("kind: PeerAuthentication\nspec: {portLevelMtls: {'8080': {mode: STRICT}, '08080': {}}}\n"))
	f.Add([]byte("kind: ServiceEntry\nspec: {ports: [{number: '80', targetPort: 0x50, name: a}], location: 1}\n"))
	f.Add([]byte("rootNamespace: x\nenableAutoMtls: false\noutboundTrafficPolicy: {}\ndefaultConfig: {concurrency: '2'}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		var root yaml.Node
		if parseYAML(src, &root) != nil {
			return
		}
		if n, k := specOf(&root); n != nil {
			checkProtoSet(t, k, n)
		}
	})
}

// randomSpec writes a random YAML value for md: some of its fields (by
// JSON or proto name), with values of every spelling that the walk and
// protojson may read differently (integers in hex, as strings, with a
// sign or leading zero, floats, YAML 1.1 booleans, nulls, empty
// collections, enum names and numbers).
func randomSpec(r *rand.Rand, b *strings.Builder, md protoreflect.MessageDescriptor, depth int) {
	scalars := []string{"1", "'1'", "0x10", "-1", "+2", "1.0", "1.5", "1_0", "'01'", "'+1'", "4294967296", "true", "yes", "null", "~",
		"{}", "[]", "x", "'x'", "\"\\u00e9\"", "1s", "'1.5s'", "2024-01-01T00:00:00Z", "0", "''"}
	fields := md.Fields()
	if fields.Len() == 0 || depth > 3 {
		b.WriteString("{}")
		return
	}
	b.WriteString("{")
	for i := range 1 + r.IntN(4) {
		fd := fields.Get(r.IntN(fields.Len()))
		if i > 0 {
			b.WriteString(", ")
		}
		name := fd.JSONName()
		if r.IntN(4) == 0 {
			name = string(fd.Name())
		}
		b.WriteString(name + ": ")
		value := func(fd protoreflect.FieldDescriptor) {
			switch {
			case r.IntN(8) == 0:
				b.WriteString(scalars[r.IntN(len(scalars))])
			case fd.Kind() == protoreflect.MessageKind:
				randomSpec(r, b, fd.Message(), depth+1)
			case fd.Kind() == protoreflect.EnumKind && r.IntN(2) == 0:
				vals := fd.Enum().Values()
				v := vals.Get(r.IntN(vals.Len()))
				if r.IntN(3) == 0 {
					b.WriteString(strconv.Itoa(int(v.Number())))
				} else {
					b.WriteString(string(v.Name()))
				}
			default:
				b.WriteString(scalars[r.IntN(len(scalars))])
			}
		}
		switch {
		case fd.IsMap():
			b.WriteString("{")
			for j := range r.IntN(3) {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString([]string{"'1'", "'01'", "'+1'", "a", "'true'", "'-2'", "'4294967296'"}[r.IntN(7)] + ": ")
				value(fd.MapValue())
			}
			b.WriteString("}")
		case fd.IsList():
			b.WriteString("[")
			for j := range r.IntN(3) {
				if j > 0 {
					b.WriteString(", ")
				}
				value(fd)
			}
			b.WriteString("]")
		default:
			value(fd)
		}
	}
	b.WriteString("}")
}

// TestProtoSetRandom compares setMessage with protojson on random specs of
// every kind.
func TestProtoSetRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	n, direct := 3000, 0
	if testing.Short() {
		n = 300
	}
	for i := range n {
		k := i % len(protoKinds)
		var b strings.Builder
		randomSpec(r, &b, protoKinds[k].msg().ProtoReflect().Descriptor(), 0)
		var root yaml.Node
		if err := parseYAML([]byte(b.String()), &root); err != nil {
			t.Fatalf("random spec %q: %v", b.String(), err)
		}
		if checkProtoSet(t, k, root.Content[0]) {
			direct++
		}
	}
	if direct < n/20 {
		t.Errorf("setMessage decoded %d of %d random specs, want at least 5%%", direct, n)
	}
	t.Logf("setMessage decoded %d of %d random specs", direct, n)
}
