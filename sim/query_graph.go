package sim

// The reachability graph as the queries walk it, without materialising
// workloads² edges: a workload's successors are its client class's, and
// the client outside the mesh reaches what its exposures accept.

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/meshreach/meshreach/mesh"
)

// adjEntry is one successor of a node: what can flow to it over any port.
type adjEntry struct {
	node int32
	set  TransportSet
}

// succ returns the successors of node n, sorted by node, with what can
// flow to each.
func (m *Matrix) succ(n int32) []adjEntry {
	switch {
	case n == m.outside:
		return m.outsideAdj()
	case int(n) >= len(m.wls):
		return nil
	}
	sets := make([]TransportSet, len(m.nodes))
	var nodes []int32
	for _, gv := range m.gvsOf(m.classOf[n]) {
		for _, a := range m.gvAdj[gv] {
			if sets[a.node] == 0 {
				nodes = append(nodes, a.node)
			}
			sets[a.node] |= a.set
		}
	}
	slices.Sort(nodes)
	out := make([]adjEntry, len(nodes))
	for i, x := range nodes {
		out[i] = adjEntry{node: x, set: sets[x]}
	}
	return out
}

// edge returns the label of the edge from node u to node v, with the ports
// transport t can flow over (every port something flows over when t is
// NoTransport).
func (m *Matrix) edge(u, v int32, t Transport) Edge {
	keep := func(c Cell) bool { return true }
	if u == m.outside {
		e := Edge{From: m.nodes[u], To: m.nodes[v]}
		for _, x := range m.exposuresOf(v) {
			set := codeTransports(x.code)
			if set == 0 || (t != NoTransport && !set.Has(t)) {
				continue
			}
			e.Ports = append(e.Ports, PortEdge{Port: x.port, Transports: set, Default: codeOutcome(x.code), Probe: outsideProbe(m.wls[v].ID, x.port)})
		}
		return e
	}
	e := m.portEdges(u, v, m.slotsOfNode[v], keep)
	if t != NoTransport {
		e.Ports = slices.DeleteFunc(e.Ports, func(p PortEdge) bool { return !p.Transports.Has(t) })
	}
	return e
}

// portEdges folds the cells of client workload u at slots (all of node v,
// in slot order) that keep accepts into an Edge, dropping ports nothing
// can flow over.
func (m *Matrix) portEdges(u, v int32, slots []int32, keep func(Cell) bool) Edge {
	e := Edge{From: m.nodes[u], To: m.nodes[v]}
	cl := m.classOf[u]
	var cur *PortEdge
	first := false // cur.Default comes from an allowed cell
	for _, si := range slots {
		c, ok := m.cell(u, cl, si)
		if !ok || !keep(c) {
			continue
		}
		if cur == nil || cur.Port != c.Port {
			e.Ports = append(e.Ports, PortEdge{Port: c.Port, Default: c.Default, Probe: c.Probe()})
			cur, first = &e.Ports[len(e.Ports)-1], c.Default.Allowed
		} else if !first && c.Default.Allowed {
			cur.Default, cur.Probe, first = c.Default, c.Probe(), true
		}
		cur.Transports |= c.Transports
	}
	e.Ports = slices.DeleteFunc(e.Ports, func(p PortEdge) bool { return p.Transports == 0 })
	return e
}

// bfs returns the shortest path from src to dst over edges t can flow
// over, with at most maxHops edges (0: no bound), avoiding the nodes in
// blocked and the edges from src to the nodes in cut; among shortest
// paths, the smallest in node order. nil when there is none.
//
// The first node to reach another becomes its parent, and the nodes each
// node discovers join the queue in node order, so every node's path is
// the smallest shortest one. A workload's successors are those of the
// (group, view) pairs of its class: once a class or a pair was expanded,
// every node it reaches was seen, so each is expanded once.
func (m *Matrix) bfs(src, dst int32, t Transport, maxHops int, blocked []bool, cut map[int32]bool) []int32 {
	parent := make([]int32, len(m.nodes))
	seen := make([]bool, len(m.nodes))
	classDone := make([]bool, len(m.classes))
	gvDone := make([]bool, len(m.gvAdj))
	seen[src], parent[src] = true, -1
	queue := []int32{src}
	var found []int32
	for level := 0; len(queue) > 0 && (maxHops == 0 || level < maxHops); level++ {
		var next []int32
		for _, u := range queue {
			partial := u == src && len(cut) > 0
			mark := len(next)
			visit := func(list []adjEntry) bool {
				for _, a := range list {
					v := a.node
					if seen[v] || blocked[v] || (t != NoTransport && !a.set.Has(t)) || (partial && cut[v]) {
						continue
					}
					seen[v], parent[v] = true, u
					if v == dst {
						return true
					}
					next = append(next, v)
				}
				return false
			}
			hit := false
			switch {
			case u == m.outside:
				hit = visit(m.outsideAdj())
			case int(u) < len(m.wls):
				cl := m.classOf[u]
				if classDone[cl] {
					continue
				}
				if !partial {
					classDone[cl] = true
				}
				for _, gv := range m.gvsOf(cl) {
					if gvDone[gv] || (t != NoTransport && !m.gvSet[gv].Has(t)) {
						continue
					}
					if !partial {
						gvDone[gv] = true
					}
					if hit = visit(m.gvAdj[gv]); hit {
						break
					}
				}
			}
			if hit {
				for x := dst; x != -1; x = parent[x] {
					found = append(found, x)
				}
				slices.Reverse(found)
				return found
			}
			slices.Sort(next[mark:])
		}
		queue = next
	}
	return nil
}

// yen returns up to k loopless paths from src to dst, fewest hops first,
// then in node order (Yen, "Finding the K Shortest Loopless Paths in a
// Network", Management Science 17(11), 1971), each found by bfs.
func (m *Matrix) yen(src, dst int32, t Transport, maxHops, k int) [][]int32 {
	first := m.bfs(src, dst, t, maxHops, make([]bool, len(m.nodes)), nil)
	if first == nil {
		return nil
	}
	found := [][]int32{first}
	var cands [][]int32
	has := func(list [][]int32, p []int32) bool {
		return slices.ContainsFunc(list, func(q []int32) bool { return slices.Equal(p, q) })
	}
	for len(found) < k {
		prev := found[len(found)-1]
		for i := 0; i+1 < len(prev); i++ {
			if maxHops > 0 && i >= maxHops {
				break
			}
			spur, root := prev[i], prev[:i+1]
			cut := map[int32]bool{}
			for _, p := range found {
				if len(p) > i+1 && slices.Equal(p[:i+1], root) {
					cut[p[i+1]] = true
				}
			}
			blocked := make([]bool, len(m.nodes))
			for _, n := range root[:i] {
				blocked[n] = true
			}
			hops := 0
			if maxHops > 0 {
				hops = maxHops - i
			}
			sp := m.bfs(spur, dst, t, hops, blocked, cut)
			if sp == nil {
				continue
			}
			p := append(slices.Clone(root[:i]), sp...)
			if !has(found, p) && !has(cands, p) {
				cands = append(cands, p)
			}
		}
		if len(cands) == 0 {
			break
		}
		slices.SortFunc(cands, comparePaths)
		found = append(found, cands[0])
		cands = cands[1:]
	}
	return found
}

// comparePaths orders paths by hops, then node by node.
func comparePaths(a, b []int32) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return slices.Compare(a, b)
}

// tarjan returns the strongly connected components of two workloads or
// more over the edges t can flow over, each sorted, ordered by their first
// workload. It walks the layered graph where each workload has an edge to
// its class, each class to the (group, view) pairs it uses, and each pair
// to the workloads its verdicts reach: a workload reaches another there
// exactly when it does in the workload graph, so the components
// restricted to workloads are the same.
func (m *Matrix) tarjan(t Transport) [][]int32 {
	nw := int32(len(m.wls))
	nc := int32(len(m.classes))
	n := nw + nc + int32(len(m.gvAdj))
	succ := func(u int32) []int32 {
		switch {
		case u < nw:
			return []int32{nw + m.classOf[u]}
		case u < nw+nc:
			var out []int32
			for _, gv := range m.gvsOf(u - nw) {
				if t == NoTransport || m.gvSet[gv].Has(t) {
					out = append(out, nw+nc+gv)
				}
			}
			return out
		}
		var out []int32
		for _, a := range m.gvAdj[u-nw-nc] {
			if a.node < nw && (t == NoTransport || a.set.Has(t)) {
				out = append(out, a.node)
			}
		}
		return out
	}
	index := make([]int32, n)
	low := make([]int32, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int32
	var out [][]int32
	next := int32(0)
	type frame struct {
		u    int32
		succ []int32
		i    int
	}
	for root := int32(0); root < nw; root++ {
		if index[root] >= 0 {
			continue
		}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		call := []frame{{u: root, succ: succ(root)}}
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.i < len(f.succ) {
				v := f.succ[f.i]
				f.i++
				switch {
				case index[v] < 0:
					index[v], low[v] = next, next
					next++
					stack = append(stack, v)
					onStack[v] = true
					call = append(call, frame{u: v, succ: succ(v)})
				case onStack[v]:
					low[f.u] = min(low[f.u], index[v])
				}
				continue
			}
			u := f.u
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := &call[len(call)-1]
				low[p.u] = min(low[p.u], low[u])
			}
			if low[u] != index[u] {
				continue
			}
			var comp []int32
			for {
				x := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[x] = false
				if x < nw {
					comp = append(comp, x)
				}
				if x == u {
					break
				}
			}
			if len(comp) >= 2 {
				slices.Sort(comp)
				out = append(out, comp)
			}
		}
	}
	slices.SortFunc(out, func(a, b []int32) int { return cmp.Compare(a[0], b[0]) })
	return out
}

// outsideState is what the matrix computes about the client outside the
// mesh, on first use.
type outsideState struct {
	simOnce sync.Once
	sim     *Simulator
	err     error

	expOnce   sync.Once
	exposures []exposure // sorted by workload, port
	adj       []adjEntry

	mu   sync.Mutex
	errs []error // probes of the outside client that failed
}

// exposure is the outside client's verdict on one workload port.
type exposure struct {
	wi       int32
	port     uint32
	code     uint8
	services []mesh.Ref
}

// outsideProbe is the outside client's direct call to a pod of to.
func outsideProbe(to mesh.WorkloadID, port uint32) Probe {
	return Probe{From: OutsideID(), ToWorkload: to, Port: port}
}

// outsideSim returns a simulator of the mesh plus the outside client: a
// pod in a namespace of its own, observed without a sidecar (so no
// injection rule can give it one), without app mTLS. Its probes go through
// the same engine as every other: what the server side decides for a
// plaintext client without identity is what it meets.
func (m *Matrix) outsideSim() (*Simulator, error) {
	st := &m.out
	st.simOnce.Do(func() {
		b := m.s.Mesh().Edit()
		id := OutsideID()
		no := false
		b.AddNamespace(mesh.Namespace{Name: id.Namespace})
		b.AddWorkload(mesh.Workload{ID: id, Kind: "Pod", Observed: &no})
		mm, err := b.Build()
		if err != nil {
			st.err = fmt.Errorf("sim: adding the client outside the mesh: %w", err)
			return
		}
		st.sim = New(mm)
	})
	return st.sim, st.err
}

// exposures evaluates the outside client against every workload port: its
// TCP container ports and the ports Services target on it.
func (m *Matrix) exposures() []exposure {
	st := &m.out
	st.expOnce.Do(func() {
		s, err := m.outsideSim()
		if err != nil {
			st.mu.Lock()
			st.errs = append(st.errs, err)
			st.mu.Unlock()
			return
		}
		var list []exposure
		for wi, w := range m.wls {
			svcs := map[uint32][]mesh.Ref{}
			var ports []uint32
			for _, cp := range w.Ports {
				if cp.Protocol == "" || cp.Protocol == "TCP" {
					ports = append(ports, cp.Number)
				}
			}
			for _, sv := range m.e.sec.svcsOf[w.ID] {
				for _, sp := range sv.svc.Ports {
					if sp.Protocol != "" && sp.Protocol != "TCP" {
						continue
					}
					if tp, ok := targetPort(sp, w); ok {
						ports = append(ports, tp)
						if !slices.Contains(svcs[tp], sv.svc.Ref) {
							svcs[tp] = append(svcs[tp], sv.svc.Ref)
						}
					}
				}
			}
			slices.Sort(ports)
			for _, p := range slices.Compact(ports) {
				if p == 0 || p > 65535 {
					continue
				}
				list = append(list, exposure{wi: int32(wi), port: p, services: svcs[p]})
			}
		}
		parallelFor(len(list), func(i int) {
			x := &list[i]
			v, err := s.Probe(outsideProbe(m.wls[x.wi].ID, x.port))
			if err != nil {
				st.mu.Lock()
				st.errs = append(st.errs, err)
				st.mu.Unlock()
				return
			}
			x.code = encode(v.Default, v.Plaintext.Allowed)
		})
		st.exposures = list
		for _, x := range list {
			set := codeTransports(x.code)
			if set == 0 {
				continue
			}
			if k := len(st.adj); k > 0 && st.adj[k-1].node == x.wi {
				st.adj[k-1].set |= set
				continue
			}
			st.adj = append(st.adj, adjEntry{node: x.wi, set: set})
		}
	})
	return st.exposures
}

// exposuresOf returns the exposures of workload wi, by port.
func (m *Matrix) exposuresOf(wi int32) []exposure {
	all := m.exposures()
	i, _ := slices.BinarySearchFunc(all, wi, func(x exposure, wi int32) int { return cmp.Compare(x.wi, wi) })
	j := i
	for j < len(all) && all[j].wi == wi {
		j++
	}
	return all[i:j]
}

func (m *Matrix) outsideAdj() []adjEntry {
	m.exposures()
	return m.out.adj
}
