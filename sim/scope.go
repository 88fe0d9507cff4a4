package sim

// This file is the data-path half of the engine: injection (T1), which
// Sidecar applies (T2), egress host matching and exportTo (T3), outbound
// handling of known and unknown destinations (T4), and iptables capture
// and exclusions (§6, T5). See ../shared/semantics/sidecar-injection-egress.md.
// The rules live in inject.go (T1), scope_sidecar.go (T2), egress.go (T3)
// and scope_intercept.go (§6, T5); this file puts T3 and T4 together.

import (
	"fmt"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// routeKind is what a client sidecar does with an outbound connection.
type routeKind uint8

const (
	routeBypass      routeKind = iota // not intercepted: leaves as the app sent it (T4 row 1)
	routeService                      // matched an in-scope Service/ServiceEntry listener (T4 row 2)
	routePassthrough                  // unknown destination under ALLOW_ANY: PassthroughCluster, plaintext (T4 row 3)
	routeBlackhole                    // unknown under REGISTRY_ONLY: BlackHoleCluster or HTTP 502 (T4 rows 5, 6)
)

// route is the client sidecar's outbound decision.
type route struct {
	kind  routeKind
	entry *mesh.ServiceEntry // the ServiceEntry copy routed to, when d is a ServiceEntry host and kind is routeService
	steps []Step
}

// outbound decides what client's sidecar does with a connection to d
// (client is injected). It applies, in order: outbound interception
// exclusions (§6), the Sidecar scope (T2, T3, exportTo), and the outbound
// traffic policy for unknown destinations (T4).
func (e *engine) outbound(client *mesh.Workload, d *dest, proto Protocol) route {
	// T4 row 1: traffic iptables does not redirect never meets Envoy.
	captured, st := e.intercepted(client, d)
	steps := []Step{st}
	if !captured {
		return route{kind: routeBypass, steps: steps}
	}
	sc := e.scopeFor(client)
	steps = append(steps, sc.step)

	// T4 row 2: a listener of the scope carries the connection.
	if r, l, entry := e.lookup(sc, d, &steps); r != nil {
		by, pos := sc.by()
		if l.l.Pos.IsValid() {
			pos = l.l.Pos
		}
		st := Step{Stage: StageSidecarScope, Side: Client, Subject: client.ID, By: by, Pos: pos,
			Detail: fmt.Sprintf("%s imports %s with host %q", l.name(), r, entry)}
		if by.IsZero() {
			st.Default = defaultScopeSource
		}
		steps = append(steps, st, Step{Stage: StageOutbound, Side: Client, Subject: client.ID, By: r.ref(), Pos: r.pos(),
			Detail: fmt.Sprintf("the sidecar routes the connection to cluster outbound|%d||%s", d.port, r.host)})
		rt := route{kind: routeService, steps: steps}
		if r.se != nil {
			rt.entry = r.se
		}
		return rt
	}

	// T4 rows 3-6: unknown traffic follows the outbound traffic policy.
	st = Step{Stage: StageOutbound, Side: Client, Subject: client.ID}
	if sc.outboundFromSidecar {
		st.By, st.Pos = sc.by()
	} else {
		st.Default = fmt.Sprintf("meshConfig.outboundTrafficPolicy %s (Istio's default is ALLOW_ANY: pkg/config/mesh/mesh.go DefaultMeshConfig)", sc.outbound)
		if p := e.cfg.Pos.String(); p != "" {
			st.Default += ", mesh config at " + p
		}
	}
	viaHTTP := ""
	if proto.IsHTTP() {
		if httpL, ok := e.httpListenerOn(sc, d.port); ok {
			viaHTTP = fmt.Sprintf(" (plaintext HTTP on port %d meets the HTTP listener 0.0.0.0:%d of %s, whose catch-all virtual host handles it)", d.port, d.port, httpL)
		}
	}
	switch sc.outbound {
	case mesh.OutboundRegistryOnly:
		// REGISTRY_ONLY: the block_all virtual host answers HTTP 502 where
		// an HTTP listener exists on the port (httproute.go
		// buildCatchAllVirtualHost); otherwise BlackHoleCluster, a cluster
		// without endpoints, closes the connection (listener_builder.go
		// buildOutboundCatchAllNetworkFiltersOnly, cluster_builder.go
		// buildBlackHoleCluster).
		if viaHTTP != "" {
			st.Detail = "REGISTRY_ONLY and an unknown destination: the sidecar answers HTTP 502" + viaHTTP
		} else {
			st.Detail = "REGISTRY_ONLY and an unknown destination: BlackHoleCluster accepts the connection and resets it"
		}
		return route{kind: routeBlackhole, steps: append(steps, st)}
	case mesh.OutboundAllowAnyDynamicDNS:
		// ALLOW_ANY_DYNAMIC_DNS (mesh only): plaintext HTTP goes through
		// the dynamic-forward-proxy cluster, TLS and TCP through
		// PassthroughCluster (listener_builder.go
		// buildOutboundCatchAllNetworkFiltersOnly, cluster_builder.go
		// buildAllowAnyDFPCluster); both reach the original destination
		// without mTLS, so it is treated as ALLOW_ANY.
		st.Detail = "ALLOW_ANY_DYNAMIC_DNS, treated as ALLOW_ANY: the unknown destination is reached through PassthroughCluster (plaintext HTTP through the dynamic-forward-proxy cluster), without mTLS"
		return route{kind: routePassthrough, steps: append(steps, st)}
	}
	// ALLOW_ANY: PassthroughCluster, ORIGINAL_DST without a TLS transport
	// socket (listener_builder.go buildOutboundCatchAllNetworkFiltersOnly,
	// cluster_builder.go buildDefaultPassthroughCluster; the allow_any
	// virtual host for HTTP: httproute.go buildCatchAllVirtualHost).
	st.Detail = "ALLOW_ANY and an unknown destination: PassthroughCluster forwards it to the original address, without mTLS" + viaHTTP
	return route{kind: routePassthrough, steps: append(steps, st)}
}

// outboundQuiet is outbound's decision without steps, for a client with
// scope sc whose connection iptables redirects to the sidecar or not
// (captured: redirected).
func (e *engine) outboundQuiet(sc *sidecarScope, d *dest, captured bool) route {
	if !captured {
		return route{kind: routeBypass}
	}
	if d.kind == destService || d.kind == destServiceEntry {
		if r, _, _ := e.lookupIn(sc, d, nil); r != nil {
			return route{kind: routeService, entry: r.se}
		}
	}
	return route{kind: unknownRoute(sc)}
}

// unknownRoute is what a proxy with scope sc does with a destination no
// listener of sc carries (T4 rows 3-6; see outbound for the sources).
func unknownRoute(sc *sidecarScope) routeKind {
	if sc.outbound == mesh.OutboundRegistryOnly {
		return routeBlackhole
	}
	return routePassthrough
}

// lookup finds the registry service and egress listener that carry a
// connection to d on d.port, appending a step that says why when none does
// (then r is nil: the destination is unknown to this proxy, §4).
//
// For port p: a port listener on p (the first active one) imports services
// that have p; otherwise the catch-all listener imports services on all
// their ports, except that it adds nothing to a listener address a port
// listener on p already produced (listener.go buildSidecarOutboundListeners,
// "locked"): HTTP services share 0.0.0.0:p, so there the port listener wins;
// TCP services listen on their own VIP and keep theirs.
func (e *engine) lookup(sc *sidecarScope, d *dest, steps *[]Step) (r *registryService, l *egressListener, entry string) {
	subject := (*steps)[0].Subject
	notFound := func(by mesh.Ref, pos mesh.Pos, detail string) {
		st := Step{Stage: StageSidecarScope, Side: Client, Subject: subject, By: by, Pos: pos, Detail: detail}
		if by.IsZero() {
			st.Default = defaultScopeSource
		}
		*steps = append(*steps, st)
	}
	scBy, scPos := sc.by()
	switch d.kind {
	case destPod:
		notFound(mesh.Ref{}, mesh.Pos{}, "a pod IP is not a service host: no outbound listener of the scope matches it, so the destination is unknown")
		(*steps)[len(*steps)-1].Default = "outbound listeners exist only for registry services (pilot/pkg/networking/core/listener.go buildSidecarOutboundListeners)"
		return nil, nil, ""
	case destExternal:
		notFound(mesh.Ref{}, mesh.Pos{}, fmt.Sprintf("%s is in no Service or ServiceEntry: no outbound listener matches it, so the destination is unknown", d.host))
		(*steps)[len(*steps)-1].Default = "outbound listeners exist only for registry services (pilot/pkg/networking/core/listener.go buildSidecarOutboundListeners)"
		return nil, nil, ""
	}

	x := &lookupWhy{}
	if r, l, entry = e.lookupIn(sc, d, x); r != nil {
		return r, l, entry
	}
	why := x.why
	if len(why) == 0 {
		why = append(why, fmt.Sprintf("no egress listener imports %s on port %d", d.host, d.port))
	}
	whyBy, whyPos := x.by, x.pos
	if whyBy.IsZero() || len(why) > 1 {
		whyBy, whyPos = scBy, scPos
	}
	notFound(whyBy, whyPos, "not in the proxy's scope, so the destination is unknown: "+strings.Join(dedupe(why), "; "))
	return nil, nil, ""
}

// lookupWhy collects why lookupIn found no listener for a destination:
// the reasons, and the first hidden candidate.
type lookupWhy struct {
	why []string
	by  mesh.Ref
	pos mesh.Pos
}

func (x *lookupWhy) add(s string) {
	if x != nil {
		x.why = append(x.why, s)
	}
}

// lookupIn is lookup for a Service or ServiceEntry host d. When x is
// non-nil it collects why no listener carries d; nil asks for the decision
// alone.
func (e *engine) lookupIn(sc *sidecarScope, d *dest, x *lookupWhy) (r *registryService, l *egressListener, entry string) {
	var portLs []*egressListener
	var catchAll *egressListener
	var inert []string
	for i := range sc.egress {
		el := &sc.egress[i]
		switch {
		case el.inert != "":
			if (el.port == d.port || el.port == 0) && x != nil {
				inert = append(inert, el.name()+" is ignored: "+el.inert)
			}
		case el.port == d.port:
			portLs = append(portLs, el)
		case el.port == 0 && (el.l.Port == nil || el.l.Port.Number == 0) && catchAll == nil:
			catchAll = el
		}
	}

	for _, group := range e.candidates(d, sc.configNS) {
		var vis []*registryService
		for _, c := range group {
			if e.visible(c, sc.configNS) {
				vis = append(vis, c)
			} else if x != nil {
				x.add(e.hiddenWhy(c, sc.configNS))
				if x.by.IsZero() {
					x.by, x.pos = c.ref(), c.pos()
				}
			}
		}
		if len(vis) == 0 {
			continue
		}
		for _, pl := range portLs {
			if chosen, entry, _ := pickImported(pl, vis, sc.configNS, x); chosen != nil {
				return chosen, pl, entry
			}
		}
		if catchAll == nil {
			if len(portLs) == 0 && x != nil {
				x.add(fmt.Sprintf("the Sidecar has no egress listener for port %d and no catch-all listener", d.port))
			}
			continue
		}
		chosen, entry, n := pickImported(catchAll, vis, sc.configNS, x)
		if chosen == nil {
			continue
		}
		if n > 1 && x != nil {
			x.add(fmt.Sprintf("host %s is imported from several namespaces; %s is kept", chosen.host, chosen))
		}
		proto, has := chosen.portProtocol(d.port)
		if !has {
			if x != nil {
				x.add(fmt.Sprintf("%s has no TCP port %d, so no listener exists for it there", chosen, d.port))
			}
			continue
		}
		if len(portLs) > 0 {
			key := chosen.listenerKey(proto)
			if locked := e.portListenerKeys(portLs[0], sc.configNS); locked[key] {
				if x != nil {
					x.add(fmt.Sprintf("%s owns the listener %s:%d, and the catch-all listener adds nothing to it, so %s gets no route there", portLs[0].name(), key, d.port, chosen))
				}
				continue
			}
		}
		return chosen, catchAll, entry
	}
	if x == nil {
		return nil, nil, ""
	}
	x.why = append(x.why, inert...)
	for i := range sc.egress {
		// "Illegal host in sidecar resource … host must be of form
		// namespace/dnsName": logged and skipped (convertIstioListenerToWrapper).
		for _, h := range sc.egress[i].errors {
			x.add(fmt.Sprintf("%s skips host %q, which is not of the form namespace/dnsName", sc.egress[i].name(), h))
		}
	}
	return nil, nil, ""
}

// pickImported returns the copy of a hostname that listener l keeps among
// the visible candidates vis (T3 steps 2-5), the egress host that imported
// it, and how many copies l imported; reasons for the others go to why.
func pickImported(l *egressListener, vis []*registryService, configNS string, x *lookupWhy) (*registryService, string, int) {
	var imp []*registryService
	var ent []string
	for _, c := range vis {
		if res := l.imports(c); res.ok {
			imp = append(imp, c)
			ent = append(ent, res.entry)
		} else if x != nil {
			x.add(res.why(l, c))
		}
	}
	chosen := pickOne(imp, configNS)
	for i, c := range imp {
		if c == chosen {
			return chosen, ent[i], len(imp)
		}
	}
	return nil, "", len(imp)
}

func dedupe(list []string) []string {
	out := list[:0:0]
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
