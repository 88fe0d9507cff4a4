package sim

import "github.com/meshreach/meshreach/mesh"

// Lookup returns the cells of client from that land on node to at
// container port port (Cell.Port; 0 for every port), in the order
// [Matrix.Cells] yields them: the cells of
// Cells(Filter{From: from, To: to, Port: port}) when from and to are both
// set. Unlike a Filter, a zero from or to is not a wildcard: it names no
// client or node, and Lookup returns nil, as it does for an unknown client
// (including [OutsideID], which is not a client of the matrix), an
// unknown node, and a pair without cells at the port. Nil is returned
// without allocating; otherwise the slice is fresh, allocated once.
//
// Lookup goes straight to the pair's cells through the client's class and
// the node's slots, so it costs O(slots of to), the cells the pair can
// have, whatever the size of the mesh.
func (m *Matrix) Lookup(from mesh.WorkloadID, to Node, port uint32) []Cell {
	wi, ok := m.wlIndex[from]
	if !ok {
		return nil
	}
	ni, ok := m.nodeIndex(to)
	if !ok {
		return nil
	}
	cl := m.classOf[wi]
	var out []Cell
	for _, si := range m.slotsOfNode[ni] {
		if port != 0 && m.slots[si].port != port {
			continue
		}
		if c, ok := m.cell(wi, cl, si); ok {
			if out == nil {
				out = make([]Cell, 0, len(m.slotsOfNode[ni]))
			}
			out = append(out, c)
		}
	}
	return out
}

// appendCells appends the cells of client workload wi on node ni, in
// Cells order.
func (m *Matrix) appendCells(dst []Cell, wi, ni int32) []Cell {
	cl := m.classOf[wi]
	for _, si := range m.slotsOfNode[ni] {
		if c, ok := m.cell(wi, cl, si); ok {
			dst = append(dst, c)
		}
	}
	return dst
}
