package sim

// The whole-mesh layer: every client workload's connection to every
// Service and ServiceEntry port, evaluated once per client class
// (class.go) and expanded lazily into cells.

import (
	"cmp"
	"iter"
	"strconv"
	"strings"

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
}

// String returns "allow <transport>" or "deny".
func (o Outcome) String() string {
	if !o.Allowed {
		return "deny"
	}
	return "allow " + o.Transport.String()
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
	// Transports is what can flow: plaintext when the verdict's Plaintext
	// result is allowed for this endpoint, mtls when its MTLS result is,
	// and the default transport when Default is allowed.
	Transports TransportSet
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
	StatusAny     Status = iota // every cell
	StatusAllowed               // cells whose default outcome is allowed
	StatusDenied                // cells whose default outcome is denied
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
		f.Status == StatusAllowed && !c.Default.Allowed,
		f.Status == StatusDenied && c.Default.Allowed:
		return false
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
	Denied           int
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
	Evaluations  int // probes run: one per distinct (client view, destination)
	Cells        int // workload and external cells the matrix expands to
}

// Matrix is the reachability of every workload to every Service and
// ServiceEntry port of a mesh, computed once by [Simulator.Matrix]. It is
// immutable and safe for concurrent use; every method returns fresh values
// in a deterministic order.
type Matrix struct {
	s *Simulator
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
// classes × destinations, not workloads².
func (s *Simulator) Matrix() *Matrix {
	return &Matrix{s: s}
}

// Simulator returns the simulator the matrix was computed from.
func (m *Matrix) Simulator() *Simulator { return m.s }

// Stats reports the sizes behind the matrix.
func (m *Matrix) Stats() Stats { return Stats{} }

// Errors returns the probes the matrix could not run, with why, sorted.
func (m *Matrix) Errors() []error { return nil }

// Classes returns the client classes, sorted by their first member.
func (m *Matrix) Classes() []Class { return nil }

// ClassOf returns the client class of workload id; ok is false for an
// unknown workload.
func (m *Matrix) ClassOf(id mesh.WorkloadID) (Class, bool) { return Class{}, false }

// Cells yields the cells f selects, ordered by client, then destination
// node, port, Via and ViaPort. Cells are expanded as they are yielded:
// a mesh of 10,000 workloads has hundreds of millions.
func (m *Matrix) Cells(f Filter) iter.Seq[Cell] {
	return func(func(Cell) bool) {}
}

// Summary counts the workload-to-workload cells f selects per (client
// namespace, destination namespace), sorted by From then To; pairs without
// cells are left out.
func (m *Matrix) Summary(f Filter) []Summary { return nil }

// Probe is Simulator.Probe, except that a probe from [OutsideID] is
// evaluated too, as a client outside the mesh (no sidecar, plaintext, no
// mesh identity) in a namespace of its own.
func (m *Matrix) Probe(p Probe) (Verdict, error) { return m.s.Probe(p) }
