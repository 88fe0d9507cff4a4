package sim

// The whole-mesh layer: every client workload's connection to every
// Service and ServiceEntry port, evaluated once per client class
// (class.go) and expanded lazily into cells.

import (
	"cmp"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/meshreach/meshreach/mesh"
)

// TransportSet is a set of transports. The zero value is the empty set.
type TransportSet uint8

// TransportSetOf returns the set holding ts. NoTransport and values
// outside the defined transports are ignored.
func TransportSetOf(ts ...Transport) TransportSet {
	var s TransportSet
	for _, t := range ts {
		if t > NoTransport && t <= TLS {
			s |= 1 << t
		}
	}
	return s
}

// Has reports whether t is in the set.
func (s TransportSet) Has(t Transport) bool { return t > NoTransport && t <= TLS && s&(1<<t) != 0 }

// Transports returns the members in Transport order (plaintext, mtls, tls).
func (s TransportSet) Transports() []Transport {
	var out []Transport
	for t := Plaintext; t <= TLS; t++ {
		if s.Has(t) {
			out = append(out, t)
		}
	}
	return out
}

// String returns the members joined by "+" ("plaintext+mtls"), or "none".
func (s TransportSet) String() string {
	ts := s.Transports()
	if len(ts) == 0 {
		return "none"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.String()
	}
	return strings.Join(parts, "+")
}

// Outcome is a Result without its trace: whether the connection gets
// through and what travels on the wire. When Allowed is false, Transport is
// what the client sent (NoTransport when nothing left it).
type Outcome struct {
	Allowed   bool
	Transport Transport
	// Undecided is true when the outcome depends on something meshreach
	// does not model (Result.Undecided says what); Allowed is then false.
	Undecided bool
}

// String returns "allow <transport>", "undecided" or "deny", as
// Result.Outcome does.
func (o Outcome) String() string {
	switch {
	case o.Allowed:
		return "allow " + o.Transport.String()
	case o.Undecided:
		return "undecided"
	}
	return "deny"
}

// NodeKind tells what a [Node] stands for.
type NodeKind uint8

// Node kinds, in the order nodes sort.
const (
	NodeWorkload NodeKind = iota // a workload of the mesh
	NodeExternal                 // a host outside the mesh's pods: a ServiceEntry host without workload endpoints
	NodeOutside                  // the client outside the mesh: plaintext, no sidecar, no mesh identity
)

var nodeKindNames = [...]string{"workload", "external", "outside"}

// String returns "workload", "external" or "outside".
func (k NodeKind) String() string {
	if int(k) < len(nodeKindNames) {
		return nodeKindNames[k]
	}
	return "NodeKind(" + strconv.Itoa(int(k)) + ")"
}

// Node is a vertex of the reachability graph. It is comparable; the zero
// value is not a valid node (its Workload is invalid).
type Node struct {
	Kind NodeKind
	// Workload is set for NodeWorkload; for NodeOutside it is [OutsideID].
	Workload mesh.WorkloadID
	// Host is set for NodeExternal: the ServiceEntry host.
	Host string
}

// WorkloadNode returns the node of workload id.
func WorkloadNode(id mesh.WorkloadID) Node { return Node{Kind: NodeWorkload, Workload: id} }

// ExternalNode returns the node of an external host.
func ExternalNode(host string) Node { return Node{Kind: NodeExternal, Host: host} }

// OutsideNode returns the node of the client outside the mesh.
func OutsideNode() Node { return Node{Kind: NodeOutside, Workload: OutsideID()} }

// OutsideID is the workload ID that stands for the client outside the mesh
// in probes (see [Matrix.Probe]): a pod without a sidecar, sending
// plaintext, with no mesh identity. "~" cannot appear in Kubernetes names,
// so it never names a workload of a mesh.
func OutsideID() mesh.WorkloadID { return mesh.WorkloadID{Namespace: "~outside", Name: "client"} }

// Namespace returns the workload's namespace, or "" for other kinds.
func (n Node) Namespace() string {
	if n.Kind == NodeWorkload {
		return n.Workload.Namespace
	}
	return ""
}

// String renders "ns/name", "external:host" or "outside".
func (n Node) String() string {
	switch n.Kind {
	case NodeWorkload:
		return n.Workload.String()
	case NodeExternal:
		return "external:" + n.Host
	case NodeOutside:
		return "outside"
	}
	return n.Kind.String()
}

// Compare orders nodes by kind (workloads, external hosts, outside), then
// by workload ID or host.
func (n Node) Compare(o Node) int {
	if c := cmp.Compare(n.Kind, o.Kind); c != 0 {
		return c
	}
	if c := n.Workload.Compare(o.Workload); c != 0 {
		return c
	}
	return strings.Compare(n.Host, o.Host)
}

// Cell is one entry of the reachability matrix: client From dials Host on
// ViaPort (a Service by its FQDN, or a ServiceEntry host) and lands on To at
// container port Port. A Service port with several endpoints gives one cell
// per endpoint. For an external host To is an [ExternalNode] and Port is
// ViaPort.
type Cell struct {
	From mesh.WorkloadID
	To   Node
	Port uint32 // the container port on To; the dialled port for external hosts
	// Via is the Service or ServiceEntry the dialled name resolves to.
	Via     mesh.Ref
	Host    string   // the name dialled: a Service FQDN or a ServiceEntry host
	ViaPort uint32   // the port dialled
	Proto   Protocol // what the client's application speaks: the port's declared protocol, TCP when undeclared
	// Default is what happens when the client's application connects as
	// configured (Endpoint.Default of the verdict).
	Default Outcome
	// Transports is what can flow: the default transport when Default is
	// allowed, and plaintext when the client has no sidecar (its
	// application puts on the wire what it wants) and the endpoint accepts
	// plaintext from it (the verdict's Plaintext result). A client with a
	// sidecar sends what its sidecar sends: the verdict's Plaintext and
	// MTLS results for it say what the server would accept, not what the
	// client can make flow.
	Transports TransportSet
	// Accepts is what the endpoint would accept from this client, whatever
	// the client sends: plaintext when the verdict's Plaintext result is
	// allowed, mtls when its MTLS result is (Endpoint.Plaintext and
	// Endpoint.MTLS). What-if diffs compare it.
	Accepts TransportSet
}

// Probe returns the probe whose verdict explains the cell: for a workload
// cell, the Endpoint of Simulator.Probe(c.Probe()) for c.To.
func (c Cell) Probe() Probe {
	return Probe{From: c.From, To: c.Host, Port: c.ViaPort, Protocol: c.Proto}
}

// Status selects cells by their default outcome.
type Status uint8

// Statuses. The zero value selects every cell.
const (
	StatusAny       Status = iota // every cell
	StatusAllowed                 // cells whose default outcome is allowed
	StatusDenied                  // cells whose default outcome is denied (not undecided)
	StatusUndecided               // cells whose default outcome is undecided
)

// Filter selects cells. Every set field must match; the zero Filter
// selects everything.
type Filter struct {
	FromNamespace string          // the client's namespace; "" any
	ToNamespace   string          // the destination workload's namespace; "" any (external hosts have none)
	From          mesh.WorkloadID // the client; zero any
	To            Node            // the destination; zero any
	Port          uint32          // the destination port (Cell.Port); 0 any
	// Transport keeps the cells whose default outcome travels as this
	// transport (sent, for denied cells); NoTransport keeps all.
	Transport Transport
	Status    Status
}

// Match reports whether c is selected by f.
func (f Filter) Match(c Cell) bool {
	switch {
	case f.FromNamespace != "" && c.From.Namespace != f.FromNamespace,
		f.ToNamespace != "" && c.To.Namespace() != f.ToNamespace,
		f.From != (mesh.WorkloadID{}) && c.From != f.From,
		f.To != (Node{}) && c.To != f.To,
		f.Port != 0 && c.Port != f.Port,
		f.Transport != NoTransport && c.Default.Transport != f.Transport,
		!f.Status.match(c.Default):
		return false
	}
	return true
}

func (s Status) match(o Outcome) bool {
	switch s {
	case StatusAllowed:
		return o.Allowed
	case StatusDenied:
		return !o.Allowed && !o.Undecided
	case StatusUndecided:
		return o.Undecided
	}
	return true
}

// Summary counts the workload-to-workload cells from one namespace to
// another by default outcome.
type Summary struct {
	From, To         string // namespaces
	AllowedMTLS      int    // allowed, Istio mTLS
	AllowedPlaintext int    // allowed, plaintext
	AllowedTLS       int    // allowed, TLS that is not Istio mTLS
	Denied           int    // denied
	Undecided        int    // undecided (see Outcome.Undecided)
}

// Class is a set of workloads that no rule of the mesh can tell apart as
// clients: they share every verdict they get as a client (see the class
// signature in class.go).
type Class struct {
	Namespace string
	Members   []mesh.WorkloadID // sorted, at least one
}

// Stats describes how a Matrix was computed.
type Stats struct {
	Workloads    int // client workloads
	Classes      int // client classes
	Destinations int // Service and ServiceEntry ports probed
	Groups       int // destination groups: destinations no client class can tell apart by their context
	Evaluations  int // probes run: one per distinct (client view, destination)
	Cells        int // workload and external cells the matrix expands to
}

// Matrix is the reachability of every workload to every Service and
// ServiceEntry port of a mesh, computed once by [Simulator.Matrix]. It is
// immutable and safe for concurrent use; every method returns fresh values
// in a deterministic order.
type Matrix struct {
	s       *Simulator
	e       *engine
	wls     []*mesh.Workload // sorted by ID; node i is wls[i]
	wlIndex map[mesh.WorkloadID]int32
	classes []*clientClass
	classOf []int32 // per workload
	dests   []destination
	groups  []*destGroup
	results []evalResult
	slots   []slot // sorted by node, port, host, dialled port
	// slotsOfNode lists, per node, its slots in slot order.
	slotsOfNode [][]int32
	nodes       []Node // workloads, external hosts, the outside client
	extIndex    map[string]int32
	outside     int32 // node index of the outside client
	errs        []error
	stats       Stats

	// The reachability graph between (group, view) pairs: gvAdj lists
	// the nodes each pair's verdicts reach, sorted; gvSet is the union of
	// their transports; gvCells counts the pair's cells. genGV and
	// specialGV index the pairs classes use (gvsOf), built on first use by
	// a graph query.
	gvAdj       [][]adjEntry
	gvSet       []TransportSet
	gvCells     []int
	genGV       [][]groupGV
	specialGV   [][]groupGV
	gvIndexOnce sync.Once

	out outsideState
}

// Matrix computes the reachability matrix of the simulator's mesh. For
// every client workload C and every Service S and port P of S, it probes
// C → S's FQDN:P with the protocol P declares; every endpoint of the
// verdict is a cell. ServiceEntry hosts with workload endpoints give cells
// the same way; ServiceEntry hosts without endpoints (and not wildcards)
// give cells to [ExternalNode]s. Direct pod-IP calls are not cells. Probes
// that fail (they should not) are reported by [Matrix.Errors].
//
// Workloads of one client class share their evaluations, and classes that
// a destination cannot tell apart share them too, so the cost grows with
// the distinct views × destinations, not workloads²; probes run on
// GOMAXPROCS goroutines.
func (s *Simulator) Matrix() *Matrix {
	return s.buildMatrix(false)
}

// Simulator returns the simulator the matrix was computed from.
func (m *Matrix) Simulator() *Simulator { return m.s }

// Stats reports the sizes behind the matrix.
func (m *Matrix) Stats() Stats { return m.stats }

// Errors returns the probes the matrix could not run, with why, sorted by
// message: those of the matrix, and those of the outside client's queries
// run so far.
func (m *Matrix) Errors() []error {
	out := slices.Clone(m.errs)
	m.out.mu.Lock()
	out = append(out, m.out.errs...)
	m.out.mu.Unlock()
	slices.SortFunc(out, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return slices.CompactFunc(out, func(a, b error) bool { return a.Error() == b.Error() })
}

// Classes returns the client classes, sorted by their first member.
func (m *Matrix) Classes() []Class {
	out := make([]Class, len(m.classes))
	for i, cl := range m.classes {
		out[i] = m.class(cl)
	}
	return out
}

func (m *Matrix) class(cl *clientClass) Class {
	c := Class{Namespace: cl.ns, Members: make([]mesh.WorkloadID, len(cl.members))}
	for i, w := range cl.members {
		c.Members[i] = m.wls[w].ID
	}
	return c
}

// ClassOf returns the client class of workload id; ok is false for an
// unknown workload.
func (m *Matrix) ClassOf(id mesh.WorkloadID) (Class, bool) {
	i, ok := m.wlIndex[id]
	if !ok {
		return Class{}, false
	}
	return m.class(m.classes[m.classOf[i]]), true
}

// Cells yields the cells f selects, ordered by client, then destination
// node, port, Host and ViaPort. Cells are expanded as they are yielded: a
// mesh of 10,000 workloads has hundreds of millions.
func (m *Matrix) Cells(f Filter) iter.Seq[Cell] {
	clients := m.clients(f)
	slots := m.selectSlots(f)
	return func(yield func(Cell) bool) {
		for _, wi := range clients {
			cl := m.classOf[wi]
			for _, si := range slots {
				c, ok := m.cell(wi, cl, si)
				if !ok || !f.Match(c) {
					continue
				}
				if !yield(c) {
					return
				}
			}
		}
	}
}

// cell expands slot si for client workload wi of class cl.
func (m *Matrix) cell(wi, cl, si int32) (Cell, bool) {
	sl := &m.slots[si]
	d := &m.dests[sl.dest]
	grp := m.groups[d.group]
	r := &m.results[grp.res[grp.viewOf(m.classes[cl])][d.local]]
	code := r.codes[sl.pos]
	if code == 0 {
		return Cell{}, false
	}
	return Cell{From: m.wls[wi].ID, To: m.nodes[sl.node], Port: sl.port, Via: r.via, Host: d.host,
		ViaPort: d.port, Proto: d.proto, Default: codeOutcome(code), Transports: codeTransports(code), Accepts: codeAccepts(code)}, true
}

// clients returns the workload indexes f's From and FromNamespace select.
func (m *Matrix) clients(f Filter) []int32 {
	if f.From != (mesh.WorkloadID{}) {
		if i, ok := m.wlIndex[f.From]; ok && (f.FromNamespace == "" || f.FromNamespace == f.From.Namespace) {
			return []int32{i}
		}
		return nil
	}
	var out []int32
	for i, w := range m.wls {
		if f.FromNamespace == "" || w.ID.Namespace == f.FromNamespace {
			out = append(out, int32(i))
		}
	}
	return out
}

// selectSlots returns the slots f's To, ToNamespace and Port select, in
// slot order.
func (m *Matrix) selectSlots(f Filter) []int32 {
	var out []int32
	add := func(list []int32) {
		for _, si := range list {
			if f.Port == 0 || m.slots[si].port == f.Port {
				out = append(out, si)
			}
		}
	}
	switch {
	case f.To != (Node{}):
		if n, ok := m.nodeIndex(f.To); ok && (f.ToNamespace == "" || f.To.Namespace() == f.ToNamespace) {
			add(m.slotsOfNode[n])
		}
	case f.ToNamespace != "":
		for n, node := range m.nodes {
			if node.Namespace() == f.ToNamespace {
				add(m.slotsOfNode[n])
			}
		}
	default:
		for n := range m.nodes {
			add(m.slotsOfNode[n])
		}
	}
	return out
}

// nodeIndex returns the index of node n.
func (m *Matrix) nodeIndex(n Node) (int32, bool) {
	switch n.Kind {
	case NodeWorkload:
		i, ok := m.wlIndex[n.Workload]
		return i, ok
	case NodeExternal:
		i, ok := m.extIndex[n.Host]
		return i, ok
	case NodeOutside:
		return m.outside, n == OutsideNode()
	}
	return 0, false
}

// Summary counts the workload-to-workload cells f selects per (client
// namespace, destination namespace), sorted by From then To; pairs without
// cells are left out.
func (m *Matrix) Summary(f Filter) []Summary {
	// Members of a class share its cells, and classes with one view of a
	// group share its verdicts: count per (group, view), weighted by the
	// members f selects.
	weight := make([]int, len(m.classes))
	for _, wi := range m.clients(f) {
		weight[m.classOf[wi]]++
	}
	bySlotGroup := map[int32][]int32{}
	for _, si := range m.selectSlots(f) {
		if m.nodes[m.slots[si].node].Kind == NodeWorkload {
			g := m.dests[m.slots[si].dest].group
			bySlotGroup[g] = append(bySlotGroup[g], si)
		}
	}
	type pair struct{ from, to string }
	sums := map[pair]*Summary{}
	type count struct {
		to string
		n  [5]int // mtls, plaintext, tls, denied, undecided
	}
	for g, grp := range m.groups {
		slots := bySlotGroup[int32(g)]
		if len(slots) == 0 {
			continue
		}
		counts := make([][]count, len(grp.reps))
		for v := range grp.reps {
			for _, si := range slots {
				sl := &m.slots[si]
				d := &m.dests[sl.dest]
				c := m.results[grp.res[v][d.local]].codes[sl.pos]
				if c == 0 {
					continue
				}
				o := codeOutcome(c)
				if f.Transport != NoTransport && o.Transport != f.Transport || !f.Status.match(o) {
					continue
				}
				k := 3
				switch {
				case o.Undecided:
					k = 4
				case !o.Allowed:
				case o.Transport == MTLS:
					k = 0
				case o.Transport == TLS:
					k = 2
				default:
					k = 1
				}
				to := m.nodes[sl.node].Workload.Namespace
				i := slices.IndexFunc(counts[v], func(c count) bool { return c.to == to })
				if i < 0 {
					i = len(counts[v])
					counts[v] = append(counts[v], count{to: to})
				}
				counts[v][i].n[k]++
			}
		}
		for ci, cl := range m.classes {
			w := weight[ci]
			if w == 0 {
				continue
			}
			for _, c := range counts[grp.viewOf(cl)] {
				k := pair{cl.ns, c.to}
				s := sums[k]
				if s == nil {
					s = &Summary{From: k.from, To: k.to}
					sums[k] = s
				}
				s.AllowedMTLS += w * c.n[0]
				s.AllowedPlaintext += w * c.n[1]
				s.AllowedTLS += w * c.n[2]
				s.Denied += w * c.n[3]
				s.Undecided += w * c.n[4]
			}
		}
	}
	out := make([]Summary, 0, len(sums))
	for _, s := range sums {
		if s.AllowedMTLS+s.AllowedPlaintext+s.AllowedTLS+s.Denied+s.Undecided > 0 {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b Summary) int {
		if c := strings.Compare(a.From, b.From); c != 0 {
			return c
		}
		return strings.Compare(a.To, b.To)
	})
	return out
}

// Probe is Simulator.Probe, except that a probe from [OutsideID] is
// evaluated too, as a client outside the mesh (no sidecar, plaintext, no
// mesh identity) in a namespace of its own.
func (m *Matrix) Probe(p Probe) (Verdict, error) {
	if p.From == OutsideID() {
		s, err := m.outsideSim()
		if err != nil {
			return Verdict{}, err
		}
		return s.Probe(p)
	}
	return m.s.Probe(p)
}
