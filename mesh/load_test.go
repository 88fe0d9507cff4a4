package mesh_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/internal/golden"
	"github.com/meshreach/meshreach/mesh"
)

// render prints every modelled field of m, one object per line, so that a
// golden file shows exactly what the loader produced.
func render(m *mesh.Mesh) string {
	var b strings.Builder
	c := m.Config()
	fmt.Fprintf(&b, "config root=%s outbound=%s autoMTLS=%t serviceExportTo=%s drExportTo=%s trustDomain=%s aliases=%s @%s\n",
		c.RootNamespace, c.Outbound, c.EnableAutoMTLS, list(c.DefaultServiceExportTo), list(c.DefaultDestinationRuleExportTo),
		c.TrustDomain, list(c.TrustDomainAliases), at(c.Pos))
	i := c.Injection
	fmt.Fprintf(&b, "injection policy=%q revisions=%s nsByDefault=%t never=%s always=%s @%s\n",
		i.Policy, list(i.Revisions), i.EnableNamespacesByDefault, selectors(i.NeverInjectSelector), selectors(i.AlwaysInjectSelector), at(i.Pos))
	for _, n := range m.Namespaces() {
		fmt.Fprintf(&b, "namespace %s labels=%v annotations=%v @%s\n", n.Name, n.Labels, n.Annotations, at(n.Pos))
	}
	for _, w := range m.Workloads() {
		obs := "nil"
		if w.Observed != nil {
			obs = fmt.Sprint(*w.Observed)
		}
		fmt.Fprintf(&b, "workload %s %s labels=%v annotations=%v sa=%q hostNetwork=%t ports=%v observed=%s appMTLS=%t ip=%q @%s\n",
			w.ID, w.Kind, w.Labels, w.Annotations, w.ServiceAccount, w.HostNetwork, w.Ports, obs, w.AppMTLS, w.IP, w.Pos)
	}
	for _, s := range m.Services() {
		fmt.Fprintf(&b, "service %s selector=%s ports=%+v headless=%t clusterIP=%q exportTo=%s labels=%v @%s\n",
			s.Ref, sel(s.Selector), s.Ports, s.Headless, s.ClusterIP, list(s.ExportTo), s.Labels, s.Pos)
	}
	for _, s := range m.ServiceEntries() {
		fmt.Fprintf(&b, "serviceentry %s hosts=%q addresses=%q ports=%+v meshInternal=%t resolution=%s exportTo=%s selector=%s created=%s @%s\n",
			s.Ref, s.Hosts, s.Addresses, s.Ports, s.MeshInternal, s.Resolution, list(s.ExportTo), sel(s.WorkloadSelector), stamp(s.Created), s.Pos)
	}
	for _, s := range m.Sidecars() {
		fmt.Fprintf(&b, "sidecar %s selector=%s outbound=%q created=%s @%s\n", s.Ref, sel(s.Selector), s.Outbound, stamp(s.Created), s.Pos)
		for _, e := range s.Egress {
			port := "catch-all"
			if e.Port != nil {
				port = fmt.Sprintf("%+v", *e.Port)
			}
			fmt.Fprintf(&b, "  egress port=%s bind=%q capture=%s hosts=%q @%s\n", port, e.Bind, e.CaptureMode, e.Hosts, e.Pos)
		}
		for _, in := range s.Ingress {
			fmt.Fprintf(&b, "  ingress port=%+v bind=%q capture=%s defaultEndpoint=%q @%s\n", in.Port, in.Bind, in.CaptureMode, in.DefaultEndpoint, in.Pos)
		}
	}
	for _, p := range m.PeerAuthentications() {
		fmt.Fprintf(&b, "peerauthentication %s selector=%s mode=%s ports=%v created=%s @%s\n", p.Ref, sel(p.Selector), p.Mode, p.PortModes, stamp(p.Created), p.Pos)
	}
	for _, d := range m.DestinationRules() {
		fmt.Fprintf(&b, "destinationrule %s host=%s exportTo=%s selector=%s policy=%s created=%s @%s\n",
			d.Ref, d.Host, list(d.ExportTo), sel(d.Selector), policy(d.TrafficPolicy), stamp(d.Created), d.Pos)
		for _, s := range d.Subsets {
			fmt.Fprintf(&b, "  subset %s labels=%v policy=%s\n", s.Name, s.Labels, policy(s.TrafficPolicy))
		}
	}
	for _, p := range m.AuthorizationPolicies() {
		fmt.Fprintf(&b, "authorizationpolicy %s action=%s provider=%q selector=%s targetRefs=%+v dryRun=%t rules=%d created=%s @%s\n",
			p.Ref, p.Action, p.Provider, sel(p.Selector), p.TargetRefs, p.DryRun, len(p.Rules), stamp(p.Created), p.Pos)
		for i, r := range p.Rules {
			fmt.Fprintf(&b, "  rule %d @%s\n", i, r.Pos)
			for _, f := range r.From {
				fmt.Fprintf(&b, "    from %+v\n", f)
			}
			for _, t := range r.To {
				fmt.Fprintf(&b, "    to %+v\n", t)
			}
			for _, c := range r.When {
				fmt.Fprintf(&b, "    when %+v\n", c)
			}
		}
	}
	for _, w := range m.Warnings() {
		fmt.Fprintf(&b, "warning %s\n", w)
	}
	return b.String()
}

// list renders a nil slice as "unset", unlike an empty one.
func list(s []string) string {
	if s == nil {
		return "unset"
	}
	return fmt.Sprintf("%q", s)
}

func at(p mesh.Pos) string {
	if s := p.String(); s != "" {
		return s
	}
	return "-"
}

func sel(m map[string]string) string {
	if m == nil {
		return "none"
	}
	return fmt.Sprint(m)
}

func stamp(t interface{ IsZero() bool }) string {
	if t.IsZero() {
		return "-"
	}
	return fmt.Sprint(t)
}

func policy(p *mesh.TrafficPolicy) string {
	if p == nil {
		return "none"
	}
	s := fmt.Sprintf("{tls=%q passthrough=%t", p.TLS, p.LBPassthrough)
	for _, pl := range p.PortLevel {
		s += fmt.Sprintf(" port%d.tls=%q", pl.Port, pl.TLS)
	}
	return s + "}"
}

func selectors(ls []mesh.LabelSelector) string {
	var parts []string
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("%v%+v", l.MatchLabels, l.MatchExpressions))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// parseFile loads one fixture with its base name in positions.
func parseFile(t *testing.T, path string) (*mesh.Mesh, error) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return mesh.Parse(filepath.Base(path), src)
}

func fixtures(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, ext := range []string{"*.yaml", "*.json"} {
		m, err := filepath.Glob(filepath.Join("testdata", dir, ext))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no fixtures in testdata/%s", dir)
	}
	return files
}

// TestGood loads each testdata/good fixture and compares everything it
// modelled with testdata/good/<name>.golden (rewritten with -update).
func TestGood(t *testing.T) {
	for _, f := range fixtures(t, "good") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if !golden.Updating() {
				t.Parallel()
			}
			m, err := parseFile(t, f)
			if err != nil {
				var l mesh.ErrorList
				errors.As(err, &l)
				t.Fatalf("load failed:\n%s", l.Full())
			}
			golden.Check(t, strings.TrimSuffix(f, filepath.Ext(f))+".golden", []byte(render(m)))
		})
	}
}

// sentinels maps the names used in "# is:" lines.
var sentinels = map[string]error{
	"ErrSyntax":       mesh.ErrSyntax,
	"ErrUnknownField": mesh.ErrUnknownField,
	"ErrInvalidValue": mesh.ErrInvalidValue,
	"ErrMissingField": mesh.ErrMissingField,
	"ErrDuplicate":    mesh.ErrDuplicate,
}

// TestBad loads each testdata/bad fixture: its leading "# want: " lines
// are the full error list, in order; its "# is: " line names the sentinels
// the entries wrap (each entry wraps one of them, each is wrapped by one).
func TestBad(t *testing.T) {
	for _, f := range fixtures(t, "bad") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			want, is := expectations(t, f)
			_, err := parseFile(t, f)
			var l mesh.ErrorList
			if !errors.As(err, &l) {
				t.Fatalf("error %v (%T) is not an ErrorList", err, err)
			}
			var got []string
			for _, e := range l {
				got = append(got, e.Error())
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
			for _, name := range is {
				if !errors.Is(err, sentinels[name]) {
					t.Errorf("errors.Is(err, mesh.%s) = false", name)
				}
			}
			for _, e := range l {
				if !slices.ContainsFunc(is, func(name string) bool { return errors.Is(e, sentinels[name]) }) {
					t.Errorf("%q wraps none of %v", e, is)
				}
				if e.Pos.File == "" {
					t.Errorf("%q has no file", e)
				}
			}
		})
	}
}

func expectations(t *testing.T, path string) (want, is []string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# want: "):
			want = append(want, strings.TrimPrefix(line, "# want: "))
		case strings.HasPrefix(line, "# is: "):
			is = strings.Fields(strings.TrimPrefix(line, "# is: "))
		case strings.HasPrefix(line, "#"):
		default:
			if len(want) == 0 || len(is) == 0 {
				t.Fatalf("%s: starts with no \"# want:\" or \"# is:\" line", path)
			}
			for _, name := range is {
				if sentinels[name] == nil {
					t.Fatalf("%s: unknown sentinel %q", path, name)
				}
			}
			return want, is
		}
	}
	t.Fatalf("%s: no manifest after the expectations", path)
	return nil, nil
}

// summary lists the objects of m by kind and reference, with workloads'
// injection observation and IP.
func summary(m *mesh.Mesh) []string {
	var out []string
	for _, n := range m.Namespaces() {
		out = append(out, "Namespace "+n.Name)
	}
	for _, w := range m.Workloads() {
		obs := "nil"
		if w.Observed != nil {
			obs = fmt.Sprint(*w.Observed)
		}
		out = append(out, fmt.Sprintf("%s observed=%s ip=%s", w.Ref(), obs, w.IP))
	}
	for _, s := range m.Services() {
		out = append(out, s.Ref.String())
	}
	for _, s := range m.Sidecars() {
		out = append(out, s.Ref.String())
	}
	return out
}

// TestLoadDir reads a directory tree: *.yaml, *.yml and *.json at any
// depth, not README.md or extra.txt, not the hidden directory; the Pod in
// pods.json folds into the Deployment of deployment.yml.
func TestLoadDir(t *testing.T) {
	t.Parallel()
	m, err := mesh.Load("testdata/dir")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Namespace shop", "Deployment shop/web observed=true ip=10.1.0.7"}
	if d := cmp.Diff(want, summary(m)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	w, _ := m.Workload(mesh.WorkloadID{Namespace: "shop", Name: "web"})
	if got, want := w.Pos.String(), filepath.Join("testdata", "dir", "apps", "deployment.yml")+":1"; got != want {
		t.Errorf("workload position %q, want %q (the path as given, joined)", got, want)
	}
}

// TestLoadPaths: a file named explicitly is read whatever its extension,
// a path given twice is read once, and a missing path is an error naming it.
func TestLoadPaths(t *testing.T) {
	t.Parallel()
	m, err := mesh.Load("testdata/dir/extra.txt", "testdata/dir/namespaces.yaml", "testdata/dir/./namespaces.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"Namespace extra", "Namespace shop"}, summary(m)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}

	_, err = mesh.Load("testdata/dir/namespaces.yaml", "testdata/nope")
	var l mesh.ErrorList
	if !errors.As(err, &l) || len(l) != 1 || l[0].Pos.File != "testdata/nope" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing path: %v, want one entry for testdata/nope wrapping fs.ErrNotExist", err)
	}
}

func TestLoadFS(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"a/ns.yaml":         {Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")},
		"a/sc.yml":          {Data: []byte(sidecarHead + "spec: {egress: [{hosts: ['./*']}]}\n")},
		"b/c/svc.json":      {Data: []byte(`{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "a"}, "spec": {"ports": [{"port": 80}]}}`)},
		"b/notes.md":        {Data: []byte("# not read")},
		".git/config.yaml":  {Data: []byte("{{ not yaml")},
		"b/.cache/bad.yaml": {Data: []byte("{{ not yaml")},
	}
	tests := []struct {
		name     string
		patterns []string
		want     []string
		wantErr  string
	}{
		{name: "whole FS", want: []string{"Namespace a", "Service a/s", "Sidecar ns/s"}},
		{name: "glob", patterns: []string{"a/*.yaml"}, want: []string{"Namespace a"}},
		{name: "directory", patterns: []string{"b"}, want: []string{"Namespace a", "Service a/s"}},
		{name: "glob and directory overlap", patterns: []string{"a/*", "a"}, want: []string{"Namespace a", "Sidecar ns/s"}},
		{name: "no match", patterns: []string{"a", "c/*.yaml"}, wantErr: `c/*.yaml: no file matches "c/*.yaml"`},
		{name: "bad pattern", patterns: []string{"["}, wantErr: "[: syntax error in pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := mesh.LoadFS(fsys, tt.patterns...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("LoadFS(%q) error = %v, want %q", tt.patterns, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, summary(m)); d != "" {
				t.Errorf("LoadFS(%q) (-want +got):\n%s", tt.patterns, d)
			}
		})
	}
}

// TestLoadStdin reads "-" from os.Stdin (not parallel: it swaps os.Stdin).
func TestLoadStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old }()
	go func() {
		w.Write([]byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Bad\n"))
		w.Close()
	}()
	_, err = mesh.Load("-")
	want := []string{`<stdin>:4: Namespace Bad: metadata.name: invalid value "Bad" (want a lower-case RFC 1123 label)`}
	if d := cmp.Diff(want, errorTexts(t, err)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseReader(t *testing.T) {
	t.Parallel()
	m, err := mesh.ParseReader("in.yaml", strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := m.Namespace("a"); !ok || n.Pos.String() != "in.yaml:1" {
		t.Errorf("namespace a = %+v, %t; want it at in.yaml:1", n, ok)
	}
	_, err = mesh.ParseReader("in.yaml", failingReader{})
	if d := cmp.Diff([]string{"in.yaml: disk on fire"}, errorTexts(t, err)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestFoldAcrossCalls: pods fold into their controller whatever the order
// of AddManifest calls, also after a Build, and into workloads added in code.
func TestFoldAcrossCalls(t *testing.T) {
	t.Parallel()
	pod := func(name, ip string) string {
		return `apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
  namespace: shop
  labels: {app: web, pod-template-hash: 6c9d}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-6c9d, controller: true}]
spec: {containers: [{name: web, image: web}, {name: istio-proxy, image: proxyv2}]}
status: {phase: Running, podIP: ` + ip + `}
`
	}
	deployment := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web}]}}}\n"

	var b mesh.Builder
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.AddManifest("pods.yaml", []byte(pod("web-6c9d-b", "10.0.0.2"))))
	must(b.AddManifest("deploy.yaml", []byte(deployment)))
	m, err := b.Build()
	must(err)
	want := []string{"Namespace shop", "Deployment shop/web observed=true ip=10.0.0.2"}
	if d := cmp.Diff(want, summary(m)); d != "" {
		t.Errorf("pod before its Deployment (-want +got):\n%s", d)
	}
	w, _ := m.Workload(mesh.WorkloadID{Namespace: "shop", Name: "web"})
	if w.Pos.String() != "deploy.yaml:1" || w.Labels["pod-template-hash"] != "" {
		t.Errorf("workload %+v: want the Deployment's position and template", w)
	}

	// A later pod with a smaller name joins the built workload without
	// changing its IP (the first pod seen keeps it).
	must(b.AddManifest("more.yaml", []byte(pod("web-6c9d-a", "10.0.0.1"))))
	m, err = b.Build()
	must(err)
	if d := cmp.Diff(want, summary(m)); d != "" {
		t.Errorf("pod after Build (-want +got):\n%s", d)
	}

	var c mesh.Builder
	c.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: "shop", Name: "web"}, Kind: "Deployment"})
	must(c.AddManifest("pods.yaml", []byte(pod("web-6c9d-b", "10.0.0.2"))))
	m, err = c.Build()
	must(err)
	if d := cmp.Diff(want, summary(m)); d != "" {
		t.Errorf("pod of a workload built in code (-want +got):\n%s", d)
	}
}

// TestDocuments covers how a file is cut into documents: markers, CRLF
// line ends, a byte-order mark, comment-only and empty documents, and the
// document index positions carry.
func TestDocuments(t *testing.T) {
	t.Parallel()
	const bad = "apiVersion: v1\nkind: Namespace\nmetadata: {name: Bad}\n"
	tests := []struct {
		name, reason, src string
		want              []string // errors
	}{{
		name:   "leading marker and comments",
		reason: "a comment-only preamble and the first --- belong to document 1",
		src:    "# header\n---\n" + bad,
		want:   []string{`t.yaml:5: Namespace Bad: metadata.name: invalid value "Bad" (want a lower-case RFC 1123 label)`},
	}, {
		name:   "empty documents",
		reason: "empty documents are dropped and do not count",
		src:    "---\n---\n# nothing\n---\n" + bad + "---\n",
		want:   []string{`t.yaml:7: Namespace Bad: metadata.name: invalid value "Bad" (want a lower-case RFC 1123 label)`},
	}, {
		name:   "CRLF and BOM",
		reason: "Windows line ends and a UTF-8 byte-order mark are read as YAML allows",
		src:    "\ufeff" + strings.ReplaceAll("apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\n"+bad, "\n", "\r\n"),
		want:   []string{`t.yaml:7: Namespace Bad: metadata.name: invalid value "Bad" (want a lower-case RFC 1123 label)`},
	}, {
		name:   "document end marker",
		reason: "... ends a document; what follows is the next one",
		src:    "apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n...\n" + bad,
		want:   []string{`t.yaml:7: Namespace Bad: metadata.name: invalid value "Bad" (want a lower-case RFC 1123 label)`},
	}, {
		name:   "content on the marker line",
		reason: "--- may be followed by the document's first node",
		src:    "--- {apiVersion: v1, kind: Namespace, metadata: {name: ok}}\n--- " + strings.ReplaceAll(bad, "\n", " ") + "\n",
		want:   []string{"t.yaml:2: syntax error: mapping values are not allowed in this context"},
	}, {
		name:   "directive",
		reason: "a %YAML directive belongs to the document after it",
		src:    "%YAML 1.1\n---\n" + bad,
		want:   []string{`t.yaml:5: Namespace Bad: metadata.name: invalid value "Bad" (want a lower-case RFC 1123 label)`},
	}, {
		name:   "YAML 1.2 directive",
		reason: "yaml.v3, like the YAML 1.1 parser kubectl uses, refuses other versions",
		src:    bad + "---\n%YAML 1.2\n---\n" + bad,
		want: []string{
			`t.yaml:3: Namespace Bad: metadata.name: invalid value "Bad" (want a lower-case RFC 1123 label)`,
			"t.yaml:5: syntax error: found incompatible YAML document",
		},
	}, {
		name:   "document index",
		reason: "every error of a document carries its 1-based index",
		src:    "apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\n" + bad,
		want:   []string{`t.yaml:7: Namespace Bad: metadata.name: invalid value "Bad" (want a lower-case RFC 1123 label)`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := mesh.Parse("t.yaml", []byte(tt.src))
			if d := cmp.Diff(tt.want, errorTexts(t, err)); d != "" {
				t.Errorf("%s (-want +got):\n%s", tt.reason, d)
			}
		})
	}
	_, err := mesh.Parse("t.yaml", []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\n"+bad))
	var l mesh.ErrorList
	if errors.As(err, &l); len(l) != 1 || l[0].Pos.Doc != 2 {
		t.Errorf("Pos of the error in the second document = %+v, want Doc 2", l)
	}
}

// TestAliasBomb: merge keys that expand exponentially ("billion laughs")
// stop at the per-document node budget with an error, not after 9^8 visits.
func TestAliasBomb(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Namespace\nstatus:\n  a0: &a0 {k: v}\n")
	for i := 1; i <= 8; i++ {
		refs := strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 8) + fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "  a%d: &a%d {<<: [%s]}\n", i, i, refs)
	}
	b.WriteString("metadata:\n  name: bomb\n  annotations:\n    <<: *a8\n")
	_, err := mesh.Parse("bomb.yaml", []byte(b.String()))
	// Pre-order, the budget's last node falls on a merge key of a1 (line 5):
	// 7 visits before the expansion, then subtrees of 1+9*size(child) nodes.
	want := []string{"bomb.yaml:5: Namespace bomb: syntax error: document too large or too many aliases (more than 1048576 nodes)"}
	if d := cmp.Diff(want, errorTexts(t, err)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
