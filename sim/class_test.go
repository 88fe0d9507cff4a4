package sim_test

import (
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// classMesh is a mesh with injected namespaces shop and other, legacy
// without injection, and a Service for each of shop/a, shop/b and
// other/c, to which edit adds objects and changes workloads a and b.
func classMesh(t *testing.T, ns string, edit func(b *mesh.Builder, a, w *mesh.Workload)) *mesh.Mesh {
	t.Helper()
	b := &mesh.Builder{}
	inj := map[string]string{"istio-injection": "enabled"}
	b.AddNamespace(mesh.Namespace{Name: "shop", Labels: inj})
	b.AddNamespace(mesh.Namespace{Name: "other", Labels: inj})
	b.AddNamespace(mesh.Namespace{Name: "legacy"})
	b.AddNamespace(mesh.Namespace{Name: "istio-system"})
	wl := func(ns, name, tier string) mesh.Workload {
		return mesh.Workload{ID: mesh.WorkloadID{Namespace: ns, Name: name}, Kind: "Deployment",
			Labels: map[string]string{"app": name, "tier": tier}, Ports: []mesh.ContainerPort{{Name: "http", Number: 8080}}}
	}
	a, w := wl(ns, "a", "front"), wl(ns, "b", "front")
	edit(b, &a, &w)
	for _, x := range []mesh.Workload{a, w, wl("other", "c", "back")} {
		b.AddWorkload(x)
		b.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: x.ID.Namespace, Name: x.ID.Name},
			Selector: map[string]string{"app": x.ID.Name}, Ports: []mesh.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}})
	}
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestClasses checks which differences between two workloads put them in
// different client classes: those a client-side rule reads, and no
// others. Every case also checks the matrix against one probe per pair,
// which fails when two workloads share a class they should not.
func TestClasses(t *testing.T) {
	t.Parallel()
	shopRef := func(kind, name string) mesh.Ref { return mesh.Ref{Kind: kind, Namespace: "shop", Name: name} }
	tests := []struct {
		name   string
		reason string
		ns     string // namespace of a and b; shop when empty
		edit   func(b *mesh.Builder, a, w *mesh.Workload)
		same   bool
	}{{
		name: "labels only Services read", same: true,
		reason: "Service selectors read a workload's labels as a destination, which the matrix evaluates per endpoint",
		edit:   func(b *mesh.Builder, a, w *mesh.Workload) {},
	}, {
		name: "Sidecar workloadSelector", same: false,
		reason: "the Sidecar that applies decides the egress scope (T2)",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			w.Labels["tier"] = "back"
			b.AddSidecar(mesh.Sidecar{Ref: shopRef("Sidecar", "front"), Selector: map[string]string{"tier": "front"},
				Egress: []mesh.EgressListener{{Hosts: []string{"./*"}}}})
		},
	}, {
		name: "label no selector reads", same: true,
		reason: "a Sidecar selecting tier=front sees both workloads alike when they differ in another label",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			w.Labels["version"] = "v2"
			b.AddSidecar(mesh.Sidecar{Ref: shopRef("Sidecar", "front"), Selector: map[string]string{"tier": "front"},
				Egress: []mesh.EgressListener{{Hosts: []string{"./*"}}}})
		},
	}, {
		name: "DestinationRule workloadSelector", same: false,
		reason: "a DestinationRule with a workloadSelector applies to the clients it selects (sidecar.go SidecarScope.DestinationRule)",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			w.Labels["tier"] = "back"
			b.AddDestinationRule(mesh.DestinationRule{Ref: shopRef("DestinationRule", "c"), Host: "c.other.svc.cluster.local",
				Selector: map[string]string{"tier": "front"}, TrafficPolicy: &mesh.TrafficPolicy{TLS: mesh.TLSDisable}})
		},
	}, {
		name: "excludeOutboundPorts", same: false,
		reason: "outbound interception annotations decide whether the sidecar sees a connection (§6, T5)",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			w.Annotations = map[string]string{"traffic.sidecar.istio.io/excludeOutboundPorts": "80"}
		},
	}, {
		name: "excludeInboundPorts", same: true,
		reason: "inbound interception only matters to the workload as a server",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			w.Annotations = map[string]string{"traffic.sidecar.istio.io/excludeInboundPorts": "8080"}
		},
	}, {
		name: "service account", same: false,
		reason: "the service account is the mesh identity an AuthorizationPolicy may read (DT5)",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			w.ServiceAccount = "admin"
		},
	}, {
		name: "inject=false label", same: false,
		reason: "one workload runs a sidecar, the other does not (T1)",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			w.Labels["sidecar.istio.io/inject"] = "false"
		},
	}, {
		name: "observed sidecar", same: true,
		reason: "injection enters the signature as its decision: an observed sidecar and an injected one are alike",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			yes := true
			w.Observed = &yes
		},
	}, {
		name: "Sidecar selector without a sidecar", same: true, ns: "legacy",
		reason: "a workload without a sidecar has no Sidecar scope: a Sidecar selecting one of them changes nothing",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			w.Labels["tier"] = "back"
			b.AddSidecar(mesh.Sidecar{Ref: mesh.Ref{Kind: "Sidecar", Namespace: "legacy", Name: "front"}, Selector: map[string]string{"tier": "front"},
				Egress: []mesh.EgressListener{{Hosts: []string{"./*"}}}})
		},
	}, {
		name: "app mTLS", same: false, ns: "legacy",
		reason: "a client whose application does mTLS sends mTLS (meshreach.io/app-mtls)",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			w.AppMTLS = true
		},
	}, {
		name: "pod IP nobody reads", same: true,
		reason: "without a rule on source addresses, a pod IP changes no verdict",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			a.IP, w.IP = "10.0.0.1", "10.0.0.2"
		},
	}, {
		name: "pod IP an AuthorizationPolicy reads", same: false,
		reason: "ipBlocks match the client's pod IP (DT5)",
		edit: func(b *mesh.Builder, a, w *mesh.Workload) {
			a.IP, w.IP = "10.0.0.1", "10.0.0.2"
			b.AddAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: mesh.Ref{Kind: "AuthorizationPolicy", Namespace: "other", Name: "ip"},
				Rules: []mesh.AuthzRule{{From: []mesh.AuthzSource{{IPBlocks: []string{"10.0.0.1/32"}}}}}})
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := tc.ns
			if ns == "" {
				ns = "shop"
			}
			m := classMesh(t, ns, tc.edit)
			s := sim.New(m)
			mx := s.Matrix()
			ca, _ := mx.ClassOf(mesh.WorkloadID{Namespace: ns, Name: "a"})
			cb, _ := mx.ClassOf(mesh.WorkloadID{Namespace: ns, Name: "b"})
			if same := slices.Equal(ca.Members, cb.Members); same != tc.same {
				t.Errorf("%s: same class = %v, want %v (classes %v and %v)", tc.reason, same, tc.same, ca.Members, cb.Members)
			}
			if d := gocmp.Diff(naiveCells(t, s), slices.Collect(mx.Cells(sim.Filter{}))); d != "" {
				t.Errorf("%s: matrix differs from one probe per pair (-probe +matrix):\n%s", tc.reason, d)
			}
		})
	}
}
