package sim

// This file is the data-path half of the engine: injection (T1), which
// Sidecar applies (T2), egress host matching and exportTo (T3), outbound
// handling of known and unknown destinations (T4), and iptables capture
// and exclusions (§6, T5). See ../shared/semantics/sidecar-injection-egress.md.

import "github.com/meshreach/meshreach/mesh"

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
	panic("sim: outbound not implemented")
}

// inboundCaptured reports whether iptables redirects inbound traffic on
// container port port of the injected workload w to its sidecar (§6, T5).
func (e *engine) inboundCaptured(w *mesh.Workload, port uint32) (bool, []Step) {
	panic("sim: inboundCaptured not implemented")
}
