package sim_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// TestResolve pins how a dialled name is read: Kubernetes DNS search paths
// for cluster names, the registry for ServiceEntry hosts, and anything else
// as an external host.
func TestResolve(t *testing.T) {
	t.Parallel()
	b := dpBase()
	b.AddServiceEntry(mesh.ServiceEntry{Ref: mesh.Ref{Kind: "ServiceEntry", Namespace: "shop", Name: "payments-api"},
		Hosts: []string{"api.payments.example"}, Ports: []mesh.ServiceEntryPort{{Number: 443, Protocol: "TLS", Name: "tls"}}})
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	s := sim.New(m)
	type got struct {
		Service  mesh.Ref
		External bool
		Err      string
	}
	svc := mesh.Ref{Kind: "Service", Namespace: "ns1", Name: "svc"}
	tests := []struct {
		name, reason string
		to           string
		port         uint32
		want         got
	}{
		{"name.ns", "a Service by name and namespace", "svc.ns1", 8080, got{Service: svc}},
		{"name.ns.svc", "the svc search domain", "svc.ns1.svc", 8080, got{Service: svc}},
		{"fqdn", "the Service hostname", "svc.ns1.svc.cluster.local", 8080, got{Service: svc}},
		{"fqdn with dot", "a trailing dot is the same name", "svc.ns1.svc.cluster.local.", 8080, got{Service: svc}},
		{"upper case", "DNS is case-insensitive", "SVC.NS1", 8080, got{Service: svc}},
		{"short name elsewhere", "a bare name searches the client's namespace only", "svc", 8080,
			got{Err: `sim: "svc" (dialled from namespace shop) names no Service or ServiceEntry`}},
		{"unknown in namespace", "name.ns with an existing namespace is a cluster name", "nope.ns1", 8080,
			got{Err: `sim: "nope.ns1" (dialled from namespace shop) names no Service or ServiceEntry`}},
		{"unknown cluster fqdn", "a .svc.cluster.local name must exist", "nope.ns1.svc.cluster.local", 8080,
			got{Err: `sim: "nope.ns1.svc.cluster.local" (dialled from namespace shop) names no Service or ServiceEntry`}},
		{"two-label external", "example.com is not namespace com", "example.com", 443, got{External: true}},
		{"three-label external", "api.example.com is an ordinary public name", "api.example.com", 443, got{External: true}},
		{"service entry", "a ServiceEntry host is in the registry", "api.payments.example", 443,
			got{Service: mesh.Ref{Kind: "ServiceEntry", Namespace: "shop", Name: "payments-api"}, External: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := s.Probe(sim.Probe{From: dpWeb, To: tt.to, Port: tt.port})
			var g got
			if err != nil {
				g.Err = err.Error()
			} else {
				g.Service, g.External = v.Service, v.External
			}
			if d := cmp.Diff(tt.want, g); d != "" {
				t.Errorf("%s: resolve %q mismatch (-want +got):\n%s", tt.reason, tt.to, d)
			}
		})
	}
}

// TestProbeErrors: a bad probe is an error, never a verdict.
func TestProbeErrors(t *testing.T) {
	t.Parallel()
	m, err := dpBase().Build()
	if err != nil {
		t.Fatal(err)
	}
	s := sim.New(m)
	for _, tt := range []struct {
		probe sim.Probe
		want  string
	}{
		{sim.Probe{From: mesh.WorkloadID{Namespace: "shop", Name: "ghost"}, To: "svc.ns1", Port: 8080}, "sim: unknown client workload shop/ghost"},
		{sim.Probe{From: dpWeb, ToWorkload: mesh.WorkloadID{Namespace: "x", Name: "y"}, Port: 80}, "sim: unknown destination workload x/y"},
		{sim.Probe{From: dpWeb, To: "svc.ns1", Port: 0}, "sim: invalid port 0"},
		{sim.Probe{From: dpWeb, To: "svc.ns1", Port: 70000}, "sim: invalid port 70000"},
	} {
		_, err := s.Probe(tt.probe)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Probe(%v) error = %v, want %q", tt.probe, err, tt.want)
		}
	}
}

// TestServiceWithoutPort: a Service dialled on a port it does not expose
// has nothing listening there (kube-proxy programs only declared ports).
func TestServiceWithoutPort(t *testing.T) {
	t.Parallel()
	m, err := dpBase().Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []mesh.WorkloadID{dpWeb, dpNaked} {
		v, err := sim.New(m).Probe(sim.Probe{From: from, To: "svc.ns1", Port: 1234})
		if err != nil {
			t.Fatal(err)
		}
		if v.Default.Allowed || v.Plaintext.Allowed || v.MTLS.Allowed || len(v.Endpoints) != 0 {
			t.Errorf("%s: probe to a missing Service port allowed: %+v", from, v)
		}
	}
}

// TestServiceEntryShadowsService: a ServiceEntry in the client's namespace
// that declares a Service's hostname wins the hostname collision in the
// client's scope (sidecar-injection-egress.md §3.2, selectServices: keep the
// client namespace's copy), so the client routes to the entry, not to the
// Service's pods.
func TestServiceEntryShadowsService(t *testing.T) {
	t.Parallel()
	b := dpBase()
	b.AddServiceEntry(mesh.ServiceEntry{Ref: mesh.Ref{Kind: "ServiceEntry", Namespace: "shop", Name: "shadow"},
		Hosts: []string{"svc.ns1.svc.cluster.local"}, Ports: []mesh.ServiceEntryPort{{Number: 8080, Protocol: "TCP", Name: "tcp"}},
		Resolution: "DNS"})
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	s := sim.New(m)
	v, err := s.Probe(sim.Probe{From: dpWeb, To: "svc.ns1", Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	if want := (mesh.Ref{Kind: "ServiceEntry", Namespace: "shop", Name: "shadow"}); v.Service != want || !v.External || len(v.Endpoints) != 0 {
		t.Errorf("from shop: Service=%v External=%v endpoints=%d; want the shop ServiceEntry, external, no endpoints", v.Service, v.External, len(v.Endpoints))
	}
	// A client without a sidecar has no scope: Kubernetes DNS gives it the
	// Service, whose pod it reaches directly.
	v, err = s.Probe(sim.Probe{From: dpNaked, To: "svc.ns1", Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	if want := (mesh.Ref{Kind: "Service", Namespace: "ns1", Name: "svc"}); v.Service != want || len(v.Endpoints) != 1 {
		t.Errorf("from legacy: Service=%v endpoints=%d; want the Service and its one pod", v.Service, len(v.Endpoints))
	}
}
