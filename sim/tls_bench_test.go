package sim_test

import (
	"fmt"
	"testing"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// benchMesh generates nss namespaces of per workloads each, every workload
// behind its own Service, with a mesh-wide STRICT PeerAuthentication, a
// DISABLE namespace every fifth namespace, a selector PeerAuthentication
// with portLevelMtls per namespace, a root DestinationRule and one per
// namespace.
func benchMesh(b *testing.B, nss, per int) *sim.Simulator {
	b.Helper()
	var mb mesh.Builder
	mb.AddNamespace(mesh.Namespace{Name: "istio-system"})
	mb.AddPeerAuthentication(mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: "istio-system", Name: "default"}, Mode: mesh.ModeStrict})
	mb.AddDestinationRule(mesh.DestinationRule{Ref: mesh.Ref{Kind: "DestinationRule", Namespace: "istio-system", Name: "default"}, Host: "*.local",
		TrafficPolicy: &mesh.TrafficPolicy{}})
	for n := range nss {
		ns := fmt.Sprintf("ns-%d", n)
		mb.AddNamespace(mesh.Namespace{Name: ns, Labels: map[string]string{"istio-injection": "enabled"}})
		if n%5 == 4 {
			mb.AddPeerAuthentication(mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: ns, Name: "default"}, Mode: mesh.ModeDisable})
		}
		mb.AddPeerAuthentication(mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: ns, Name: "wl-0"},
			Selector: map[string]string{"app": "wl-0"}, PortModes: map[uint32]mesh.Mode{8080: mesh.ModePermissive}})
		mb.AddDestinationRule(mesh.DestinationRule{Ref: mesh.Ref{Kind: "DestinationRule", Namespace: ns, Name: "svc-1"}, Host: "svc-1",
			TrafficPolicy: &mesh.TrafficPolicy{TLS: mesh.TLSIstioMutual}})
		for i := range per {
			app := fmt.Sprintf("wl-%d", i)
			mb.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: ns, Name: app}, Kind: "Deployment",
				Labels: map[string]string{"app": app}, Ports: []mesh.ContainerPort{{Number: 8080}}})
			mb.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: ns, Name: fmt.Sprintf("svc-%d", i)},
				Selector: map[string]string{"app": app}, Ports: []mesh.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}})
		}
	}
	m, err := mb.Build()
	if err != nil {
		b.Fatal(err)
	}
	return sim.New(m)
}

// BenchmarkProbe measures one verdict on a mesh of 3000 workloads and
// Services.
func BenchmarkProbe(b *testing.B) {
	s := benchMesh(b, 50, 60)
	p := sim.Probe{From: mesh.WorkloadID{Namespace: "ns-0", Name: "wl-3"}, To: "svc-7.ns-1", Port: 80, Protocol: sim.HTTP}
	if v, err := s.Probe(p); err != nil || !v.Default.Allowed || v.Default.Transport != sim.MTLS {
		b.Fatalf("probe: %v, %v", v, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Probe(p); err != nil {
			b.Fatal(err)
		}
	}
}
