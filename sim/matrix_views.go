package sim

// Views of destination groups, computed sparsely: in a group most classes
// are told apart only by their genericKey (clientClass.specialIn), so the
// group renders one view per genericKey and a view for each class it
// reads more of. Classes special in a group are found through inverted
// indexes, so the cost grows with the classes and groups, not with their
// product.

import (
	"slices"
)

// viewIndex is what buildViews shares between groups.
type viewIndex struct {
	generics [][]int32          // per genericKey index: its classes, ascending
	byPort   map[uint32][]int32 // classes whose scope has a port listener on the port
	byHostNS map[string][]int32 // classes whose catch-all has egress hosts for the namespace
	byNS     map[string][]int32 // classes with a sidecar, by namespace
	byHost   map[string][]int32 // classes whose catch-all has an exact "*/host" egress entry
}

// buildViews assigns every class a view in every group, sets each group's
// reps, and computes the identity tables.
func (m *Matrix) buildViews(cf *classifier, naive bool) {
	cf.initIdentity(m.classes)
	if naive {
		for _, g := range m.groups {
			g.generic = make([]int32, len(m.classes))
			g.special = make(map[int32]int32, len(m.classes))
			g.reps = make([]int32, len(m.classes))
			for i, cl := range m.classes {
				cl.generic = int32(i)
				g.generic[i] = -1
				g.special[cl.id] = int32(i)
				g.reps[i] = cl.id
			}
		}
		return
	}
	ix := &viewIndex{byPort: map[uint32][]int32{}, byHostNS: map[string][]int32{}, byNS: map[string][]int32{}, byHost: map[string][]int32{}}
	genericIDs := map[string]int32{}
	for _, cl := range m.classes {
		k := cl.genericKey()
		gk, ok := genericIDs[k]
		if !ok {
			gk = int32(len(ix.generics))
			genericIDs[k] = gk
			ix.generics = append(ix.generics, nil)
		}
		cl.generic = gk
		ix.generics[gk] = append(ix.generics[gk], cl.id)
		if !cl.injected {
			continue
		}
		ix.byNS[cl.ns] = append(ix.byNS[cl.ns], cl.id)
		for _, p := range slices.Compact(slices.Sorted(slices.Values(cl.listenerPorts))) {
			ix.byPort[p] = append(ix.byPort[p], cl.id)
		}
		for _, h := range slices.Compact(slices.Sorted(slices.Values(cl.exactWildNSHosts()))) {
			ix.byHost[h] = append(ix.byHost[h], cl.id)
		}
		if cl.catchAll != nil {
			for n := range cl.catchAll.byNS {
				if n != wildcardNamespace {
					ix.byHostNS[n] = append(ix.byHostNS[n], cl.id)
				}
			}
		}
	}
	parallelFor(len(m.groups), func(g int) { m.groupViews(cf, ix, m.groups[g]) })
}

// groupViews computes the views of group g. Views are numbered in the
// order of their first class, so the result does not depend on map
// order.
func (m *Matrix) groupViews(cf *classifier, ix *viewIndex, g *destGroup) {
	dc := g.ctx
	if dc.port != 0 {
		for _, di := range g.dests {
			d := m.resolveDest(di)
			for _, group := range m.e.candidates(&d, "") {
				for _, r := range group {
					if proto, ok := r.portProtocol(d.port); ok {
						g.locks = append(g.locks, r.listenerKey(proto))
					} else {
						g.locks = append(g.locks, "")
					}
				}
			}
		}
	}
	var special []int32
	add := func(ids []int32) { special = append(special, ids...) }
	if dc.port != 0 {
		add(ix.byPort[dc.port])
	}
	for _, n := range dc.nss {
		add(ix.byHostNS[n])
	}
	for _, h := range g.hosts {
		add(ix.byHost[h])
	}
	for n := range dc.names {
		add(ix.byNS[n])
	}
	for n := range dc.drNS {
		if !dc.names[n] {
			add(ix.byNS[n])
		}
	}
	// Keep only the classes specialIn says are special: the indexes may
	// list more (a class of a namespace in names is special; one in byPort
	// is too), never fewer.
	special = slices.DeleteFunc(special, func(id int32) bool { return !m.classes[id].specialIn(g) })
	reads := cf.readsIdentity(dc.nss)
	if reads {
		cf.identityClasses(dc.nss, func(id int32) { special = append(special, id) })
	}
	slices.Sort(special)
	special = slices.Compact(special)
	isSpecial := make(map[int32]bool, len(special))
	for _, id := range special {
		isSpecial[id] = true
	}

	type view struct {
		key   viewKey
		first int32 // the first class with the view
	}
	var views []view
	ids := map[viewKey]int32{}
	viewFor := func(k viewKey, cl int32) int32 {
		v, ok := ids[k]
		if !ok {
			v = int32(len(views))
			ids[k] = v
			views = append(views, view{k, cl})
		} else if cl < views[v].first {
			views[v].first = cl
		}
		return v
	}
	common := ""
	if reads {
		common = cf.commonIdentity(dc.nss)
	}
	g.generic = make([]int32, len(ix.generics))
	for gk, members := range ix.generics {
		g.generic[gk] = -1
		for _, id := range members {
			if !isSpecial[id] {
				g.generic[gk] = viewFor(viewKey{m.classes[id].genericView(g), common}, id)
				break
			}
		}
	}
	g.special = make(map[int32]int32, len(special))
	for _, id := range special {
		cl := m.classes[id]
		id2 := common
		if reads {
			id2 = cf.identityView(cl, dc.nss)
		}
		g.special[id] = viewFor(viewKey{cl.clientView(cf, g), id2}, id)
	}

	// Renumber by first class.
	order := make([]int32, len(views))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return int(views[a].first) - int(views[b].first) })
	renum := make([]int32, len(views))
	g.reps = make([]int32, len(views))
	for newID, old := range order {
		renum[old] = int32(newID)
		g.reps[newID] = views[old].first
	}
	for gk, v := range g.generic {
		if v >= 0 {
			g.generic[gk] = renum[v]
		}
	}
	for id, v := range g.special {
		g.special[id] = renum[v]
	}
}

// countCells returns the number of cells the matrix expands to: per group
// and view, its cells times the members of the classes with that view.
func (m *Matrix) countCells() int {
	var gkMembers []int
	for _, cl := range m.classes {
		for int(cl.generic) >= len(gkMembers) {
			gkMembers = append(gkMembers, 0)
		}
		gkMembers[cl.generic] += len(cl.members)
	}
	total := 0
	for _, g := range m.groups {
		n := make([]int, len(g.reps))
		for gk, v := range g.generic {
			if v >= 0 {
				n[v] += gkMembers[gk]
			}
		}
		for id, v := range g.special {
			cl := m.classes[id]
			n[v] += len(cl.members)
			if gv := g.generic[cl.generic]; gv >= 0 {
				n[gv] -= len(cl.members)
			}
		}
		for v, k := range n {
			total += k * m.gvCells[g.gv+int32(v)]
		}
	}
	return total
}

// gvsOf returns the (group, view) pairs class ci uses whose verdicts
// reach some node, in group order. They are assembled from the pairs its
// genericKey has in every group and the groups where the class is special
// (gvIndex), so nothing of size classes × groups is kept.
func (m *Matrix) gvsOf(ci int32) []int32 {
	m.gvIndexOnce.Do(m.buildGVIndex)
	gen, sp := m.genGV[m.classes[ci].generic], m.specialGV[ci]
	out := make([]int32, 0, len(gen)+len(sp))
	j := 0
	for _, e := range gen {
		for j < len(sp) && sp[j].g < e.g {
			if m.gvSet[sp[j].gv] != 0 {
				out = append(out, sp[j].gv)
			}
			j++
		}
		if j < len(sp) && sp[j].g == e.g {
			continue // special there: its own view, added above or below
		}
		out = append(out, e.gv)
	}
	for ; j < len(sp); j++ {
		if m.gvSet[sp[j].gv] != 0 {
			out = append(out, sp[j].gv)
		}
	}
	return out
}

// groupGV is a (group, view) pair: the group's index and the pair's id.
type groupGV struct{ g, gv int32 }

// buildGVIndex lists, per genericKey, its (group, view) pairs that reach
// some node, and per class the pairs of the groups where it is special
// (all of them: gvsOf skips the generic pair there).
func (m *Matrix) buildGVIndex() {
	keys := int32(0)
	for _, cl := range m.classes {
		keys = max(keys, cl.generic+1)
	}
	m.genGV = make([][]groupGV, keys)
	m.specialGV = make([][]groupGV, len(m.classes))
	for gi, g := range m.groups {
		for gk, v := range g.generic {
			if v >= 0 && m.gvSet[g.gv+v] != 0 {
				m.genGV[gk] = append(m.genGV[gk], groupGV{int32(gi), g.gv + v})
			}
		}
		for id, v := range g.special {
			m.specialGV[id] = append(m.specialGV[id], groupGV{int32(gi), g.gv + v})
		}
	}
	for _, list := range m.specialGV {
		slices.SortFunc(list, func(a, b groupGV) int { return int(a.g - b.g) })
	}
}
