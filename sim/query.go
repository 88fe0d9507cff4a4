package sim

// Whole-mesh queries over a Matrix: who reaches a workload, what a
// workload reaches, multi-hop paths, exposure to clients outside the mesh,
// strongly connected groups, and the graph itself.

import (
	"slices"

	"github.com/meshreach/meshreach/graph"
	"github.com/meshreach/meshreach/mesh"
)

// PortEdge is what flows from one node to another on one destination port,
// over every Service, ServiceEntry or direct call that leads there.
type PortEdge struct {
	Port uint32 // the container port of the destination; the dialled port for external hosts
	// Transports is the union of the Transports of the cells (or
	// exposures) behind the edge.
	Transports TransportSet
	// Default is the default outcome of the first cell, in Cell order,
	// whose default outcome is allowed; of the first cell if none is.
	Default Outcome
	// Probe reproduces Default: pass it to [Matrix.Probe] for the full
	// trace.
	Probe Probe
}

// Edge is the label of an edge of the reachability graph: every port on
// which something can flow from From to To, sorted by port.
type Edge struct {
	From, To Node
	Ports    []PortEdge
}

// Transports returns the union of the ports' Transports.
func (e Edge) Transports() TransportSet {
	var s TransportSet
	for _, p := range e.Ports {
		s |= p.Transports
	}
	return s
}

// ReachGroup is the part of a reachability answer that one transport can
// flow over.
type ReachGroup struct {
	Transport Transport
	Nodes     []Node // sorted by Node.Compare, no duplicates
}

// WhoCanReach returns the nodes that can reach dest (on container port
// port, or any port when port is 0), grouped by the transports that can
// flow: a client appears in every group whose transport can reach dest.
// The outside client ([OutsideNode]) is listed in the plaintext group when
// dest accepts plaintext from outside the mesh on that port. Groups are in
// Transport order and empty groups are left out; nil for an unknown dest.
func (m *Matrix) WhoCanReach(dest Node, port uint32) []ReachGroup {
	n, ok := m.nodeIndex(dest)
	if !ok || n == m.outside {
		return nil
	}
	var by [TLS + 1][]Node
	for ci, cl := range m.classes {
		var set TransportSet
		for _, si := range m.slotsOfNode[n] {
			if port == 0 || m.slots[si].port == port {
				set |= codeTransports(m.code(int32(ci), si))
			}
		}
		for _, t := range set.Transports() {
			for _, w := range cl.members {
				if w != n {
					by[t] = append(by[t], m.nodes[w])
				}
			}
		}
	}
	if dest.Kind == NodeWorkload {
		for _, x := range m.exposuresOf(n) {
			if (port == 0 || x.port == port) && x.code&codeAllowed != 0 {
				by[Plaintext] = append(by[Plaintext], OutsideNode())
				break
			}
		}
	}
	return groups(by)
}

// groups turns per-transport node lists into sorted, deduplicated groups.
func groups(by [TLS + 1][]Node) []ReachGroup {
	var out []ReachGroup
	for t := Plaintext; t <= TLS; t++ {
		if len(by[t]) == 0 {
			continue
		}
		nodes := by[t]
		slices.SortFunc(nodes, Node.Compare)
		out = append(out, ReachGroup{Transport: t, Nodes: slices.Compact(nodes)})
	}
	return out
}

// ReachableFrom returns the nodes src can reach, grouped as in
// [Matrix.WhoCanReach]. src is a workload or the [OutsideNode]; nil for an
// unknown src.
func (m *Matrix) ReachableFrom(src Node) []ReachGroup {
	n, ok := m.nodeIndex(src)
	if !ok || (src.Kind != NodeWorkload && src.Kind != NodeOutside) {
		return nil
	}
	var by [TLS + 1][]Node
	for _, a := range m.succ(n) {
		if a.node == n {
			continue
		}
		for _, t := range a.set.Transports() {
			by[t] = append(by[t], m.nodes[a.node])
		}
	}
	return groups(by)
}

// PathOptions tunes [Matrix.Paths]. The zero value asks for the one
// shortest path over any transport, of any length.
type PathOptions struct {
	// Transport keeps only edges that this transport can flow over;
	// NoTransport keeps every edge.
	Transport Transport
	// MaxHops bounds the number of edges of a path; 0 means no bound.
	MaxHops int
	// Limit is how many paths to return at most; 0 means 1.
	Limit int
}

// Path is a walk through the reachability graph: Hops[i].To is
// Hops[i+1].From. No node appears twice.
type Path struct {
	Hops []Edge // each edge's Ports are those the path's transport can use
}

// Nodes returns the nodes along the path, both ends included; nil for an
// empty path.
func (p Path) Nodes() []Node {
	if len(p.Hops) == 0 {
		return nil
	}
	out := []Node{p.Hops[0].From}
	for _, h := range p.Hops {
		out = append(out, h.To)
	}
	return out
}

// Paths returns up to opt.Limit simple paths from src to dst, the fewest
// hops first and, among paths of equal length, in lexicographic order of
// their nodes: the ways a compromised src moves laterally to dst through
// what each workload on the way can reach (Yen's k shortest loopless
// paths). src may be the [OutsideNode]; dst may be an [ExternalNode]. nil
// when there is no such path or src equals dst.
func (m *Matrix) Paths(src, dst Node, opt PathOptions) []Path {
	s, ok1 := m.nodeIndex(src)
	d, ok2 := m.nodeIndex(dst)
	if !ok1 || !ok2 || s == d || d == m.outside || opt.MaxHops < 0 {
		return nil
	}
	limit := max(opt.Limit, 1)
	var out []Path
	for _, p := range m.yen(s, d, opt.Transport, opt.MaxHops, limit) {
		path := Path{Hops: make([]Edge, 0, len(p)-1)}
		for i := 0; i+1 < len(p); i++ {
			path.Hops = append(path.Hops, m.edge(p[i], p[i+1], opt.Transport))
		}
		out = append(out, path)
	}
	return out
}

// Exposure is one workload port as a client outside the mesh meets it: a
// pod without a sidecar sending plaintext, with no mesh identity. It is
// what a STRICT rollout closes.
type Exposure struct {
	Workload mesh.WorkloadID
	Port     uint32 // a container port, or a port a Service targets on the workload
	// Accepted is the outcome of the plaintext connection.
	Accepted bool
	// Undecided is set when the outcome depends on something meshreach
	// does not model (Outcome.Undecided); Accepted is then false.
	Undecided bool
	// Services lists the Services whose ports target Port on Workload,
	// sorted; empty when none does.
	Services []mesh.Ref
	// Probe reproduces the verdict: a direct call from [OutsideID] to the
	// workload's pod IP; pass it to [Matrix.Probe].
	Probe Probe
	// Findings says what the AuthorizationPolicies that act on the
	// workload mean for plaintext on this port: ALLOW rules that need a
	// peer identity (they never admit plaintext), DENY rules that need
	// one (plaintext bypasses them), policies nothing enforces (no
	// sidecar, or a port it does not capture). Sorted by policy namespace,
	// name, rule and kind; nil when there is nothing to say, and always
	// nil on a port that refuses plaintext before authorization (STRICT).
	Findings []ExposureFinding
}

// Exposure evaluates, for every workload port f selects (f.ToNamespace,
// f.To, f.Port; f.Status StatusAllowed keeps accepted ports only,
// StatusDenied refused ones, StatusUndecided undecided ones), a plaintext
// connection from the client outside the mesh, through the engine's
// server side, with what the AuthorizationPolicies of the port mean for
// that plaintext (Exposure.Findings). Sorted by workload and port.
func (m *Matrix) Exposure(f Filter) []Exposure {
	var out []Exposure
	for _, x := range m.exposures() {
		w := m.wls[x.wi]
		accepted := x.code&codeAllowed != 0
		switch {
		case f.ToNamespace != "" && w.ID.Namespace != f.ToNamespace,
			f.To != (Node{}) && f.To != WorkloadNode(w.ID),
			f.Port != 0 && x.port != f.Port,
			!f.Status.match(codeOutcome(x.code)):
			continue
		}
		out = append(out, Exposure{Workload: w.ID, Port: x.port, Accepted: accepted, Undecided: x.code&codeUndecided != 0, Services: slices.Clone(x.services),
			Probe: outsideProbe(w.ID, x.port), Findings: m.exposureFindings(x)})
	}
	return out
}

// Components returns the strongly connected groups of workloads (every
// member can reach every other, possibly through other members) of two
// workloads or more, over the edges transport t can flow over
// (NoTransport: every edge). Each group is sorted; groups are ordered by
// their first member.
func (m *Matrix) Components(t Transport) [][]mesh.WorkloadID {
	var out [][]mesh.WorkloadID
	for _, scc := range m.tarjan(t) {
		c := make([]mesh.WorkloadID, len(scc))
		for i, w := range scc {
			c[i] = m.wls[w].ID
		}
		out = append(out, c)
	}
	return out
}

// Graph materialises the reachability graph of the cells f selects, plus
// the edges from the [OutsideNode] for accepted exposures (when f.From is
// zero or [OutsideID]): one edge per (From, To) on which something can
// flow. Nodes are inserted in Node order (every workload, even without
// edges, then external hosts, then the outside client), edges in the order
// of their From then To, so DOT output and iteration are deterministic.
// The graph has up to workloads² edges: filter it on large meshes; the
// queries of Matrix do not need it.
func (m *Matrix) Graph(f Filter) *graph.Graph[Node, Edge] {
	g := &graph.Graph[Node, Edge]{}
	for _, n := range m.nodes {
		g.AddNode(n)
	}
	slots := m.selectSlots(f)
	for _, wi := range m.clients(f) {
		for i := 0; i < len(slots); {
			node := m.slots[slots[i]].node
			j := i
			for j < len(slots) && m.slots[slots[j]].node == node {
				j++
			}
			if node != wi {
				if e := m.portEdges(wi, node, slots[i:j], f.Match); len(e.Ports) > 0 {
					g.SetEdge(e.From, e.To, e)
				}
			}
			i = j
		}
	}
	if f.From == (mesh.WorkloadID{}) && f.FromNamespace == "" || f.From == OutsideID() {
		var last int32 = -1
		for _, x := range m.exposures() {
			if x.wi == last {
				continue
			}
			last = x.wi
			if e := m.edge(m.outside, x.wi, NoTransport); len(e.Ports) > 0 {
				e.Ports = slices.DeleteFunc(e.Ports, func(p PortEdge) bool {
					c := Cell{From: OutsideID(), To: e.To, Port: p.Port, Default: p.Default, Transports: p.Transports}
					return !Filter.Match(Filter{ToNamespace: f.ToNamespace, To: f.To, Port: f.Port, Transport: f.Transport, Status: f.Status}, c)
				})
				if len(e.Ports) > 0 {
					g.SetEdge(e.From, e.To, e)
				}
			}
		}
	}
	return g
}
