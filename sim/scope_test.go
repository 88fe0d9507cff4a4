package sim_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// The data-path cases of ../shared/semantics/sidecar-injection-egress.md
// §10 (15-33), end to end through Simulator.Probe. Namespaces shop, ns1 and
// ns2 are labeled istio-injection=enabled; legacy is not. The client is
// shop/web (injected) or legacy/naked (no sidecar).

var (
	dpWeb   = mesh.WorkloadID{Namespace: "shop", Name: "web"}
	dpNaked = mesh.WorkloadID{Namespace: "legacy", Name: "naked"}
)

func dpWorkload(ns, name string, annotations map[string]string) mesh.Workload {
	return mesh.Workload{ID: mesh.WorkloadID{Namespace: ns, Name: name}, Kind: "Deployment",
		Labels: map[string]string{"app": name}, Annotations: annotations,
		Ports: []mesh.ContainerPort{{Number: 80}, {Number: 5432}, {Number: 8080}, {Number: 9080}}}
}

func dpService(ns, name string, ports ...mesh.ServicePort) mesh.Service {
	return mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: ns, Name: name}, Selector: map[string]string{"app": name}, Ports: ports}
}

func dpPort(name string, n uint32) mesh.ServicePort { return mesh.ServicePort{Name: name, Port: n} }

func dpBase() *mesh.Builder {
	b := &mesh.Builder{}
	for _, n := range []string{"shop", "ns1", "ns2", "other", "istio-system"} {
		b.AddNamespace(mesh.Namespace{Name: n, Labels: map[string]string{"istio-injection": "enabled"}})
	}
	b.AddNamespace(mesh.Namespace{Name: "legacy"})
	b.AddWorkload(dpWorkload("shop", "web", nil))
	b.AddWorkload(dpWorkload("legacy", "naked", nil))
	b.AddWorkload(dpWorkload("ns1", "svc", nil))
	b.AddService(dpService("ns1", "svc", dpPort("http-a", 8080), dpPort("http-b", 9080)))
	b.AddWorkload(dpWorkload("ns2", "db", nil))
	b.AddService(dpService("ns2", "db", dpPort("tcp", 5432), dpPort("http", 8080)))
	b.AddWorkload(dpWorkload("other", "ratings", nil))
	b.AddService(dpService("other", "ratings", dpPort("http", 8080)))
	return b
}

type dpOutcome struct {
	Allowed   bool
	Transport sim.Transport
}

type dpCase struct {
	name   string
	reason string
	edit   func(*mesh.Builder)
	probe  sim.Probe
	want   dpOutcome // Verdict.Default
	// wantPlain, when set, is Verdict.Plaintext.
	wantPlain *dpOutcome
}

func dpStrict(ns string) func(*mesh.Builder) {
	return func(b *mesh.Builder) {
		b.AddPeerAuthentication(mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: ns, Name: "default"}, Mode: mesh.ModeStrict})
	}
}

func dpRegistryOnly(b *mesh.Builder) {
	c := b.Config()
	c.Outbound = mesh.OutboundRegistryOnly
	b.SetConfig(c)
}

func dpAll(fs ...func(*mesh.Builder)) func(*mesh.Builder) {
	return func(b *mesh.Builder) {
		for _, f := range fs {
			f(b)
		}
	}
}

func dpSidecar(ns, name string, outbound mesh.OutboundMode, egress ...mesh.EgressListener) func(*mesh.Builder) {
	return func(b *mesh.Builder) {
		b.AddSidecar(mesh.Sidecar{Ref: mesh.Ref{Kind: "Sidecar", Namespace: ns, Name: name}, Egress: egress, Outbound: outbound})
	}
}

func dpHosts(hosts ...string) mesh.EgressListener { return mesh.EgressListener{Hosts: hosts} }

func dpExportDB(exportTo ...string) func(*mesh.Builder) {
	return func(b *mesh.Builder) {
		b.Remove(mesh.Ref{Kind: "Service", Namespace: "ns2", Name: "db"})
		s := dpService("ns2", "db", dpPort("tcp", 5432), dpPort("http", 8080))
		s.ExportTo = exportTo
		b.AddService(s)
	}
}

func dpAnnotate(id mesh.WorkloadID, ann map[string]string) func(*mesh.Builder) {
	return func(b *mesh.Builder) {
		b.Remove(mesh.Ref{Kind: "Workload", Namespace: id.Namespace, Name: id.Name})
		b.AddWorkload(dpWorkload(id.Namespace, id.Name, ann))
	}
}

var (
	dpMTLS    = dpOutcome{true, sim.MTLS}
	dpPlain   = dpOutcome{true, sim.Plaintext}
	dpTLS     = dpOutcome{true, sim.TLS}
	dpDenied  = dpOutcome{}
	dpDbID    = mesh.WorkloadID{Namespace: "ns2", Name: "db"}
	dpDbProbe = func(port uint32, p sim.Protocol) sim.Probe {
		return sim.Probe{From: dpWeb, To: "db.ns2", Port: port, Protocol: p}
	}
)

func dpPtr(o dpOutcome) *dpOutcome { return &o }

func TestProbeDataPath(t *testing.T) {
	t.Parallel()
	ext := func(p sim.Protocol) sim.Probe {
		return sim.Probe{From: dpWeb, To: "api.eu.example.com", Port: 443, Protocol: p}
	}
	tests := []dpCase{
		{name: "baseline/mesh-to-mesh", reason: "T4 row 2: an in-scope Service to a sidecar endpoint is mTLS",
			probe: dpDbProbe(5432, sim.TCP), want: dpMTLS},
		{name: "baseline/no-sidecar-client", reason: "T1: legacy is unlabeled, so naked has no sidecar and sends plaintext",
			probe: sim.Probe{From: dpNaked, To: "db.ns2", Port: 5432}, want: dpPlain},
		{name: "case15/root-default-hides-other-namespaces", reason: "§10 case 15: root ./* = shop; ns2 is unknown → passthrough plaintext",
			edit: dpSidecar("istio-system", "default", mesh.OutboundUnset, dpHosts("./*")), probe: dpDbProbe(5432, sim.TCP), want: dpPlain},
		{name: "case15/root-default-strict-destination", reason: "§10 case 15 + §4: passthrough plaintext meets STRICT and fails",
			edit:  dpAll(dpSidecar("istio-system", "default", mesh.OutboundUnset, dpHosts("./*")), dpStrict("ns2")),
			probe: dpDbProbe(5432, sim.TCP), want: dpDenied},
		{name: "case18/no-egress-is-star", reason: "§10 case 18: a shop Sidecar with only REGISTRY_ONLY still imports */*",
			edit:  dpAll(dpSidecar("istio-system", "default", mesh.OutboundUnset, dpHosts("./*")), dpSidecar("shop", "policy", mesh.OutboundRegistryOnly)),
			probe: dpDbProbe(5432, sim.TCP), want: dpMTLS},
		{name: "case18/registry-only-external", reason: "§10 case 18: and blocks unknown hosts",
			edit: dpSidecar("shop", "policy", mesh.OutboundRegistryOnly), probe: ext(sim.HTTPS), want: dpDenied},
		{name: "case19/mesh-default-allow-any", reason: "§10 case 19: shop's egress-only Sidecar uses the mesh ALLOW_ANY",
			edit:  dpAll(dpSidecar("istio-system", "default", mesh.OutboundRegistryOnly, dpHosts("./*")), dpSidecar("shop", "egress", mesh.OutboundUnset, dpHosts("./*"))),
			probe: ext(sim.HTTPS), want: dpTLS},
		{name: "case20/mesh-registry-only", reason: "§10 case 20: mesh REGISTRY_ONLY blocks unknown hosts",
			edit: dpRegistryOnly, probe: ext(sim.TCP), want: dpDenied},
		{name: "case20/allow-any-external-plaintext", reason: "§4: ALLOW_ANY passes an unknown host through, as the app sent it",
			probe: ext(sim.TCP), want: dpPlain},
		{name: "case23/hidden-permissive", reason: "§10 case 23: exportTo . → passthrough plaintext, accepted by PERMISSIVE",
			edit: dpExportDB("."), probe: dpDbProbe(5432, sim.TCP), want: dpPlain},
		{name: "case23/hidden-strict", reason: "§10 case 23: the same plaintext fails against STRICT",
			edit: dpAll(dpExportDB("."), dpStrict("ns2")), probe: dpDbProbe(5432, sim.TCP), want: dpDenied},
		{name: "case23/hidden-registry-only", reason: "§10 case 23: REGISTRY_ONLY resets it",
			edit: dpAll(dpExportDB("."), dpRegistryOnly), probe: dpDbProbe(5432, sim.TCP), want: dpDenied},
		{name: "case23/hidden-registry-only-http", reason: "§10 case 23: 502 for HTTP on a port with an HTTP listener (still denied)",
			edit: dpAll(dpExportDB("."), dpRegistryOnly), probe: dpDbProbe(8080, sim.HTTP), want: dpDenied},
		{name: "case24/mesh-default-export", reason: "§10 case 24: defaultServiceExportTo [.] hides db; passthrough plaintext",
			edit: func(b *mesh.Builder) {
				c := b.Config()
				c.DefaultServiceExportTo = []string{"."}
				b.SetConfig(c)
			}, probe: dpDbProbe(5432, sim.TCP), want: dpPlain},
		{name: "case24/annotation-star", reason: "§10 case 24: exportTo * makes it visible again: mTLS",
			edit: dpAll(func(b *mesh.Builder) {
				c := b.Config()
				c.DefaultServiceExportTo = []string{"."}
				b.SetConfig(c)
			}, dpExportDB("*")), probe: dpDbProbe(5432, sim.TCP), want: dpMTLS},
		{name: "case25/unlisted-port", reason: "§10 case 25: 8080 has no listener: passthrough plaintext",
			edit: dpSidecar("shop", "default", mesh.OutboundUnset,
				mesh.EgressListener{Port: &mesh.SidecarPort{Number: 9080, Protocol: "HTTP", Name: "http"}, Hosts: []string{"ns1/*"}}, dpHosts("istio-system/*")),
			probe: sim.Probe{From: dpWeb, To: "svc.ns1", Port: 8080, Protocol: sim.HTTP}, want: dpPlain},
		{name: "case25/listed-port", reason: "§10 case 25: 9080 is routed through the mesh: mTLS",
			edit: dpSidecar("shop", "default", mesh.OutboundUnset,
				mesh.EgressListener{Port: &mesh.SidecarPort{Number: 9080, Protocol: "HTTP", Name: "http"}, Hosts: []string{"ns1/*"}}, dpHosts("istio-system/*")),
			probe: sim.Probe{From: dpWeb, To: "svc.ns1", Port: 9080, Protocol: sim.HTTP}, want: dpMTLS},
		{name: "case27/exclusion", reason: "§10 case 27 (≥1.31): ~ns2/* drops db from */*: passthrough plaintext",
			edit: dpSidecar("shop", "default", mesh.OutboundUnset, dpHosts("*/*", "~ns2/*")), probe: dpDbProbe(5432, sim.TCP), want: dpPlain},
		{name: "case28/vs-destination-direct", reason: "§10 case 28: VirtualServices are not modelled; ratings outside ./* is unknown: plaintext",
			edit:  dpSidecar("shop", "default", mesh.OutboundUnset, dpHosts("./*")),
			probe: sim.Probe{From: dpWeb, To: "ratings.other", Port: 8080, Protocol: sim.HTTP}, want: dpPlain},
		{name: "case29/exclude-outbound-port", reason: "§10 case 29: :5432 bypasses the sidecar: plaintext even under REGISTRY_ONLY and ./*",
			edit: dpAll(dpRegistryOnly, dpSidecar("shop", "default", mesh.OutboundUnset, dpHosts("./*")),
				dpAnnotate(dpWeb, map[string]string{"traffic.sidecar.istio.io/excludeOutboundPorts": "5432"})),
			probe: dpDbProbe(5432, sim.TCP), want: dpPlain},
		{name: "case29/exclude-outbound-port-strict", reason: "§10 case 29 + §6: the bypassed plaintext meets STRICT and fails",
			edit:  dpAll(dpStrict("ns2"), dpAnnotate(dpWeb, map[string]string{"traffic.sidecar.istio.io/excludeOutboundPorts": "5432"})),
			probe: dpDbProbe(5432, sim.TCP), want: dpDenied},
		{name: "case30/ip-exclusion-first", reason: "§10 case 30: clusterIP 10.1.2.3:80 bypasses despite includeOutboundPorts 80",
			edit: dpAll(func(b *mesh.Builder) {
				b.Remove(mesh.Ref{Kind: "Service", Namespace: "ns1", Name: "svc"})
				s := dpService("ns1", "svc", dpPort("http", 80))
				s.ClusterIP = "10.1.2.3"
				b.AddService(s)
			}, dpAnnotate(dpWeb, map[string]string{"traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.0.0.0/8", "traffic.sidecar.istio.io/includeOutboundPorts": "80"})),
			probe: sim.Probe{From: dpWeb, To: "svc.ns1", Port: 80, Protocol: sim.HTTP}, want: dpPlain},
		{name: "case31/mesh-client", reason: "§10 case 31: excludeInboundPorts 8080 + STRICT: the sidecar client's mTLS reaches the app and fails",
			edit:  dpAll(dpStrict("ns2"), dpAnnotate(dpDbID, map[string]string{"traffic.sidecar.istio.io/excludeInboundPorts": "8080"})),
			probe: dpDbProbe(8080, sim.HTTP), want: dpDenied, wantPlain: dpPtr(dpPlain)},
		{name: "case31/naked-client", reason: "§10 case 31: a non-mesh plaintext client gets through (STRICT bypassed)",
			edit:  dpAll(dpStrict("ns2"), dpAnnotate(dpDbID, map[string]string{"traffic.sidecar.istio.io/excludeInboundPorts": "8080"})),
			probe: sim.Probe{From: dpNaked, To: "db.ns2", Port: 8080, Protocol: sim.HTTP}, want: dpPlain},
		{name: "case31/other-port-still-strict", reason: "§10 case 31: 5432 is still captured: the naked client's plaintext fails",
			edit:  dpAll(dpStrict("ns2"), dpAnnotate(dpDbID, map[string]string{"traffic.sidecar.istio.io/excludeInboundPorts": "8080"})),
			probe: sim.Probe{From: dpNaked, To: "db.ns2", Port: 5432}, want: dpDenied},
		{name: "case32/ingress-does-not-restrict", reason: "§10 case 32: Sidecar ingress [9080] on the server; 8080 still delivered (mTLS)",
			edit: func(b *mesh.Builder) {
				b.AddSidecar(mesh.Sidecar{Ref: mesh.Ref{Kind: "Sidecar", Namespace: "ns1", Name: "ingress"},
					Ingress: []mesh.IngressListener{{Port: mesh.SidecarPort{Number: 9080, Protocol: "HTTP", Name: "http"}}}})
			},
			probe: sim.Probe{From: dpWeb, To: "svc.ns1", Port: 8080, Protocol: sim.HTTP}, want: dpMTLS},
		{name: "case33/mesh-client", reason: "§10 case 33: includeInboundPorts \"\": the sidecar client's mTLS fails at the app",
			edit:  dpAnnotate(dpDbID, map[string]string{"traffic.sidecar.istio.io/includeInboundPorts": ""}),
			probe: dpDbProbe(5432, sim.TCP), want: dpDenied, wantPlain: dpPtr(dpPlain)},
		{name: "case33/naked-client", reason: "§10 case 33: plaintext from anyone is accepted, even under STRICT",
			edit:  dpAll(dpStrict("ns2"), dpAnnotate(dpDbID, map[string]string{"traffic.sidecar.istio.io/includeInboundPorts": ""})),
			probe: sim.Probe{From: dpNaked, To: "db.ns2", Port: 5432}, want: dpPlain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := dpBase()
			if tc.edit != nil {
				tc.edit(b)
			}
			m, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			v, err := sim.New(m).Probe(tc.probe)
			if err != nil {
				t.Fatal(err)
			}
			got := dpOutcome{v.Default.Allowed, v.Default.Transport}
			if !got.Allowed {
				got.Transport = 0 // a denied connection's transport is not part of the contract here
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%v: Default (-want +got) (%s):\n%s\n%s", tc.probe, tc.reason, diff, v.Explain())
			}
			if tc.wantPlain != nil {
				gotP := dpOutcome{v.Plaintext.Allowed, v.Plaintext.Transport}
				if diff := cmp.Diff(*tc.wantPlain, gotP); diff != "" {
					t.Errorf("%v: Plaintext (-want +got) (%s):\n%s\n%s", tc.probe, tc.reason, diff, v.Explain())
				}
			}
		})
	}
}
