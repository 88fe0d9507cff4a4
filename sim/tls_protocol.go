package sim

// The protocol an inbound port is declared with, which decides the filter
// chains a server sidecar builds for it (mtls-authn-authz.md §2.1).

import (
	"fmt"

	"github.com/meshreach/meshreach/mesh"
)

// portDecl is where a container port's protocol comes from.
type portDecl struct {
	istio  string // the Istio protocol name ("HTTP", "TCP", …); "" when undeclared (sniffed)
	by     mesh.Ref
	pos    mesh.Pos
	detail string
}

// http reports whether the port's inbound chains are HTTP only
// (ModelProtocolToListenerProtocol is ListenerProtocolHTTP).
func (d portDecl) http() bool { return listenerProtocol(d.istio) == 'h' }

// portProtocol returns how the inbound chains of w's sidecar treat
// container port port (pilot/pkg/networking/core/listener_inbound.go
// buildInboundChainConfigs): with Sidecar ingress listeners, only they
// declare ports (protocol.Parse of their protocol); without, the Service
// ports whose target port is port, the first Service winning a conflict
// (getFilterChainsByServicePort keeps the oldest; Services carry no
// creation time here, so the first by namespace and name). Other ports go
// to the passthrough chains, which sniff.
func (e *engine) portProtocol(w *mesh.Workload, port uint32) portDecl {
	if d, ok := e.ingressProtocol(w, port); ok {
		return d
	}
	for _, sv := range e.sec.svcsOf[w.ID] {
		for _, sp := range sv.svc.Ports {
			if tp, ok := targetPort(sp, w); !ok || tp != port {
				continue
			}
			p := kubePortProtocol(sp)
			return portDecl{istio: p, by: sv.svc.Ref, pos: sv.svc.Pos,
				detail: fmt.Sprintf("Service port %d (%q) targets container port %d: %s", sp.Port, sp.Name, port, orAuto(p))}
		}
	}
	return portDecl{detail: fmt.Sprintf("no Service port targets container port %d: passthrough chain, protocol sniffed", port)}
}

// ingressProtocol is the declaration of port when the Sidecar applying to
// w has ingress listeners; ok is false otherwise.
func (e *engine) ingressProtocol(w *mesh.Workload, port uint32) (portDecl, bool) {
	if !e.sec.ingress {
		return portDecl{}, false // no Sidecar has ingress listeners
	}
	sc := e.scopeFor(w).sc
	if sc == nil || len(sc.Ingress) == 0 {
		return portDecl{}, false
	}
	for _, in := range sc.Ingress {
		if in.Port.Number != port {
			continue
		}
		p := parseIstioProtocol(in.Port.Protocol)
		pos := in.Pos
		if !pos.IsValid() {
			pos = sc.Pos
		}
		return portDecl{istio: p, by: sc.Ref, pos: pos,
			detail: fmt.Sprintf("Sidecar ingress listener declares port %d as %s", port, orAuto(p))}, true
	}
	return portDecl{by: sc.Ref, pos: sc.Pos,
		detail: fmt.Sprintf("port %d is not a Sidecar ingress port: passthrough chain, protocol sniffed", port)}, true
}

func orAuto(p string) string {
	if p == "" {
		return "undeclared, so sniffed"
	}
	return p
}
