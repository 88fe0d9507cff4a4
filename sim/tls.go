package sim

// This file is the security half of the engine: PeerAuthentication
// resolution (DT1), the service-level mode auto mTLS infers (DT2),
// DestinationRule lookup and TLS settings (§3.3), what a client sidecar
// sends (DT3), and what a server sidecar accepts (DT4). See
// ../shared/semantics/mtls-authn-authz.md.

import "github.com/meshreach/meshreach/mesh"

// peerMode is the effective inbound mode of workload w on container port
// port (DT1). Steps have Stage StagePeerAuthentication, Side Server.
func (e *engine) peerMode(w *mesh.Workload, port uint32) (mesh.Mode, []Step) {
	panic("sim: peerMode not implemented")
}

// clientTLS decides what the injected client's sidecar sends on a routed
// connection to d (a Service or ServiceEntry it imported) on service port
// svcPort, optionally to a DestinationRule subset, towards endpoint ep on
// container port epPort (ep is nil for ServiceEntries without workload
// endpoints). It returns Plaintext, MTLS, or TLS (DestinationRule SIMPLE or
// MUTUAL) (DT2, DT3).
func (e *engine) clientTLS(client *mesh.Workload, d *dest, svcPort uint32, subset string, ep *mesh.Workload, epPort uint32) (Transport, []Step) {
	panic("sim: clientTLS not implemented")
}

// serverAccept decides whether the injected server w, whose sidecar
// captures container port port, accepts transport t (DT4), including the
// port's declared protocol (app TLS on TCP vs HTTP ports).
func (e *engine) serverAccept(w *mesh.Workload, port uint32, t Transport) (bool, []Step) {
	panic("sim: serverAccept not implemented")
}
