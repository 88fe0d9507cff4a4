package sim

// The matrix's evaluation of one (client class, destination): the outcome
// Simulator.Probe gives, reduced to result codes, without building the
// traces. Cells render their traces on demand, through Probe; the test
// comparing the matrix with a probe per pair keeps the two in step.

import (
	"fmt"
)

// evaluator holds what every probe of a matrix shares: the resolved
// destinations, their endpoints, and the server-side decisions that do
// not depend on the client.
type evaluator struct {
	m     *Matrix
	naive bool              // decide every probe afresh: no precomputed or memoised decision
	dests []dest            // per destination: its resolution, before any client routes it
	eps   [][]evalTarget    // per destination: its endpoints when no ServiceEntry copy is routed to
	noEP  []string          // per destination: why it has no endpoints
	gates map[nodePort]gate // serverGate of every endpoint of the destinations
	cf    *classifier
}

// authzKey is a server decision under AuthorizationPolicies, within one
// destination (which fixes everything else a policy reads: host, port,
// protocol; authzRequest): the endpoint, the transport, and the client's
// identityView, which covers what a policy reads of the client.
type authzKey struct {
	node int32
	port uint32
	t    Transport
	id   string
}

type authzVal struct {
	ok  bool
	und string
}

// evalTarget is an endpoint with its workload index and its gate.
type evalTarget struct {
	endpoint
	node int32
	gate gate
}

// nodePort is an endpoint: a workload index and a container port.
type nodePort struct {
	node int32
	port uint32
}

// gate is engine.serverGate of an endpoint, and whether an
// AuthorizationPolicy may apply to its workload (authz.candidates).
type gate struct {
	known                    bool
	bare, plain, mtls, authz bool
}

// newEvaluator resolves every destination of m and computes the gate of
// every endpoint: what its server does with plaintext and mTLS before
// AuthorizationPolicies, which does not read the client.
func (m *Matrix) newEvaluator(cf *classifier) *evaluator {
	e := m.e
	ev := &evaluator{m: m, dests: make([]dest, len(m.dests)), eps: make([][]evalTarget, len(m.dests)), noEP: make([]string, len(m.dests)),
		gates: map[nodePort]gate{}, cf: cf}
	var keys []nodePort
	for i := range m.dests {
		d := m.resolveDest(int32(i))
		ev.dests[i] = d
		ts, no := e.targets(&d)
		ev.noEP[i] = no
		for _, t := range ts {
			node := m.wlIndex[t.w.ID]
			ev.eps[i] = append(ev.eps[i], evalTarget{endpoint: t, node: node})
			if k := (nodePort{node, t.port}); !ev.gates[k].known {
				ev.gates[k] = gate{known: true}
				keys = append(keys, k)
			}
		}
	}
	gates := make([]gate, len(keys))
	parallelFor(len(keys), func(i int) {
		w := m.wls[keys[i].node]
		g := gate{known: true, authz: len(e.az.candidates(w)) > 0}
		g.bare, g.plain, g.mtls = e.serverGate(w, keys[i].port)
		gates[i] = g
	})
	for i, k := range keys {
		ev.gates[k] = gates[i]
	}
	for _, ts := range ev.eps {
		for i := range ts {
			ts[i].gate = ev.gates[nodePort{ts[i].node, ts[i].port}]
		}
	}
	return ev
}

// destMemo holds the decisions the views of one destination share; the
// matrix evaluates a destination's views in one task, so it needs no lock.
type destMemo struct {
	tls   map[tlsKey]Transport  // clientTLS, by tlsKey
	authz map[authzKey]authzVal // the server decisions that read the client, by identity view
	redir map[string]bool       // redirected, by the outbound interception annotations (clientClass.annotations)
}

func newDestMemo() *destMemo {
	return &destMemo{tls: map[tlsKey]Transport{}, authz: map[authzKey]authzVal{}, redir: map[string]bool{}}
}

// redirected is engine.redirected for class cl: it reads only the
// client's outbound annotations and the destination.
func (ev *evaluator) redirected(cl *clientClass, d *dest, memo *destMemo) bool {
	if ev.naive || cl.annotations == "" || memo == nil {
		return ev.m.e.redirected(cl.rep, d)
	}
	if v, ok := memo.redir[cl.annotations]; ok {
		return v
	}
	v := ev.m.e.redirected(cl.rep, d)
	memo.redir[cl.annotations] = v
	return v
}

// tlsKey is a clientTLS decision within one destination: the endpoint,
// and the client's namespace and DestinationRule selector bits where the
// group's context reads them ("" elsewhere). The DestinationRule lookup reads the
// client's namespace (its own rules, then the exportTo of the service's
// and the root namespace's) and its labels through the selectors of its
// namespace's rules (destrule.go lookup); a namespace in neither
// destContext.names nor drNS looks up like every other such namespace.
type tlsKey struct {
	node int32
	port uint32
	dr   string
}

// wire is engine.wire for class cl, memoising the client TLS decision.
func (ev *evaluator) wire(cl *clientClass, di int32, d *dest, kind routeKind, appT Transport, t evalTarget, memo *destMemo) Transport {
	if kind != routeService || d.routed != nil || ev.naive || memo == nil {
		tr, _ := ev.m.e.wire(cl.rep, d, kind, appT, t.w, t.port)
		return tr
	}
	k := tlsKey{node: t.node, port: t.port}
	if dc := ev.m.groups[ev.m.dests[di].group].ctx; dc.names[cl.ns] || dc.drNS[cl.ns] {
		k.dr = cl.ns + "\x00" + cl.drBits
	}
	tr, ok := memo.tls[k]
	if !ok {
		tr, _ = ev.m.e.wire(cl.rep, d, kind, Plaintext, t.w, t.port)
		memo.tls[k] = tr
	}
	if tr == Plaintext && appT == TLS {
		tr = TLS // engine.wire: the app's own TLS inside a plaintext cluster
	}
	return tr
}

// resolveDest resolves destination di as Simulator.Probe's resolve does
// for its host (a Service FQDN or a ServiceEntry host).
func (m *Matrix) resolveDest(di int32) dest {
	e := m.e
	md := &m.dests[di]
	d := dest{host: md.host, port: md.port}
	if sv, ok := e.svcByHost[md.host]; ok {
		d.kind, d.svc = destService, sv
		for k := range sv.svc.Ports {
			if sp := &sv.svc.Ports[k]; sp.Port == md.port && (sp.Protocol == "" || sp.Protocol == "TCP") {
				d.svcPort = sp
			}
		}
	} else {
		d.kind, d.entries = destServiceEntry, e.entriesFor(md.host, md.port)
	}
	return d
}

// server decides what arrives at endpoint t over transport tr from a
// client of class cl, dialled as p (engine.serverSide): from the
// endpoint's gate where it decides, else through authorize (or serverSide,
// for TLS), memoised by the client's identity view.
func (ev *evaluator) server(t evalTarget, tr Transport, cl *clientClass, p Probe, memo *destMemo) (bool, string) {
	if ev.naive {
		ok, und, _ := ev.m.e.serverSide(t.w, t.port, tr, cl.rep, p)
		return ok, und
	}
	g := t.gate
	if !g.known {
		g = ev.gates[nodePort{t.node, t.port}] // an endpoint of a routed ServiceEntry copy
	}
	gated := g.known && (tr == Plaintext || tr == MTLS)
	if gated {
		switch {
		case g.bare:
			return tr != MTLS, "" // no sidecar to enforce a policy
		case tr == Plaintext && !g.plain, tr == MTLS && !g.mtls:
			return false, ""
		case !g.authz:
			return true, "" // authorize allows what no policy applies to
		}
	}
	decide := func() (bool, string) {
		if gated {
			// The sidecar accepted it: AuthorizationPolicies decide (serverSide).
			ok, und, _ := ev.m.e.authorize(t.w, t.port, tr, cl.rep, p)
			return ok, und
		}
		ok, und, _ := ev.m.e.serverSide(t.w, t.port, tr, cl.rep, p)
		return ok, und
	}
	if memo == nil {
		return decide()
	}
	ak := authzKey{t.node, t.port, tr, ev.cf.identityView(cl, []string{t.w.ID.Namespace})}
	if r, ok := memo.authz[ak]; ok {
		return r.ok, r.und
	}
	ok, und := decide()
	memo.authz[ak] = authzVal{ok, und}
	return ok, und
}

// evaluate is Simulator.Probe of destination di from the representative
// of class cl, reduced to one code per endpoint (see encode). memo holds
// the decisions shared with the other views of di; nil decides each one
// afresh (what-if probes, which have no views).
func (ev *evaluator) evaluate(cl *clientClass, di int32, memo *destMemo) (rawResult, error) {
	m, e := ev.m, ev.m.e
	md := &m.dests[di]
	client := cl.rep
	p := Probe{From: client.ID, To: md.host, Port: md.port, Protocol: md.proto}
	if err := p.Validate(); err != nil {
		return rawResult{}, fmt.Errorf("%s: %w", p, err)
	}
	d := ev.dests[di] // a copy: the route may change it
	r := rawResult{}
	switch d.kind {
	case destService:
		r.via = d.svc.svc.Ref
	case destServiceEntry:
		if len(d.entries) == 0 {
			return rawResult{}, fmt.Errorf("%s: sim: %q names no Service or ServiceEntry", p, md.host)
		}
		r.via = d.entries[0].se.Ref
	}
	var rt route
	if cl.injected {
		rt = e.outboundQuiet(cl.scope, &d, ev.redirected(cl, &d, memo))
		if rt.entry != nil {
			r.via = rt.entry.Ref
			d.route(rt.entry)
		}
	} else {
		rt.kind = routeBypass
	}
	targets, noEndpoint := ev.eps[di], ev.noEP[di]
	if d.routed != nil {
		ts, no := e.targets(&d)
		targets, noEndpoint = nil, no
		for _, t := range ts {
			targets = append(targets, evalTarget{endpoint: t, node: m.wlIndex[t.w.ID]})
		}
	}
	bare := !cl.injected
	appT := appTransport(client, p.Protocol)
	switch {
	case noEndpoint != "":
		return r, nil
	case len(targets) == 0:
		def, plain, mtls := e.external(client, rt, &d, nil, appT)
		r.eps = []rawEndpoint{{node: -1, port: d.port, code: encode(def, bare && plain.Allowed) | accepts(plain.Allowed, mtls.Allowed)}}
		return r, nil
	}
	hasIdentity := cl.injected || client.AppMTLS
	r.eps = make([]rawEndpoint, 0, len(targets))
	for _, t := range targets {
		if rt.kind == routeBlackhole {
			r.eps = append(r.eps, rawEndpoint{node: t.node, port: t.port, code: encode(Result{}, false)})
			continue
		}
		wt := ev.wire(cl, di, &d, rt.kind, appT, t, memo)
		okD, undD := ev.server(t, wt, cl, p, memo)
		okP, _ := ev.server(t, Plaintext, cl, p, memo)
		okM := false
		if hasIdentity {
			okM, _ = ev.server(t, MTLS, cl, p, memo)
		}
		def := Result{Allowed: okD, Transport: wt, Undecided: undD}
		r.eps = append(r.eps, rawEndpoint{node: t.node, port: t.port, code: encode(def, bare && okP) | accepts(okP, okM)})
	}
	return r, nil
}
