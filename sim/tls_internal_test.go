package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/mesh"
)

// The tests in this file reach the security functions directly, for what
// a probe cannot express (subsets) and to pin each rule on its own; the
// end-to-end rows are in tls_test.go.

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	injectedNS = map[string]string{"istio-injection": "enabled"}
	noInject   = map[string]string{"sidecar.istio.io/inject": "false"}
)

func paRef(ns, name string) mesh.Ref {
	return mesh.Ref{Kind: "PeerAuthentication", Namespace: ns, Name: name}
}
func drRef(ns, name string) mesh.Ref {
	return mesh.Ref{Kind: "DestinationRule", Namespace: ns, Name: name}
}

func pa(ns, name string, mode mesh.Mode, sel map[string]string, created time.Duration) mesh.PeerAuthentication {
	return mesh.PeerAuthentication{Ref: paRef(ns, name), Mode: mode, Selector: sel, Created: t0.Add(created),
		Pos: mesh.Pos{File: "pa.yaml", Line: 1}}
}

// world is the default topology of mtls-authn-authz.md's test cases:
// client a/c, server b/w (container port 8080) behind Service b/svc port
// 80 → 8080, with injection in a and b.
type world struct {
	b *mesh.Builder
}

func newWorld() *world {
	b := &mesh.Builder{}
	for _, ns := range []string{"a", "b"} {
		b.AddNamespace(mesh.Namespace{Name: ns, Labels: injectedNS})
	}
	b.AddNamespace(mesh.Namespace{Name: "istio-system"})
	b.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: "a", Name: "c"}, Kind: "Deployment", Labels: map[string]string{"app": "c"}})
	b.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: "b", Name: "w"}, Kind: "Deployment", Labels: map[string]string{"app": "w"},
		Ports: []mesh.ContainerPort{{Number: 8080}, {Number: 9000}}})
	b.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: "b", Name: "svc"}, Selector: map[string]string{"app": "w"},
		Ports: []mesh.ServicePort{{Name: "tcp-web", Port: 80, TargetPort: 8080}}})
	return &world{b: b}
}

func (w *world) engine(t *testing.T) *engine {
	t.Helper()
	m, err := w.b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return New(m).e
}

func TestPeerMode(t *testing.T) {
	t.Parallel()
	w := map[string]string{"app": "w"}
	tests := []struct {
		name   string
		reason string
		pas    []mesh.PeerAuthentication
		port   uint32
		want   mesh.Mode
		wantBy mesh.Ref // zero: the default decided
		// wantIgnored are the PAs named by "ignored" steps.
		wantIgnored []mesh.Ref
	}{
		{name: "none", reason: "DT1 step 1: nothing applies → PERMISSIVE (ComposePeerAuthentication 'no config')",
			port: 8080, want: mesh.ModePermissive},
		{name: "mesh-strict", reason: "DT1 step 1: mesh PA in the root namespace",
			pas: []mesh.PeerAuthentication{pa("istio-system", "default", mesh.ModeStrict, nil, 0)}, port: 8080,
			want: mesh.ModeStrict, wantBy: paRef("istio-system", "default")},
		{name: "mesh-unset", reason: "DT1 step 1: mesh UNSET → PERMISSIVE ('inheritance: default mesh')",
			pas:  []mesh.PeerAuthentication{pa("istio-system", "default", mesh.ModeUnset, nil, 0), pa("b", "ns", mesh.ModeUnset, nil, 0)},
			port: 8080, want: mesh.ModePermissive, wantBy: paRef("istio-system", "default")},
		{name: "mesh-empty-selector", reason: "§1.1: an empty matchLabels is no selector: mesh level",
			pas:  []mesh.PeerAuthentication{pa("istio-system", "default", mesh.ModeStrict, map[string]string{}, 0)},
			port: 8080, want: mesh.ModeStrict, wantBy: paRef("istio-system", "default")},
		{name: "namespace-overrides-mesh", reason: "DT1 step 2",
			pas:  []mesh.PeerAuthentication{pa("istio-system", "default", mesh.ModeStrict, nil, 0), pa("b", "ns", mesh.ModeDisable, nil, 0)},
			port: 8080, want: mesh.ModeDisable, wantBy: paRef("b", "ns")},
		{name: "namespace-unset-inherits-mesh", reason: "DT1 step 2: UNSET inherits",
			pas:  []mesh.PeerAuthentication{pa("istio-system", "default", mesh.ModeStrict, nil, 0), pa("b", "ns", mesh.ModeUnset, nil, 0)},
			port: 8080, want: mesh.ModeStrict, wantBy: paRef("istio-system", "default")},
		{name: "other-namespace-ignored", reason: "§1.1: PAs of other namespaces never apply",
			pas:  []mesh.PeerAuthentication{pa("a", "ns", mesh.ModeStrict, nil, 0)},
			port: 8080, want: mesh.ModePermissive},
		{name: "workload-overrides-namespace", reason: "DT1 step 3",
			pas:  []mesh.PeerAuthentication{pa("b", "ns", mesh.ModeStrict, nil, 0), pa("b", "wl", mesh.ModeDisable, w, 0)},
			port: 8080, want: mesh.ModeDisable, wantBy: paRef("b", "wl")},
		{name: "workload-selector-not-matching", reason: "DT1 step 3: selector ⊆ labels",
			pas:  []mesh.PeerAuthentication{pa("b", "ns", mesh.ModeStrict, nil, 0), pa("b", "wl", mesh.ModeDisable, map[string]string{"app": "x"}, 0)},
			port: 8080, want: mesh.ModeStrict, wantBy: paRef("b", "ns")},
		{name: "workload-unset-inherits", reason: "DT1 step 3: UNSET inherits namespace",
			pas:  []mesh.PeerAuthentication{pa("b", "ns", mesh.ModeStrict, nil, 0), pa("b", "wl", mesh.ModeUnset, w, 0)},
			port: 8080, want: mesh.ModeStrict, wantBy: paRef("b", "ns")},
		{name: "oldest-workload-wins", reason: "§1.3: oldest matching selector PA ('multiple workload policy')",
			pas:  []mesh.PeerAuthentication{pa("b", "new", mesh.ModeStrict, w, time.Second), pa("b", "old", mesh.ModeDisable, w, 0)},
			port: 8080, want: mesh.ModeDisable, wantBy: paRef("b", "old"), wantIgnored: []mesh.Ref{paRef("b", "new")}},
		{name: "port-level", reason: "DT1 step 4: portLevelMtls keyed by container port",
			pas: []mesh.PeerAuthentication{func() mesh.PeerAuthentication {
				p := pa("b", "wl", mesh.ModeStrict, w, 0)
				p.PortModes = map[uint32]mesh.Mode{8080: mesh.ModeDisable}
				return p
			}()}, port: 8080, want: mesh.ModeDisable, wantBy: paRef("b", "wl")},
		{name: "port-level-other-port", reason: "DT1 step 4: absent entry → workload mode",
			pas: []mesh.PeerAuthentication{func() mesh.PeerAuthentication {
				p := pa("b", "wl", mesh.ModeStrict, w, 0)
				p.PortModes = map[uint32]mesh.Mode{8080: mesh.ModeDisable}
				return p
			}()}, port: 9000, want: mesh.ModeStrict, wantBy: paRef("b", "wl")},
		{name: "port-level-unset-inherits", reason: "DT1 step 4: UNSET entry inherits the resolved mode (namespace here)",
			pas: []mesh.PeerAuthentication{pa("b", "ns", mesh.ModeDisable, nil, 0), func() mesh.PeerAuthentication {
				p := pa("b", "wl", mesh.ModeUnset, w, 0)
				p.PortModes = map[uint32]mesh.Mode{8080: mesh.ModeUnset}
				return p
			}()}, port: 8080, want: mesh.ModeDisable, wantBy: paRef("b", "ns")},
		{name: "port-level-only-from-workload", reason: "§1.4: portLevelMtls of a namespace PA is not honoured",
			pas: []mesh.PeerAuthentication{func() mesh.PeerAuthentication {
				p := pa("b", "ns", mesh.ModeStrict, nil, 0)
				p.PortModes = map[uint32]mesh.Mode{8080: mesh.ModeDisable}
				return p
			}()}, port: 8080, want: mesh.ModeStrict, wantBy: paRef("b", "ns")},
		{name: "T22/same-time-name-order", reason: "T22: same creationTimestamp → name order",
			pas:  []mesh.PeerAuthentication{pa("b", "z-pa", mesh.ModeDisable, nil, 0), pa("b", "a-pa", mesh.ModeStrict, nil, 0)},
			port: 8080, want: mesh.ModeStrict, wantBy: paRef("b", "a-pa"), wantIgnored: []mesh.Ref{paRef("b", "z-pa")}},
		{name: "T23/oldest-namespace-wins", reason: "T23: oldest namespace-level PA wins, newer ignored",
			pas:  []mesh.PeerAuthentication{pa("b", "strict", mesh.ModeStrict, nil, 5*time.Second), pa("b", "disable", mesh.ModeDisable, nil, 0)},
			port: 8080, want: mesh.ModeDisable, wantBy: paRef("b", "disable"), wantIgnored: []mesh.Ref{paRef("b", "strict")}},
		{name: "oldest-mesh-wins", reason: "§1.3 'multiple mesh policy'",
			pas:  []mesh.PeerAuthentication{pa("istio-system", "b", mesh.ModeStrict, nil, 0), pa("istio-system", "a", mesh.ModeDisable, nil, time.Second)},
			port: 8080, want: mesh.ModeStrict, wantBy: paRef("istio-system", "b"), wantIgnored: []mesh.Ref{paRef("istio-system", "a")}},
		{name: "T24/root-selector-ignored", reason: "T24: selector PA in the root namespace is ignored",
			pas:  []mesh.PeerAuthentication{pa("istio-system", "sel", mesh.ModeStrict, w, 0)},
			port: 8080, want: mesh.ModePermissive, wantIgnored: []mesh.Ref{paRef("istio-system", "sel")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wd := newWorld()
			for _, p := range tc.pas {
				wd.b.AddPeerAuthentication(p)
			}
			e := wd.engine(t)
			got, steps := e.peerMode(e.wl[mesh.WorkloadID{Namespace: "b", Name: "w"}], tc.port)
			if got != tc.want {
				t.Errorf("mode = %s, want %s (%s)", got, tc.want, tc.reason)
			}
			last := steps[len(steps)-1]
			if diff := cmp.Diff(tc.wantBy, last.By); diff != "" {
				t.Errorf("deciding PA (-want +got):\n%s", diff)
			}
			if last.By.IsZero() && !strings.Contains(last.Default, "ComposePeerAuthentication") {
				t.Errorf("default step does not cite its source: %q", last.Default)
			}
			var ignored []mesh.Ref
			for _, s := range steps[:len(steps)-1] {
				ignored = append(ignored, s.By)
			}
			if diff := cmp.Diff(tc.wantIgnored, ignored); diff != "" {
				t.Errorf("ignored PAs (-want +got):\n%s", diff)
			}
			for _, s := range steps {
				if s.Stage != StagePeerAuthentication || s.Side != Server {
					t.Errorf("step %+v: want stage peer-authentication, side server", s)
				}
			}
		})
	}
}

func TestNamespaceMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reason string
		pas    []mesh.PeerAuthentication
		ns     string
		want   mesh.Mode
		wantBy mesh.Ref
	}{
		{name: "none", reason: "DT2 last row: PERMISSIVE", ns: "b", want: mesh.ModePermissive},
		{name: "mesh", reason: "DT2: mesh PA when the namespace has none",
			pas: []mesh.PeerAuthentication{pa("istio-system", "m", mesh.ModeDisable, nil, 0)}, ns: "b",
			want: mesh.ModeDisable, wantBy: paRef("istio-system", "m")},
		{name: "mesh-unset", reason: "DT2: mesh UNSET → PERMISSIVE",
			pas: []mesh.PeerAuthentication{pa("istio-system", "m", mesh.ModeUnset, nil, 0)}, ns: "b",
			want: mesh.ModePermissive, wantBy: paRef("istio-system", "m")},
		{name: "namespace", reason: "DT2: the service namespace's PA",
			pas: []mesh.PeerAuthentication{pa("istio-system", "m", mesh.ModeDisable, nil, 0), pa("b", "n", mesh.ModeStrict, nil, 0)}, ns: "b",
			want: mesh.ModeStrict, wantBy: paRef("b", "n")},
		{name: "namespace-unset-mesh", reason: "DT2: namespace UNSET → mesh mode",
			pas: []mesh.PeerAuthentication{pa("istio-system", "m", mesh.ModeDisable, nil, 0), pa("b", "n", mesh.ModeUnset, nil, 0)}, ns: "b",
			want: mesh.ModeDisable, wantBy: paRef("b", "n")},
		{name: "namespace-unset-no-mesh", reason: "DT2: namespace UNSET, no mesh → PERMISSIVE",
			pas: []mesh.PeerAuthentication{pa("b", "n", mesh.ModeUnset, nil, 0)}, ns: "b",
			want: mesh.ModePermissive, wantBy: paRef("b", "n")},
		{name: "workload-ignored", reason: "§1.5: auto mTLS never sees workload PAs",
			pas: []mesh.PeerAuthentication{pa("b", "wl", mesh.ModeDisable, map[string]string{"app": "w"}, 0)}, ns: "b",
			want: mesh.ModePermissive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wd := newWorld()
			for _, p := range tc.pas {
				wd.b.AddPeerAuthentication(p)
			}
			got := wd.engine(t).sec.pa.namespaceMode(tc.ns)
			if got.unknown || got.mode != tc.want {
				t.Errorf("mode = %+v, want %s (%s)", got, tc.want, tc.reason)
			}
			if diff := cmp.Diff(tc.wantBy, got.by); diff != "" {
				t.Errorf("deciding PA (-want +got):\n%s", diff)
			}
		})
	}
}

func dr(ns, name, host string, tp *mesh.TrafficPolicy) mesh.DestinationRule {
	return mesh.DestinationRule{Ref: drRef(ns, name), Host: host, TrafficPolicy: tp, Pos: mesh.Pos{File: "dr.yaml", Line: 1}}
}

func tlsPolicy(m mesh.TLSMode) *mesh.TrafficPolicy { return &mesh.TrafficPolicy{TLS: m} }

// TestDestinationRuleLookup pins §3.3: which rule a client uses, and the
// TLS mode of the resulting cluster.
func TestDestinationRuleLookup(t *testing.T) {
	t.Parallel()
	const host = "svc.b.svc.cluster.local"
	withExport := func(d mesh.DestinationRule, to ...string) mesh.DestinationRule { d.ExportTo = to; return d }
	withSel := func(d mesh.DestinationRule, sel map[string]string) mesh.DestinationRule { d.Selector = sel; return d }
	at := func(d mesh.DestinationRule, age time.Duration) mesh.DestinationRule {
		d.Created = t0.Add(age)
		return d
	}
	tests := []struct {
		name     string
		reason   string
		drs      []mesh.DestinationRule
		clientNS string
		labels   map[string]string
		edit     func(*mesh.Config)
		subset   string
		want     mesh.Ref // the base rule of the chosen entry; zero = none
		wantTLS  mesh.TLSMode
	}{
		{name: "none", reason: "no rule", clientNS: "a"},
		{name: "service-namespace", reason: "§3.3 step 2: exported rule of the service's namespace",
			drs: []mesh.DestinationRule{dr("b", "d", "svc", tlsPolicy(mesh.TLSDisable))}, clientNS: "a",
			want: drRef("b", "d"), wantTLS: mesh.TLSDisable},
		{name: "client-namespace-first", reason: "§3.3 step 1 beats step 2",
			drs: []mesh.DestinationRule{dr("b", "d", "svc", tlsPolicy(mesh.TLSDisable)), dr("a", "d", host, tlsPolicy(mesh.TLSIstioMutual))}, clientNS: "a",
			want: drRef("a", "d"), wantTLS: mesh.TLSIstioMutual},
		{name: "client-private", reason: "§3.3 step 1 includes exportTo '.' rules",
			drs: []mesh.DestinationRule{withExport(dr("a", "d", host, tlsPolicy(mesh.TLSDisable)), "."), dr("istio-system", "g", "*", tlsPolicy(mesh.TLSIstioMutual))}, clientNS: "a",
			want: drRef("a", "d"), wantTLS: mesh.TLSDisable},
		{name: "T19/private-not-exported", reason: "T19: exportTo '.' in b is invisible to a",
			drs: []mesh.DestinationRule{withExport(dr("b", "d", "svc", tlsPolicy(mesh.TLSDisable)), ".")}, clientNS: "a"},
		{name: "private-visible-in-own-namespace", reason: "§3.3 step 1 for a client in b",
			drs: []mesh.DestinationRule{withExport(dr("b", "d", "svc", tlsPolicy(mesh.TLSDisable)), ".")}, clientNS: "b",
			want: drRef("b", "d"), wantTLS: mesh.TLSDisable},
		{name: "exported-to-client", reason: "§3.3 step 2: exportTo naming the client namespace",
			drs: []mesh.DestinationRule{withExport(dr("b", "d", "svc", tlsPolicy(mesh.TLSDisable)), "a")}, clientNS: "a",
			want: drRef("b", "d"), wantTLS: mesh.TLSDisable},
		{name: "exported-elsewhere", reason: "§3.3 step 2: exportTo naming another namespace",
			drs: []mesh.DestinationRule{withExport(dr("b", "d", "svc", tlsPolicy(mesh.TLSDisable)), "x")}, clientNS: "a"},
		{name: "default-export-private", reason: "§3.3: defaultDestinationRuleExportTo ['.'] hides rules without exportTo",
			drs: []mesh.DestinationRule{dr("b", "d", "svc", tlsPolicy(mesh.TLSDisable))}, clientNS: "a",
			edit: func(c *mesh.Config) { c.DefaultDestinationRuleExportTo = []string{"."} }},
		{name: "root-fallback", reason: "§3.3 step 3",
			drs: []mesh.DestinationRule{dr("istio-system", "g", "*.local", tlsPolicy(mesh.TLSIstioMutual))}, clientNS: "a",
			want: drRef("istio-system", "g"), wantTLS: mesh.TLSIstioMutual},
		{name: "T18/no-merge-across-steps", reason: "T18: a client-namespace rule without tls shadows the root ISTIO_MUTUAL",
			drs: []mesh.DestinationRule{dr("istio-system", "g", "*.local", tlsPolicy(mesh.TLSIstioMutual)), dr("a", "d", host, &mesh.TrafficPolicy{})}, clientNS: "a",
			want: drRef("a", "d"), wantTLS: mesh.TLSUnset},
		{name: "most-specific", reason: "§3.3: exact beats wildcards within a step",
			drs: []mesh.DestinationRule{dr("b", "w", "*.b.svc.cluster.local", tlsPolicy(mesh.TLSDisable)), dr("b", "e", host, tlsPolicy(mesh.TLSSimple))}, clientNS: "a",
			want: drRef("b", "e"), wantTLS: mesh.TLSSimple},
		{name: "longer-wildcard", reason: "§3.3: longer wildcard beats shorter (MostSpecificHostMatch)",
			drs: []mesh.DestinationRule{dr("b", "s", "*.local", tlsPolicy(mesh.TLSDisable)), dr("b", "l", "*.svc.cluster.local", tlsPolicy(mesh.TLSSimple)), dr("b", "all", "*", tlsPolicy(mesh.TLSMutual))}, clientNS: "a",
			want: drRef("b", "l"), wantTLS: mesh.TLSSimple},
		{name: "short-host-other-namespace", reason: "§3.3: short hosts resolve against the rule's namespace",
			drs: []mesh.DestinationRule{dr("a", "d", "svc", tlsPolicy(mesh.TLSDisable))}, clientNS: "a"},
		{name: "selector-beats-catch-all", reason: "§3.3: a matching selector rule beats the selector-less one",
			drs:      []mesh.DestinationRule{dr("a", "all", host, tlsPolicy(mesh.TLSDisable)), withSel(at(dr("a", "sel", host, tlsPolicy(mesh.TLSSimple)), time.Hour), map[string]string{"app": "c"})},
			clientNS: "a", labels: map[string]string{"app": "c"}, want: drRef("a", "sel"), wantTLS: mesh.TLSSimple},
		{name: "selector-not-matching", reason: "§3.3: a selector rule for other pods falls back to the catch-all",
			drs:      []mesh.DestinationRule{dr("a", "all", host, tlsPolicy(mesh.TLSDisable)), withSel(dr("a", "sel", host, tlsPolicy(mesh.TLSSimple)), map[string]string{"app": "x"})},
			clientNS: "a", labels: map[string]string{"app": "c"}, want: drRef("a", "all"), wantTLS: mesh.TLSDisable},
		{name: "selector-for-others-shadows", reason: "push_context.go destinationRule stops at the client namespace's host match even when SidecarScope.DestinationRule then finds no rule for this client",
			drs:      []mesh.DestinationRule{withSel(dr("a", "sel", host, tlsPolicy(mesh.TLSSimple)), map[string]string{"app": "x"}), dr("b", "d", "svc", tlsPolicy(mesh.TLSDisable))},
			clientNS: "a", labels: map[string]string{"app": "c"}},
		{name: "selector-never-exported", reason: "§3.3: selector rules apply only in their own namespace",
			drs:      []mesh.DestinationRule{withSel(dr("b", "sel", "svc", tlsPolicy(mesh.TLSSimple)), map[string]string{"app": "c"})},
			clientNS: "a", labels: map[string]string{"app": "c"}},
		{name: "merge-first-policy-wins", reason: "§3.3: same host, same bucket: the oldest rule's trafficPolicy wins whole",
			drs:      []mesh.DestinationRule{at(dr("b", "new", "svc", tlsPolicy(mesh.TLSDisable)), time.Second), dr("b", "old", "svc", &mesh.TrafficPolicy{LBPassthrough: true})},
			clientNS: "a", want: drRef("b", "old"), wantTLS: mesh.TLSUnset},
		{name: "merge-policy-from-later", reason: "§3.3: a later rule's policy is used when the first has none",
			drs:      []mesh.DestinationRule{at(dr("b", "new", "svc", tlsPolicy(mesh.TLSDisable)), time.Second), dr("b", "old", "svc", nil)},
			clientNS: "a", want: drRef("b", "old"), wantTLS: mesh.TLSDisable},
		{name: "merge-subsets", reason: "§3.3: subsets concatenate; the later rule's subset is found",
			drs: []mesh.DestinationRule{dr("b", "old", "svc", tlsPolicy(mesh.TLSIstioMutual)), func() mesh.DestinationRule {
				d := at(dr("b", "new", "svc", nil), time.Second)
				d.Subsets = []mesh.Subset{{Name: "v1", TrafficPolicy: tlsPolicy(mesh.TLSDisable)}}
				return d
			}()}, clientNS: "a", subset: "v1", want: drRef("b", "old"), wantTLS: mesh.TLSDisable},
		{name: "port-level-replaces", reason: "§3.3, T20: a portLevelSettings entry without tls unsets tls",
			drs: []mesh.DestinationRule{dr("b", "d", "svc", &mesh.TrafficPolicy{TLS: mesh.TLSIstioMutual,
				PortLevel: []mesh.PortTrafficPolicy{{Port: 80}}})}, clientNS: "a", want: drRef("b", "d"), wantTLS: mesh.TLSUnset},
		{name: "port-level-other-port", reason: "§3.3: entries for other service ports do not apply",
			drs: []mesh.DestinationRule{dr("b", "d", "svc", &mesh.TrafficPolicy{TLS: mesh.TLSIstioMutual,
				PortLevel: []mesh.PortTrafficPolicy{{Port: 8080, TLS: mesh.TLSDisable}}})}, clientNS: "a", want: drRef("b", "d"), wantTLS: mesh.TLSIstioMutual},
		{name: "T21/subset-overrides", reason: "T21: subset tls DISABLE overrides top-level ISTIO_MUTUAL",
			drs: []mesh.DestinationRule{func() mesh.DestinationRule {
				d := dr("b", "d", "svc", tlsPolicy(mesh.TLSIstioMutual))
				d.Subsets = []mesh.Subset{{Name: "v1", TrafficPolicy: tlsPolicy(mesh.TLSDisable)}, {Name: "v2"}}
				return d
			}()}, clientNS: "a", subset: "v1", want: drRef("b", "d"), wantTLS: mesh.TLSDisable},
		{name: "T21/subset-inherits", reason: "T21: a subset without policy inherits ISTIO_MUTUAL",
			drs: []mesh.DestinationRule{func() mesh.DestinationRule {
				d := dr("b", "d", "svc", tlsPolicy(mesh.TLSIstioMutual))
				d.Subsets = []mesh.Subset{{Name: "v1", TrafficPolicy: tlsPolicy(mesh.TLSDisable)}, {Name: "v2"}}
				return d
			}()}, clientNS: "a", subset: "v2", want: drRef("b", "d"), wantTLS: mesh.TLSIstioMutual},
		{name: "subset-port-level-replaces", reason: "util.go MergeSubsetTrafficPolicy: a subset port-level entry replaces tls even when unset",
			drs: []mesh.DestinationRule{func() mesh.DestinationRule {
				d := dr("b", "d", "svc", tlsPolicy(mesh.TLSIstioMutual))
				d.Subsets = []mesh.Subset{{Name: "v1", TrafficPolicy: &mesh.TrafficPolicy{TLS: mesh.TLSDisable, PortLevel: []mesh.PortTrafficPolicy{{Port: 80}}}}}
				return d
			}()}, clientNS: "a", subset: "v1", want: drRef("b", "d"), wantTLS: mesh.TLSUnset},
		{name: "separate-exportTo-last-wins", reason: "mergeDestinationRule keeps rules with different exportTo apart; SidecarScope.DestinationRule takes the last selector-less one",
			drs:      []mesh.DestinationRule{dr("a", "old", host, tlsPolicy(mesh.TLSDisable)), withExport(at(dr("a", "new", host, tlsPolicy(mesh.TLSSimple)), time.Second), ".")},
			clientNS: "a", want: drRef("a", "new"), wantTLS: mesh.TLSSimple},
		{name: "same-exportTo-merge", reason: "mergeDestinationRule merges rules with equal exportTo: the oldest's policy wins",
			drs:      []mesh.DestinationRule{dr("a", "old", host, tlsPolicy(mesh.TLSDisable)), at(dr("a", "new", host, tlsPolicy(mesh.TLSSimple)), time.Second)},
			clientNS: "a", want: drRef("a", "old"), wantTLS: mesh.TLSDisable},
		{name: "root-client-private", reason: "§3.3 step 1 for a client in the root namespace: root private rules",
			drs:      []mesh.DestinationRule{withExport(dr("istio-system", "p", host, tlsPolicy(mesh.TLSDisable)), ".")},
			clientNS: "istio-system", want: drRef("istio-system", "p"), wantTLS: mesh.TLSDisable},
		{name: "root-private-hidden", reason: "§3.3 step 3 takes only exported root rules",
			drs:      []mesh.DestinationRule{withExport(dr("istio-system", "p", host, tlsPolicy(mesh.TLSDisable)), ".")},
			clientNS: "a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wd := newWorld()
			if tc.edit != nil {
				c := wd.b.Config()
				tc.edit(&c)
				wd.b.SetConfig(c)
			}
			for _, d := range tc.drs {
				wd.b.AddDestinationRule(d)
			}
			e := wd.engine(t)
			choice := e.sec.drs.lookup(tc.clientNS, tc.labels, host, "b")
			var got mesh.Ref
			if choice.dr != nil {
				got = choice.dr.from[0].Ref
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: rule (-want +got):\n%s", tc.reason, diff)
			}
			pol, ok := choice.dr.policyFor(80, tc.subset)
			if !ok {
				t.Fatalf("subset %q not found", tc.subset)
			}
			if pol.tls != tc.wantTLS {
				t.Errorf("%s: tls = %q, want %q", tc.reason, pol.tls, tc.wantTLS)
			}
		})
	}
}

func TestEndpointTLSMode(t *testing.T) {
	t.Parallel()
	c := &consolidatedDR{
		tp: &mesh.TrafficPolicy{TLS: mesh.TLSIstioMutual, PortLevel: []mesh.PortTrafficPolicy{{Port: 80}, {Port: 81, TLS: mesh.TLSDisable}}},
		subsets: []mesh.Subset{
			{Name: "plain", TrafficPolicy: tlsPolicy(mesh.TLSDisable)},
			{Name: "bare"},
		},
	}
	tests := []struct {
		name, reason string
		port         uint32
		subset       string
		want         mesh.TLSMode
	}{
		{"port-without-tls-falls-back", "mtls_checker.go trafficPolicyTLSModeForPort: a port entry without tls keeps the top-level tls", 80, "", mesh.TLSIstioMutual},
		{"port-with-tls", "port entry with tls wins", 81, "", mesh.TLSDisable},
		{"subset-tls", "subset tls wins", 80, "plain", mesh.TLSDisable},
		{"subset-falls-back", "a subset without tls falls back to the rule", 81, "bare", mesh.TLSDisable},
		{"unknown-subset", "tlsModeForDestinationRule returns nil for an unknown subset", 80, "nope", mesh.TLSUnset},
	}
	for _, tc := range tests {
		if got := c.endpointTLSMode(tc.port, tc.subset); got != tc.want {
			t.Errorf("%s: got %q, want %q (%s)", tc.name, got, tc.want, tc.reason)
		}
	}
	var none *consolidatedDR
	if got := none.endpointTLSMode(80, ""); got != mesh.TLSUnset {
		t.Errorf("no rule: got %q", got)
	}
}

// TestClientTLSSubset covers T21 through clientTLS: VirtualServices that
// route to subsets are not modelled, so no probe can name a subset.
func TestClientTLSSubset(t *testing.T) {
	t.Parallel()
	wd := newWorld()
	wd.b.AddPeerAuthentication(pa("b", "default", mesh.ModeStrict, nil, 0))
	d := dr("b", "d", "svc", tlsPolicy(mesh.TLSIstioMutual))
	d.Subsets = []mesh.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}, TrafficPolicy: tlsPolicy(mesh.TLSDisable)}, {Name: "v2", Labels: map[string]string{"version": "v2"}}}
	wd.b.AddDestinationRule(d)
	e := wd.engine(t)
	client := e.wl[mesh.WorkloadID{Namespace: "a", Name: "c"}]
	server := e.wl[mesh.WorkloadID{Namespace: "b", Name: "w"}]
	sv := e.svcByHost["svc.b.svc.cluster.local"]
	dst := &dest{kind: destService, host: sv.host, svc: sv, port: 80, svcPort: &sv.svc.Ports[0]}
	tests := []struct {
		name, reason string
		subset       string
		want         Transport
		wantAccepted bool
	}{
		{"T21/v1", "T21: subset v1 tls DISABLE sends plaintext, which STRICT rejects", "v1", Plaintext, false},
		{"T21/v2", "T21: subset v2 inherits ISTIO_MUTUAL: mTLS, accepted", "v2", MTLS, true},
		{"T21/main", "T21: the service cluster uses the top-level ISTIO_MUTUAL", "", MTLS, true},
		{"undefined-subset", "no such subset: no cluster", "v3", NoTransport, false},
	}
	for _, tc := range tests {
		got, steps := e.clientTLS(client, dst, 80, tc.subset, server, 8080)
		if got != tc.want {
			t.Errorf("%s: transport = %s, want %s (%s)", tc.name, got, tc.want, tc.reason)
		}
		if steps[0].Stage != StageDestinationRule || steps[0].By != drRef("b", "d") {
			t.Errorf("%s: first step %+v, want the DestinationRule b/d", tc.name, steps[0])
		}
		if ok, _ := e.serverAccept(server, 8080, got); ok != tc.wantAccepted {
			t.Errorf("%s: accepted = %v, want %v (%s)", tc.name, ok, tc.wantAccepted, tc.reason)
		}
	}
}

// TestClientTLSPassthroughSubset pins which policy DT2 reads for subsets:
// the subset's own loadBalancer, not the rule's (cluster_builder.go
// buildSubsetCluster passes subset.GetTrafficPolicy()).
func TestClientTLSPassthroughSubset(t *testing.T) {
	t.Parallel()
	wd := newWorld()
	wd.b.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: "b", Name: "legacy"}, Kind: "Deployment",
		Labels: map[string]string{"app": "w", "sidecar.istio.io/inject": "false"}})
	d := dr("b", "d", "svc", nil)
	d.Subsets = []mesh.Subset{{Name: "pt", TrafficPolicy: &mesh.TrafficPolicy{LBPassthrough: true}}, {Name: "plain"}}
	wd.b.AddDestinationRule(d)
	e := wd.engine(t)
	client := e.wl[mesh.WorkloadID{Namespace: "a", Name: "c"}]
	server := e.wl[mesh.WorkloadID{Namespace: "b", Name: "w"}]
	sv := e.svcByHost["svc.b.svc.cluster.local"]
	dst := &dest{kind: destService, host: sv.host, svc: sv, port: 80, svcPort: &sv.svc.Ports[0]}
	// Subset "pt": PASSTHROUGH and an endpoint without a sidecar → DT2
	// DISABLE → plaintext even to the injected endpoint.
	if got, _ := e.clientTLS(client, dst, 80, "pt", server, 8080); got != Plaintext {
		t.Errorf("subset pt: %s, want plaintext (DT2 DISABLE: an endpoint lacks a sidecar)", got)
	}
	// Subset "plain": EDS, per-endpoint auto mTLS → mTLS to the injected one.
	if got, _ := e.clientTLS(client, dst, 80, "plain", server, 8080); got != MTLS {
		t.Errorf("subset plain: %s, want mtls", got)
	}
}

func TestPortProtocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		port         mesh.ServicePort
		sidecar      *mesh.Sidecar
		wantHTTP     bool
		wantIstio    string
	}{
		{name: "name-http", reason: "conversion.go ConvertProtocol: name prefix", port: mesh.ServicePort{Name: "http-web", Port: 80, TargetPort: 8080}, wantHTTP: true, wantIstio: "HTTP"},
		{name: "name-grpc", reason: "prefix grpc", port: mesh.ServicePort{Name: "grpc", Port: 80, TargetPort: 8080}, wantHTTP: true, wantIstio: "GRPC"},
		{name: "name-grpc-web", reason: "grpc-web checked before the '-' split", port: mesh.ServicePort{Name: "grpc-web-x", Port: 80, TargetPort: 8080}, wantHTTP: true, wantIstio: "GRPC-Web"},
		{name: "name-http2-case", reason: "protocol.Parse is case-insensitive", port: mesh.ServicePort{Name: "HTTP2-x", Port: 80, TargetPort: 8080}, wantHTTP: true, wantIstio: "HTTP2"},
		{name: "name-https", reason: "HTTPS is a TCP listener", port: mesh.ServicePort{Name: "https", Port: 80, TargetPort: 8080}, wantIstio: "HTTPS"},
		{name: "name-tcp", reason: "TCP", port: mesh.ServicePort{Name: "tcp", Port: 80, TargetPort: 8080}, wantIstio: "TCP"},
		{name: "unnamed", reason: "unsupported name → sniffed", port: mesh.ServicePort{Port: 80, TargetPort: 8080}},
		{name: "webhttp", reason: "the prefix must be a whole protocol name", port: mesh.ServicePort{Name: "webhttp", Port: 80, TargetPort: 8080}},
		{name: "appProtocol-wins", reason: "appProtocol replaces the name", port: mesh.ServicePort{Name: "tcp", AppProtocol: "http", Port: 80, TargetPort: 8080}, wantHTTP: true, wantIstio: "HTTP"},
		{name: "appProtocol-h2c", reason: "kubernetes.io/h2c → HTTP2", port: mesh.ServicePort{AppProtocol: "kubernetes.io/h2c", Port: 80, TargetPort: 8080}, wantHTTP: true, wantIstio: "HTTP2"},
		{name: "well-known-mysql", reason: "unnamed 3306 → TCP", port: mesh.ServicePort{Port: 3306, TargetPort: 8080}, wantIstio: "TCP"},
		{name: "other-target", reason: "a Service port for another container port does not declare 8080", port: mesh.ServicePort{Name: "http", Port: 80, TargetPort: 9000}},
		{name: "named-target", reason: "named targetPort resolves to the container port", port: mesh.ServicePort{Name: "http", Port: 80, TargetName: "web"}, wantHTTP: true, wantIstio: "HTTP"},
		{name: "sidecar-ingress", reason: "listener_inbound.go: Sidecar ingress ports replace Service ports",
			port:      mesh.ServicePort{Name: "http", Port: 80, TargetPort: 8080},
			sidecar:   &mesh.Sidecar{Ref: mesh.Ref{Kind: "Sidecar", Namespace: "b", Name: "s"}, Ingress: []mesh.IngressListener{{Port: mesh.SidecarPort{Number: 8080, Protocol: "TCP"}}}},
			wantIstio: "TCP"},
		{name: "sidecar-ingress-other-port", reason: "a port absent from ingress is a passthrough (sniffed) port",
			port:    mesh.ServicePort{Name: "http", Port: 80, TargetPort: 8080},
			sidecar: &mesh.Sidecar{Ref: mesh.Ref{Kind: "Sidecar", Namespace: "b", Name: "s"}, Ingress: []mesh.IngressListener{{Port: mesh.SidecarPort{Number: 9000, Protocol: "HTTP"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := &mesh.Builder{}
			b.AddNamespace(mesh.Namespace{Name: "b", Labels: injectedNS})
			b.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: "b", Name: "w"}, Kind: "Deployment", Labels: map[string]string{"app": "w"},
				Ports: []mesh.ContainerPort{{Name: "web", Number: 8080}}})
			b.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: "b", Name: "svc"}, Selector: map[string]string{"app": "w"}, Ports: []mesh.ServicePort{tc.port}})
			if tc.sidecar != nil {
				b.AddSidecar(*tc.sidecar)
			}
			m, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			e := New(m).e
			got := e.portProtocol(e.wl[mesh.WorkloadID{Namespace: "b", Name: "w"}], 8080)
			if got.http() != tc.wantHTTP || got.istio != tc.wantIstio {
				t.Errorf("got %+v, want http=%v istio=%q (%s)", got, tc.wantHTTP, tc.wantIstio, tc.reason)
			}
		})
	}
}
