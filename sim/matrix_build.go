package sim

// Building a Matrix: client classes, destinations and their groups, one
// probe per (view, destination), and the slots cells expand from.

import (
	"cmp"
	"slices"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// destination is one Service or ServiceEntry port the matrix probes.
type destination struct {
	host  string
	port  uint32
	proto Protocol
	group int32
	local int32   // index among the group's destinations
	slots []int32 // global slot ids, in the order of the results' codes
}

// destGroup is a set of destinations sharing a destContext.
type destGroup struct {
	ctx   *destContext
	dests []int32
	hosts []string              // the registry hosts its destinations may be, sorted
	rel   map[string]bool       // relevant, memoised
	views map[*hostClass]string // hostView, memoised
	reps  []int32               // per view: the class whose representative is probed
	res   [][]int32             // per view, per destination of the group: result id
	gv    int32                 // the id of view 0 among all (group, view) pairs
	// generic is the view of the classes not in special, by their
	// genericKey index (-1 when every class with that key is special);
	// special the view of every class the group tells apart by more
	// (clientClass.specialIn, or an identity other than the most common).
	generic []int32
	special map[int32]int32
	// locks lists, when the group has a port (destContext.port), the
	// listener address of every candidate registry service of every
	// destination on that port, in order ("" when the service lacks the
	// port): portView reads whether a port listener owns them.
	locks     []string
	portViews map[*sidecarScope]string // portView, memoised
}

// viewOf returns the view of class cl in g.
func (g *destGroup) viewOf(cl *clientClass) int32 {
	if len(g.special) > 0 {
		if v, ok := g.special[cl.id]; ok {
			return v
		}
	}
	return g.generic[cl.generic]
}

// slot is one (destination, node, port) a verdict may have a result for.
type slot struct {
	dest int32
	node int32
	port uint32
	pos  int32 // index in the destination's slots
}

// evalResult is the outcome of one probe for every slot of its
// destination.
type evalResult struct {
	via   mesh.Ref
	codes []uint8 // per slot of the destination; 0 when the verdict has no result there
}

// Result codes: one byte per (verdict, endpoint).
const (
	codePresent   = 1 << 0
	codeAllowed   = 1 << 1
	codeTransport = 2      // shift of the 2-bit default transport
	codePlaintext = 1 << 4 // plaintext can flow besides the default (Cell.Transports)
	codeUndecided = 1 << 6
	// The verdict's answers for the endpoint, whatever the client sends
	// (Cell.Accepts).
	codeAcceptPlain = 1 << 5
	codeAcceptMTLS  = 1 << 7
)

// accepts encodes the verdict's Plaintext and MTLS answers (Cell.Accepts).
func accepts(plain, mtls bool) uint8 {
	var c uint8
	if plain {
		c |= codeAcceptPlain
	}
	if mtls {
		c |= codeAcceptMTLS
	}
	return c
}

// codeAccepts decodes what accepts encoded.
func codeAccepts(c uint8) TransportSet {
	var s TransportSet
	if c&codeAcceptPlain != 0 {
		s |= 1 << Plaintext
	}
	if c&codeAcceptMTLS != 0 {
		s |= 1 << MTLS
	}
	return s
}

// encode reduces the default result and whether plaintext can flow to a
// code: for a client without a sidecar, when the server accepts plaintext
// from it (see Cell.Transports).
func encode(def Result, plain bool) uint8 {
	c := uint8(codePresent) | uint8(def.Transport&3)<<codeTransport
	if def.Allowed {
		c |= codeAllowed
	}
	if def.Undecided != "" {
		c |= codeUndecided
	}
	if plain {
		c |= codePlaintext
	}
	return c
}

func codeOutcome(c uint8) Outcome {
	return Outcome{Allowed: c&codeAllowed != 0, Transport: Transport(c >> codeTransport & 3), Undecided: c&codeUndecided != 0}
}

func codeTransports(c uint8) TransportSet {
	var s TransportSet
	if c&codePlaintext != 0 {
		s |= 1 << Plaintext
	}
	if o := codeOutcome(c); o.Allowed {
		s |= TransportSetOf(o.Transport)
	}
	return s
}

// protocolOf is the Protocol a client application speaks on a port whose
// Istio protocol is p: the declared one, TCP when undeclared or opaque.
func protocolOf(p string) Protocol {
	switch p {
	case protoHTTP:
		return HTTP
	case protoHTTP2:
		return HTTP2
	case protoGRPC, protoGRPCWeb:
		return GRPC
	case protoHTTPS, protoTLS:
		return HTTPS
	}
	return TCP
}

// rawEndpoint is one endpoint result of a probe before slots exist.
type rawEndpoint struct {
	node int32 // workload index; -1 for the external host
	port uint32
	code uint8
}

type rawResult struct {
	via mesh.Ref
	eps []rawEndpoint
}

// buildMatrix builds the matrix. naive builds it without sharing: one
// class per workload, one view per class in every group, and no memo in
// the evaluation; tests compare the two.
func (s *Simulator) buildMatrix(naive bool) *Matrix {
	e := s.e
	m := &Matrix{s: s, e: e, wls: e.wls, wlIndex: make(map[mesh.WorkloadID]int32, len(e.wls))}
	for i, w := range e.wls {
		m.wlIndex[w.ID] = int32(i)
	}

	// Client classes.
	cf := newClassifier(e)
	bySig := map[string]*clientClass{}
	m.classOf = make([]int32, len(e.wls))
	for i, w := range e.wls {
		sig, cl := cf.clientSignature(w)
		if naive {
			sig += "\x00" + w.ID.String()
		}
		if have, ok := bySig[sig]; ok {
			cl = have
		} else {
			cl.id = int32(len(m.classes))
			bySig[sig] = cl
			m.classes = append(m.classes, cl)
			cl.initBase()
		}
		cl.members = append(cl.members, int32(i))
		m.classOf[i] = cl.id
	}

	// Destinations and their groups.
	m.collectDests()
	listenerPorts := map[uint32]bool{}
	for _, cl := range m.classes {
		for _, p := range cl.listenerPorts {
			listenerPorts[p] = true
		}
	}
	type ctxOf struct {
		dc    *destContext
		hosts []string
		key   string
	}
	ctxs := make([]ctxOf, len(m.dests))
	parallelFor(len(m.dests), func(i int) {
		d := &m.dests[i]
		dc, hosts := m.context(cf, d)
		if listenerPorts[d.port] {
			dc.port = d.port
		}
		ctxs[i] = ctxOf{dc, hosts, dc.key()}
	})
	groupOf := map[string]int32{}
	for i := range m.dests {
		d := &m.dests[i]
		dc, hosts, k := ctxs[i].dc, ctxs[i].hosts, ctxs[i].key
		g, ok := groupOf[k]
		if !ok {
			g = int32(len(m.groups))
			groupOf[k] = g
			m.groups = append(m.groups, &destGroup{ctx: dc, rel: map[string]bool{}, views: map[*hostClass]string{}, portViews: map[*sidecarScope]string{}})
		}
		grp := m.groups[g]
		d.group, d.local = g, int32(len(grp.dests))
		grp.dests = append(grp.dests, int32(i))
		grp.hosts = append(grp.hosts, hosts...)
	}
	for _, grp := range m.groups {
		slices.Sort(grp.hosts)
		grp.hosts = slices.Compact(grp.hosts)
	}

	// Views: per class and group, which probe answers for the class.
	m.buildViews(cf, naive)

	// One probe per (group, view, destination).
	type job struct{ g, v, local int32 }
	var jobs []job
	for g, grp := range m.groups {
		for v := range grp.reps {
			for l := range grp.dests {
				jobs = append(jobs, job{int32(g), int32(v), int32(l)})
			}
		}
	}
	ev := m.newEvaluator(cf)
	ev.naive = naive
	raws := make([]rawResult, len(jobs))
	errs := make([]error, len(jobs))
	// One task per destination, over its group's views: they share a
	// memo. Job (g, v, local) is at offset[g] + v*len(dests) + local.
	type task struct{ g, local int32 }
	var tasks []task
	offset := make([]int, len(m.groups))
	n := 0
	for g, grp := range m.groups {
		offset[g] = n
		n += len(grp.reps) * len(grp.dests)
		for l := range grp.dests {
			tasks = append(tasks, task{int32(g), int32(l)})
		}
	}
	parallelFor(len(tasks), func(i int) {
		t := tasks[i]
		grp := m.groups[t.g]
		memo := newDestMemo()
		for v, rep := range grp.reps {
			k := offset[t.g] + v*len(grp.dests) + int(t.local)
			raws[k], errs[k] = ev.evaluate(m.classes[rep], grp.dests[t.local], memo)
		}
	})
	for _, err := range errs {
		if err != nil {
			m.errs = append(m.errs, err)
		}
	}
	slices.SortFunc(m.errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	m.errs = slices.CompactFunc(m.errs, func(a, b error) bool { return a.Error() == b.Error() })

	// Nodes: workloads, then the external hosts some verdict reached.
	ext := map[string]bool{}
	for i, r := range raws {
		for _, ep := range r.eps {
			if ep.node < 0 {
				ext[m.dests[m.groups[jobs[i].g].dests[jobs[i].local]].host] = true
			}
		}
	}
	m.nodes = make([]Node, 0, len(e.wls)+len(ext)+1)
	for _, w := range e.wls {
		m.nodes = append(m.nodes, WorkloadNode(w.ID))
	}
	m.extIndex = map[string]int32{}
	for _, h := range sortedKeys(ext) {
		m.extIndex[h] = int32(len(m.nodes))
		m.nodes = append(m.nodes, ExternalNode(h))
	}
	m.outside = int32(len(m.nodes))
	m.nodes = append(m.nodes, OutsideNode())
	nodeOf := func(d *destination, ep rawEndpoint) int32 {
		if ep.node < 0 {
			return m.extIndex[d.host]
		}
		return ep.node
	}

	// Slots: per destination, every (node, port) some verdict has.
	type np struct {
		node int32
		port uint32
	}
	seen := make([]map[np]bool, len(m.dests))
	for i, r := range raws {
		di := m.groups[jobs[i].g].dests[jobs[i].local]
		for _, ep := range r.eps {
			if seen[di] == nil {
				seen[di] = map[np]bool{}
			}
			seen[di][np{nodeOf(&m.dests[di], ep), ep.port}] = true
		}
	}
	for di := range m.dests {
		for k := range seen[di] {
			m.slots = append(m.slots, slot{dest: int32(di), node: k.node, port: k.port})
		}
	}
	slices.SortFunc(m.slots, func(a, b slot) int {
		if c := cmp.Compare(a.node, b.node); c != 0 {
			return c
		}
		if c := cmp.Compare(a.port, b.port); c != 0 {
			return c
		}
		da, db := &m.dests[a.dest], &m.dests[b.dest]
		if c := strings.Compare(da.host, db.host); c != 0 {
			return c
		}
		return cmp.Compare(da.port, db.port)
	})
	slotAt := make([]map[np]int32, len(m.dests))
	m.slotsOfNode = make([][]int32, len(m.nodes))
	for si := range m.slots {
		sl := &m.slots[si]
		d := &m.dests[sl.dest]
		sl.pos = int32(len(d.slots))
		d.slots = append(d.slots, int32(si))
		if slotAt[sl.dest] == nil {
			slotAt[sl.dest] = map[np]int32{}
		}
		slotAt[sl.dest][np{sl.node, sl.port}] = sl.pos
		m.slotsOfNode[sl.node] = append(m.slotsOfNode[sl.node], int32(si))
	}

	// Results, interned.
	for _, grp := range m.groups {
		grp.res = make([][]int32, len(grp.reps))
		for v := range grp.res {
			grp.res[v] = make([]int32, len(grp.dests))
		}
	}
	ids := map[string]int32{}
	var key []byte
	for i, r := range raws {
		j := jobs[i]
		di := m.groups[j.g].dests[j.local]
		d := &m.dests[di]
		codes := make([]uint8, len(d.slots))
		for _, ep := range r.eps {
			codes[slotAt[di][np{nodeOf(d, ep), ep.port}]] = ep.code
		}
		key = append(key[:0], r.via.Kind...)
		key = append(key, 0)
		key = append(key, r.via.Namespace...)
		key = append(key, 0)
		key = append(key, r.via.Name...)
		key = append(key, 0)
		key = append(key, codes...)
		id, ok := ids[string(key)]
		if !ok {
			id = int32(len(m.results))
			ids[string(key)] = id
			m.results = append(m.results, evalResult{via: r.via, codes: codes})
		}
		m.groups[j.g].res[j.v][j.local] = id
	}

	m.buildViewGraph()
	m.stats = Stats{Workloads: len(e.wls), Classes: len(m.classes), Destinations: len(m.dests), Groups: len(m.groups), Evaluations: len(jobs)}
	m.stats.Cells = m.countCells()
	return m
}

// buildViewGraph computes, for every (group, view) pair, the nodes its
// verdicts reach and how many cells they have, and for every class the
// pairs it uses.
func (m *Matrix) buildViewGraph() {
	n := int32(0)
	for _, grp := range m.groups {
		grp.gv = n
		n += int32(len(grp.reps))
	}
	m.gvAdj = make([][]adjEntry, n)
	m.gvSet = make([]TransportSet, n)
	m.gvCells = make([]int, n)
	sets := make([]TransportSet, len(m.nodes))
	var touched []int32
	for _, grp := range m.groups {
		for v := range grp.reps {
			gv := grp.gv + int32(v)
			for l, di := range grp.dests {
				r := &m.results[grp.res[v][l]]
				for i, si := range m.dests[di].slots {
					c := r.codes[i]
					if c == 0 {
						continue
					}
					m.gvCells[gv]++
					set := codeTransports(c)
					if set == 0 {
						continue
					}
					node := m.slots[si].node
					if sets[node] == 0 {
						touched = append(touched, node)
					}
					sets[node] |= set
				}
			}
			slices.Sort(touched)
			adj := make([]adjEntry, len(touched))
			for i, node := range touched {
				adj[i] = adjEntry{node: node, set: sets[node]}
				m.gvSet[gv] |= sets[node]
				sets[node] = 0
			}
			m.gvAdj[gv] = adj
			touched = touched[:0]
		}
	}
}

// collectDests lists the destinations: every TCP port of every Service,
// then every port of every ServiceEntry host that is not a wildcard, not a
// Service's, and resolvable from any namespace (it has a dot, and a
// two-label host does not name a Service).
func (m *Matrix) collectDests() {
	e := m.e
	type hp struct {
		host string
		port uint32
	}
	seen := map[hp]bool{}
	for _, sv := range e.services {
		for _, sp := range sv.svc.Ports {
			if sp.Protocol != "" && !strings.EqualFold(sp.Protocol, "TCP") {
				continue
			}
			k := hp{sv.host, sp.Port}
			if seen[k] || sp.Port == 0 {
				continue
			}
			seen[k] = true
			m.dests = append(m.dests, destination{host: sv.host, port: sp.Port, proto: protocolOf(kubePortProtocol(sp))})
		}
	}
	for _, se := range e.entries {
		for _, h := range se.Hosts {
			if isWildcardHost(h) || !strings.Contains(h, ".") || h != strings.ToLower(h) {
				continue
			}
			if parts := strings.Split(h, "."); len(parts) == 2 {
				if _, ok := e.svcByHost[serviceHost(parts[0], parts[1], e.cfg.DomainSuffix)]; ok {
					continue
				}
			}
			if _, ok := e.svcByHost[h]; ok {
				continue // the Service's destination already dials it
			}
			for _, sp := range se.Ports {
				p := parseIstioProtocol(sp.Protocol)
				k := hp{h, sp.Number}
				if p == protoUDP || seen[k] || sp.Number == 0 {
					continue
				}
				seen[k] = true
				m.dests = append(m.dests, destination{host: h, port: sp.Number, proto: protocolOf(p)})
			}
		}
	}
}

// context computes the destContext of d (see destContext), and the
// registry hosts d may be: its own, and the wildcard ServiceEntry hosts
// covering it.
func (m *Matrix) context(cf *classifier, d *destination) (*destContext, []string) {
	e := m.e
	dc := &destContext{names: map[string]bool{}, drNS: map[string]bool{}}
	nss := map[string]bool{}
	names := func(list []string) {
		for _, n := range list {
			if n != "*" && n != "." && n != "~" {
				dc.names[n] = true
			}
		}
	}
	needles := []string{d.host}
	if sv, ok := e.svcByHost[d.host]; ok {
		nss[sv.svc.Ref.Namespace] = true
		if len(sv.svc.ExportTo) > 0 {
			names(sv.svc.ExportTo)
		} else {
			names(e.cfg.DefaultServiceExportTo)
		}
		for _, se := range e.seByHost[d.host] {
			nss[se.Ref.Namespace] = true
			names(se.ExportTo)
			if len(se.ExportTo) == 0 {
				names(e.cfg.DefaultServiceExportTo)
			}
		}
	} else {
		for _, sm := range e.entriesFor(d.host, d.port) {
			nss[sm.se.Ref.Namespace] = true
			names(sm.se.ExportTo)
			if len(sm.se.ExportTo) == 0 {
				names(e.cfg.DefaultServiceExportTo)
			}
			for _, h := range sm.se.Hosts {
				if isWildcardHost(h) && hostSubsetOf(d.host, h) {
					needles = append(needles, h)
				}
			}
		}
	}
	dc.nss = sortedKeys(nss)
	for _, n := range dc.nss {
		dc.names[n] = true
	}
	dc.names[e.cfg.RootNamespace] = true
	for _, ns := range dc.nss {
		for _, dr := range e.destRules[ns] {
			names(dr.ExportTo)
		}
	}
	if !nss[e.cfg.RootNamespace] {
		for _, dr := range e.destRules[e.cfg.RootNamespace] {
			names(dr.ExportTo)
		}
	}
	for _, n := range needles {
		cf.drMatching(n, func(i int) { dc.drNS[e.allDRs[i].Ref.Namespace] = true })
	}
	return dc, needles
}

// drMayMatch reports whether a DestinationRule for host pattern may apply
// to a service host (drBucket.lookup: the exact host, else a wildcard
// covering it; a wildcard service host matches the same wildcard, then
// wildcards covering it). It may say yes where the lookup says no, never
// the reverse.
func drMayMatch(pattern, host string) bool {
	switch {
	case pattern == "*" || pattern == host:
		return true
	case isWildcardHost(host):
		return isWildcardHost(pattern) || strings.HasSuffix(pattern, host[1:])
	case isWildcardHost(pattern):
		return strings.HasSuffix(host, pattern[1:])
	}
	return false
}

// code returns the result code of class cl at slot si.
func (m *Matrix) code(cl, si int32) uint8 {
	sl := &m.slots[si]
	d := &m.dests[sl.dest]
	grp := m.groups[d.group]
	return m.results[grp.res[grp.viewOf(m.classes[cl])][d.local]].codes[sl.pos]
}

// via returns the Service or ServiceEntry of class cl's verdict at slot si.
func (m *Matrix) via(cl, si int32) mesh.Ref {
	sl := &m.slots[si]
	d := &m.dests[sl.dest]
	grp := m.groups[d.group]
	return m.results[grp.res[grp.viewOf(m.classes[cl])][d.local]].via
}
