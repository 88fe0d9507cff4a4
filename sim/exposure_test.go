package sim_test

import (
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// TestExposure checks what a plaintext client outside the mesh meets, per
// workload port, against the server-side rules of
// ../shared/semantics/mtls-authn-authz.md and sidecar-injection-egress.md.
// The workload is shop/db with container ports 8080 and 9090 behind
// Service db (80 → 8080) in an injected namespace, unless edit changes it.
func TestExposure(t *testing.T) {
	t.Parallel()
	db := mesh.WorkloadID{Namespace: "shop", Name: "db"}
	dbSvc := mesh.Ref{Kind: "Service", Namespace: "shop", Name: "db"}
	pa := func(ns, name string, sel map[string]string, mode mesh.Mode, ports map[uint32]mesh.Mode) mesh.PeerAuthentication {
		return mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: ns, Name: name}, Selector: sel, Mode: mode, PortModes: ports}
	}
	probe := func(port uint32) sim.Probe { return sim.Probe{From: sim.OutsideID(), ToWorkload: db, Port: port} }
	// The rule of from-shop needs a peer identity (TestExposureFindings
	// checks the Detail).
	fromShop := sim.ExposureFinding{Kind: sim.FindingIdentityAllow, Policy: mesh.Ref{Kind: "AuthorizationPolicy", Namespace: "shop", Name: "from-shop"}}
	tests := []struct {
		name   string
		reason string
		edit   func(b *mesh.Builder, w *mesh.Workload, s *mesh.Service)
		want   []sim.Exposure
	}{{
		name:   "permissive",
		reason: "no PeerAuthentication: PERMISSIVE accepts plaintext (DT1 step 1, DT4)",
		edit:   func(b *mesh.Builder, w *mesh.Workload, s *mesh.Service) {},
		want: []sim.Exposure{
			{Workload: db, Port: 8080, Accepted: true, Services: []mesh.Ref{dbSvc}, Probe: probe(8080)},
			{Workload: db, Port: 9090, Accepted: true, Probe: probe(9090)},
		},
	}, {
		name:   "strict namespace",
		reason: "STRICT builds TLS filter chains only: plaintext is reset (DT4)",
		edit: func(b *mesh.Builder, w *mesh.Workload, s *mesh.Service) {
			b.AddPeerAuthentication(pa("shop", "default", nil, mesh.ModeStrict, nil))
		},
		want: []sim.Exposure{
			{Workload: db, Port: 8080, Services: []mesh.Ref{dbSvc}, Probe: probe(8080)},
			{Workload: db, Port: 9090, Probe: probe(9090)},
		},
	}, {
		name:   "strict with a port-level exception",
		reason: "portLevelMtls of the workload PeerAuthentication decides its container port (DT1 step 4)",
		edit: func(b *mesh.Builder, w *mesh.Workload, s *mesh.Service) {
			b.AddPeerAuthentication(pa("shop", "db", map[string]string{"app": "db"}, mesh.ModeStrict, map[uint32]mesh.Mode{9090: mesh.ModeDisable}))
		},
		want: []sim.Exposure{
			{Workload: db, Port: 8080, Services: []mesh.Ref{dbSvc}, Probe: probe(8080)},
			{Workload: db, Port: 9090, Accepted: true, Probe: probe(9090)},
		},
	}, {
		name:   "strict and an inbound port iptables does not capture",
		reason: "excludeInboundPorts hands the port to the app, bypassing the sidecar (§6, T5)",
		edit: func(b *mesh.Builder, w *mesh.Workload, s *mesh.Service) {
			b.AddPeerAuthentication(pa("istio-system", "default", nil, mesh.ModeStrict, nil))
			w.Annotations = map[string]string{"traffic.sidecar.istio.io/excludeInboundPorts": "8080"}
		},
		want: []sim.Exposure{
			{Workload: db, Port: 8080, Accepted: true, Services: []mesh.Ref{dbSvc}, Probe: probe(8080)},
			{Workload: db, Port: 9090, Probe: probe(9090)},
		},
	}, {
		name:   "strict without a sidecar",
		reason: "a server without a sidecar enforces no PeerAuthentication (§2.2, DT4)",
		edit: func(b *mesh.Builder, w *mesh.Workload, s *mesh.Service) {
			b.AddPeerAuthentication(pa("istio-system", "default", nil, mesh.ModeStrict, nil))
			w.Labels["sidecar.istio.io/inject"] = "false"
		},
		want: []sim.Exposure{
			{Workload: db, Port: 8080, Accepted: true, Services: []mesh.Ref{dbSvc}, Probe: probe(8080)},
			{Workload: db, Port: 9090, Accepted: true, Probe: probe(9090)},
		},
	}, {
		name:   "a port only a Service declares",
		reason: "a Service may target a port the containers do not list; it is a port of the workload all the same",
		edit: func(b *mesh.Builder, w *mesh.Workload, s *mesh.Service) {
			s.Ports = append(s.Ports, mesh.ServicePort{Name: "tcp-admin", Port: 7000, TargetPort: 7070})
		},
		want: []sim.Exposure{
			{Workload: db, Port: 7070, Accepted: true, Services: []mesh.Ref{dbSvc}, Probe: probe(7070)},
			{Workload: db, Port: 8080, Accepted: true, Services: []mesh.Ref{dbSvc}, Probe: probe(8080)},
			{Workload: db, Port: 9090, Accepted: true, Probe: probe(9090)},
		},
	}, {
		name:   "an AuthorizationPolicy that needs a peer identity",
		reason: "source.namespaces is read from the client certificate; plaintext has none, so the ALLOW rule does not match and the request is denied (DT5, §6)",
		edit: func(b *mesh.Builder, w *mesh.Workload, s *mesh.Service) {
			b.AddAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: mesh.Ref{Kind: "AuthorizationPolicy", Namespace: "shop", Name: "from-shop"},
				Rules: []mesh.AuthzRule{{From: []mesh.AuthzSource{{Namespaces: []string{"shop"}}}}}})
		},
		want: []sim.Exposure{
			{Workload: db, Port: 8080, Services: []mesh.Ref{dbSvc}, Probe: probe(8080), Findings: []sim.ExposureFinding{fromShop}},
			{Workload: db, Port: 9090, Probe: probe(9090), Findings: []sim.ExposureFinding{fromShop}},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := &mesh.Builder{}
			b.AddNamespace(mesh.Namespace{Name: "shop", Labels: map[string]string{"istio-injection": "enabled"}})
			b.AddNamespace(mesh.Namespace{Name: "istio-system"})
			w := mesh.Workload{ID: db, Kind: "Deployment", Labels: map[string]string{"app": "db"},
				Ports: []mesh.ContainerPort{{Name: "http", Number: 8080}, {Name: "grpc", Number: 9090}}}
			s := mesh.Service{Ref: dbSvc, Selector: map[string]string{"app": "db"},
				Ports: []mesh.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}}
			tc.edit(b, &w, &s)
			b.AddWorkload(w)
			b.AddService(s)
			m, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			mx := sim.New(m).Matrix()
			got := mx.Exposure(sim.Filter{})
			if d := gocmp.Diff(tc.want, got, cmpopts.IgnoreFields(sim.ExposureFinding{}, "Detail")); d != "" {
				t.Errorf("%s: Exposure (-want +got):\n%s", tc.reason, d)
			}
			for _, x := range got {
				v, err := mx.Probe(x.Probe)
				if err != nil || v.Default.Allowed != x.Accepted {
					t.Errorf("Probe(%v) = %v, %v; want allowed %v", x.Probe, v, err, x.Accepted)
				}
			}
			if errs := mx.Errors(); len(errs) > 0 {
				t.Errorf("Errors() = %v", errs)
			}
		})
	}
}
