package sim

// What-if diffs: the cells of two matrices that differ, classified.

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// ChangeKind classifies a [Change]. Kinds are declared from the most
// severe to the least: when several things change in one cell, the change
// counts once, under the first kind in this order that applies.
type ChangeKind uint8

// Change kinds, most severe first.
const (
	// Broken: the default outcome was allowed and is not any more (denied
	// or undecided).
	Broken ChangeKind = iota + 1
	// Downgraded: allowed before and after, on a weaker transport (mtls →
	// tls or plaintext, tls → plaintext).
	Downgraded
	// Opened: the default outcome was not allowed and now is.
	Opened
	// Loosened: plaintext can now reach the endpoint from this client
	// where it could not: the endpoint accepts it (Cell.Accepts) or the
	// client can send it (Cell.Transports).
	Loosened
	// Upgraded: allowed before and after, on a stronger transport.
	Upgraded
	// Tightened: plaintext from this client is no longer accepted, or can
	// no longer be sent.
	Tightened
	// Changed: something else differs: undecided ↔ deny, the transport a
	// denied connection sends, or only the mTLS answer (the client gained
	// or lost a mesh identity, or the endpoint stopped terminating mTLS).
	Changed
	// Removed: the cell exists only before: its client, its endpoint, or
	// the Service or ServiceEntry port is gone (or no longer leads there).
	Removed
	// Added: the cell exists only after.
	Added
)

// ChangeKinds lists every kind, most severe first.
var ChangeKinds = []ChangeKind{Broken, Downgraded, Opened, Loosened, Upgraded, Tightened, Changed, Removed, Added}

var changeKindNames = [...]string{"", "broken", "downgraded", "opened", "loosened", "upgraded", "tightened", "changed", "removed", "added"}

// String returns the kind's lower-case name ("broken", "downgraded", …).
func (k ChangeKind) String() string {
	if k > 0 && int(k) < len(changeKindNames) {
		return changeKindNames[k]
	}
	return "ChangeKind(" + strconv.Itoa(int(k)) + ")"
}

// ParseChangeKind parses the spelling String returns.
func ParseChangeKind(s string) (ChangeKind, error) {
	for i, n := range changeKindNames {
		if i > 0 && n == s {
			return ChangeKind(i), nil
		}
	}
	return 0, fmt.Errorf("invalid change kind %q (want %s)", s, strings.Join(changeKindNames[1:], ", "))
}

// Change is one cell ([Cell]) whose default outcome, wire transport,
// what can flow, or what the endpoint accepts differs between two meshes.
type Change struct {
	Kind ChangeKind
	// From, To, Port, Host, ViaPort and Proto identify the cell, as in
	// [Cell].
	From    mesh.WorkloadID
	To      Node
	Port    uint32
	Host    string
	ViaPort uint32
	Proto   Protocol
	// Before and After are the cell in each mesh; the zero Cell when it
	// does not exist there (Kind Added or Removed).
	Before, After Cell
}

// Probe returns the probe whose verdicts explain the change (see
// [Delta.Explain]).
func (c Change) Probe() Probe {
	return Probe{From: c.From, To: c.Host, Port: c.ViaPort, Protocol: c.Proto}
}

// String renders "broken: ns/a -> host:80/http (ns/b:8080): allow mtls
// (accepts plaintext+mtls) -> deny (accepts none)": each side's default
// outcome and what the endpoint accepts, or "absent".
func (c Change) String() string {
	return fmt.Sprintf("%s: %s -> %s:%d/%s (%s:%d): %s -> %s", c.Kind, c.From, c.Host, c.ViaPort, c.Proto, c.To, c.Port,
		cellState(c.Before), cellState(c.After))
}

// cellState renders a side of a change: the default outcome and what the
// endpoint accepts, or "absent".
func cellState(c Cell) string {
	if !c.From.IsValid() {
		return "absent"
	}
	return c.Default.String() + " (accepts " + c.Accepts.String() + ")"
}

// classify returns the kind of change from b to a (both present), or 0
// when nothing Diff compares differs.
func classify(b, a Cell) ChangeKind {
	bo, ao := b.Default, a.Default
	if bo == ao && b.Transports == a.Transports && b.Accepts == a.Accepts {
		return 0
	}
	switch {
	case bo.Allowed && !ao.Allowed:
		return Broken
	case bo.Allowed && ao.Allowed && strength(ao.Transport) < strength(bo.Transport):
		return Downgraded
	case !bo.Allowed && ao.Allowed:
		return Opened
	case plainGained(b, a):
		return Loosened
	case bo.Allowed && ao.Allowed && strength(ao.Transport) > strength(bo.Transport):
		return Upgraded
	case plainGained(a, b):
		return Tightened
	}
	return Changed
}

// plainGained reports whether plaintext from the client reaches the
// endpoint in a and not in b: accepted, or sent.
func plainGained(b, a Cell) bool {
	p := TransportSetOf(Plaintext)
	return gained(b.Accepts&p, a.Accepts&p) || gained(b.Transports&p, a.Transports&p)
}

// gained reports whether to has a member from lacks.
func gained(from, to TransportSet) bool { return to&^from != 0 }

// strength orders transports by what they protect: plaintext < TLS (not
// Istio's) < Istio mTLS, which also carries the mesh identity.
func strength(t Transport) int {
	switch t {
	case Plaintext:
		return 1
	case TLS:
		return 2
	case MTLS:
		return 3
	}
	return 0
}

// DeltaStats describes how a [Delta] was computed.
type DeltaStats struct {
	Clients int // client workloads of either mesh
	// Rows is the number of distinct client rows compared: clients that
	// are in the same class in both meshes share one.
	Rows int
	// Probes is the number of probes run on the after mesh: 0 when both
	// meshes came as matrices ([Diff]), the after matrix's evaluations when
	// [WhatIf] had to build it in full.
	Probes int
	// Incremental is true when only what the edit can affect was
	// evaluated (see [WhatIf]).
	Incremental bool
}

// Delta is the difference between the reachability of two meshes: every
// [Change], sorted by client, then destination node, port, Host and
// ViaPort. It is immutable and safe for concurrent use. A mesh of
// thousands of workloads can have millions of changes: they are expanded
// as [Delta.Changes] yields them.
type Delta struct {
	before, after *Simulator
	clients       []mesh.WorkloadID // sorted union of both meshes' workloads
	rowOf         []int32           // per client: its row in rows
	rows          [][]Change        // change templates per row, From unset, sorted
	counts        [Added + 1]int
	stats         DeltaStats
}

// Before returns the simulator of the mesh before the change.
func (d *Delta) Before() *Simulator { return d.before }

// After returns the simulator of the mesh after the change.
func (d *Delta) After() *Simulator { return d.after }

// Len returns the number of changes.
func (d *Delta) Len() int {
	n := 0
	for _, c := range d.counts {
		n += c
	}
	return n
}

// Count returns the number of changes of kind k.
func (d *Delta) Count(k ChangeKind) int {
	if int(k) >= len(d.counts) {
		return 0
	}
	return d.counts[k]
}

// Stats reports how the delta was computed.
func (d *Delta) Stats() DeltaStats { return d.stats }

// Changes yields every change in order.
func (d *Delta) Changes() iter.Seq[Change] {
	return func(yield func(Change) bool) {
		for i, id := range d.clients {
			for _, c := range d.rows[d.rowOf[i]] {
				c.From = id
				if c.Before.From.IsValid() {
					c.Before.From = id
				}
				if c.After.From.IsValid() {
					c.After.From = id
				}
				if !yield(c) {
					return
				}
			}
		}
	}
}

// Explain returns the verdict results behind a change: the as-configured
// result (Endpoint.Default, or Verdict.Default for an external host) of
// c.Probe() for c.To in each mesh; the zero Result on the side where the
// cell does not exist. Their Steps are the traces that explain the
// outcome.
func (d *Delta) Explain(c Change) (before, after Result, err error) {
	if c.Before.From.IsValid() {
		if before, err = explainCell(d.before, c); err != nil {
			return Result{}, Result{}, err
		}
	}
	if c.After.From.IsValid() {
		if after, err = explainCell(d.after, c); err != nil {
			return Result{}, Result{}, err
		}
	}
	return before, after, nil
}

func explainCell(s *Simulator, c Change) (Result, error) {
	v, err := s.Probe(c.Probe())
	if err != nil {
		return Result{}, err
	}
	if c.To.Kind == NodeExternal {
		return v.Default, nil
	}
	for _, ep := range v.Endpoints {
		if ep.Workload == c.To.Workload && ep.TargetPort == c.Port {
			return ep.Default, nil
		}
	}
	return Result{}, fmt.Errorf("sim: %s has no endpoint %s:%d", c.Probe(), c.To, c.Port)
}

// compareCellKeys orders cells of one client as Matrix.Cells does.
func compareCellKeys(a, b Cell) int {
	return cmp.Or(a.To.Compare(b.To), cmp.Compare(a.Port, b.Port), strings.Compare(a.Host, b.Host), cmp.Compare(a.ViaPort, b.ViaPort))
}

// diffRows compares the cells of one client in two meshes, both sorted by
// compareCellKeys, and returns the changes (From left for the caller).
func diffRows(before, after []Cell) []Change {
	var out []Change
	i, j := 0, 0
	for i < len(before) || j < len(after) {
		var c int
		switch {
		case i == len(before):
			c = 1
		case j == len(after):
			c = -1
		default:
			c = compareCellKeys(before[i], after[j])
		}
		switch {
		case c < 0:
			out = append(out, changeOf(Removed, before[i], before[i], Cell{}))
			i++
		case c > 0:
			out = append(out, changeOf(Added, after[j], Cell{}, after[j]))
			j++
		default:
			if k := classify(before[i], after[j]); k != 0 {
				out = append(out, changeOf(k, after[j], before[i], after[j]))
			}
			i++
			j++
		}
	}
	return out
}

func changeOf(k ChangeKind, key, b, a Cell) Change {
	return Change{Kind: k, To: key.To, Port: key.Port, Host: key.Host, ViaPort: key.ViaPort, Proto: key.Proto, Before: b, After: a}
}

// row returns the cells of client id in m, in Cells order.
func row(m *Matrix, id mesh.WorkloadID) []Cell {
	if !id.IsValid() {
		return nil
	}
	return slices.Collect(m.Cells(Filter{From: id}))
}

// deltaBuilder assembles a Delta from per-client row keys.
type deltaBuilder struct {
	d     *Delta
	byKey map[string]int32
}

func newDeltaBuilder(before, after *Simulator, clients []mesh.WorkloadID) *deltaBuilder {
	return &deltaBuilder{d: &Delta{before: before, after: after, clients: clients, rowOf: make([]int32, len(clients))}, byKey: map[string]int32{}}
}

// set gives client i the row with key k, computing it with f the first
// time k is seen.
func (b *deltaBuilder) set(i int, k string, f func() []Change) {
	r, ok := b.byKey[k]
	if !ok {
		r = int32(len(b.d.rows))
		b.byKey[k] = r
		b.d.rows = append(b.d.rows, f())
	}
	b.d.rowOf[i] = r
	for _, c := range b.d.rows[r] {
		b.d.counts[c.Kind]++
	}
}

func (b *deltaBuilder) done() *Delta {
	b.d.stats.Clients = len(b.d.clients)
	b.d.stats.Rows = len(b.d.rows)
	return b.d
}

// clientUnion returns the workloads of both meshes, sorted.
func clientUnion(a, b *mesh.Mesh) []mesh.WorkloadID {
	var out []mesh.WorkloadID
	for _, w := range a.Workloads() {
		out = append(out, w.ID)
	}
	for _, w := range b.Workloads() {
		out = append(out, w.ID)
	}
	slices.SortFunc(out, mesh.WorkloadID.Compare)
	return slices.Compact(out)
}

// Diff compares two matrices cell by cell and returns every change,
// classified (see [ChangeKind]). Clients that are in the same class in
// both meshes share their comparison, so the cost grows with the distinct
// (before class, after class) pairs times the cells per client.
//
// The distinct pairs are compared on GOMAXPROCS goroutines.
func Diff(before, after *Matrix) *Delta {
	clients := clientUnion(before.s.Mesh(), after.s.Mesh())
	type pair struct{ b, a mesh.WorkloadID }
	var pairs []pair
	index := map[pair]int{}
	pairOf := make([]int, len(clients))
	for i, id := range clients {
		p := pair{classRep(before, id), classRep(after, id)}
		k, ok := index[p]
		if !ok {
			k = len(pairs)
			index[p] = k
			pairs = append(pairs, p)
		}
		pairOf[i] = k
	}
	nodes := mergeNodes(before.nodes, after.nodes)
	idx := make([][2]int32, len(nodes))
	for k, n := range nodes {
		idx[k] = [2]int32{-1, -1}
		if i, ok := before.nodeIndex(n); ok {
			idx[k][0] = i
		}
		if i, ok := after.nodeIndex(n); ok {
			idx[k][1] = i
		}
	}
	rows := make([][]Change, len(pairs))
	parallelFor(len(pairs), func(i int) { rows[i] = diffClients(before, after, pairs[i].b, pairs[i].a, nodes, idx) })
	b := newDeltaBuilder(before.s, after.s, clients)
	for i := range clients {
		p := pairs[pairOf[i]]
		b.set(i, p.b.String()+"|"+p.a.String(), func() []Change { return rows[pairOf[i]] })
	}
	return b.done()
}

// mergeNodes returns the nodes of both matrices, in Node order (each
// matrix's nodes are in that order), without repeats.
func mergeNodes(a, b []Node) []Node {
	out := make([]Node, 0, max(len(a), len(b)))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].Compare(b[j]) < 0:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].Compare(a[i]) < 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// diffClients is diffRows of client rb in before and ra in after (either
// may be the zero ID), node by node, so that no whole row is held: nodes
// lists the nodes of both matrices, idx their indexes in each (-1 when
// absent). Where both matrices have the same slots on a node, cells are
// built only where the codes differ.
func diffClients(before, after *Matrix, rb, ra mesh.WorkloadID, nodes []Node, idx [][2]int32) []Change {
	bi, bok := before.wlIndex[rb]
	ai, aok := after.wlIndex[ra]
	var bcl, acl int32
	if bok {
		bcl = before.classOf[bi]
	}
	if aok {
		acl = after.classOf[ai]
	}
	var out []Change
	var bc, ac []Cell
	for k := range nodes {
		bn, an := idx[k][0], idx[k][1]
		if !bok {
			bn = -1
		}
		if !aok {
			an = -1
		}
		if bn >= 0 && an >= 0 && sameSlots(before, after, before.slotsOfNode[bn], after.slotsOfNode[an]) {
			bs, as := before.slotsOfNode[bn], after.slotsOfNode[an]
			for x := range bs {
				cb, ca := before.code(bcl, bs[x]), after.code(acl, as[x])
				if cb == ca {
					continue // classify reads nothing else
				}
				b, _ := before.cell(bi, bcl, bs[x])
				a, _ := after.cell(ai, acl, as[x])
				switch {
				case cb == 0:
					out = append(out, changeOf(Added, a, Cell{}, a))
				case ca == 0:
					out = append(out, changeOf(Removed, b, b, Cell{}))
				default:
					if kind := classify(b, a); kind != 0 {
						out = append(out, changeOf(kind, a, b, a))
					}
				}
			}
			continue
		}
		bc, ac = bc[:0], ac[:0]
		if bn >= 0 {
			bc = before.appendCells(bc, bi, bn)
		}
		if an >= 0 {
			ac = after.appendCells(ac, ai, an)
		}
		if len(bc)+len(ac) > 0 {
			out = append(out, diffRows(bc, ac)...)
		}
	}
	return out
}

// sameSlots reports whether two lists of slots have the same keys (port,
// host and dialled port; the node is the caller's), in order.
func sameSlots(before, after *Matrix, bs, as []int32) bool {
	if len(bs) != len(as) {
		return false
	}
	for i := range bs {
		x, y := &before.slots[bs[i]], &after.slots[as[i]]
		dx, dy := &before.dests[x.dest], &after.dests[y.dest]
		if x.port != y.port || dx.host != dy.host || dx.port != dy.port || dx.proto != dy.proto {
			return false
		}
	}
	return true
}

// classRep returns the first member of id's class in m, or the zero ID
// when m has no such workload.
func classRep(m *Matrix, id mesh.WorkloadID) mesh.WorkloadID {
	cl, ok := m.ClassOf(id)
	if !ok {
		return mesh.WorkloadID{}
	}
	return cl.Members[0]
}
