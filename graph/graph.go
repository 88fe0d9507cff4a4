// Package graph is a directed graph with labelled edges, built on gonum.
//
// A [Graph] maps caller-chosen node values (any comparable type) to gonum's
// int64 IDs, so nobody outside this package handles gonum IDs or iterators.
// Algorithms come from gonum: breadth-first search ([gonum.org/v1/gonum/graph/traverse]),
// strongly connected components ([gonum.org/v1/gonum/graph/topo]) and DOT
// ([gonum.org/v1/gonum/graph/encoding/dot]).
//
// # Determinism
//
// gonum's simple graphs iterate maps. Graph wraps them so that nodes and
// successors are visited in insertion order, and so every result (paths,
// reachable sets, components, DOT) is the same on every run for the same
// sequence of insertions.
//
// The package knows nothing about Istio, YAML or meshes.
package graph

import (
	"slices"

	gg "gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/encoding"
	"gonum.org/v1/gonum/graph/encoding/dot"
	"gonum.org/v1/gonum/graph/iterator"
	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/topo"
	"gonum.org/v1/gonum/graph/traverse"
)

// Graph is a directed graph whose nodes are values of type N and whose
// edges carry a label of type E. At most one edge goes from a node to
// another. The zero value is an empty graph ready to use. A Graph is not
// safe for concurrent mutation; once built, concurrent readers are safe.
type Graph[N comparable, E any] struct {
	g      *simple.DirectedGraph
	ids    map[N]int64
	nodes  []N            // by ID
	succ   [][]int64      // by ID, insertion order
	pred   [][]int64      // by ID, insertion order
	labels map[[2]int64]E // edge labels
}

func (g *Graph[N, E]) init() {
	if g.g == nil {
		g.g = simple.NewDirectedGraph()
		g.ids = map[N]int64{}
		g.labels = map[[2]int64]E{}
	}
}

// AddNode adds n if it is not in the graph yet, and returns nothing either
// way: adding is idempotent.
func (g *Graph[N, E]) AddNode(n N) { g.id(n) }

func (g *Graph[N, E]) id(n N) int64 {
	g.init()
	if id, ok := g.ids[n]; ok {
		return id
	}
	id := int64(len(g.nodes))
	g.ids[n] = id
	g.nodes = append(g.nodes, n)
	g.succ = append(g.succ, nil)
	g.pred = append(g.pred, nil)
	g.g.AddNode(simple.Node(id))
	return id
}

// SetEdge adds the edge from → to with the given label, adding missing
// nodes, or replaces the label of an existing edge. Self-loops are ignored:
// a workload reaching itself says nothing about lateral movement.
func (g *Graph[N, E]) SetEdge(from, to N, label E) {
	f, t := g.id(from), g.id(to)
	if f == t {
		return
	}
	k := [2]int64{f, t}
	if _, ok := g.labels[k]; !ok {
		g.g.SetEdge(simple.Edge{F: simple.Node(f), T: simple.Node(t)})
		g.succ[f] = append(g.succ[f], t)
		g.pred[t] = append(g.pred[t], f)
	}
	g.labels[k] = label
}

// Edge returns the label of the edge from → to; ok is false when there is
// none.
func (g *Graph[N, E]) Edge(from, to N) (label E, ok bool) {
	f, okf := g.ids[from]
	t, okt := g.ids[to]
	if !okf || !okt {
		return label, false
	}
	label, ok = g.labels[[2]int64{f, t}]
	return label, ok
}

// Has reports whether n is a node of the graph.
func (g *Graph[N, E]) Has(n N) bool {
	_, ok := g.ids[n]
	return ok
}

// Len returns the number of nodes.
func (g *Graph[N, E]) Len() int { return len(g.nodes) }

// Nodes returns the nodes in insertion order.
func (g *Graph[N, E]) Nodes() []N { return slices.Clone(g.nodes) }

// Successors returns the nodes n has an edge to, in insertion order of the
// edges; nil when n has none or is not in the graph.
func (g *Graph[N, E]) Successors(n N) []N { return g.values(n, g.succ) }

// Predecessors returns the nodes that have an edge to n, in insertion order
// of the edges; nil when none or n is not in the graph.
func (g *Graph[N, E]) Predecessors(n N) []N { return g.values(n, g.pred) }

func (g *Graph[N, E]) values(n N, adj [][]int64) []N {
	id, ok := g.ids[n]
	if !ok || len(adj[id]) == 0 {
		return nil
	}
	out := make([]N, len(adj[id]))
	for i, x := range adj[id] {
		out[i] = g.nodes[x]
	}
	return out
}

// keepFunc adapts a label filter to gonum's edge filter. A nil keep keeps
// every edge.
func (g *Graph[N, E]) keepFunc(keep func(E) bool) func(gg.Edge) bool {
	return func(e gg.Edge) bool {
		if keep == nil {
			return true
		}
		return keep(g.labels[[2]int64{e.From().ID(), e.To().ID()}])
	}
}

// Reachable returns the nodes reachable from `from` over edges whose label
// keep accepts (nil keeps all), in breadth-first order, not including from
// itself. It returns nil when from is not in the graph.
func (g *Graph[N, E]) Reachable(from N, keep func(E) bool) []N {
	start, ok := g.ids[from]
	if !ok {
		return nil
	}
	var out []N
	bf := traverse.BreadthFirst{
		Traverse: g.keepFunc(keep),
		Visit: func(n gg.Node) {
			if n.ID() != start {
				out = append(out, g.nodes[n.ID()])
			}
		},
	}
	bf.Walk(ordered[N, E]{g}, simple.Node(start), nil)
	return out
}

// Path returns a path with the fewest hops from `from` to `to` over edges
// whose label keep accepts (nil keeps all), both ends included; nil if there
// is none. Among equally short paths it returns the one that follows the
// earliest-inserted edges.
func (g *Graph[N, E]) Path(from, to N, keep func(E) bool) []N {
	f, okf := g.ids[from]
	t, okt := g.ids[to]
	if !okf || !okt {
		return nil
	}
	if f == t {
		return []N{from}
	}
	parent := map[int64]int64{}
	filter := g.keepFunc(keep)
	bf := traverse.BreadthFirst{
		// Traverse is called before gonum checks whether the node was
		// visited; in BFS order the first accepted edge into an unseen node
		// is the one that visits it.
		Traverse: func(e gg.Edge) bool {
			if !filter(e) {
				return false
			}
			to := e.To().ID()
			if _, seen := parent[to]; !seen && to != f {
				parent[to] = e.From().ID()
			}
			return true
		},
	}
	found := bf.Walk(ordered[N, E]{g}, simple.Node(f), func(n gg.Node, _ int) bool { return n.ID() == t })
	if found == nil {
		return nil
	}
	var rev []N
	for id := t; id != f; id = parent[id] {
		rev = append(rev, g.nodes[id])
	}
	rev = append(rev, from)
	slices.Reverse(rev)
	return rev
}

// Components returns the strongly connected components with more than one
// node (groups that can all reach each other), each in insertion order,
// ordered by their first node.
func (g *Graph[N, E]) Components(keep func(E) bool) [][]N {
	var view gg.Directed = ordered[N, E]{g}
	if keep != nil {
		view = filtered[N, E]{ordered[N, E]{g}, keep}
	}
	var out [][]N
	for _, scc := range topo.TarjanSCC(view) {
		if len(scc) < 2 {
			continue
		}
		ids := make([]int64, len(scc))
		for i, n := range scc {
			ids[i] = n.ID()
		}
		slices.Sort(ids)
		c := make([]N, len(ids))
		for i, id := range ids {
			c[i] = g.nodes[id]
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b []N) int { return int(g.ids[a[0]] - g.ids[b[0]]) })
	return out
}

// Attr is one DOT attribute.
type Attr struct{ Key, Value string }

// DOT renders the graph in Graphviz DOT. node gives each node's DOT ID
// (quoted as needed by the encoder) and edge its attributes; an edge for
// which edge returns nil attributes and drop=true is left out.
func (g *Graph[N, E]) DOT(name string, node func(N) string, edge func(E) (attrs []Attr, drop bool)) ([]byte, error) {
	out := simple.NewDirectedGraph()
	for id, n := range g.nodes {
		out.AddNode(dotNode{id: int64(id), name: node(n)})
	}
	for id := range g.nodes {
		for _, t := range g.succ[id] {
			attrs, drop := edge(g.labels[[2]int64{int64(id), t}])
			if drop {
				continue
			}
			out.SetEdge(dotEdge{f: out.Node(int64(id)), t: out.Node(t), attrs: attrs})
		}
	}
	return dot.Marshal(out, name, "", "  ")
}

type dotNode struct {
	id   int64
	name string
}

func (n dotNode) ID() int64     { return n.id }
func (n dotNode) DOTID() string { return n.name }

type dotEdge struct {
	f, t  gg.Node
	attrs []Attr
}

func (e dotEdge) From() gg.Node         { return e.f }
func (e dotEdge) To() gg.Node           { return e.t }
func (e dotEdge) ReversedEdge() gg.Edge { return dotEdge{f: e.t, t: e.f, attrs: e.attrs} }
func (e dotEdge) Attributes() []encoding.Attribute {
	out := make([]encoding.Attribute, len(e.attrs))
	for i, a := range e.attrs {
		out[i] = encoding.Attribute{Key: a.Key, Value: a.Value}
	}
	return out
}

// ordered is a read-only view of a Graph whose iterators follow insertion
// order instead of gonum's map order.
type ordered[N comparable, E any] struct{ g *Graph[N, E] }

var _ gg.Directed = ordered[string, int]{}

func (o ordered[N, E]) Node(id int64) gg.Node { return o.g.g.Node(id) }

func (o ordered[N, E]) Nodes() gg.Nodes {
	ns := make([]gg.Node, len(o.g.nodes))
	for i := range ns {
		ns[i] = simple.Node(int64(i))
	}
	return iterator.NewOrderedNodes(ns)
}

func (o ordered[N, E]) From(id int64) gg.Nodes { return o.list(id, o.g.succ) }
func (o ordered[N, E]) To(id int64) gg.Nodes   { return o.list(id, o.g.pred) }

func (o ordered[N, E]) list(id int64, adj [][]int64) gg.Nodes {
	if id < 0 || id >= int64(len(adj)) || len(adj[id]) == 0 {
		return gg.Empty
	}
	ns := make([]gg.Node, len(adj[id]))
	for i, x := range adj[id] {
		ns[i] = simple.Node(x)
	}
	return iterator.NewOrderedNodes(ns)
}

func (o ordered[N, E]) HasEdgeBetween(x, y int64) bool { return o.g.g.HasEdgeBetween(x, y) }
func (o ordered[N, E]) HasEdgeFromTo(u, v int64) bool  { return o.g.g.HasEdgeFromTo(u, v) }
func (o ordered[N, E]) Edge(u, v int64) gg.Edge        { return o.g.g.Edge(u, v) }

// filtered hides the edges whose label keep rejects.
type filtered[N comparable, E any] struct {
	ordered[N, E]
	keep func(E) bool
}

func (f filtered[N, E]) ok(u, v int64) bool {
	l, has := f.g.labels[[2]int64{u, v}]
	return has && f.keep(l)
}

func (f filtered[N, E]) From(id int64) gg.Nodes { return f.sel(id, f.g.succ, false) }
func (f filtered[N, E]) To(id int64) gg.Nodes   { return f.sel(id, f.g.pred, true) }

func (f filtered[N, E]) sel(id int64, adj [][]int64, rev bool) gg.Nodes {
	if id < 0 || id >= int64(len(adj)) {
		return gg.Empty
	}
	var ns []gg.Node
	for _, x := range adj[id] {
		u, v := id, x
		if rev {
			u, v = x, id
		}
		if f.ok(u, v) {
			ns = append(ns, simple.Node(x))
		}
	}
	if len(ns) == 0 {
		return gg.Empty
	}
	return iterator.NewOrderedNodes(ns)
}

func (f filtered[N, E]) HasEdgeBetween(x, y int64) bool { return f.ok(x, y) || f.ok(y, x) }
func (f filtered[N, E]) HasEdgeFromTo(u, v int64) bool  { return f.ok(u, v) }
func (f filtered[N, E]) Edge(u, v int64) gg.Edge {
	if !f.ok(u, v) {
		return nil
	}
	return f.g.g.Edge(u, v)
}
