package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// The rows below are the test cases of
// ../shared/semantics/mtls-authn-authz.md (T1–T24, T35, T36) and its §4
// outcome matrix, run end to end through Simulator.Probe. Defaults, as
// there: auto mTLS on, root namespace istio-system, trust domain
// cluster.local, ClusterIP Service svc in namespace b with port 80 →
// targetPort 8080, client in namespace a.
//
// T21 routes to DestinationRule subsets, which only a VirtualService can
// do; VirtualServices are not modelled, so T21 is tested on clientTLS
// directly (tls_internal_test.go TestClientTLSSubset).

var (
	epoch    = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clientID = mesh.WorkloadID{Namespace: "a", Name: "c"}
	nakedID  = mesh.WorkloadID{Namespace: "a", Name: "naked"}
	serverID = mesh.WorkloadID{Namespace: "b", Name: "w"}
	appW     = map[string]string{"app": "w"}
)

// topo describes a variant of the default topology.
type topo struct {
	serverNaked bool   // the server pod has no sidecar
	headless    bool   // Service svc is headless
	portName    string // name of the Service port 80
	// extraNaked adds pod b/w2 without a sidecar behind svc.
	extraNaked bool
	pas        []mesh.PeerAuthentication
	drs        []mesh.DestinationRule
	sidecars   []mesh.Sidecar
	entries    []mesh.ServiceEntry
	config     func(*mesh.Config)
}

func (tp topo) build(t testing.TB) *sim.Simulator {
	t.Helper()
	b := &mesh.Builder{}
	if tp.config != nil {
		c := b.Config()
		tp.config(&c)
		b.SetConfig(c)
	}
	injected := map[string]string{"istio-injection": "enabled"}
	b.AddNamespace(mesh.Namespace{Name: "a", Labels: injected})
	b.AddNamespace(mesh.Namespace{Name: "b", Labels: injected})
	b.AddNamespace(mesh.Namespace{Name: "istio-system"})
	noSidecar := func(l map[string]string) map[string]string {
		out := map[string]string{"sidecar.istio.io/inject": "false"}
		for k, v := range l {
			out[k] = v
		}
		return out
	}
	b.AddWorkload(mesh.Workload{ID: clientID, Kind: "Deployment", Labels: map[string]string{"app": "c"}})
	b.AddWorkload(mesh.Workload{ID: nakedID, Kind: "Deployment", Labels: noSidecar(map[string]string{"app": "naked"})})
	server := mesh.Workload{ID: serverID, Kind: "Deployment", Labels: map[string]string{"app": "w"},
		Ports: []mesh.ContainerPort{{Number: 8080}}, Pos: mesh.Pos{File: "w.yaml", Line: 1}}
	if tp.serverNaked {
		server.Labels = noSidecar(server.Labels)
	}
	b.AddWorkload(server)
	if tp.extraNaked {
		b.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: "b", Name: "w2"}, Kind: "Deployment",
			Labels: noSidecar(map[string]string{"app": "w"}), Ports: []mesh.ContainerPort{{Number: 8080}}})
	}
	b.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: "b", Name: "svc"}, Selector: appW, Headless: tp.headless,
		Ports: []mesh.ServicePort{{Name: tp.portName, Port: 80, TargetPort: 8080}}, Pos: mesh.Pos{File: "svc.yaml", Line: 1}})
	for _, p := range tp.pas {
		b.AddPeerAuthentication(p)
	}
	for _, d := range tp.drs {
		b.AddDestinationRule(d)
	}
	for _, s := range tp.sidecars {
		b.AddSidecar(s)
	}
	for _, se := range tp.entries {
		b.AddServiceEntry(se)
	}
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return sim.New(m)
}

func peerAuth(ns, name string, mode mesh.Mode, sel map[string]string) mesh.PeerAuthentication {
	return mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: ns, Name: name}, Mode: mode, Selector: sel,
		Created: epoch, Pos: mesh.Pos{File: "pa.yaml", Line: 1}}
}

func meshPA(mode mesh.Mode) mesh.PeerAuthentication {
	return peerAuth("istio-system", "default", mode, nil)
}

func withPorts(p mesh.PeerAuthentication, ports map[uint32]mesh.Mode) mesh.PeerAuthentication {
	p.PortModes = ports
	return p
}

func createdAt(p mesh.PeerAuthentication, d time.Duration) mesh.PeerAuthentication {
	p.Created = epoch.Add(d)
	return p
}

func destRule(ns, name, host string, tp *mesh.TrafficPolicy) mesh.DestinationRule {
	return mesh.DestinationRule{Ref: mesh.Ref{Kind: "DestinationRule", Namespace: ns, Name: name}, Host: host, TrafficPolicy: tp,
		Created: epoch, Pos: mesh.Pos{File: "dr.yaml", Line: 1}}
}

func tlsMode(m mesh.TLSMode) *mesh.TrafficPolicy { return &mesh.TrafficPolicy{TLS: m} }

// outcome is what a Result says about reachability.
type outcome struct {
	Allowed   bool
	Transport sim.Transport
}

func outcomeOf(r sim.Result) outcome { return outcome{r.Allowed, r.Transport} }

var (
	okMTLS     = outcome{true, sim.MTLS}
	okPlain    = outcome{true, sim.Plaintext}
	okTLS      = outcome{true, sim.TLS}
	deniedMTLS = outcome{false, sim.MTLS}
	deniedPT   = outcome{false, sim.Plaintext}
	deniedTLS  = outcome{false, sim.TLS}
)

type tlsCase struct {
	name   string
	reason string
	topo   topo
	probe  sim.Probe // From defaults to a/c, To to svc.b, Port to 80
	want   outcome   // Default
	// wantPlaintext and wantMTLS check the other two results when set.
	wantPlaintext, wantMTLS *outcome
	// wantEndpoints, when set, is the Default outcome per endpoint.
	wantEndpoints map[mesh.WorkloadID]outcome
	// wantBy names, per stage, the object the last step of that stage in
	// the Default trace names (zero Ref: a built-in default).
	wantBy map[sim.Stage]mesh.Ref
}

func ptr(o outcome) *outcome { return &o }

func paRefOf(ns, name string) mesh.Ref {
	return mesh.Ref{Kind: "PeerAuthentication", Namespace: ns, Name: name}
}

func drRefOf(ns, name string) mesh.Ref {
	return mesh.Ref{Kind: "DestinationRule", Namespace: ns, Name: name}
}

func runTLSCases(t *testing.T, tests []tlsCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := tc.topo.build(t)
			p := tc.probe
			if !p.From.IsValid() {
				p.From = clientID
			}
			if p.To == "" && !p.ToWorkload.IsValid() {
				p.To = "svc.b"
			}
			if p.Port == 0 {
				p.Port = 80
			}
			v, err := s.Probe(p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, outcomeOf(v.Default)); diff != "" {
				t.Errorf("%s\nDefault (-want +got):\n%s\n%s", tc.reason, diff, v.Explain())
			}
			if tc.wantPlaintext != nil {
				if diff := cmp.Diff(*tc.wantPlaintext, outcomeOf(v.Plaintext)); diff != "" {
					t.Errorf("%s\nPlaintext (-want +got):\n%s", tc.reason, diff)
				}
			}
			if tc.wantMTLS != nil {
				if diff := cmp.Diff(*tc.wantMTLS, outcomeOf(v.MTLS)); diff != "" {
					t.Errorf("%s\nMTLS (-want +got):\n%s", tc.reason, diff)
				}
			}
			if tc.wantEndpoints != nil {
				got := map[mesh.WorkloadID]outcome{}
				for _, ep := range v.Endpoints {
					got[ep.Workload] = outcomeOf(ep.Default)
				}
				if diff := cmp.Diff(tc.wantEndpoints, got); diff != "" {
					t.Errorf("%s\nendpoints (-want +got):\n%s", tc.reason, diff)
				}
			}
			if tc.wantBy != nil {
				got := map[sim.Stage]mesh.Ref{}
				for _, st := range v.Default.Steps {
					if _, ok := tc.wantBy[st.Stage]; ok {
						got[st.Stage] = st.By
					}
				}
				if diff := cmp.Diff(tc.wantBy, got); diff != "" {
					t.Errorf("%s\ndeciding objects (-want +got):\n%s\n%s", tc.reason, diff, v.Explain())
				}
			}
		})
	}
}

func TestMTLSCases(t *testing.T) {
	t.Parallel()
	naked := sim.Probe{From: nakedID}
	rootAll := func(m mesh.TLSMode) mesh.DestinationRule { return destRule("istio-system", "default", "*", tlsMode(m)) }
	excludeB := mesh.Sidecar{Ref: mesh.Ref{Kind: "Sidecar", Namespace: "a", Name: "default"},
		Egress: []mesh.EgressListener{{Hosts: []string{"./*", "istio-system/*"}}}}
	portLevelEmpty := destRule("b", "svc", "svc", &mesh.TrafficPolicy{TLS: mesh.TLSIstioMutual, PortLevel: []mesh.PortTrafficPolicy{{Port: 80}}})
	tests := []tlsCase{
		{name: "T1", reason: "T1: no PA, no DR, sidecar to sidecar: PERMISSIVE and auto mTLS",
			want: okMTLS, wantPlaintext: ptr(okPlain), wantMTLS: ptr(okMTLS),
			wantBy: map[sim.Stage]mesh.Ref{sim.StagePeerAuthentication: {}, sim.StageDestinationRule: {}}},
		{name: "T2", reason: "T2: client without sidecar sends plaintext; PERMISSIVE accepts",
			probe: naked, want: okPlain, wantMTLS: ptr(outcome{})},
		{name: "T3", reason: "T3: mesh STRICT rejects plaintext from a client without sidecar",
			topo: topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}}, probe: naked, want: deniedPT,
			wantBy: map[sim.Stage]mesh.Ref{sim.StagePeerAuthentication: paRefOf("istio-system", "default")}},
		{name: "T4", reason: "T4: mesh STRICT, no DR, sidecar to naked server: endpoint lacks tlsMode=istio → plaintext",
			topo: topo{serverNaked: true, pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}}, want: okPlain},
		{name: "T5", reason: "T5: root DR * ISTIO_MUTUAL forces mTLS onto a server without sidecar",
			topo: topo{serverNaked: true, pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}, drs: []mesh.DestinationRule{rootAll(mesh.TLSIstioMutual)}},
			want: deniedMTLS, wantBy: map[sim.Stage]mesh.Ref{sim.StageDestinationRule: drRefOf("istio-system", "default")}},
		{name: "T6", reason: "T6: mesh PERMISSIVE + root DR * DISABLE: plaintext accepted",
			topo: topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModePermissive)}, drs: []mesh.DestinationRule{rootAll(mesh.TLSDisable)}},
			want: okPlain, wantMTLS: ptr(okMTLS)},
		{name: "T7", reason: "T7: mesh DISABLE: auto mTLS sends plaintext",
			topo: topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModeDisable)}}, want: okPlain, wantMTLS: ptr(deniedMTLS),
			wantBy: map[sim.Stage]mesh.Ref{sim.StageClientTLS: paRefOf("istio-system", "default")}},
		{name: "T8", reason: "T8: namespace DISABLE + DR ISTIO_MUTUAL: mTLS into a DISABLE chain fails",
			topo: topo{pas: []mesh.PeerAuthentication{peerAuth("b", "default", mesh.ModeDisable, nil)},
				drs: []mesh.DestinationRule{destRule("b", "svc", "svc", tlsMode(mesh.TLSIstioMutual))}},
			want: deniedMTLS, wantPlaintext: ptr(okPlain)},
		{name: "T9", reason: "T9: namespace STRICT, workload DISABLE: the endpoint's tlsMode is cleared → plaintext",
			topo: topo{pas: []mesh.PeerAuthentication{peerAuth("b", "default", mesh.ModeStrict, nil), peerAuth("b", "w", mesh.ModeDisable, appW)}},
			want: okPlain, wantBy: map[sim.Stage]mesh.Ref{sim.StagePeerAuthentication: paRefOf("b", "w")}},
		{name: "T10", reason: "T10: portLevelMtls {8080: DISABLE} (container port) honoured by auto mTLS",
			topo: topo{pas: []mesh.PeerAuthentication{withPorts(peerAuth("b", "w", mesh.ModeStrict, appW), map[uint32]mesh.Mode{8080: mesh.ModeDisable})}},
			want: okPlain},
		{name: "T11/sidecar-client", reason: "T11: portLevelMtls keyed by service port 80 does not apply to 8080 → STRICT, mTLS works",
			topo: topo{pas: []mesh.PeerAuthentication{withPorts(peerAuth("b", "w", mesh.ModeStrict, appW), map[uint32]mesh.Mode{80: mesh.ModeDisable})}},
			want: okMTLS, wantPlaintext: ptr(deniedPT)},
		{name: "T11/naked-client", reason: "T11: same, a client without sidecar fails",
			topo:  topo{pas: []mesh.PeerAuthentication{withPorts(peerAuth("b", "w", mesh.ModeStrict, appW), map[uint32]mesh.Mode{80: mesh.ModeDisable})}},
			probe: naked, want: deniedPT},
		{name: "T12", reason: "T12 (#56084): mesh DISABLE + workload STRICT: auto mTLS reads only mesh/namespace → plaintext → reset",
			topo: topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModeDisable), peerAuth("b", "w", mesh.ModeStrict, appW)}},
			want: deniedPT, wantMTLS: ptr(okMTLS)},
		{name: "T13", reason: "T13: T12 plus DR ISTIO_MUTUAL in b: mTLS",
			topo: topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModeDisable), peerAuth("b", "w", mesh.ModeStrict, appW)},
				drs: []mesh.DestinationRule{destRule("b", "svc", "svc.b.svc.cluster.local", tlsMode(mesh.TLSIstioMutual))}},
			want: okMTLS},
		{name: "T14", reason: "T14 (#39439): headless, all pods injected, port-level DISABLE: ORIGINAL_DST sends mTLS to every endpoint → fails",
			topo: topo{headless: true, pas: []mesh.PeerAuthentication{peerAuth("b", "default", mesh.ModePermissive, nil),
				withPorts(peerAuth("b", "w", mesh.ModeUnset, appW), map[uint32]mesh.Mode{8080: mesh.ModeDisable})}},
			want: deniedMTLS},
		{name: "T15", reason: "T15: headless with a pod lacking a sidecar: DT2 DISABLE → plaintext to all; sidecar pods (STRICT) fail, the other succeeds",
			topo:   topo{headless: true, extraNaked: true, pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}},
			want:   deniedPT,
			wantBy: map[sim.Stage]mesh.Ref{sim.StageClientTLS: {Kind: "Service", Namespace: "b", Name: "svc"}},
			wantEndpoints: map[mesh.WorkloadID]outcome{
				serverID:                     deniedPT,
				{Namespace: "b", Name: "w2"}: okPlain,
			}},
		{name: "T16", reason: "T16 (#37431): a pod IP call goes through PassthroughCluster as plaintext; STRICT resets it",
			topo:  topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}},
			probe: sim.Probe{ToWorkload: serverID, Port: 8080}, want: deniedPT},
		{name: "T17/strict", reason: "T17: b is outside the client's egress scope: PassthroughCluster plaintext; STRICT fails",
			topo: topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}, sidecars: []mesh.Sidecar{excludeB}},
			want: deniedPT},
		{name: "T17/permissive", reason: "T17: same with PERMISSIVE: plaintext succeeds",
			topo: topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModePermissive)}, sidecars: []mesh.Sidecar{excludeB}},
			want: okPlain},
		{name: "T18", reason: "T18: the client-namespace DR without tls shadows the root ISTIO_MUTUAL: auto mTLS → plaintext to a naked server",
			topo: topo{serverNaked: true, drs: []mesh.DestinationRule{
				destRule("istio-system", "default", "*.local", tlsMode(mesh.TLSIstioMutual)),
				destRule("a", "pool", "svc.b.svc.cluster.local", &mesh.TrafficPolicy{})}},
			want: okPlain, wantBy: map[sim.Stage]mesh.Ref{sim.StageDestinationRule: drRefOf("a", "pool")}},
		{name: "T18/control", reason: "T18 without the client-namespace DR: root ISTIO_MUTUAL applies and fails",
			topo: topo{serverNaked: true, drs: []mesh.DestinationRule{destRule("istio-system", "default", "*.local", tlsMode(mesh.TLSIstioMutual))}},
			want: deniedMTLS},
		{name: "T19", reason: "T19: DR exportTo ['.'] in b is invisible to a: auto mTLS succeeds under STRICT",
			topo: topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}, drs: []mesh.DestinationRule{func() mesh.DestinationRule {
				d := destRule("b", "svc", "svc", tlsMode(mesh.TLSDisable))
				d.ExportTo = []string{"."}
				return d
			}()}},
			want: okMTLS, wantBy: map[sim.Stage]mesh.Ref{sim.StageDestinationRule: {}}},
		{name: "T19/control", reason: "T19 with the DR exported: DISABLE → plaintext → STRICT fails",
			topo: topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}, drs: []mesh.DestinationRule{destRule("b", "svc", "svc", tlsMode(mesh.TLSDisable))}},
			want: deniedPT},
		{name: "T20", reason: "T20: portLevelSettings {80: no tls} replaces the top-level ISTIO_MUTUAL: auto mTLS → plaintext to a naked server",
			topo: topo{serverNaked: true, drs: []mesh.DestinationRule{portLevelEmpty}}, want: okPlain},
		{name: "T20/control", reason: "T20 without the port-level entry: ISTIO_MUTUAL fails against the naked server",
			topo: topo{serverNaked: true, drs: []mesh.DestinationRule{destRule("b", "svc", "svc", tlsMode(mesh.TLSIstioMutual))}},
			want: deniedMTLS},
		{name: "T22", reason: "T22: two namespace PAs with the same timestamp: a-pa (STRICT) wins by name",
			topo:  topo{pas: []mesh.PeerAuthentication{peerAuth("b", "z-pa", mesh.ModeDisable, nil), peerAuth("b", "a-pa", mesh.ModeStrict, nil)}},
			probe: naked, want: deniedPT,
			wantBy: map[sim.Stage]mesh.Ref{sim.StagePeerAuthentication: paRefOf("b", "a-pa")}},
		{name: "T22/sidecar-client", reason: "T22: auto mTLS also reads a-pa (STRICT): mTLS",
			topo: topo{pas: []mesh.PeerAuthentication{peerAuth("b", "z-pa", mesh.ModeDisable, nil), peerAuth("b", "a-pa", mesh.ModeStrict, nil)}},
			want: okMTLS},
		{name: "T23", reason: "T23: the older namespace PA (DISABLE) wins over the newer STRICT: plaintext accepted",
			topo:  topo{pas: []mesh.PeerAuthentication{createdAt(peerAuth("b", "strict", mesh.ModeStrict, nil), 5*time.Second), peerAuth("b", "disable", mesh.ModeDisable, nil)}},
			probe: naked, want: okPlain,
			wantBy: map[sim.Stage]mesh.Ref{sim.StagePeerAuthentication: paRefOf("b", "disable")}},
		{name: "T23/sidecar-client", reason: "T23: auto mTLS reads the older DISABLE too: plaintext, and mTLS would fail",
			topo: topo{pas: []mesh.PeerAuthentication{createdAt(peerAuth("b", "strict", mesh.ModeStrict, nil), 5*time.Second), peerAuth("b", "disable", mesh.ModeDisable, nil)}},
			want: okPlain, wantMTLS: ptr(deniedMTLS)},
		{name: "T24", reason: "T24: a selector PA in the root namespace is ignored: PERMISSIVE",
			topo:  topo{pas: []mesh.PeerAuthentication{peerAuth("istio-system", "w", mesh.ModeStrict, appW)}},
			probe: naked, want: okPlain,
			wantBy: map[sim.Stage]mesh.Ref{sim.StagePeerAuthentication: {}}},
		{name: "T35", reason: "T35: DR SIMPLE sends TLS without a mesh client certificate; STRICT fails it",
			topo: topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}, drs: []mesh.DestinationRule{destRule("b", "svc", "svc", tlsMode(mesh.TLSSimple))}},
			want: deniedTLS},
		{name: "T36/tcp-port", reason: "T36: app TLS from a client without sidecar to an undeclared (sniffed) port under PERMISSIVE is passed through",
			topo:  topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModePermissive)}},
			probe: sim.Probe{From: nakedID, Protocol: sim.HTTPS}, want: okTLS},
		{name: "T36/tcp-declared", reason: "T36: same to a port declared TCP",
			topo:  topo{portName: "tcp", pas: []mesh.PeerAuthentication{meshPA(mesh.ModePermissive)}},
			probe: sim.Probe{From: nakedID, Protocol: sim.HTTPS}, want: okTLS},
		{name: "T36/http-port", reason: "T36: same to an HTTP-declared port fails (no chain for non-Istio TLS)",
			topo:  topo{portName: "http", pas: []mesh.PeerAuthentication{meshPA(mesh.ModePermissive)}},
			probe: sim.Probe{From: nakedID, Protocol: sim.HTTPS}, want: deniedTLS,
			wantBy: map[sim.Stage]mesh.Ref{sim.StageServer: {Kind: "Service", Namespace: "b", Name: "svc"}}},
	}
	runTLSCases(t, tests)
}

// TestOutcomeMatrix is the §4 table: client kind × server kind on a
// ClusterIP Service with auto mTLS on. The server's mode comes from a
// namespace PeerAuthentication in b.
func TestOutcomeMatrix(t *testing.T) {
	t.Parallel()
	type client struct {
		name  string
		probe sim.Probe
		drs   []mesh.DestinationRule
	}
	clients := []client{
		{name: "no-sidecar", probe: sim.Probe{From: nakedID}},
		{name: "auto-mtls"},
		{name: "dr-disable", drs: []mesh.DestinationRule{destRule("b", "svc", "svc", tlsMode(mesh.TLSDisable))}},
		{name: "dr-istio-mutual", drs: []mesh.DestinationRule{destRule("b", "svc", "svc", tlsMode(mesh.TLSIstioMutual))}},
	}
	type server struct {
		name  string
		naked bool
		mode  mesh.Mode
	}
	servers := []server{{name: "no-sidecar", naked: true}, {name: "permissive", mode: mesh.ModePermissive},
		{name: "strict", mode: mesh.ModeStrict}, {name: "disable", mode: mesh.ModeDisable}}
	// P = plaintext, M = mTLS, X = fails; rows clients, columns servers.
	want := [][]outcome{
		{okPlain, okPlain, deniedPT, okPlain},
		{okPlain, okMTLS, okMTLS, okPlain},
		{okPlain, okPlain, deniedPT, okPlain},
		{deniedMTLS, okMTLS, okMTLS, deniedMTLS},
	}
	var tests []tlsCase
	for i, c := range clients {
		for j, sv := range servers {
			tp := topo{serverNaked: sv.naked, drs: c.drs}
			if sv.mode != mesh.ModeUnset {
				tp.pas = []mesh.PeerAuthentication{peerAuth("b", "default", sv.mode, nil)}
			}
			tests = append(tests, tlsCase{name: c.name + "/" + sv.name, reason: fmt.Sprintf("§4 row %q, column %q", c.name, sv.name),
				topo: tp, probe: c.probe, want: want[i][j]})
		}
	}
	// Footnotes: ¹ STRICT only at workload level under a DISABLE namespace
	// fails (T12 covers the mesh variant); ² DISABLE at workload level is
	// honoured by auto mTLS.
	tests = append(tests,
		tlsCase{name: "footnote1/namespace-disable-workload-strict", reason: "§4 ¹: STRICT from a workload PA under namespace DISABLE: plaintext is sent and reset",
			topo: topo{pas: []mesh.PeerAuthentication{peerAuth("b", "default", mesh.ModeDisable, nil), peerAuth("b", "w", mesh.ModeStrict, appW)}},
			want: deniedPT},
		tlsCase{name: "footnote2/workload-disable", reason: "§4 ²: DISABLE from a workload PA: plaintext",
			topo: topo{pas: []mesh.PeerAuthentication{peerAuth("b", "w", mesh.ModeDisable, appW)}},
			want: okPlain},
	)
	runTLSCases(t, tests)
}

// TestClientTLSRules covers DT2/DT3 rules that no numbered case reaches:
// auto mTLS switched off, ServiceEntry destinations, and the endpoint
// builder's own reading of DestinationRule tls.
func TestClientTLSRules(t *testing.T) {
	t.Parallel()
	noAuto := func(c *mesh.Config) { c.EnableAutoMTLS = false }
	seTopo := func(internal bool, resolution string) topo {
		return topo{entries: []mesh.ServiceEntry{{
			Ref: mesh.Ref{Kind: "ServiceEntry", Namespace: "b", Name: "api"}, Hosts: []string{"api.example.com"},
			Ports: []mesh.ServiceEntryPort{{Number: 443, Protocol: "TCP", Name: "tcp", TargetPort: 8080}}, MeshInternal: internal,
			Resolution: resolution, WorkloadSelector: appW}}}
	}
	seProbe := sim.Probe{To: "api.example.com", Port: 443}
	tests := []tlsCase{
		{name: "auto-mtls-off/permissive", reason: "DT3 row 5: enableAutoMtls=false and no DR tls: plaintext",
			topo: topo{config: noAuto}, want: okPlain, wantBy: map[sim.Stage]mesh.Ref{sim.StageClientTLS: {}}},
		{name: "auto-mtls-off/strict", reason: "DT3 row 5 (#23494): plaintext to STRICT when auto mTLS is off",
			topo: topo{config: noAuto, pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}}, want: deniedPT},
		{name: "auto-mtls-off/dr-istio-mutual", reason: "DT3 row 3 comes before row 5: DR ISTIO_MUTUAL still sends mTLS",
			topo: topo{config: noAuto, pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)},
				drs: []mesh.DestinationRule{destRule("b", "svc", "svc", tlsMode(mesh.TLSIstioMutual))}}, want: okMTLS},
		{name: "endpoint-sees-top-level-istio-mutual", reason: "mtls_checker.go: a port entry without tls leaves the endpoint builder on the top-level ISTIO_MUTUAL, overriding the workload DISABLE",
			topo: topo{pas: []mesh.PeerAuthentication{peerAuth("b", "w", mesh.ModeDisable, appW)},
				drs: []mesh.DestinationRule{destRule("b", "svc", "svc", &mesh.TrafficPolicy{TLS: mesh.TLSIstioMutual, PortLevel: []mesh.PortTrafficPolicy{{Port: 80}}})}},
			want: deniedMTLS},
		{name: "endpoint-sees-top-level-disable", reason: "mtls_checker.go: the endpoint builder sees top-level DISABLE and clears tlsMode, so the auto-mTLS cluster sends plaintext",
			topo: topo{pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)},
				drs: []mesh.DestinationRule{destRule("b", "svc", "svc", &mesh.TrafficPolicy{TLS: mesh.TLSDisable, PortLevel: []mesh.PortTrafficPolicy{{Port: 80}}})}},
			want: deniedPT},
		{name: "dr-passthrough", reason: "DT2/DT3 row 7: DR loadBalancer PASSTHROUGH with all endpoints injected: ORIGINAL_DST, mTLS to every endpoint",
			topo: topo{pas: []mesh.PeerAuthentication{withPorts(peerAuth("b", "w", mesh.ModeUnset, appW), map[uint32]mesh.Mode{8080: mesh.ModeDisable})},
				drs: []mesh.DestinationRule{destRule("b", "svc", "svc", &mesh.TrafficPolicy{LBPassthrough: true})}},
			want: deniedMTLS},
		{name: "dr-passthrough-naked-endpoint", reason: "DT2: DR loadBalancer PASSTHROUGH with an endpoint lacking a sidecar: DISABLE, plaintext to all",
			topo: topo{extraNaked: true, pas: []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)},
				drs: []mesh.DestinationRule{destRule("b", "svc", "svc", &mesh.TrafficPolicy{LBPassthrough: true})}},
			want:          deniedPT,
			wantBy:        map[sim.Stage]mesh.Ref{sim.StageClientTLS: drRefOf("b", "svc")},
			wantEndpoints: map[mesh.WorkloadID]outcome{serverID: deniedPT, {Namespace: "b", Name: "w2"}: okPlain}},
		{name: "service-entry/mesh-external", reason: "DT2 row 1: MESH_EXTERNAL is Unknown: plaintext even to a sidecar pod, which STRICT rejects",
			topo: func() topo {
				tp := seTopo(false, "STATIC")
				tp.pas = []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}
				return tp
			}(), probe: seProbe, want: deniedPT,
			wantBy: map[sim.Stage]mesh.Ref{sim.StageClientTLS: {Kind: "ServiceEntry", Namespace: "b", Name: "api"}}},
		{name: "service-entry/mesh-internal", reason: "DT3 row 8: MESH_INTERNAL STATIC entry selecting a sidecar pod: auto mTLS",
			topo: func() topo {
				tp := seTopo(true, "STATIC")
				tp.pas = []mesh.PeerAuthentication{meshPA(mesh.ModeStrict)}
				return tp
			}(), probe: seProbe, want: okMTLS},
		{name: "service-entry/resolution-none", reason: "DT3 row 7: resolution NONE is ORIGINAL_DST: mTLS to every endpoint, even a port-level DISABLE one",
			topo: func() topo {
				tp := seTopo(true, "NONE")
				tp.pas = []mesh.PeerAuthentication{withPorts(peerAuth("b", "w", mesh.ModeUnset, appW), map[uint32]mesh.Mode{8080: mesh.ModeDisable})}
				return tp
			}(), probe: seProbe, want: deniedMTLS},
	}
	runTLSCases(t, tests)
}

// TestServerAcceptance is DT4 for a server with a sidecar, per mode and
// transport, on an undeclared (sniffed), a TCP and an HTTP port. Plaintext
// and app TLS come from a client without sidecar; Istio mTLS from a
// sidecar client with DestinationRule ISTIO_MUTUAL.
func TestServerAcceptance(t *testing.T) {
	t.Parallel()
	istioMutual := []mesh.DestinationRule{destRule("b", "svc", "svc", tlsMode(mesh.TLSIstioMutual))}
	type row struct {
		mode     mesh.Mode
		portName string
		plain    outcome
		mtls     outcome
		tls      outcome
		why      string
	}
	rows := []row{
		{mesh.ModeStrict, "", deniedPT, okMTLS, deniedTLS, "STRICT: TLS chains requiring a mesh client certificate only"},
		{mesh.ModeStrict, "http", deniedPT, okMTLS, deniedTLS, "STRICT on HTTP ports alike"},
		{mesh.ModePermissive, "", okPlain, okMTLS, okTLS, "PERMISSIVE sniffed port: TLS without Istio ALPN goes to the app"},
		{mesh.ModePermissive, "tcp", okPlain, okMTLS, okTLS, "PERMISSIVE TCP port: 'Plain TLS' chain"},
		{mesh.ModePermissive, "http", okPlain, okMTLS, deniedTLS, "PERMISSIVE HTTP port: no chain for non-Istio TLS"},
		{mesh.ModeDisable, "", okPlain, deniedMTLS, okTLS, "DISABLE: raw_buffer chains forward TLS to the app"},
		{mesh.ModeDisable, "tcp", okPlain, deniedMTLS, okTLS, "DISABLE TCP port alike"},
		{mesh.ModeDisable, "http", okPlain, deniedMTLS, deniedTLS, "DISABLE HTTP port: the HTTP codec gets the ClientHello (filterchain_options.go inboundPlainTextHTTPFilterChainMatchOptions)"},
	}
	var tests []tlsCase
	for _, r := range rows {
		base := topo{portName: r.portName, pas: []mesh.PeerAuthentication{peerAuth("b", "default", r.mode, nil)}}
		withDR := base
		withDR.drs = istioMutual
		name := fmt.Sprintf("%s/port-%q", r.mode, r.portName)
		tests = append(tests,
			tlsCase{name: name + "/plaintext", reason: r.why, topo: base, probe: sim.Probe{From: nakedID}, want: r.plain},
			tlsCase{name: name + "/mtls", reason: r.why, topo: withDR, want: r.mtls},
			tlsCase{name: name + "/tls", reason: r.why, topo: base, probe: sim.Probe{From: nakedID, Protocol: sim.HTTPS}, want: r.tls},
		)
	}
	// A Sidecar ingress listener declares the protocol instead of the
	// Service (listener_inbound.go buildInboundChainConfigs).
	ingress := func(proto string) mesh.Sidecar {
		return mesh.Sidecar{Ref: mesh.Ref{Kind: "Sidecar", Namespace: "b", Name: "w"}, Selector: appW,
			Ingress: []mesh.IngressListener{{Port: mesh.SidecarPort{Number: 8080, Protocol: proto, Name: "in"}}}}
	}
	tests = append(tests,
		tlsCase{name: "ingress-http-over-tcp-service", reason: "Sidecar ingress HTTP on 8080 replaces the Service's tcp port: app TLS fails",
			topo:  topo{portName: "tcp", sidecars: []mesh.Sidecar{ingress("HTTP")}},
			probe: sim.Probe{From: nakedID, Protocol: sim.HTTPS}, want: deniedTLS,
			wantBy: map[sim.Stage]mesh.Ref{sim.StageServer: {Kind: "Sidecar", Namespace: "b", Name: "w"}}},
		tlsCase{name: "ingress-tcp-over-http-service", reason: "Sidecar ingress TCP on 8080 replaces the Service's http port: app TLS passes",
			topo:  topo{portName: "http", sidecars: []mesh.Sidecar{ingress("TCP")}},
			probe: sim.Probe{From: nakedID, Protocol: sim.HTTPS}, want: okTLS},
	)
	runTLSCases(t, tests)
}
