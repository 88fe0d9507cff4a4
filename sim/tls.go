package sim

// This file is the security half of the engine: PeerAuthentication
// resolution (DT1), the service-level mode auto mTLS infers (DT2),
// DestinationRule lookup and TLS settings (§3.3), what a client sidecar
// sends (DT3), and what a server sidecar accepts (DT4). See
// ../shared/semantics/mtls-authn-authz.md.

import (
	"fmt"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// security holds the lookups DT1–DT4 share. It is built once by New and
// only read afterwards.
type security struct {
	pa  *peerAuths
	drs *destRules
	// svcsOf lists the Services selecting each workload, by namespace and
	// name: the workload's ServiceTargets.
	svcsOf map[mesh.WorkloadID][]*service
	// ingress is true when some Sidecar declares ingress listeners.
	ingress bool
}

func newSecurity(ix *index) *security {
	s := &security{
		pa:     newPeerAuths(ix.m, ix.cfg.RootNamespace),
		drs:    newDestRules(ix.m, ix.cfg),
		svcsOf: map[mesh.WorkloadID][]*service{},
	}
	for _, sv := range ix.services {
		for _, w := range sv.endpoints {
			s.svcsOf[w.ID] = append(s.svcsOf[w.ID], sv)
		}
	}
	for _, sc := range ix.allSidecar {
		s.ingress = s.ingress || len(sc.Ingress) > 0
	}
	return s
}

// clientStep is a client-side step of stage st about client.
func clientStep(client *mesh.Workload, st Stage, by mesh.Ref, pos mesh.Pos, def, detail string) Step {
	s := Step{Stage: st, Side: Client, Subject: client.ID, Detail: detail}
	if by.IsZero() {
		s.Default = def
	} else {
		s.By, s.Pos = by, pos
	}
	return s
}

// target is the registry view of a routed destination that DT2/DT3 need.
type target struct {
	host        string // the Service or ServiceEntry host DestinationRules match
	ns          string // its namespace
	external    bool   // ServiceEntry location MESH_EXTERNAL
	passthrough bool   // resolution Passthrough: headless Service, ServiceEntry resolution NONE
	ref         mesh.Ref
	pos         mesh.Pos
	endpoints   func() []*mesh.Workload // endpoints on the port (ServiceEndpointsByPort)
}

// targetOf describes d for DT2/DT3. A ServiceEntry destination uses the
// copy the client's sidecar routes to (outbound), else the first entry.
func (e *engine) targetOf(d *dest, svcPort uint32) target {
	switch d.kind {
	case destService:
		sv := d.svc
		return target{host: sv.host, ns: sv.svc.Ref.Namespace, passthrough: sv.svc.Headless, ref: sv.svc.Ref, pos: sv.svc.Pos,
			endpoints: func() []*mesh.Workload {
				var sp *mesh.ServicePort
				if d.svcPort != nil && d.svcPort.Port == svcPort {
					sp = d.svcPort
				} else {
					for i := range sv.svc.Ports {
						if sv.svc.Ports[i].Port == svcPort {
							sp = &sv.svc.Ports[i]
						}
					}
				}
				if sp == nil {
					return nil
				}
				var out []*mesh.Workload
				for _, w := range sv.endpoints {
					if _, ok := targetPort(*sp, w); ok {
						out = append(out, w)
					}
				}
				return out
			}}
	case destServiceEntry:
		se := d.routed
		if se == nil && len(d.entries) > 0 {
			se = d.entries[0].se
		}
		if se == nil {
			return target{host: d.host, external: true}
		}
		host := d.host
		for _, h := range se.Hosts {
			if h == d.host {
				host = h
				break
			}
			if strings.HasPrefix(h, "*.") && strings.HasSuffix(d.host, h[1:]) {
				host = h
			}
		}
		// Resolution defaults to NONE, which is Passthrough
		// (pilot/pkg/serviceregistry/serviceentry/conversion.go
		// convertServices).
		res := strings.ToUpper(se.Resolution)
		return target{host: host, ns: se.Ref.Namespace, external: !se.MeshInternal, passthrough: res == "" || res == "NONE",
			ref: se.Ref, pos: se.Pos,
			endpoints: func() []*mesh.Workload {
				if len(se.WorkloadSelector) == 0 {
					return nil
				}
				var out []*mesh.Workload
				for _, w := range e.wlByNS[se.Ref.Namespace] {
					if subsetOf(se.WorkloadSelector, w.Labels) {
						out = append(out, w)
					}
				}
				return out
			}}
	}
	return target{host: d.host, external: true}
}

// serviceMode is BestEffortInferServiceMTLSMode
// (pilot/pkg/model/push_context.go) for t, with lb the DestinationRule
// whose loadBalancer PASSTHROUGH istiod passes, or nil (the rule's
// top-level policy for the main cluster, the subset's own for a subset
// cluster; cluster_builder.go applyDestinationRule, buildSubsetCluster)
// (DT2).
func (e *engine) serviceMode(t target, lb *mesh.DestinationRule) svcMode {
	if t.external {
		return svcMode{unknown: true, by: t.ref, pos: t.pos, detail: fmt.Sprintf("%s is MESH_EXTERNAL: the service mode is unknown", t.host)}
	}
	if t.passthrough || lb != nil {
		why, by, pos := "headless", t.ref, t.pos
		if !t.passthrough {
			why, by, pos = "DestinationRule loadBalancer PASSTHROUGH", lb.Ref, lb.Pos
		}
		eps := t.endpoints()
		if len(eps) == 0 {
			return svcMode{mode: mesh.ModeDisable, by: by, pos: pos, detail: fmt.Sprintf("%s (%s) has no endpoints on the port: DISABLE", t.host, why)}
		}
		for _, w := range eps {
			// An endpoint's tlsMode label is "istio" when the injector added
			// a sidecar (model/service.go GetTLSModeFromEndpointLabels).
			if !e.injected(w) {
				return svcMode{mode: mesh.ModeDisable, by: by, pos: pos,
					detail: fmt.Sprintf("%s (%s) has endpoint %s without a sidecar: DISABLE for every endpoint", t.host, why, w.ID)}
			}
		}
	}
	return e.sec.pa.namespaceMode(t.ns)
}

// clientTLS decides what the injected client's sidecar sends on a routed
// connection to d (a Service or ServiceEntry it imported) on service port
// svcPort, optionally to a DestinationRule subset, towards endpoint ep on
// container port epPort (ep is nil for ServiceEntries without workload
// endpoints). It returns Plaintext, MTLS, or TLS (DestinationRule SIMPLE or
// MUTUAL), or NoTransport when subset names no subset of the applicable
// DestinationRule (istiod builds no such cluster) (DT2, DT3).
func (e *engine) clientTLS(client *mesh.Workload, d *dest, svcPort uint32, subset string, ep *mesh.Workload, epPort uint32) (Transport, []Step) {
	t := e.targetOf(d, svcPort)
	choice := e.sec.drs.lookup(client.ID.Namespace, client.Labels, t.host, t.ns)
	var drRef mesh.Ref
	var drPos mesh.Pos
	if choice.dr != nil {
		drRef, drPos = choice.dr.from[0].Ref, choice.dr.from[0].Pos
	}
	steps := []Step{clientStep(client, StageDestinationRule, drRef, drPos,
		"no DestinationRule: no traffic policy (push_context.go destinationRule)", choice.describe(t.host))}
	decide := func(tr Transport, by mesh.Ref, pos mesh.Pos, def, detail string) (Transport, []Step) {
		return tr, append(steps, clientStep(client, StageClientTLS, by, pos, def, detail))
	}

	pol, ok := choice.dr.policyFor(svcPort, subset)
	if !ok {
		return decide(NoTransport, drRef, drPos, "",
			fmt.Sprintf("subset %q is not defined for %s: no cluster, the route fails", subset, t.host))
	}
	// DT3 rows 2–4: a tls block in the cluster's effective policy decides
	// for every endpoint (cluster_tls.go buildUpstreamTLSSettings).
	switch pol.tls {
	case mesh.TLSDisable:
		return decide(Plaintext, drRef, drPos, "", fmt.Sprintf("%s tls DISABLE: plaintext to every endpoint", pol.from))
	case mesh.TLSSimple, mesh.TLSMutual:
		return decide(TLS, drRef, drPos, "", fmt.Sprintf("%s tls %s: TLS with the DestinationRule's certificates, not the mesh identity", pol.from, pol.tls))
	case mesh.TLSIstioMutual:
		return decide(MTLS, drRef, drPos, "", fmt.Sprintf("%s tls ISTIO_MUTUAL: Istio mTLS to every endpoint", pol.from))
	}

	// DT3 row 5: auto mTLS off (mesh/v1alpha1/config.proto enable_auto_mtls;
	// buildUpstreamTLSSettings).
	if !e.cfg.EnableAutoMTLS {
		return decide(Plaintext, mesh.Ref{}, mesh.Pos{}, "meshConfig.enableAutoMtls=false (cluster_tls.go buildUpstreamTLSSettings)",
			"no DestinationRule tls and auto mTLS is off: plaintext")
	}

	// DT3 row 6: the service-level mode (DT2).
	var lb *mesh.DestinationRule
	if choice.dr != nil {
		tp := choice.dr.tp
		if subset != "" {
			tp = choice.dr.subset(subset).TrafficPolicy
		}
		if tp != nil && tp.LBPassthrough {
			lb = choice.dr.from[0]
		}
	}
	sm := e.serviceMode(t, lb)
	smBy, smPos := sm.by, sm.pos
	const dt2 = "push_context.go BestEffortInferServiceMTLSMode"
	if sm.unknown || sm.mode == mesh.ModeDisable {
		return decide(Plaintext, smBy, smPos, dt2+"; cluster_tls.go buildUpstreamTLSSettings",
			fmt.Sprintf("auto mTLS: %s, so the cluster has no TLS: plaintext", sm.detail))
	}

	// DT3 row 7: ORIGINAL_DST clusters (headless Services, ServiceEntry
	// resolution NONE, loadBalancer PASSTHROUGH) get the mTLS socket for
	// every endpoint, with no per-endpoint match (cluster_tls.go
	// applyUpstreamTLSSettings; cluster_traffic_policy.go applyLoadBalancer).
	mainPol, _ := choice.dr.policyFor(svcPort, "")
	if t.passthrough || mainPol.lbPassthrough || pol.lbPassthrough {
		return decide(MTLS, smBy, smPos, dt2+"; cluster_tls.go applyUpstreamTLSSettings",
			fmt.Sprintf("auto mTLS on an ORIGINAL_DST cluster (%s): Istio mTLS to every endpoint", sm.detail))
	}

	// DT3 rows 8–9: per endpoint, by the EDS tlsMode metadata
	// (endpoints/mtls_checker.go checkMtlsEnabled).
	if ep == nil {
		return decide(Plaintext, mesh.Ref{}, mesh.Pos{}, "endpoints without tlsMode=istio get the plaintext socket (cluster_tls.go defaultTransportSocketMatch)",
			fmt.Sprintf("auto mTLS (%s); the endpoints of %s are not mesh workloads: plaintext", sm.detail, t.host))
	}
	if !e.injected(ep) {
		return decide(Plaintext, mesh.Ref{}, mesh.Pos{}, "endpoints without tlsMode=istio get the plaintext socket (cluster_tls.go defaultTransportSocketMatch)",
			fmt.Sprintf("auto mTLS (%s); endpoint %s has no sidecar (no tlsMode=istio): plaintext", sm.detail, ep.ID))
	}
	if m := choice.dr.endpointTLSMode(svcPort, subset); m != mesh.TLSUnset {
		if m == mesh.TLSIstioMutual {
			return decide(MTLS, drRef, drPos, "",
				fmt.Sprintf("auto mTLS; the endpoint builder sees DestinationRule tls ISTIO_MUTUAL for port %d, keeping %s's tlsMode=istio: Istio mTLS", svcPort, ep.ID))
		}
		return decide(Plaintext, drRef, drPos, "",
			fmt.Sprintf("auto mTLS; the endpoint builder sees DestinationRule tls %s for port %d, clearing %s's tlsMode: plaintext", m, svcPort, ep.ID))
	}
	mode, pSteps := e.peerMode(ep, epPort)
	last := pSteps[len(pSteps)-1]
	if mode == mesh.ModeDisable {
		return decide(Plaintext, last.By, last.Pos, last.Default,
			fmt.Sprintf("auto mTLS; endpoint %s resolves to DISABLE on container port %d, so its tlsMode is cleared: plaintext", ep.ID, epPort))
	}
	return decide(MTLS, mesh.Ref{}, mesh.Pos{}, "auto mTLS, endpoints with tlsMode=istio (endpoints/mtls_checker.go checkMtlsEnabled)",
		fmt.Sprintf("auto mTLS (%s); endpoint %s has a sidecar and resolves to %s on container port %d: Istio mTLS", sm.detail, ep.ID, mode, epPort))
}

// serverAccept decides whether the injected server w, whose sidecar
// captures container port port, accepts transport t (DT4), including the
// port's declared protocol (app TLS on TCP vs HTTP ports).
func (e *engine) serverAccept(w *mesh.Workload, port uint32, t Transport) (bool, []Step) {
	mode, steps := e.peerMode(w, port)
	step := func(ok bool, by mesh.Ref, pos mesh.Pos, def, detail string) (bool, []Step) {
		s := Step{Stage: StageServer, Side: Server, Subject: w.ID, Detail: detail}
		if by.IsZero() {
			s.Default = def
		} else {
			s.By, s.Pos = by, pos
		}
		return ok, append(steps, s)
	}
	const chains = "filterchain_options.go getFilterChainMatchOptions"
	switch t {
	case NoTransport:
		return step(false, mesh.Ref{}, mesh.Pos{}, "nothing was sent", "no connection reaches the server")
	case Plaintext:
		if mode == mesh.ModeStrict {
			// STRICT builds only TLS chains: plaintext finds no chain (NR
			// filter_chain_not_found) (inboundStrict*FilterChainMatchOptions).
			return step(false, mesh.Ref{}, mesh.Pos{}, chains+" (STRICT: TLS chains only)",
				fmt.Sprintf("STRICT on port %d: plaintext matches no filter chain and the connection is reset", port))
		}
		return step(true, mesh.Ref{}, mesh.Pos{}, chains+" (raw_buffer chains)",
			fmt.Sprintf("%s on port %d accepts plaintext", mode, port))
	case MTLS:
		if mode == mesh.ModeDisable {
			// DISABLE builds only raw_buffer chains: the ClientHello is
			// forwarded as bytes (HTTP ports: 400 DPE) and the handshake
			// fails (inboundPlainText*FilterChainMatchOptions).
			return step(false, mesh.Ref{}, mesh.Pos{}, chains+" (DISABLE: plaintext chains only)",
				fmt.Sprintf("DISABLE on port %d: nothing terminates Istio mTLS and the client's handshake fails", port))
		}
		// The client certificate comes from this mesh, so it chains to the
		// mesh root and its SAN is in the mesh trust domain
		// (authn/utils/utils.go BuildInboundTLS, TrustDomainsForValidation).
		return step(true, mesh.Ref{}, mesh.Pos{}, chains+" (mTLS chain, authn/utils/utils.go BuildInboundTLS)",
			fmt.Sprintf("%s on port %d terminates Istio mTLS; the client certificate is from trust domain %s", mode, port, e.cfg.TrustDomain))
	}
	// Other TLS: the app's own, or DestinationRule SIMPLE/MUTUAL.
	if mode == mesh.ModeStrict {
		return step(false, mesh.Ref{}, mesh.Pos{}, chains+" (STRICT requires a mesh client certificate)",
			fmt.Sprintf("STRICT on port %d requires an Istio client certificate: TLS without one fails the handshake", port))
	}
	decl := e.portProtocol(w, port)
	if decl.http() {
		// HTTP ports have no chain for TLS that is not Istio mTLS
		// (inboundPermissiveHTTPFilterChainMatchWithMxcOptions: "We do not
		// need to handle other simple TLS"; inboundPlainTextHTTPFilterChainMatchOptions
		// hands the bytes to the HTTP codec).
		return step(false, decl.by, decl.pos, chains+" (HTTP port)",
			fmt.Sprintf("%s; %s on an HTTP port has no chain for TLS that is not Istio mTLS: the connection fails", decl.detail, mode))
	}
	// TCP and sniffed ports forward TLS without Istio ALPN to the app as
	// opaque TCP (inboundPermissive*FilterChainMatchWithMxcOptions "Plain
	// TLS"; DISABLE chains are raw_buffer TCP).
	return step(true, decl.by, decl.pos, chains+" (TCP/sniffed port)",
		fmt.Sprintf("%s; %s forwards the TLS to the app as opaque TCP", decl.detail, mode))
}
