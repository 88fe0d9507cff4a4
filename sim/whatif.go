package sim

// Incremental what-if: which (client, destination) evaluations an edit can
// affect, and a Delta computed from those alone.

import (
	"reflect"
	"slices"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// impact is what an edit can affect. A (client, destination) pair outside
// it has the same cells before and after the edit.
type impact struct {
	all       bool                     // the mesh config or a root-namespace policy changed
	clientNS  map[string]bool          // every destination of these namespaces' clients
	clientIDs map[mesh.WorkloadID]bool // every destination of these clients
	destNS    map[string]bool          // destinations whose Service or ServiceEntry is in these namespaces
	hosts     []string                 // destinations whose host overlaps one of these
	ports     map[uint32]bool          // destinations dialled on these ports
	drHosts   []string                 // destinations a DestinationRule for one of these hosts may apply to
}

// impactOf compares two meshes object by object and returns what the
// differences can affect. Each rule names the engine's readers of the
// object; a rule that reads an object more widely must widen its entry.
func impactOf(before, after *mesh.Mesh) *impact {
	im := &impact{clientNS: map[string]bool{}, clientIDs: map[mesh.WorkloadID]bool{}, destNS: map[string]bool{}, ports: map[uint32]bool{}}
	if !reflect.DeepEqual(before.Config(), after.Config()) {
		// Root namespace, outbound policy, auto mTLS, exportTo defaults,
		// trust domain, injection: read by every stage.
		im.all = true
		return im
	}
	root := before.Config().RootNamespace
	suffix := before.Config().DomainSuffix

	// Namespaces: labels decide injection of their clients and servers
	// (inject.go); their existence only resolves two-label names, which
	// matrix destinations never are.
	changed(before.Namespaces(), after.Namespaces(), func(n mesh.Namespace) string { return n.Name }, func(n mesh.Namespace) {
		im.clientNS[n.Name] = true
		im.destNS[n.Name] = true
	})
	// Workloads: the workload as a client; as an endpoint of the Services
	// and ServiceEntries of its namespace (selectors read only their own
	// namespace: index.go newIndex, engine.go Probe).
	changed(before.Workloads(), after.Workloads(), func(w mesh.Workload) string { return w.ID.String() }, func(w mesh.Workload) {
		im.clientIDs[w.ID] = true
		im.destNS[w.ID.Namespace] = true
	})
	// Services and ServiceEntries: their hosts (resolution, collisions,
	// wildcards: egress.go candidates), their ports (the listeners a
	// Sidecar's port listener or an HTTP catch-all shares with every
	// service on that port: egress.go scanHTTPListener, scope.go lookup),
	// and their namespace (the Services selecting a server: tls.go
	// svcsOf; ServiceEntry endpoints).
	changed(before.Services(), after.Services(), refKey(func(s mesh.Service) mesh.Ref { return s.Ref }), func(s mesh.Service) {
		im.hosts = append(im.hosts, serviceHost(s.Ref.Name, s.Ref.Namespace, suffix))
		for _, p := range s.Ports {
			im.ports[p.Port] = true
		}
		im.destNS[s.Ref.Namespace] = true
	})
	changed(before.ServiceEntries(), after.ServiceEntries(), refKey(func(s mesh.ServiceEntry) mesh.Ref { return s.Ref }), func(s mesh.ServiceEntry) {
		im.hosts = append(im.hosts, s.Hosts...)
		for _, p := range s.Ports {
			im.ports[p.Number] = true
		}
		im.destNS[s.Ref.Namespace] = true
	})
	// Sidecars: the egress scope of their namespace's clients, the ingress
	// listeners of its servers; in the root namespace, the default scope
	// of every namespace (scope_sidecar.go scopeFor).
	changed(before.Sidecars(), after.Sidecars(), refKey(func(s mesh.Sidecar) mesh.Ref { return s.Ref }), func(s mesh.Sidecar) {
		im.all = im.all || s.Ref.Namespace == root
		im.clientNS[s.Ref.Namespace] = true
		im.destNS[s.Ref.Namespace] = true
	})
	// PeerAuthentications: the servers of their namespace, or every server
	// for the root namespace's (peerauth.go peerMode); client auto mTLS
	// reads the server's namespace mode, still a destination property.
	changed(before.PeerAuthentications(), after.PeerAuthentications(), refKey(func(p mesh.PeerAuthentication) mesh.Ref { return p.Ref }), func(p mesh.PeerAuthentication) {
		im.all = im.all || p.Ref.Namespace == root
		im.destNS[p.Ref.Namespace] = true
	})
	// DestinationRules: looked up from the client's namespace first, then
	// the service's, then the root namespace, always by host
	// (destrule.go lookup); workloadSelector reads clients of its
	// namespace.
	changed(before.DestinationRules(), after.DestinationRules(), refKey(func(d mesh.DestinationRule) mesh.Ref { return d.Ref }), func(d mesh.DestinationRule) {
		im.all = im.all || d.Ref.Namespace == root
		im.clientNS[d.Ref.Namespace] = true
		im.drHosts = append(im.drHosts, resolveDRHost(d.Host, d.Ref.Namespace, suffix))
	})
	// AuthorizationPolicies: the servers of their namespace, or every
	// server for the root namespace's (authz.go).
	changed(before.AuthorizationPolicies(), after.AuthorizationPolicies(), refKey(func(p mesh.AuthorizationPolicy) mesh.Ref { return p.Ref }), func(p mesh.AuthorizationPolicy) {
		im.all = im.all || p.Ref.Namespace == root
		im.destNS[p.Ref.Namespace] = true
	})
	return im
}

func refKey[T any](ref func(T) mesh.Ref) func(T) string {
	return func(x T) string { r := ref(x); return r.Kind + "/" + r.Namespace + "/" + r.Name }
}

// changed calls f with both versions of every object that differs between
// two lists (added, removed or modified), matched by key.
func changed[T any](before, after []T, key func(T) string, f func(T)) {
	bm := make(map[string]int, len(before))
	for i, x := range before {
		bm[key(x)] = i
	}
	seen := make(map[string]bool, len(after))
	for _, x := range after {
		k := key(x)
		seen[k] = true
		i, ok := bm[k]
		if !ok {
			f(x)
			continue
		}
		if !reflect.DeepEqual(before[i], x) {
			f(before[i])
			f(x)
		}
	}
	for _, x := range before {
		if !seen[key(x)] {
			f(x)
		}
	}
}

// hostsOverlap reports whether two registry hosts may name a common host.
func hostsOverlap(a, b string) bool {
	return a == b || hostSubsetOf(a, b) || hostSubsetOf(b, a)
}

// destAffected reports whether the edit can change any client's cells for
// destination d of engine e.
func (im *impact) destAffected(e *engine, d *destination) bool {
	if im.ports[d.port] {
		return true
	}
	needles := []string{d.host}
	if sv, ok := e.svcByHost[d.host]; ok {
		if im.destNS[sv.svc.Ref.Namespace] {
			return true
		}
		for _, se := range e.seByHost[d.host] {
			if im.destNS[se.Ref.Namespace] {
				return true
			}
		}
	} else {
		for _, m := range e.entriesFor(d.host, d.port) {
			if im.destNS[m.se.Ref.Namespace] {
				return true
			}
			for _, h := range m.se.Hosts {
				if isWildcardHost(h) && hostSubsetOf(d.host, h) {
					needles = append(needles, h)
				}
			}
		}
	}
	for _, h := range im.hosts {
		for _, n := range needles {
			if hostsOverlap(h, n) {
				return true
			}
		}
	}
	for _, p := range im.drHosts {
		for _, n := range needles {
			if drMayMatch(p, n) || hostsOverlap(p, n) {
				return true
			}
		}
	}
	return false
}

// destKey identifies a destination across two meshes.
type destKey struct {
	host string
	port uint32
}

// destinations lists the destinations a Matrix of s would probe.
func destinations(s *Simulator) []destination {
	m := &Matrix{s: s, e: s.e}
	m.collectDests()
	return m.dests
}

// WhatIf returns the changes from base's mesh to after, evaluating only
// what the difference between the two meshes can affect, and reusing base
// for the rest. It gives the same Delta as Diff(base, New(after).Matrix()).
//
// Objects are compared by reference; what a changed object can affect is:
//   - the mesh configuration, or a Sidecar, PeerAuthentication,
//     DestinationRule or AuthorizationPolicy of the root namespace:
//     everything (then the after matrix is computed in full);
//   - a Namespace: its workloads as clients, and its destinations;
//   - a workload: itself as a client, and the destinations of its
//     namespace (it may be their endpoint);
//   - a Service or ServiceEntry: destinations whose host overlaps its
//     hosts, on one of its ports, or in its namespace;
//   - a Sidecar: its namespace's clients and destinations;
//   - a PeerAuthentication or AuthorizationPolicy: its namespace's
//     destinations;
//   - a DestinationRule: its namespace's clients, and destinations its
//     host may match.
//
// Both versions of a changed object count. The clients and destinations
// affected are evaluated on the after mesh once per client class, and
// compared with base's cells for them.
func WhatIf(base *Matrix, after *mesh.Mesh) *Delta {
	sa := New(after)
	im := impactOf(base.s.Mesh(), after)
	if im.all {
		am := sa.Matrix()
		d := Diff(base, am)
		d.stats.Probes = am.Stats().Evaluations
		return d
	}
	eb, ea := base.e, sa.e

	// Destinations the edit can affect, in either mesh.
	affected := map[destKey]bool{}
	baseDests := destinations(base.s)
	for _, d := range baseDests {
		if im.destAffected(eb, &d) {
			affected[destKey{d.host, d.port}] = true
		}
	}
	am := &Matrix{s: sa, e: ea, wls: ea.wls, wlIndex: make(map[mesh.WorkloadID]int32, len(ea.wls))}
	for i, w := range ea.wls {
		am.wlIndex[w.ID] = int32(i)
	}
	am.collectDests()
	afterDests := am.dests
	var aDests []int32 // after destinations to probe for every client
	for i, d := range afterDests {
		if im.destAffected(ea, &d) || affected[destKey{d.host, d.port}] {
			affected[destKey{d.host, d.port}] = true
			aDests = append(aDests, int32(i))
		}
	}
	destNodes := map[Node]bool{} // the nodes their cells may land on, in base
	for _, d := range baseDests {
		if affected[destKey{d.host, d.port}] {
			addDestNodes(eb, &d, destNodes)
		}
	}
	nodes := make([]Node, 0, len(destNodes))
	for n := range destNodes {
		nodes = append(nodes, n)
	}
	slices.SortFunc(nodes, Node.Compare)

	clients := clientUnion(base.s.Mesh(), after)
	full := func(id mesh.WorkloadID) bool { return im.clientNS[id.Namespace] || im.clientIDs[id] }

	// After side: one probe per (class, destination); a class with a
	// client whose every destination may change probes them all.
	cf := newClassifier(ea)
	type aclass struct {
		rep  *mesh.Workload
		cl   *clientClass
		full bool
		row  []Cell
	}
	var aclasses []*aclass
	bySig := map[string]int{}
	classOfAfter := map[mesh.WorkloadID]int{}
	for _, w := range ea.wls {
		sig, cl := cf.clientSignature(w)
		ci, ok := bySig[sig]
		if !ok {
			ci = len(aclasses)
			bySig[sig] = ci
			aclasses = append(aclasses, &aclass{rep: w, cl: cl})
		}
		aclasses[ci].full = aclasses[ci].full || full(w.ID)
		classOfAfter[w.ID] = ci
	}
	type job struct {
		class int
		dest  int32
	}
	var jobs []job
	for ci, ac := range aclasses {
		if ac.full {
			for di := range afterDests {
				jobs = append(jobs, job{ci, int32(di)})
			}
			continue
		}
		for _, di := range aDests {
			jobs = append(jobs, job{ci, di})
		}
	}
	ev := am.newEvaluator(cf)
	results := make([][]Cell, len(jobs))
	parallelFor(len(jobs), func(i int) {
		j := jobs[i]
		results[i] = ev.cells(aclasses[j.class].cl, j.dest)
	})
	for i, j := range jobs {
		ac := aclasses[j.class]
		ac.row = append(ac.row, results[i]...)
	}
	for _, ac := range aclasses {
		slices.SortFunc(ac.row, compareCellKeys)
	}

	// Base side: per base class, its cells for the affected destinations,
	// or all of them for a class with a full client.
	baseRow := map[string][]Cell{}
	baseCells := func(rep mesh.WorkloadID, whole bool) []Cell {
		if !rep.IsValid() {
			return nil
		}
		k := rep.String()
		if whole {
			k += "|full"
		}
		if r, ok := baseRow[k]; ok {
			return r
		}
		var r []Cell
		if whole {
			r = row(base, rep)
		} else {
			for _, n := range nodes {
				for c := range base.Cells(Filter{From: rep, To: n}) {
					if affected[destKey{c.Host, c.ViaPort}] {
						r = append(r, c)
					}
				}
			}
			slices.SortFunc(r, compareCellKeys)
		}
		baseRow[k] = r
		return r
	}
	keep := func(cells []Cell) []Cell {
		return slices.DeleteFunc(slices.Clone(cells), func(c Cell) bool { return !affected[destKey{c.Host, c.ViaPort}] })
	}

	b := newDeltaBuilder(base.s, sa, clients)
	for i, id := range clients {
		rb := classRep(base, id)
		ci, inAfter := classOfAfter[id]
		whole := full(id)
		k := rb.String() + "|" + boolString(whole) + "|"
		if inAfter {
			k += aclasses[ci].rep.ID.String()
		}
		b.set(i, k, func() []Change {
			before := baseCells(rb, whole)
			var after []Cell
			if inAfter {
				after = aclasses[ci].row
			}
			if !whole {
				before, after = keep(before), keep(after)
			}
			return diffRows(before, after)
		})
	}
	b.d.stats.Probes = len(jobs)
	b.d.stats.Incremental = true
	return b.done()
}

// addDestNodes adds the nodes d's cells may land on in e: the workloads of
// the namespaces of its Service or ServiceEntries, and its external host.
func addDestNodes(e *engine, d *destination, nodes map[Node]bool) {
	nodes[ExternalNode(d.host)] = true
	add := func(ns string) {
		for _, w := range e.wlByNS[ns] {
			nodes[WorkloadNode(w.ID)] = true
		}
	}
	if sv, ok := e.svcByHost[d.host]; ok {
		add(sv.svc.Ref.Namespace)
		for _, se := range e.seByHost[d.host] {
			add(se.Ref.Namespace)
		}
		return
	}
	for _, m := range e.entriesFor(d.host, d.port) {
		add(m.se.Ref.Namespace)
	}
}

// cells evaluates destination di from the representative of class cl
// (evaluate, without memo) and returns the cells of the outcome, as
// Matrix.Cells has them; nil when the probe fails (the matrix reports
// those as errors and has no cells for them).
func (ev *evaluator) cells(cl *clientClass, di int32) []Cell {
	m := ev.m
	d := &m.dests[di]
	r, err := ev.evaluate(cl, di, nil)
	if err != nil {
		return nil
	}
	out := make([]Cell, 0, len(r.eps))
	for _, ep := range r.eps {
		to := ExternalNode(strings.Clone(d.host))
		if ep.node >= 0 {
			to = WorkloadNode(m.wls[ep.node].ID)
		}
		out = append(out, Cell{From: cl.rep.ID, To: to, Port: ep.port, Via: r.via, Host: d.host, ViaPort: d.port, Proto: d.proto,
			Default: codeOutcome(ep.code), Transports: codeTransports(ep.code), Accepts: codeAccepts(ep.code)})
	}
	return out
}
