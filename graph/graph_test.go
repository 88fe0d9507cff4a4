package graph_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/graph"
	"github.com/meshreach/meshreach/internal/golden"
)

// build returns a graph from "a>b:label" edge specs, inserted in order.
func build(edges ...string) *graph.Graph[string, string] {
	var g graph.Graph[string, string]
	for _, e := range edges {
		from, rest, _ := strings.Cut(e, ">")
		to, label, _ := strings.Cut(rest, ":")
		g.SetEdge(from, to, label)
	}
	return &g
}

func plainOnly(l string) bool { return l == "plain" }

func TestPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		reason   string
		edges    []string
		from, to string
		keep     func(string) bool
		want     []string
	}{
		{
			name: "direct", reason: "one edge is a one-hop path",
			edges: []string{"a>b:mtls"}, from: "a", to: "b", want: []string{"a", "b"},
		},
		{
			name: "fewest hops", reason: "BFS prefers the two-hop path over the three-hop one",
			edges: []string{"a>x:mtls", "x>y:mtls", "y>d:mtls", "a>b:mtls", "b>d:mtls"},
			from:  "a", to: "d", want: []string{"a", "b", "d"},
		},
		{
			name: "tie broken by insertion", reason: "equal-length paths follow the earlier edge",
			edges: []string{"a>c:mtls", "a>b:mtls", "b>d:mtls", "c>d:mtls"},
			from:  "a", to: "d", want: []string{"a", "c", "d"},
		},
		{
			name: "filtered", reason: "edges the filter rejects are not used",
			edges: []string{"a>b:mtls", "b>d:mtls", "a>c:plain", "c>e:plain", "e>d:plain"},
			from:  "a", to: "d", keep: plainOnly, want: []string{"a", "c", "e", "d"},
		},
		{
			name: "none", reason: "no path is nil",
			edges: []string{"a>b:mtls", "c>d:mtls"}, from: "a", to: "d", want: nil,
		},
		{
			name: "wrong direction", reason: "edges are directed",
			edges: []string{"b>a:mtls"}, from: "a", to: "b", want: nil,
		},
		{
			name: "self", reason: "a node reaches itself in zero hops",
			edges: []string{"a>b:mtls"}, from: "a", to: "a", want: []string{"a"},
		},
		{
			name: "unknown node", reason: "nodes not in the graph have no path",
			edges: []string{"a>b:mtls"}, from: "a", to: "zz", want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := build(tt.edges...).Path(tt.from, tt.to, tt.keep)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Path (%s) mismatch (-want +got):\n%s", tt.reason, d)
			}
		})
	}
}

func TestReachable(t *testing.T) {
	t.Parallel()
	g := build("a>b:mtls", "b>c:plain", "a>d:plain", "d>a:plain", "e>a:mtls")
	if d := cmp.Diff([]string{"b", "d", "c"}, g.Reachable("a", nil)); d != "" {
		t.Errorf("Reachable(a) mismatch (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"d"}, g.Reachable("a", plainOnly)); d != "" {
		t.Errorf("Reachable(a, plain) mismatch (-want +got):\n%s", d)
	}
	if got := g.Reachable("zz", nil); got != nil {
		t.Errorf("Reachable(unknown) = %v, want nil", got)
	}
	if d := cmp.Diff([]string{"d", "e"}, g.Predecessors("a")); d != "" {
		t.Errorf("Predecessors(a) mismatch (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"b", "d"}, g.Successors("a")); d != "" {
		t.Errorf("Successors(a) mismatch (-want +got):\n%s", d)
	}
}

func TestEdgeAndNodes(t *testing.T) {
	t.Parallel()
	var g graph.Graph[string, int]
	g.AddNode("lonely")
	g.SetEdge("a", "b", 1)
	g.SetEdge("a", "b", 2) // replaces the label, no second edge
	g.SetEdge("a", "a", 9) // self-loops are ignored
	if l, ok := g.Edge("a", "b"); !ok || l != 2 {
		t.Errorf("Edge(a,b) = %v, %v; want 2, true", l, ok)
	}
	if _, ok := g.Edge("b", "a"); ok {
		t.Error("Edge(b,a) exists; edges are directed")
	}
	if _, ok := g.Edge("a", "a"); ok {
		t.Error("self-loop stored")
	}
	if d := cmp.Diff([]string{"lonely", "a", "b"}, g.Nodes()); d != "" {
		t.Errorf("Nodes mismatch (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"b"}, g.Successors("a")); d != "" {
		t.Errorf("Successors mismatch (-want +got):\n%s", d)
	}
	if !g.Has("lonely") || g.Has("nobody") || g.Len() != 3 {
		t.Errorf("Has/Len wrong: Has(lonely)=%v Has(nobody)=%v Len=%d", g.Has("lonely"), g.Has("nobody"), g.Len())
	}
}

func TestComponents(t *testing.T) {
	t.Parallel()
	g := build("a>b:mtls", "b>a:plain", "c>d:plain", "d>e:plain", "e>c:plain", "b>c:mtls", "f>f:mtls")
	want := [][]string{{"a", "b"}, {"c", "d", "e"}}
	if d := cmp.Diff(want, g.Components(nil)); d != "" {
		t.Errorf("Components mismatch (-want +got):\n%s", d)
	}
	// Without the plaintext edge b→a, a and b no longer reach each other.
	want = [][]string{}
	got := g.Components(func(l string) bool { return l == "mtls" })
	if len(got) != 0 {
		t.Errorf("Components(mtls) = %v, want %v", got, want)
	}
}

func dotOf(g *graph.Graph[string, string]) ([]byte, error) {
	return g.DOT("reach", func(n string) string { return n }, func(l string) ([]graph.Attr, bool) {
		if l == "deny" {
			return nil, true
		}
		style := "solid"
		if l == "plain" {
			style = "dashed"
		}
		return []graph.Attr{{Key: "style", Value: style}}, false
	})
}

func TestDOT(t *testing.T) {
	t.Parallel()
	g := build("shop/web>shop/cart:mtls", "shop/cart>db/pg:plain", "shop/web>db/pg:deny")
	got, err := dotOf(g)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := dotOf(g)
	if !bytes.Equal(got, again) {
		t.Error("DOT output differs between two runs")
	}
	golden.Check(t, "testdata/reach.dot", got)
	if _, err := exec.LookPath("dot"); err != nil {
		t.Log("graphviz dot not installed: output not checked by dot -Tsvg")
		return
	}
	cmd := exec.Command("dot", "-Tsvg")
	cmd.Stdin = bytes.NewReader(got)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("dot -Tsvg rejects the output: %v", err)
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	// Many nodes make gonum's map-order iteration visible if it leaked.
	var edges []string
	for i := 0; i < 40; i++ {
		edges = append(edges, "hub>n"+string(rune('A'+i%26))+string(rune('a'+i/26))+":mtls")
	}
	first := build(edges...).Reachable("hub", nil)
	for i := 0; i < 20; i++ {
		if d := cmp.Diff(first, build(edges...).Reachable("hub", nil)); d != "" {
			t.Fatalf("run %d differs (-first +now):\n%s", i, d)
		}
	}
}
