package sim_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/graph"
	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// render writes every answer of the matrix that does not depend on a
// choice of arguments, for comparing runs.
func render(mx *sim.Matrix) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n", mx.Stats())
	for _, c := range mx.Classes() {
		fmt.Fprintln(&b, "class", c.Namespace, c.Members)
	}
	for c := range mx.Cells(sim.Filter{}) {
		fmt.Fprintf(&b, "%+v\n", c)
	}
	for _, s := range mx.Summary(sim.Filter{}) {
		fmt.Fprintf(&b, "%+v\n", s)
	}
	for _, x := range mx.Exposure(sim.Filter{}) {
		fmt.Fprintf(&b, "%+v\n", x)
	}
	for _, t := range []sim.Transport{sim.NoTransport, sim.Plaintext, sim.MTLS} {
		fmt.Fprintln(&b, t, mx.Components(t))
	}
	ws := mx.Simulator().Mesh().Workloads()
	for i := 0; i < len(ws); i += 7 {
		src := sim.WorkloadNode(ws[i].ID)
		fmt.Fprintf(&b, "%v %+v\n", src, mx.ReachableFrom(src))
		fmt.Fprintf(&b, "%v %+v\n", src, mx.WhoCanReach(src, 0))
		dst := sim.WorkloadNode(ws[(i*31+5)%len(ws)].ID)
		for _, p := range mx.Paths(src, dst, sim.PathOptions{Limit: 3}) {
			fmt.Fprintf(&b, "%+v\n", p)
		}
	}
	g := mx.Graph(sim.Filter{})
	dot, err := g.DOT("mesh", sim.Node.String, func(e sim.Edge) ([]graph.Attr, bool) { return nil, false })
	if err != nil {
		fmt.Fprintln(&b, err)
	}
	b.Write(dot)
	return b.String()
}

// TestDeterministic computes the matrix of one mesh twice, from meshes
// generated and built separately, and expects byte-identical answers.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	build := func() *sim.Matrix {
		m, err := meshgen.Generate(meshgen.Options{Workloads: 140, Seed: 5}).Mesh()
		if err != nil {
			t.Fatal(err)
		}
		return sim.New(m).Matrix()
	}
	a, b := render(build()), render(build())
	if a != b {
		t.Errorf("two runs differ:\n%s", gocmp.Diff(a, b))
	}
}

// keepFor is the edge filter of a transport: every edge that carries
// something, or those t can flow over.
func keepFor(t sim.Transport) func(sim.Edge) bool {
	return func(e sim.Edge) bool {
		if t == sim.NoTransport {
			return e.Transports() != 0
		}
		return e.Transports().Has(t)
	}
}

// allSimplePaths enumerates every simple path from src to dst over edges
// keep accepts with at most maxHops edges, fewest hops first, then in node
// order: the reference Paths must agree with.
func allSimplePaths(g graphOf, src, dst sim.Node, keep func(sim.Edge) bool, maxHops int) [][]sim.Node {
	var out [][]sim.Node
	var walk func(path []sim.Node)
	walk = func(path []sim.Node) {
		last := path[len(path)-1]
		if last == dst {
			out = append(out, slices.Clone(path))
			return
		}
		if len(path)-1 == maxHops {
			return
		}
		for _, n := range g.Successors(last) {
			e, _ := g.Edge(last, n)
			if !keep(e) || slices.Contains(path, n) {
				continue
			}
			walk(append(path, n))
		}
	}
	walk([]sim.Node{src})
	slices.SortFunc(out, func(a, b []sim.Node) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return slices.CompareFunc(a, b, sim.Node.Compare)
	})
	return out
}

// TestPathsAgainstGraph checks Paths against the materialised graph: on
// the seed scenarios, the k shortest paths are the first k of every simple
// path enumerated over the graph's edges; on a generated mesh, the
// shortest path is the graph's own BFS path, and every hop is an edge of
// the graph whose ports include the hop's.
func TestPathsAgainstGraph(t *testing.T) {
	t.Parallel()
	for _, tm := range testMeshes(t, false) {
		t.Run(tm.name, func(t *testing.T) {
			t.Parallel()
			mx := sim.New(tm.m).Matrix()
			g := mx.Graph(sim.Filter{})
			nodes := g.Nodes()
			small := len(nodes) <= 16
			step := 1
			if !small {
				step = len(nodes) / 9
			}
			for _, tr := range []sim.Transport{sim.NoTransport, sim.Plaintext, sim.MTLS} {
				keep := keepFor(tr)
				for i := 0; i < len(nodes); i += step {
					for j := 0; j < len(nodes); j += step {
						src, dst := nodes[i], nodes[(j+i/step)%len(nodes)]
						if src == dst {
							continue
						}
						const k, hops = 6, 4
						got := mx.Paths(src, dst, sim.PathOptions{Transport: tr, Limit: k, MaxHops: hops})
						for _, p := range got {
							checkPath(t, g, p, src, dst, tr, hops)
						}
						var gotNodes [][]sim.Node
						for _, p := range got {
							gotNodes = append(gotNodes, p.Nodes())
						}
						if small {
							want := allSimplePaths(g, src, dst, keep, hops)
							if len(want) > k {
								want = want[:k]
							}
							if d := gocmp.Diff(want, gotNodes); d != "" {
								t.Errorf("Paths(%v, %v, %v) differ from the enumeration (-want +got):\n%s", src, dst, tr, d)
							}
						}
						first := mx.Paths(src, dst, sim.PathOptions{Transport: tr})
						want := g.Path(src, dst, keep)
						var gotFirst []sim.Node
						if len(first) > 0 {
							gotFirst = first[0].Nodes()
						}
						if d := gocmp.Diff(want, gotFirst); d != "" {
							t.Errorf("shortest path %v -> %v over %v differs from the graph's BFS (-graph +Paths):\n%s", src, dst, tr, d)
						}
					}
				}
			}
		})
	}
}

// graphOf is the part of graph.Graph the tests use.
type graphOf interface {
	Successors(sim.Node) []sim.Node
	Edge(from, to sim.Node) (sim.Edge, bool)
}

func checkPath(t *testing.T, g interface {
	Edge(from, to sim.Node) (sim.Edge, bool)
}, p sim.Path, src, dst sim.Node, tr sim.Transport, hops int) {
	t.Helper()
	nodes := p.Nodes()
	if len(p.Hops) == 0 || len(p.Hops) > hops || nodes[0] != src || nodes[len(nodes)-1] != dst {
		t.Errorf("path %v: want 1 to %d hops from %v to %v", nodes, hops, src, dst)
		return
	}
	for i, n := range nodes {
		if slices.Contains(nodes[:i], n) {
			t.Errorf("path %v visits %v twice", nodes, n)
		}
	}
	for _, h := range p.Hops {
		e, ok := g.Edge(h.From, h.To)
		if !ok {
			t.Errorf("path %v uses %v -> %v, which is not an edge of the graph", nodes, h.From, h.To)
			continue
		}
		if len(h.Ports) == 0 {
			t.Errorf("path %v: hop %v -> %v has no port", nodes, h.From, h.To)
		}
		for _, pe := range h.Ports {
			if tr != sim.NoTransport && !pe.Transports.Has(tr) {
				t.Errorf("path %v: hop %v -> %v port %d carries %v, not %v", nodes, h.From, h.To, pe.Port, pe.Transports, tr)
			}
			if !slices.ContainsFunc(e.Ports, func(q sim.PortEdge) bool { return gocmp.Equal(q, pe) }) {
				t.Errorf("path %v: hop %v -> %v port %+v is not among the graph edge's %+v", nodes, h.From, h.To, pe, e.Ports)
			}
		}
	}
}

// TestComponentsAgainstGraph compares Components with the strongly
// connected components gonum finds on the materialised graph.
func TestComponentsAgainstGraph(t *testing.T) {
	t.Parallel()
	for _, tm := range testMeshes(t, false) {
		t.Run(tm.name, func(t *testing.T) {
			t.Parallel()
			mx := sim.New(tm.m).Matrix()
			g := mx.Graph(sim.Filter{})
			for _, tr := range []sim.Transport{sim.NoTransport, sim.Plaintext, sim.MTLS} {
				var want [][]mesh.WorkloadID
				for _, c := range g.Components(keepFor(tr)) {
					var ids []mesh.WorkloadID
					for _, n := range c {
						ids = append(ids, n.Workload)
					}
					want = append(want, ids)
				}
				if d := gocmp.Diff(want, mx.Components(tr)); d != "" {
					t.Errorf("Components(%v) differ from the graph's (-graph +matrix):\n%s", tr, d)
				}
			}
		})
	}
}

// TestReachAgainstCells derives who reaches what from the cells and the
// exposures, and compares WhoCanReach and ReachableFrom with it.
func TestReachAgainstCells(t *testing.T) {
	t.Parallel()
	for _, tm := range testMeshes(t, false) {
		t.Run(tm.name, func(t *testing.T) {
			t.Parallel()
			mx := sim.New(tm.m).Matrix()
			type key struct {
				from, to sim.Node
				port     uint32
			}
			sets := map[key]sim.TransportSet{}
			for c := range mx.Cells(sim.Filter{}) {
				sets[key{sim.WorkloadNode(c.From), c.To, c.Port}] |= c.Transports
			}
			for _, x := range mx.Exposure(sim.Filter{Status: sim.StatusAllowed}) {
				sets[key{sim.OutsideNode(), sim.WorkloadNode(x.Workload), x.Port}] |= sim.TransportSetOf(sim.Plaintext)
			}
			groups := func(match func(k key) (sim.Node, bool)) []sim.ReachGroup {
				by := map[sim.Transport][]sim.Node{}
				for k, s := range sets {
					n, ok := match(k)
					if !ok || k.from == k.to {
						continue
					}
					for _, tr := range s.Transports() {
						if !slices.Contains(by[tr], n) {
							by[tr] = append(by[tr], n)
						}
					}
				}
				var out []sim.ReachGroup
				for _, tr := range []sim.Transport{sim.Plaintext, sim.MTLS, sim.TLS} {
					if len(by[tr]) > 0 {
						slices.SortFunc(by[tr], sim.Node.Compare)
						out = append(out, sim.ReachGroup{Transport: tr, Nodes: by[tr]})
					}
				}
				return out
			}
			ws := tm.m.Workloads()
			for i := 0; i < len(ws); i += max(1, len(ws)/25) {
				n := sim.WorkloadNode(ws[i].ID)
				want := groups(func(k key) (sim.Node, bool) { return k.to, k.from == n })
				if d := gocmp.Diff(want, mx.ReachableFrom(n)); d != "" {
					t.Errorf("ReachableFrom(%v) (-cells +got):\n%s", n, d)
				}
				for _, port := range append([]uint32{0}, portsOf(ws[i])...) {
					want := groups(func(k key) (sim.Node, bool) { return k.from, k.to == n && (port == 0 || k.port == port) })
					if d := gocmp.Diff(want, mx.WhoCanReach(n, port)); d != "" {
						t.Errorf("WhoCanReach(%v, %d) (-cells +got):\n%s", n, port, d)
					}
				}
			}
			want := groups(func(k key) (sim.Node, bool) { return k.to, k.from == sim.OutsideNode() })
			if d := gocmp.Diff(want, mx.ReachableFrom(sim.OutsideNode())); d != "" {
				t.Errorf("ReachableFrom(outside) (-exposures +got):\n%s", d)
			}
		})
	}
}

func portsOf(w mesh.Workload) []uint32 {
	var out []uint32
	for _, p := range w.Ports {
		out = append(out, p.Number)
	}
	return out
}
