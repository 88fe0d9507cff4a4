package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/mesh"
)

// Fixtures: every namespace below is labeled istio-injection=enabled unless
// a row says otherwise, so its workloads are injected.

var fxT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func fxNS(name string) mesh.Namespace {
	return mesh.Namespace{Name: name, Labels: map[string]string{"istio-injection": "enabled"}, Pos: mesh.Pos{File: "ns.yaml", Line: 1}}
}

func fxWL(ns, name string, labels, annotations map[string]string) mesh.Workload {
	if labels == nil {
		labels = map[string]string{}
	}
	if _, ok := labels["app"]; !ok {
		labels["app"] = name
	}
	return mesh.Workload{ID: mesh.WorkloadID{Namespace: ns, Name: name}, Kind: "Deployment", Labels: labels, Annotations: annotations,
		Ports: []mesh.ContainerPort{{Number: 8080}, {Number: 9080}, {Number: 5432}, {Number: 80}},
		Pos:   mesh.Pos{File: ns + ".yaml", Line: 10}}
}

func fxSvc(ns, name string, ports ...mesh.ServicePort) mesh.Service {
	return mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: ns, Name: name}, Selector: map[string]string{"app": name},
		Ports: ports, Pos: mesh.Pos{File: ns + ".yaml", Line: 20}}
}

func fxHTTP(n uint32) mesh.ServicePort {
	return mesh.ServicePort{Name: fmt.Sprintf("http-%d", n), Port: n}
}
func fxTCP(n uint32) mesh.ServicePort {
	return mesh.ServicePort{Name: fmt.Sprintf("tcp-%d", n), Port: n}
}

func fxSidecar(ns, name string, egress ...mesh.EgressListener) mesh.Sidecar {
	return mesh.Sidecar{Ref: mesh.Ref{Kind: "Sidecar", Namespace: ns, Name: name}, Egress: egress, Created: fxT0,
		Pos: mesh.Pos{File: "sidecar.yaml", Line: 1}}
}

func fxHosts(hosts ...string) mesh.EgressListener { return mesh.EgressListener{Hosts: hosts} }

func fxSE(ns, name string, hosts []string, ports ...mesh.ServiceEntryPort) mesh.ServiceEntry {
	return mesh.ServiceEntry{Ref: mesh.Ref{Kind: "ServiceEntry", Namespace: ns, Name: name}, Hosts: hosts, Ports: ports,
		Resolution: "DNS", Created: fxT0, Pos: mesh.Pos{File: "se.yaml", Line: 1}}
}

// fxMesh is the base mesh: namespaces shop, other, ns1, ns2, istio-system,
// kube-system; a client shop/web; Services on 8080 (http) and 5432 (tcp).
func fxMesh() *mesh.Builder {
	b := &mesh.Builder{}
	for _, n := range []string{"shop", "other", "ns1", "ns2", "istio-system", "kube-system"} {
		b.AddNamespace(fxNS(n))
	}
	b.AddWorkload(fxWL("shop", "web", nil, nil))
	b.AddWorkload(fxWL("shop", "cart", nil, nil))
	b.AddService(fxSvc("shop", "cart", fxHTTP(8080)))
	b.AddWorkload(fxWL("other", "ratings", nil, nil))
	b.AddService(fxSvc("other", "ratings", fxHTTP(8080)))
	b.AddWorkload(fxWL("istio-system", "monitor", nil, nil))
	b.AddService(fxSvc("istio-system", "monitor", fxHTTP(8080)))
	b.AddWorkload(fxWL("ns1", "svc", nil, nil))
	b.AddService(fxSvc("ns1", "svc", fxHTTP(8080), fxHTTP(9080)))
	b.AddWorkload(fxWL("ns2", "db", nil, nil))
	b.AddService(fxSvc("ns2", "db", fxTCP(5432)))
	b.AddWorkload(fxWL("kube-system", "dns", nil, nil))
	b.AddService(fxSvc("kube-system", "dns", fxTCP(5432)))
	return b
}

var fxWeb = mesh.WorkloadID{Namespace: "shop", Name: "web"}

type outboundCase struct {
	name   string
	reason string
	edit   func(*mesh.Builder)
	from   mesh.WorkloadID // default shop/web
	probe  Probe           // From is filled in
	want   routeKind
	// wantEntry is the ServiceEntry routed to, for routeService to an SE.
	wantEntry mesh.Ref
	// wantBy is the By of the last step (zero: not checked).
	wantBy mesh.Ref
	// wantSteps are substrings that must appear in the rendered steps.
	wantSteps []string
}

var kindNames = map[routeKind]string{routeBypass: "bypass", routeService: "service", routePassthrough: "passthrough", routeBlackhole: "blackhole"}

func runOutbound(t *testing.T, tc outboundCase) {
	t.Helper()
	b := fxMesh()
	if tc.edit != nil {
		tc.edit(b)
	}
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	e := New(m).e
	from := tc.from
	if !from.IsValid() {
		from = fxWeb
	}
	client := e.wl[from]
	if inj, steps := e.injection(client); !inj {
		t.Fatalf("fixture: client %s is not injected: %v", from, steps)
	}
	p := tc.probe
	p.From = from
	d, _, err := e.resolve(client, p)
	if err != nil {
		t.Fatalf("resolve(%v): %v", p, err)
	}
	rt := e.outbound(client, d, p.Protocol)
	// The matrix asks for the same decision without its steps.
	if q := e.outboundQuiet(e.scopeFor(client), d, e.redirected(client, d)); q.kind != rt.kind || q.entry != rt.entry || q.steps != nil {
		t.Errorf("outboundQuiet = %s via %v with %d steps, outbound = %s via %v (%s)", kindNames[q.kind], q.entry, len(q.steps), kindNames[rt.kind], rt.entry, tc.reason)
	}
	var b2 strings.Builder
	for _, s := range rt.steps {
		b2.WriteString(s.String())
		b2.WriteByte('\n')
	}
	trace := b2.String()
	if rt.kind != tc.want {
		t.Errorf("outbound(%v) = %s, want %s (%s)\n%s", p, kindNames[rt.kind], kindNames[tc.want], tc.reason, trace)
	}
	var gotEntry mesh.Ref
	if rt.entry != nil {
		gotEntry = rt.entry.Ref
	}
	if diff := cmp.Diff(tc.wantEntry, gotEntry); diff != "" {
		t.Errorf("route entry (-want +got):\n%s\n%s", diff, trace)
	}
	for _, s := range tc.wantSteps {
		if !strings.Contains(trace, s) {
			t.Errorf("trace does not mention %q (%s):\n%s", s, tc.reason, trace)
		}
	}
	if len(rt.steps) == 0 {
		t.Fatal("no steps")
	}
	last := rt.steps[len(rt.steps)-1]
	if !tc.wantBy.IsZero() {
		if diff := cmp.Diff(tc.wantBy, last.By); diff != "" {
			t.Errorf("last step By (-want +got):\n%s\n%s", diff, trace)
		}
	}
	for _, s := range rt.steps {
		if s.Side != Client || s.Subject != from {
			t.Errorf("step %v: want side client, subject %s", s, from)
		}
		if s.By.IsZero() == (s.Default == "") {
			t.Errorf("step %v: exactly one of By and Default must be set", s)
		}
	}
}

func sidecarRef(ns, name string) mesh.Ref {
	return mesh.Ref{Kind: "Sidecar", Namespace: ns, Name: name}
}
func svcRef(ns, name string) mesh.Ref { return mesh.Ref{Kind: "Service", Namespace: ns, Name: name} }
func seRef(ns, name string) mesh.Ref {
	return mesh.Ref{Kind: "ServiceEntry", Namespace: ns, Name: name}
}

func withConfig(f func(*mesh.Config)) func(*mesh.Builder) {
	return func(b *mesh.Builder) {
		c := b.Config()
		f(&c)
		b.SetConfig(c)
	}
}

func both(fs ...func(*mesh.Builder)) func(*mesh.Builder) {
	return func(b *mesh.Builder) {
		for _, f := range fs {
			f(b)
		}
	}
}

func addSidecar(s mesh.Sidecar) func(*mesh.Builder) {
	return func(b *mesh.Builder) { b.AddSidecar(s) }
}

func registryOnly(b *mesh.Builder) {
	c := b.Config()
	c.Outbound = mesh.OutboundRegistryOnly
	b.SetConfig(c)
}

func annotateWeb(ann map[string]string) func(*mesh.Builder) {
	return func(b *mesh.Builder) {
		b.Remove(mesh.Ref{Kind: "Workload", Namespace: "shop", Name: "web"})
		w := fxWL("shop", "web", nil, ann)
		w.IP = "10.0.0.5"
		b.AddWorkload(w)
	}
}

func withSE(se mesh.ServiceEntry) func(*mesh.Builder) {
	return func(b *mesh.Builder) { b.AddServiceEntry(se) }
}

func TestOutbound(t *testing.T) {
	t.Parallel()
	rootDot := fxSidecar("istio-system", "default", fxHosts("./*"))
	tests := []outboundCase{
		// T2 / §2.
		{name: "case15/root-default-own-namespace", reason: "§10 case 15: root default ./* means the pod's namespace",
			edit: addSidecar(rootDot), probe: Probe{To: "cart", Port: 8080, Protocol: HTTP}, want: routeService,
			wantBy: svcRef("shop", "cart"), wantSteps: []string{`mesh-wide default Sidecar istio-system/default`, `host "./*"`}},
		{name: "case15/root-default-not-root-namespace", reason: "§10 case 15: ./* in the root Sidecar is not istio-system for a shop pod",
			edit: addSidecar(rootDot), probe: Probe{To: "monitor.istio-system", Port: 8080, Protocol: HTTP}, want: routePassthrough,
			wantSteps: []string{"not in the proxy's scope", `no host of egress[0] ["./*"] matches Service istio-system/monitor`}},
		{name: "case15/root-default-applies-in-root", reason: "§2 step 5: pods of the root namespace use it through their own namespace list, . = istio-system",
			edit: addSidecar(rootDot), from: mesh.WorkloadID{Namespace: "istio-system", Name: "monitor"},
			probe: Probe{To: "cart.shop", Port: 8080, Protocol: HTTP}, want: routePassthrough, wantSteps: []string{"Sidecar default applies"}},
		{name: "case16/root-selector-not-mesh-default", reason: "§10 case 16: a root Sidecar with workloadSelector is no mesh default",
			edit: addSidecar(func() mesh.Sidecar {
				s := fxSidecar("istio-system", "x-only", fxHosts("./*"))
				s.Selector = map[string]string{"app": "web"}
				return s
			}()),
			probe: Probe{To: "monitor.istio-system", Port: 8080, Protocol: HTTP}, want: routeService,
			wantSteps: []string{"no Sidecar applies in namespace shop", `the default egress listener imports Service istio-system/monitor`}},
		{name: "case16/root-selector-falls-back-to-root-default", reason: "§10 case 16: falls back to the root default",
			edit: both(addSidecar(rootDot), addSidecar(func() mesh.Sidecar {
				s := fxSidecar("istio-system", "a-selector", fxHosts("*/*"))
				s.Selector = map[string]string{"app": "web"}
				return s
			}())),
			probe: Probe{To: "monitor.istio-system", Port: 8080, Protocol: HTTP}, want: routePassthrough,
			wantSteps: []string{"istio-system/default"}},
		{name: "case18/no-egress-inherits-nothing", reason: "§10 case 18: a Sidecar without egress imports */*, not the root ./*",
			edit: both(addSidecar(rootDot), addSidecar(func() mesh.Sidecar {
				s := fxSidecar("shop", "policy-only")
				s.Outbound = mesh.OutboundRegistryOnly
				return s
			}())),
			probe: Probe{To: "ratings.other", Port: 8080, Protocol: HTTP}, want: routeService,
			wantSteps: []string{"Sidecar policy-only applies", `the default egress listener imports Service other/ratings (host ratings.other.svc.cluster.local) with host "*/*"`}},
		{name: "case18/registry-only-from-sidecar", reason: "§10 case 18: the Sidecar's REGISTRY_ONLY applies to unknown hosts",
			edit: both(addSidecar(rootDot), addSidecar(func() mesh.Sidecar {
				s := fxSidecar("shop", "policy-only")
				s.Outbound = mesh.OutboundRegistryOnly
				return s
			}())),
			probe: Probe{To: "api.eu.example.com", Port: 443, Protocol: HTTPS}, want: routeBlackhole,
			wantBy: sidecarRef("shop", "policy-only"), wantSteps: []string{"BlackHoleCluster"}},
		{name: "case19/root-policy-not-inherited", reason: "§10 case 19: a shop Sidecar with egress only uses the mesh policy, not the root Sidecar's",
			edit: both(addSidecar(func() mesh.Sidecar {
				s := fxSidecar("istio-system", "default", fxHosts("./*"))
				s.Outbound = mesh.OutboundRegistryOnly
				return s
			}()), addSidecar(fxSidecar("shop", "egress-only", fxHosts("./*")))),
			probe: Probe{To: "api.eu.example.com", Port: 443, Protocol: HTTPS}, want: routePassthrough,
			wantSteps: []string{"meshConfig.outboundTrafficPolicy ALLOW_ANY"}},
		{name: "case19/root-policy-applies-without-shop-sidecar", reason: "§2 step 5: the root default, policy included, applies when shop has none",
			edit: addSidecar(func() mesh.Sidecar {
				s := fxSidecar("istio-system", "default", fxHosts("./*"))
				s.Outbound = mesh.OutboundRegistryOnly
				return s
			}()),
			probe: Probe{To: "api.eu.example.com", Port: 443, Protocol: HTTPS}, want: routeBlackhole, wantBy: sidecarRef("istio-system", "default")},
		{name: "case20/sidecar-empty-policy", reason: "§10 case 20: outboundTrafficPolicy {} is REGISTRY_ONLY (the loader maps it to OutboundRegistryOnly; present beats the mesh)",
			edit: addSidecar(func() mesh.Sidecar {
				s := fxSidecar("shop", "default")
				s.Outbound = mesh.OutboundRegistryOnly
				return s
			}()),
			probe: Probe{To: "api.eu.example.com", Port: 443, Protocol: TCP}, want: routeBlackhole},
		{name: "case20/mesh-registry-only", reason: "§10 case 20: mesh REGISTRY_ONLY with no Sidecar",
			edit: registryOnly, probe: Probe{To: "api.eu.example.com", Port: 443, Protocol: TCP}, want: routeBlackhole,
			wantSteps: []string{"meshConfig.outboundTrafficPolicy REGISTRY_ONLY"}},
		{name: "case20/mesh-unset-is-allow-any", reason: "§4: an absent mesh policy is ALLOW_ANY (DefaultMeshConfig)",
			edit: withConfig(func(c *mesh.Config) { c.Outbound = mesh.OutboundUnset }), probe: Probe{To: "api.eu.example.com", Port: 443, Protocol: TCP},
			want: routePassthrough},
		{name: "case20/sidecar-allow-any-beats-mesh", reason: "§2: a present Sidecar policy replaces the mesh value",
			edit: both(registryOnly, addSidecar(func() mesh.Sidecar {
				s := fxSidecar("shop", "default")
				s.Outbound = mesh.OutboundAllowAny
				return s
			}())), probe: Probe{To: "api.eu.example.com", Port: 443, Protocol: TCP}, want: routePassthrough, wantBy: sidecarRef("shop", "default")},
		{name: "dynamic-dns-is-allow-any", reason: "§4: ALLOW_ANY_DYNAMIC_DNS reaches unknown hosts like ALLOW_ANY",
			edit:  withConfig(func(c *mesh.Config) { c.Outbound = mesh.OutboundAllowAnyDynamicDNS }),
			probe: Probe{To: "api.eu.example.com", Port: 443, Protocol: HTTPS}, want: routePassthrough, wantSteps: []string{"treated as ALLOW_ANY"}},

		// T3 / §3.
		{name: "case21/short-name-no-expansion", reason: "§10 case 21 (semantic half): ns1/svc is a literal host, not expanded to svc.ns1.svc.cluster.local",
			edit: addSidecar(fxSidecar("shop", "default", fxHosts("ns1/svc"))), probe: Probe{To: "svc.ns1", Port: 8080, Protocol: HTTP},
			want: routePassthrough, wantSteps: []string{`no host of egress[0] ["ns1/svc"] matches`}},
		{name: "case21/fqdn-imports", reason: "§10 case 21: ns1/svc.ns1.svc.cluster.local imports it",
			edit: addSidecar(fxSidecar("shop", "default", fxHosts("ns1/svc.ns1.svc.cluster.local"))), probe: Probe{To: "svc.ns1", Port: 8080, Protocol: HTTP},
			want: routeService, wantSteps: []string{`with host "ns1/svc.ns1.svc.cluster.local"`}},
		{name: "case21/wrong-namespace", reason: "§3.2: ns2/… never imports a Service of ns1",
			edit: addSidecar(fxSidecar("shop", "default", fxHosts("ns2/svc.ns1.svc.cluster.local"))), probe: Probe{To: "svc.ns1", Port: 8080, Protocol: HTTP},
			want: routePassthrough},
		{name: "case22/wildcard-suffix-imports", reason: "§10 case 22: */*.example.com imports a.b.example.com (any depth)",
			edit: both(addSidecar(fxSidecar("shop", "default", fxHosts("*/*.example.com"))),
				withSE(fxSE("ns2", "ab", []string{"a.b.example.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"}))),
			probe: Probe{To: "a.b.example.com", Port: 443, Protocol: HTTPS}, want: routeService, wantEntry: seRef("ns2", "ab")},
		{name: "case22/wildcard-not-apex", reason: "§10 case 22: *.example.com does not match example.com",
			edit: both(registryOnly, addSidecar(fxSidecar("shop", "default", fxHosts("*/*.example.com"))),
				withSE(fxSE("ns2", "apex", []string{"example.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"}))),
			probe: Probe{To: "example.com", Port: 443, Protocol: HTTPS}, want: routeBlackhole},
		{name: "case22/se-namespace-is-its-own", reason: "§3.2: ns1/api.foo.com needs the ServiceEntry to live in ns1",
			edit: both(addSidecar(fxSidecar("shop", "default", fxHosts("ns1/api.foo.com"))),
				withSE(fxSE("ns2", "api", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"}))),
			probe: Probe{To: "api.foo.com", Port: 443, Protocol: HTTPS}, want: routePassthrough},
		{name: "case22/wildcard-se-host", reason: "§3.2: a wildcard ServiceEntry host is imported by a covering wildcard, and its SE is routed",
			edit: both(addSidecar(fxSidecar("shop", "default", fxHosts("*/*.example.com"))),
				withSE(fxSE("ns2", "wild", []string{"*.example.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"}))),
			probe: Probe{To: "x.example.com", Port: 443, Protocol: HTTPS}, want: routeService, wantEntry: seRef("ns2", "wild")},
		{name: "case22/wildcard-se-not-by-exact", reason: "Name.SubsetOf: an exact egress host never covers a wildcard service host",
			edit: both(addSidecar(fxSidecar("shop", "default", fxHosts("*/x.example.com"))),
				withSE(fxSE("ns2", "wild", []string{"*.example.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"}))),
			probe: Probe{To: "x.example.com", Port: 443, Protocol: HTTPS}, want: routePassthrough},
		{name: "case23/export-dot-allow-any", reason: "§10 case 23: exportTo . hides db from ns1/shop; ALLOW_ANY passes through",
			edit: exportDB([]string{"."}), probe: Probe{To: "db.ns2", Port: 5432}, want: routePassthrough,
			wantBy:    mesh.Ref{},
			wantSteps: []string{"Service ns2/db (host db.ns2.svc.cluster.local) is not exported to namespace shop (exportTo [.])", "PassthroughCluster"}},
		{name: "case23/export-dot-explicit-host", reason: "§3.3: an explicit ns2/db host cannot import an invisible service either",
			edit:  both(exportDB([]string{"."}), addSidecar(fxSidecar("shop", "default", fxHosts("ns2/db.ns2.svc.cluster.local")))),
			probe: Probe{To: "db.ns2", Port: 5432}, want: routePassthrough, wantSteps: []string{"not exported to namespace shop"}},
		{name: "case23/export-dot-registry-only-tcp", reason: "§10 case 23: REGISTRY_ONLY resets a TCP connection",
			edit: both(exportDB([]string{"."}), registryOnly), probe: Probe{To: "db.ns2", Port: 5432}, want: routeBlackhole,
			wantSteps: []string{"BlackHoleCluster"}},
		{name: "case23/registry-only-http-listener-502", reason: "§10 case 23: 502 when an HTTP listener exists on the port",
			edit: both(registryOnly, func(b *mesh.Builder) {
				b.Remove(svcRef("ns2", "db"))
				s := fxSvc("ns2", "db", fxHTTP(8080))
				s.ExportTo = []string{"."}
				b.AddService(s)
			}), probe: Probe{To: "db.ns2", Port: 8080, Protocol: HTTP}, want: routeBlackhole,
			wantSteps: []string{"HTTP 502", "HTTP listener 0.0.0.0:8080"}},
		{name: "case23/registry-only-tcp-on-http-port", reason: "§4: non-HTTP bytes on a port with an HTTP listener still hit the TCP blackhole",
			edit: both(registryOnly, func(b *mesh.Builder) {
				b.Remove(svcRef("ns2", "db"))
				s := fxSvc("ns2", "db", fxHTTP(8080))
				s.ExportTo = []string{"."}
				b.AddService(s)
			}), probe: Probe{To: "db.ns2", Port: 8080, Protocol: TCP}, want: routeBlackhole, wantSteps: []string{"BlackHoleCluster"}},
		{name: "case23/export-names-own-namespace", reason: "§3.3: exportTo listing the proxy's namespace makes it visible",
			edit: exportDB([]string{"other", "shop"}), probe: Probe{To: "db.ns2", Port: 5432}, want: routeService},
		{name: "case23/export-none", reason: "§3.3: exportTo ~ hides it from everyone",
			edit: exportDB([]string{"~"}), probe: Probe{To: "db.ns2", Port: 5432}, want: routePassthrough, wantSteps: []string{"exported to no namespace"}},
		{name: "case23/export-star-wins", reason: "§3.3: * makes it public whatever else is listed",
			edit: exportDB([]string{"ns1", "*"}), probe: Probe{To: "db.ns2", Port: 5432}, want: routeService},
		{name: "case23/export-tilde-mixed", reason: "§3.3: ~ mixed with names is invalid input; the service index hides it",
			edit: exportDB([]string{"~", "shop"}), probe: Probe{To: "db.ns2", Port: 5432}, want: routePassthrough},
		{name: "case24/mesh-default-dot", reason: "§10 case 24: defaultServiceExportTo [.] hides unannotated ns2 services from shop",
			edit: withConfig(func(c *mesh.Config) { c.DefaultServiceExportTo = []string{"."} }), probe: Probe{To: "db.ns2", Port: 5432},
			want: routePassthrough, wantSteps: []string{"the mesh defaultServiceExportTo [.]"}},
		{name: "case24/annotation-star-overrides-default", reason: "§10 case 24: exportTo * on the Service makes it visible",
			edit:  both(withConfig(func(c *mesh.Config) { c.DefaultServiceExportTo = []string{"."} }), exportDB([]string{"*"})),
			probe: Probe{To: "db.ns2", Port: 5432}, want: routeService},
		{name: "case24/se-default-export", reason: "§3.3: an SE without exportTo follows the mesh default too",
			edit: both(withConfig(func(c *mesh.Config) { c.DefaultServiceExportTo = []string{"."} }),
				withSE(fxSE("ns2", "api", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"}))),
			probe: Probe{To: "api.foo.com", Port: 443, Protocol: HTTPS}, want: routePassthrough},
		{name: "case24/se-export-to-shop", reason: "§3.3: ServiceEntry.exportTo listing the proxy's namespace",
			edit: withSE(func() mesh.ServiceEntry {
				s := fxSE("ns2", "api", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"})
				s.ExportTo = []string{"shop"}
				return s
			}()), probe: Probe{To: "api.foo.com", Port: 443, Protocol: HTTPS}, want: routeService, wantEntry: seRef("ns2", "api")},
		{name: "case24/se-export-dot", reason: "§3.3: ServiceEntry.exportTo . hides it from other namespaces",
			edit: withSE(func() mesh.ServiceEntry {
				s := fxSE("ns2", "api", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"})
				s.ExportTo = []string{"."}
				return s
			}()), probe: Probe{To: "api.foo.com", Port: 443, Protocol: HTTPS}, want: routePassthrough},
		{name: "case25/unlisted-port", reason: "§10 case 25: no listener for 8080 (port listener 9080, catch-all istio-system/*)",
			edit: port9080Sidecar, probe: Probe{To: "svc.ns1", Port: 8080, Protocol: HTTP}, want: routePassthrough,
			wantSteps: []string{`no host of egress[1] ["istio-system/*"] matches Service ns1/svc`}},
		{name: "case25/unlisted-port-registry-only", reason: "§10 case 25: same under REGISTRY_ONLY is blocked",
			edit: both(port9080Sidecar, registryOnly), probe: Probe{To: "svc.ns1", Port: 8080, Protocol: HTTP}, want: routeBlackhole},
		{name: "case25/listed-port", reason: "§10 case 25: svc.ns1:9080 routes through the port listener",
			edit: port9080Sidecar, probe: Probe{To: "svc.ns1", Port: 9080, Protocol: HTTP}, want: routeService,
			wantSteps: []string{`egress[0] (port 9080) imports Service ns1/svc`}},
		{name: "case25/catch-all-other-port", reason: "§3.4: the catch-all imports istio-system services on their ports",
			edit: port9080Sidecar, probe: Probe{To: "monitor.istio-system", Port: 8080, Protocol: HTTP}, want: routeService},
		{name: "case25/http-locked-by-port-listener", reason: "§3.4: a catch-all HTTP service on 9080 is locked out of 0.0.0.0:9080",
			edit: both(port9080Sidecar, func(b *mesh.Builder) {
				b.AddWorkload(fxWL("istio-system", "gw", nil, nil))
				b.AddService(fxSvc("istio-system", "gw", fxHTTP(9080)))
			}), probe: Probe{To: "gw.istio-system", Port: 9080, Protocol: HTTP}, want: routePassthrough,
			wantSteps: []string{"owns the listener 0.0.0.0:9080"}},
		{name: "case25/tcp-keeps-own-vip", reason: "§3.4: a catch-all TCP service on 9080 keeps its own VIP listener",
			edit: both(port9080Sidecar, func(b *mesh.Builder) {
				b.AddWorkload(fxWL("istio-system", "gw", nil, nil))
				b.AddService(fxSvc("istio-system", "gw", fxTCP(9080)))
			}), probe: Probe{To: "gw.istio-system", Port: 9080, Protocol: TCP}, want: routeService},
		{name: "case25/port-listener-needs-port", reason: "§3.4: a port listener imports only services with that port",
			edit:  addSidecar(fxSidecar("shop", "default", mesh.EgressListener{Port: &mesh.SidecarPort{Number: 9080, Protocol: "HTTP", Name: "http"}, Hosts: []string{"*/*"}})),
			probe: Probe{To: "cart", Port: 9080, Protocol: HTTP}, want: routePassthrough},
		{name: "case25/no-catch-all", reason: "§3.4: ports not listed are absent without a catch-all",
			edit:  addSidecar(fxSidecar("shop", "default", mesh.EgressListener{Port: &mesh.SidecarPort{Number: 9080, Protocol: "HTTP", Name: "http"}, Hosts: []string{"*/*"}})),
			probe: Probe{To: "cart", Port: 8080, Protocol: HTTP}, want: routePassthrough, wantSteps: []string{"no egress listener for port 8080"}},
		{name: "case25/capture-none-ignored", reason: "§3.4: a captureMode NONE listener does not see redirected traffic",
			edit:  addSidecar(fxSidecar("shop", "default", mesh.EgressListener{Port: &mesh.SidecarPort{Number: 8080, Protocol: "HTTP", Name: "http"}, CaptureMode: "NONE", Hosts: []string{"*/*"}})),
			probe: Probe{To: "cart", Port: 8080, Protocol: HTTP}, want: routePassthrough, wantSteps: []string{"captureMode NONE"}},
		{name: "case25/unix-bind-ignored", reason: "§3.4: a unix-socket listener does not see redirected traffic",
			edit:  addSidecar(fxSidecar("shop", "default", mesh.EgressListener{Bind: "unix:///var/run/app.sock", Hosts: []string{"*/*"}})),
			probe: Probe{To: "cart", Port: 8080, Protocol: HTTP}, want: routePassthrough, wantSteps: []string{"unix socket"}},
		{name: "case25/http-proxy-ignored", reason: "§3.4: an HTTP_PROXY listener is an explicit proxy, not a port listener",
			edit:  addSidecar(fxSidecar("shop", "default", mesh.EgressListener{Port: &mesh.SidecarPort{Number: 8080, Protocol: "HTTP_PROXY", Name: "proxy"}, Hosts: []string{"*/*"}})),
			probe: Probe{To: "cart", Port: 8080, Protocol: HTTP}, want: routePassthrough, wantSteps: []string{"HTTP_PROXY"}},
		{name: "case25/tcp-port-listener-locks-no-502", reason: "§3.4 + §4: a TCP port listener owning 0.0.0.0:8080 keeps the catch-all's HTTP listener out: reset, not 502",
			edit: both(registryOnly, withSE(fxSE("ns2", "raw", []string{"raw.corp.internal"}, mesh.ServiceEntryPort{Number: 8080, Protocol: "TCP", Name: "tcp"})),
				addSidecar(fxSidecar("shop", "default",
					mesh.EgressListener{Port: &mesh.SidecarPort{Number: 8080, Protocol: "TCP", Name: "tcp"}, Hosts: []string{"ns2/*"}},
					fxHosts("./*")))),
			probe: Probe{To: "ratings.other", Port: 8080, Protocol: HTTP}, want: routeBlackhole, wantSteps: []string{"BlackHoleCluster"}},
		{name: "case25/catch-all-http-listener-502", reason: "§4: the catch-all's HTTP service on 8080 gives unknown HTTP a 502",
			edit:  both(registryOnly, addSidecar(fxSidecar("shop", "default", fxHosts("./*")))),
			probe: Probe{To: "ratings.other", Port: 8080, Protocol: HTTP}, want: routeBlackhole, wantSteps: []string{"HTTP 502"}},
		{name: "case27/exclusion", reason: "§10 case 27 (≥1.31): */* minus kube-system",
			edit: addSidecar(fxSidecar("shop", "default", fxHosts("*/*", "~kube-system/*"))), probe: Probe{To: "dns.kube-system", Port: 5432},
			want: routePassthrough, wantSteps: []string{`excludes Service kube-system/dns (host dns.kube-system.svc.cluster.local) with host "~kube-system/*"`}},
		{name: "case27/exclusion-keeps-others", reason: "§10 case 27 (≥1.31): other namespaces stay imported",
			edit: addSidecar(fxSidecar("shop", "default", fxHosts("*/*", "~kube-system/*"))), probe: Probe{To: "db.ns2", Port: 5432}, want: routeService},
		{name: "case27/tilde-star-cancels", reason: "§10 case 27 (≥1.31): [~/*, ./*] imports nothing (≤1.30 imported ./*)",
			edit: addSidecar(fxSidecar("shop", "default", fxHosts("~/*", "./*"))), probe: Probe{To: "cart", Port: 8080, Protocol: HTTP}, want: routePassthrough,
			wantSteps: []string{`with host "~/*"`}},
		{name: "case27/exclude-one-host-everywhere", reason: "§3.1: ~/foo excludes that host from every namespace",
			edit: both(addSidecar(fxSidecar("shop", "default", fxHosts("*/*", "~/api.foo.com"))),
				withSE(fxSE("ns2", "api", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"}))),
			probe: Probe{To: "api.foo.com", Port: 443, Protocol: HTTPS}, want: routePassthrough},
		{name: "case27/illegal-host-skipped", reason: "§3.1: a host without exactly one / is skipped, the rest applies",
			edit: addSidecar(fxSidecar("shop", "default", fxHosts("cart", "./*"))), probe: Probe{To: "cart", Port: 8080, Protocol: HTTP}, want: routeService},
		{name: "case27/illegal-host-reported", reason: "§3.1: the skipped host is named when nothing imports the destination",
			edit: addSidecar(fxSidecar("shop", "default", fxHosts("other/ratings/x"))), probe: Probe{To: "ratings.other", Port: 8080, Protocol: HTTP},
			want: routePassthrough, wantSteps: []string{`skips host "other/ratings/x"`}},
		{name: "case28/vs-destination-direct-call", reason: "§10 case 28: VirtualServices are not modelled; a direct call to a VS destination outside ./* is unknown",
			edit: addSidecar(fxSidecar("shop", "default", fxHosts("./*"))), probe: Probe{To: "ratings.other", Port: 8080, Protocol: HTTP}, want: routePassthrough},
		{name: "collision/own-namespace-se-wins", reason: "§3.2/T3 step 5: the copy in the proxy's namespace is kept",
			edit: both(withSE(fxSE("ns2", "api-ns2", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"})),
				withSE(func() mesh.ServiceEntry {
					s := fxSE("shop", "api-shop", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"})
					s.Created = fxT0.Add(time.Hour)
					return s
				}())),
			probe: Probe{To: "api.foo.com", Port: 443, Protocol: HTTPS}, want: routeService, wantEntry: seRef("shop", "api-shop")},
		{name: "collision/first-seen", reason: "§3.2/T3 step 5: else the first seen, by creation time",
			edit: both(withSE(func() mesh.ServiceEntry {
				s := fxSE("ns1", "api-new", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"})
				s.Created = fxT0.Add(time.Hour)
				return s
			}()), withSE(fxSE("ns2", "api-old", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"}))),
			probe: Probe{To: "api.foo.com", Port: 443, Protocol: HTTPS}, want: routeService, wantEntry: seRef("ns2", "api-old")},
		{name: "collision/kube-beats-se", reason: "§3.2/T3 step 5: a Kubernetes Service beats a ServiceEntry outside the proxy's namespace",
			edit:  withSE(fxSE("ns1", "squat", []string{"db.ns2.svc.cluster.local"}, mesh.ServiceEntryPort{Number: 5432, Protocol: "TCP", Name: "tcp"})),
			probe: Probe{To: "db.ns2", Port: 5432}, want: routeService, wantBy: svcRef("ns2", "db")},
		{name: "collision/kube-beats-earlier-se", reason: "§3.2/T3 step 5: a Kubernetes Service beats a ServiceEntry seen first (exported by name, so listed before public services)",
			edit: withSE(func() mesh.ServiceEntry {
				s := fxSE("ns1", "squat", []string{"db.ns2.svc.cluster.local"}, mesh.ServiceEntryPort{Number: 5432, Protocol: "TCP", Name: "tcp"})
				s.ExportTo = []string{"shop"}
				return s
			}()),
			probe: Probe{To: "db.ns2", Port: 5432}, want: routeService, wantBy: svcRef("ns2", "db")},
		{name: "collision/exact-host-before-wildcard", reason: "an exact ServiceEntry host is more specific than a wildcard one covering it",
			edit: both(withSE(fxSE("ns1", "wild", []string{"*.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"})),
				withSE(fxSE("ns2", "exact", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"}))),
			probe: Probe{To: "api.foo.com", Port: 443, Protocol: HTTPS}, want: routeService, wantEntry: seRef("ns2", "exact")},
		{name: "collision/wildcard-when-exact-hidden", reason: "§3.3: an invisible exact host leaves the wildcard host to carry it",
			edit: both(withSE(fxSE("ns1", "wild", []string{"*.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"})),
				withSE(func() mesh.ServiceEntry {
					s := fxSE("ns2", "exact", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"})
					s.ExportTo = []string{"."}
					return s
				}())),
			probe: Probe{To: "api.foo.com", Port: 443, Protocol: HTTPS}, want: routeService, wantEntry: seRef("ns1", "wild")},
		{name: "collision/only-imported-copies-count", reason: "§3.2: collision is resolved among imported copies only",
			edit: both(addSidecar(fxSidecar("shop", "default", fxHosts("ns2/*"))),
				withSE(fxSE("shop", "api-shop", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"})),
				withSE(fxSE("ns2", "api-ns2", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"}))),
			probe: Probe{To: "api.foo.com", Port: 443, Protocol: HTTPS}, want: routeService, wantEntry: seRef("ns2", "api-ns2")},
		{name: "se/no-such-port", reason: "§3.4: an SE without the dialled port has no listener there",
			edit:  withSE(fxSE("ns2", "api", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS", Name: "tls"})),
			probe: Probe{To: "api.foo.com", Port: 8443, Protocol: HTTPS}, want: routePassthrough, wantSteps: []string{"has no TCP port 8443"}},
		{name: "service/no-such-port", reason: "T4: a Service dialled on a port it does not expose is unknown (and must not panic)",
			probe: Probe{To: "cart", Port: 9999}, want: routePassthrough, wantSteps: []string{"has no TCP port 9999"}},
		{name: "pod-ip", reason: "T4: a pod IP is no registry service: unknown",
			probe: Probe{ToWorkload: mesh.WorkloadID{Namespace: "shop", Name: "cart"}, Port: 8080, Protocol: HTTP}, want: routePassthrough,
			wantSteps: []string{"a pod IP is not a service host"}},
		{name: "pod-ip-registry-only", reason: "T4: a pod IP under REGISTRY_ONLY is blocked",
			edit:  registryOnly,
			probe: Probe{ToWorkload: mesh.WorkloadID{Namespace: "shop", Name: "cart"}, Port: 8080, Protocol: HTTP}, want: routeBlackhole},
		{name: "default-scope", reason: "T2 row 4: no Sidecar anywhere imports every exported service",
			probe: Probe{To: "db.ns2", Port: 5432}, want: routeService, wantSteps: []string{"no Sidecar applies in namespace shop or root namespace istio-system"}},

		// §6 outbound exclusions.
		{name: "case29/exclude-port-beats-registry-only", reason: "§10 case 29: excludeOutboundPorts bypasses REGISTRY_ONLY and the Sidecar scope",
			edit: both(registryOnly, addSidecar(fxSidecar("shop", "default", fxHosts("./*"))),
				annotateWeb(map[string]string{"traffic.sidecar.istio.io/excludeOutboundPorts": "5432, 3306"})),
			probe: Probe{To: "api.eu.example.com", Port: 5432}, want: routeBypass, wantBy: mesh.Ref{Kind: "Deployment", Namespace: "shop", Name: "web"},
			wantSteps: []string{"never sees it"}},
		{name: "case29/exclude-port-other-port", reason: "§10 case 29: other ports are still captured",
			edit:  both(registryOnly, annotateWeb(map[string]string{"traffic.sidecar.istio.io/excludeOutboundPorts": "5432"})),
			probe: Probe{To: "api.eu.example.com", Port: 443, Protocol: HTTPS}, want: routeBlackhole},
		{name: "case30/ip-exclusion-before-port-inclusion", reason: "§10 case 30: 10.1.2.3:80 bypasses (IP exclusion first)",
			edit: both(clusterIP("ns1", "svc", "10.1.2.3", fxHTTP(80)), annotateWeb(map[string]string{
				"traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.0.0.0/8", "traffic.sidecar.istio.io/includeOutboundPorts": "80"})),
			probe: Probe{To: "svc.ns1", Port: 80, Protocol: HTTP}, want: routeBypass, wantSteps: []string{"10.0.0.0/8"}},
		{name: "case30/port-inclusion-outside-range", reason: "§6 rule 4: includeOutboundPorts redirects an address outside the exclusions",
			edit: both(clusterIP("ns1", "svc", "172.16.0.9", fxHTTP(80)), annotateWeb(map[string]string{
				"traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.0.0.0/8", "traffic.sidecar.istio.io/includeOutboundPorts": "80",
				"traffic.sidecar.istio.io/includeOutboundIPRanges": ""})),
			probe: Probe{To: "svc.ns1", Port: 80, Protocol: HTTP}, want: routeService, wantSteps: []string{"whatever the address"}},
		{name: "case30/include-ranges-empty", reason: "§6 rule 5: includeOutboundIPRanges \"\" redirects nothing else",
			edit:  annotateWeb(map[string]string{"traffic.sidecar.istio.io/includeOutboundIPRanges": ""}),
			probe: Probe{To: "cart", Port: 8080, Protocol: HTTP}, want: routeBypass},
		{name: "case30/include-ranges-match", reason: "§6 rule 5: an address inside includeOutboundIPRanges is redirected",
			edit: both(clusterIP("ns1", "svc", "10.96.0.10", fxHTTP(80)),
				annotateWeb(map[string]string{"traffic.sidecar.istio.io/includeOutboundIPRanges": "10.96.0.0/12"})),
			probe: Probe{To: "svc.ns1", Port: 80, Protocol: HTTP}, want: routeService},
		{name: "case30/include-ranges-miss", reason: "§6 rule 5: an address outside includeOutboundIPRanges bypasses",
			edit: both(clusterIP("ns1", "svc", "192.168.1.1", fxHTTP(80)),
				annotateWeb(map[string]string{"traffic.sidecar.istio.io/includeOutboundIPRanges": "10.96.0.0/12"})),
			probe: Probe{To: "svc.ns1", Port: 80, Protocol: HTTP}, want: routeBypass},
		{name: "case30/unknown-ip-assumed-outside-include", reason: "brief: an unknown address is assumed outside the range, and the step says so",
			edit:  annotateWeb(map[string]string{"traffic.sidecar.istio.io/includeOutboundIPRanges": "10.96.0.0/12"}),
			probe: Probe{To: "cart", Port: 8080, Protocol: HTTP}, want: routeBypass, wantSteps: []string{"is not known to the model, so it is assumed outside"}},
		{name: "case30/unknown-ip-assumed-outside-exclude", reason: "brief: an unknown address is assumed outside excludeOutboundIPRanges",
			edit:  annotateWeb(map[string]string{"traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.0.0.0/8"}),
			probe: Probe{To: "cart", Port: 8080, Protocol: HTTP}, want: routeService, wantSteps: []string{"is not known to the model, so it is assumed outside"}},
		{name: "case30/pod-ip-excluded", reason: "§6: a pod's IP from a live dump is matched against the ranges",
			edit: both(annotateWeb(map[string]string{"traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.244.0.0/16"}), func(b *mesh.Builder) {
				b.Remove(mesh.Ref{Kind: "Workload", Namespace: "shop", Name: "cart"})
				w := fxWL("shop", "cart", nil, nil)
				w.IP = "10.244.1.7"
				b.AddWorkload(w)
			}),
			probe: Probe{ToWorkload: mesh.WorkloadID{Namespace: "shop", Name: "cart"}, Port: 8080, Protocol: HTTP}, want: routeBypass},
		{name: "case30/se-address-excluded", reason: "§6: a ServiceEntry address is matched against the ranges",
			edit: both(annotateWeb(map[string]string{"traffic.sidecar.istio.io/excludeOutboundIPRanges": "203.0.113.0/24"}), withSE(func() mesh.ServiceEntry {
				s := fxSE("ns2", "legacy", []string{"legacy.corp"}, mesh.ServiceEntryPort{Number: 1521, Protocol: "TCP", Name: "tcp"})
				s.Addresses = []string{"203.0.113.4"}
				return s
			}())),
			probe: Probe{To: "legacy.corp", Port: 1521}, want: routeBypass},
		{name: "case30/loopback-not-redirected", reason: "§6 rule 2: loopback destinations are returned before the address rules",
			edit: withSE(func() mesh.ServiceEntry {
				s := fxSE("ns2", "local", []string{"local.corp.internal"}, mesh.ServiceEntryPort{Number: 9000, Protocol: "TCP", Name: "tcp"})
				s.Addresses = []string{"127.0.0.1"}
				return s
			}()),
			probe: Probe{To: "local.corp.internal", Port: 9000}, want: routeBypass, wantSteps: []string{"is loopback"}},
		{name: "case30/invalid-entries-ignored", reason: "§6: unparsable list items are ignored and reported",
			edit:  annotateWeb(map[string]string{"traffic.sidecar.istio.io/excludeOutboundPorts": "abc,8080"}),
			probe: Probe{To: "cart", Port: 8080, Protocol: HTTP}, want: routeBypass, wantSteps: []string{`ignored invalid traffic.sidecar.istio.io/excludeOutboundPorts entries ["abc"]`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runOutbound(t, tc)
		})
	}
}

func exportDB(exportTo []string) func(*mesh.Builder) {
	return func(b *mesh.Builder) {
		b.Remove(svcRef("ns2", "db"))
		s := fxSvc("ns2", "db", fxTCP(5432))
		s.ExportTo = exportTo
		b.AddService(s)
	}
}

func clusterIP(ns, name, ip string, ports ...mesh.ServicePort) func(*mesh.Builder) {
	return func(b *mesh.Builder) {
		b.Remove(svcRef(ns, name))
		s := fxSvc(ns, name, ports...)
		s.ClusterIP = ip
		b.AddService(s)
	}
}

func port9080Sidecar(b *mesh.Builder) {
	b.AddSidecar(fxSidecar("shop", "default",
		mesh.EgressListener{Port: &mesh.SidecarPort{Number: 9080, Protocol: "HTTP", Name: "http"}, Hosts: []string{"ns1/*"}},
		fxHosts("istio-system/*")))
}

func TestScopeFor(t *testing.T) {
	t.Parallel()
	x := map[string]string{"app": "x"}
	sel := func(ns, name string, created time.Time, labels map[string]string) mesh.Sidecar {
		s := fxSidecar(ns, name, fxHosts("./*"))
		s.Selector, s.Created = labels, created
		return s
	}
	tests := []struct {
		name, reason string
		sidecars     []mesh.Sidecar
		pod          map[string]string
		want         mesh.Ref // zero: synthetic default
		wantRoot     bool
	}{
		{name: "case17/oldest-selector-wins", reason: "§10 case 17: A (t1) beats B (t2)",
			sidecars: []mesh.Sidecar{sel("shop", "b-older", fxT0, x), sel("shop", "a-newer", fxT0.Add(time.Minute), x)},
			pod:      x, want: sidecarRef("shop", "b-older")},
		{name: "case17/same-second-name-wins", reason: "§10 case 17: same creation second, name a beats b",
			sidecars: []mesh.Sidecar{sel("shop", "b", fxT0, x), sel("shop", "a", fxT0, x)}, pod: x, want: sidecarRef("shop", "a")},
		{name: "selector-before-namespace-default", reason: "§2 step 2: selector Sidecars come before selector-less ones, whatever their age",
			sidecars: []mesh.Sidecar{sel("shop", "default", fxT0, nil), sel("shop", "x", fxT0.Add(time.Hour), x)}, pod: x, want: sidecarRef("shop", "x")},
		{name: "non-matching-selector", reason: "§2 step 3: a selector that is not a subset of the pod labels is skipped",
			sidecars: []mesh.Sidecar{sel("shop", "default", fxT0.Add(time.Hour), nil), sel("shop", "x", fxT0, x)},
			pod:      map[string]string{"app": "y"}, want: sidecarRef("shop", "default")},
		{name: "empty-selector-matches-all", reason: "§2 step 3: a non-nil empty selector matches every pod",
			sidecars: []mesh.Sidecar{sel("shop", "default", fxT0, nil), sel("shop", "all", fxT0.Add(time.Hour), map[string]string{})},
			pod:      map[string]string{"app": "y"}, want: sidecarRef("shop", "all")},
		{name: "oldest-namespace-default", reason: "§2 step 4: the oldest selector-less Sidecar",
			sidecars: []mesh.Sidecar{sel("shop", "a", fxT0.Add(time.Hour), nil), sel("shop", "z", fxT0, nil)}, pod: x, want: sidecarRef("shop", "z")},
		{name: "root-oldest-selectorless", reason: "§2 step 5: the oldest selector-less root Sidecar",
			sidecars: []mesh.Sidecar{sel("istio-system", "a", fxT0.Add(time.Hour), nil), sel("istio-system", "z", fxT0, nil), sel("istio-system", "s", fxT0.Add(-time.Hour), x)},
			pod:      x, want: sidecarRef("istio-system", "z"), wantRoot: true},
		{name: "other-namespace-ignored", reason: "§2: lookup uses only the pod's namespace and the root",
			sidecars: []mesh.Sidecar{sel("other", "default", fxT0, nil)}, pod: x},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := fxMesh()
			for _, s := range tc.sidecars {
				b.AddSidecar(s)
			}
			b.Remove(mesh.Ref{Kind: "Workload", Namespace: "shop", Name: "web"})
			b.AddWorkload(fxWL("shop", "web", tc.pod, nil))
			m, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			e := New(m).e
			sc := e.scopeFor(e.wl[fxWeb])
			var got mesh.Ref
			if sc.sc != nil {
				got = sc.sc.Ref
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scopeFor (-want +got) (%s):\n%s", tc.reason, diff)
			}
			if sc.root != tc.wantRoot {
				t.Errorf("root = %v, want %v", sc.root, tc.wantRoot)
			}
			if sc.step.Stage != StageSidecarScope || sc.step.By != got {
				t.Errorf("step %+v: want stage sidecar-scope, By %v", sc.step, got)
			}
		})
	}
}

func TestInboundCaptured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		ann          map[string]string
		ingress      []uint32 // Sidecar ingress ports, if any
		port         uint32
		want         bool
		wantBy       bool // the pod's annotations decided
	}{
		{name: "default-captures", reason: "§6: includeInboundPorts * by default", port: 8080, want: true},
		{name: "agent-ports/15020", reason: "§6: the status port is always excluded", port: 15020},
		{name: "agent-ports/15021", reason: "§6: 15021 is always excluded", port: 15021},
		{name: "agent-ports/15090", reason: "§6: 15090 is always excluded", port: 15090},
		{name: "agent-ports/custom-status", reason: "§6: status.sidecar.istio.io/port moves the excluded status port",
			ann: map[string]string{"status.sidecar.istio.io/port": "15999"}, port: 15999},
		{name: "agent-ports/custom-status-frees-15020", reason: "§6: with another status port, 15020 is captured",
			ann: map[string]string{"status.sidecar.istio.io/port": "15999"}, port: 15020, want: true},
		{name: "case31/exclude-inbound", reason: "§10 case 31: excludeInboundPorts 8080 bypasses the sidecar",
			ann: map[string]string{"traffic.sidecar.istio.io/excludeInboundPorts": "8080"}, port: 8080, wantBy: true},
		{name: "case31/exclude-other-port", reason: "§10 case 31: other ports stay captured",
			ann: map[string]string{"traffic.sidecar.istio.io/excludeInboundPorts": "8080"}, port: 9080, want: true},
		{name: "case32/ingress-does-not-restrict", reason: "§10 case 32: Sidecar ingress [9080] still captures 8080",
			ingress: []uint32{9080}, port: 8080, want: true},
		{name: "case33/include-empty", reason: "§10 case 33: includeInboundPorts \"\" captures nothing",
			ann: map[string]string{"traffic.sidecar.istio.io/includeInboundPorts": ""}, port: 8080, wantBy: true},
		{name: "include-list", reason: "§6: a list captures only the listed ports",
			ann: map[string]string{"traffic.sidecar.istio.io/includeInboundPorts": "9080, 8080"}, port: 8080, want: true, wantBy: true},
		{name: "include-list-miss", reason: "§6: a port outside the list is not captured",
			ann: map[string]string{"traffic.sidecar.istio.io/includeInboundPorts": "9080"}, port: 8080, wantBy: true},
		{name: "include-list-ignores-excludes", reason: "§6: exclusions only matter in * mode",
			ann:  map[string]string{"traffic.sidecar.istio.io/includeInboundPorts": "8080", "traffic.sidecar.istio.io/excludeInboundPorts": "8080"},
			port: 8080, want: true, wantBy: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := fxMesh()
			b.Remove(mesh.Ref{Kind: "Workload", Namespace: "shop", Name: "cart"})
			b.AddWorkload(fxWL("shop", "cart", nil, tc.ann))
			if len(tc.ingress) > 0 {
				s := fxSidecar("shop", "ingress")
				for _, p := range tc.ingress {
					s.Ingress = append(s.Ingress, mesh.IngressListener{Port: mesh.SidecarPort{Number: p, Protocol: "HTTP", Name: "http"}})
				}
				b.AddSidecar(s)
			}
			m, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			e := New(m).e
			id := mesh.WorkloadID{Namespace: "shop", Name: "cart"}
			got, steps := e.inboundCaptured(e.wl[id], tc.port)
			if got != tc.want {
				t.Errorf("inboundCaptured(%d) = %v, want %v (%s): %v", tc.port, got, tc.want, tc.reason, steps)
			}
			if len(steps) != 1 {
				t.Fatalf("want one step, got %v", steps)
			}
			s := steps[0]
			if s.Stage != StageInterception || s.Side != Server || s.Subject != id {
				t.Errorf("step %+v: want stage interception, side server, subject %s", s, id)
			}
			if gotBy := !s.By.IsZero(); gotBy != tc.wantBy {
				t.Errorf("step By = %v, want the pod: %v", s.By, tc.wantBy)
			}
			if s.By.IsZero() == (s.Default == "") {
				t.Errorf("step %+v: exactly one of By and Default must be set", s)
			}
		})
	}
}

func TestHostMatching(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		n, o         string
		want         bool
	}{
		{name: "exact", reason: "Name.SubsetOf: equal names", n: "a.b", o: "a.b", want: true},
		{name: "exact-differ", reason: "Name.SubsetOf: different names", n: "a.b", o: "a.c"},
		{name: "star", reason: "* covers everything", n: "a.b", o: "*", want: true},
		{name: "suffix-any-depth", reason: "§3.2: *.example.com covers a.b.example.com", n: "a.b.example.com", o: "*.example.com", want: true},
		{name: "suffix-not-apex", reason: "§3.2: *.foo.com does not cover foo.com", n: "foo.com", o: "*.foo.com"},
		{name: "wild-in-wider-wild", reason: "Name.SubsetOf: *.a.b ⊆ *.b", n: "*.a.b", o: "*.b", want: true},
		{name: "wider-wild-not-in-narrower", reason: "Name.SubsetOf: *.b ⊄ *.a.b", n: "*.b", o: "*.a.b"},
		{name: "wild-not-in-exact", reason: "Name.SubsetOf: a wildcard is never a subset of an exact name", n: "*.b", o: "a.b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := hostSubsetOf(tc.n, tc.o); got != tc.want {
				t.Errorf("hostSubsetOf(%q, %q) = %v, want %v (%s)", tc.n, tc.o, got, tc.want, tc.reason)
			}
		})
	}
}

func TestKubePortProtocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		sp           mesh.ServicePort
		want         string
	}{
		{name: "name-prefix", reason: "ConvertProtocol: prefix before -", sp: mesh.ServicePort{Name: "http-web", Port: 80}, want: protoHTTP},
		{name: "grpc-web", reason: "ConvertProtocol: grpc-web checked before the - split", sp: mesh.ServicePort{Name: "grpc-web-x", Port: 80}, want: protoGRPCWeb},
		{name: "app-protocol-wins", reason: "ConvertProtocol: appProtocol over the name", sp: mesh.ServicePort{Name: "http", AppProtocol: "tcp", Port: 80}, want: protoTCP},
		{name: "h2c", reason: "ConvertProtocol: kubernetes.io/h2c", sp: mesh.ServicePort{AppProtocol: "kubernetes.io/h2c", Port: 80}, want: protoHTTP2},
		{name: "unnamed-auto", reason: "ConvertProtocol: unknown → auto-detected", sp: mesh.ServicePort{Port: 8080}, want: ""},
		{name: "well-known-mysql", reason: "ConvertProtocol: unnamed 3306 is TCP", sp: mesh.ServicePort{Port: 3306}, want: protoTCP},
		{name: "udp", reason: "ConvertProtocol: UDP ports", sp: mesh.ServicePort{Name: "dns", Port: 53, Protocol: "UDP"}, want: protoUDP},
		{name: "case-insensitive", reason: "protocol.Parse lower-cases", sp: mesh.ServicePort{Name: "HTTP2-x", Port: 80}, want: protoHTTP2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := kubePortProtocol(tc.sp); got != tc.want {
				t.Errorf("kubePortProtocol(%+v) = %q, want %q (%s)", tc.sp, got, tc.want, tc.reason)
			}
		})
	}
}

func TestOutboundDeterministic(t *testing.T) {
	t.Parallel()
	b := fxMesh()
	b.AddSidecar(fxSidecar("shop", "default", fxHosts("*/*", "~kube-system/*")))
	b.AddServiceEntry(fxSE("ns1", "a", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS"}))
	b.AddServiceEntry(fxSE("ns2", "b", []string{"api.foo.com"}, mesh.ServiceEntryPort{Number: 443, Protocol: "TLS"}))
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	e := New(m).e
	client := e.wl[fxWeb]
	var first []Step
	for i := range 20 {
		d, _, err := e.resolve(client, Probe{From: fxWeb, To: "api.foo.com", Port: 8443})
		if err != nil {
			t.Fatal(err)
		}
		rt := e.outbound(client, d, TCP)
		if i == 0 {
			first = rt.steps
			continue
		}
		if diff := cmp.Diff(first, rt.steps); diff != "" {
			t.Fatalf("run %d differs (-first +now):\n%s", i, diff)
		}
	}
}

// BenchmarkOutbound runs the client side of the data path (interception,
// Sidecar scope, egress imports, outbound policy) on a generated mesh of 40
// namespaces × 25 workloads, each with a Service, a namespace Sidecar
// importing its own namespace, istio-system and *.example.com, and a
// ServiceEntry per namespace, under REGISTRY_ONLY. The destinations mix
// in-scope Services, out-of-scope Services (unknown HTTP: the 502 check
// scans the registry) and ServiceEntries of other namespaces.
func BenchmarkOutbound(b *testing.B) {
	const nss, per = 40, 25
	var mb mesh.Builder
	c := mesh.DefaultConfig()
	c.Outbound = mesh.OutboundRegistryOnly
	mb.SetConfig(c)
	mb.AddNamespace(mesh.Namespace{Name: "istio-system"})
	for i := range nss {
		ns := fmt.Sprintf("ns%02d", i)
		mb.AddNamespace(mesh.Namespace{Name: ns, Labels: map[string]string{"istio-injection": "enabled"}})
		mb.AddSidecar(mesh.Sidecar{Ref: mesh.Ref{Kind: "Sidecar", Namespace: ns, Name: "default"},
			Egress: []mesh.EgressListener{{Hosts: []string{"./*", "istio-system/*", "*/*.example.com"}}}})
		mb.AddServiceEntry(mesh.ServiceEntry{Ref: mesh.Ref{Kind: "ServiceEntry", Namespace: ns, Name: "ext"},
			Hosts: []string{fmt.Sprintf("api%d.eu.example.com", i)}, Ports: []mesh.ServiceEntryPort{{Number: 443, Protocol: "TLS", Name: "tls"}}})
		for j := range per {
			name := fmt.Sprintf("w%02d", j)
			mb.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: ns, Name: name}, Kind: "Deployment",
				Labels: map[string]string{"app": name}, Ports: []mesh.ContainerPort{{Number: 8080}}})
			mb.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: ns, Name: name},
				Selector: map[string]string{"app": name}, Ports: []mesh.ServicePort{{Name: "http", Port: 8080}}})
		}
	}
	m, err := mb.Build()
	if err != nil {
		b.Fatal(err)
	}
	e := New(m).e
	type call struct {
		client *mesh.Workload
		d      *dest
		proto  Protocol
	}
	var calls []call
	for i := range nss {
		from := mesh.WorkloadID{Namespace: fmt.Sprintf("ns%02d", i), Name: "w00"}
		client := e.wl[from]
		for _, p := range []Probe{
			{From: from, To: fmt.Sprintf("w%02d", i%per), Port: 8080, Protocol: HTTP},
			{From: from, To: fmt.Sprintf("w01.ns%02d", (i+1)%nss), Port: 8080, Protocol: HTTP},
			{From: from, To: fmt.Sprintf("api%d.eu.example.com", (i+3)%nss), Port: 443, Protocol: HTTPS},
		} {
			d, _, err := e.resolve(client, p)
			if err != nil {
				b.Fatal(err)
			}
			calls = append(calls, call{client, d, p.Protocol})
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := calls[i%len(calls)]
		_ = e.outbound(c.client, c.d, c.proto)
	}
}
