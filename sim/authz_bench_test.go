package sim_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// authzBenchMesh is benchMesh's mesh (tls_bench_test.go) plus, when
// policies is set, the AuthorizationPolicies a hardened mesh carries: a
// mesh-wide DENY of plaintext (notPrincipals ["*"]) and an AUDIT policy in
// the root namespace, and per namespace an ALLOW on the namespace's own
// and the next namespace's principals and a DENY of DELETE on port 8080.
func authzBenchMesh(b *testing.B, nss, per int, policies bool) *sim.Simulator {
	b.Helper()
	var mb mesh.Builder
	ap := func(ns, name string, action mesh.AuthzAction, rules ...mesh.AuthzRule) {
		mb.AddAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: mesh.Ref{Kind: "AuthorizationPolicy", Namespace: ns, Name: name},
			Action: action, Rules: rules})
	}
	mb.AddNamespace(mesh.Namespace{Name: "istio-system"})
	mb.AddPeerAuthentication(mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: "istio-system", Name: "default"}, Mode: mesh.ModeStrict})
	mb.AddDestinationRule(mesh.DestinationRule{Ref: mesh.Ref{Kind: "DestinationRule", Namespace: "istio-system", Name: "default"}, Host: "*.local",
		TrafficPolicy: &mesh.TrafficPolicy{}})
	if policies {
		ap("istio-system", "deny-plaintext", mesh.ActionDeny, mesh.AuthzRule{From: []mesh.AuthzSource{{NotPrincipals: []string{"*"}}}})
		ap("istio-system", "audit", mesh.ActionAudit, mesh.AuthzRule{})
	}
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
		if policies {
			prev := fmt.Sprintf("ns-%d", (n+nss-1)%nss)
			ap(ns, "allow-neighbours", mesh.ActionAllow, mesh.AuthzRule{From: []mesh.AuthzSource{
				{Principals: []string{"cluster.local/ns/" + ns + "/sa/*"}},
				{Namespaces: []string{prev}},
			}})
			ap(ns, "deny-delete", mesh.ActionDeny, mesh.AuthzRule{To: []mesh.AuthzOperation{{Methods: []string{"DELETE"}, Ports: []string{"8080"}}}})
		}
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

// BenchmarkProbeAuthz measures one verdict on the 3000-workload mesh of
// BenchmarkProbe, without and with AuthorizationPolicies; the difference is
// their cost (three results of one endpoint, each through CUSTOM, DENY and
// ALLOW). The client is in the namespace the server's ALLOW names.
func BenchmarkProbeAuthz(b *testing.B) {
	for _, policies := range []bool{false, true} {
		b.Run(fmt.Sprintf("policies=%t", policies), func(b *testing.B) {
			s := authzBenchMesh(b, 50, 60, policies)
			p := sim.Probe{From: mesh.WorkloadID{Namespace: "ns-0", Name: "wl-3"}, To: "svc-7.ns-1", Port: 80, Protocol: sim.HTTP, Method: "GET"}
			if v, err := s.Probe(p); err != nil || !v.Default.Allowed || v.Default.Transport != sim.MTLS || (policies && v.Plaintext.Allowed) {
				b.Fatalf("probe: %v, %v", v, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Probe(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuthzScale measures what AuthorizationPolicies cost at scale:
// Parse + New + Matrix of the generator's mesh (1k and 10k workloads; 200
// under -short; 100k with MESHREACH_BENCH_LARGE=1) without its policies
// and with them, alternately in every op so that both meet the same
// machine load. It reports both times (without-ms, with-ms) and the
// difference (overhead-%); ns/op is their sum.
func BenchmarkAuthzScale(b *testing.B) {
	for _, sz := range scaleSizes() {
		b.Run(fmt.Sprintf("workloads=%d", sz.n), func(b *testing.B) {
			if sz.skip != "" {
				b.Skip(sz.skip)
			}
			run := func(src []byte) (time.Duration, sim.Stats) {
				start := time.Now()
				m, err := mesh.Parse("bench.yaml", src)
				if err != nil {
					b.Fatal(err)
				}
				st := sim.New(m).Matrix().Stats()
				return time.Since(start), st
			}
			without, with := authzScaleYAML(sz.n, false), authzScaleYAML(sz.n, true)
			b.ReportAllocs()
			var tWithout, tWith time.Duration
			var sWithout, sWith sim.Stats
			for b.Loop() {
				d, st := run(without)
				tWithout, sWithout = tWithout+d, st
				d, st = run(with)
				tWith, sWith = tWith+d, st
			}
			n := float64(b.N)
			b.ReportMetric(tWithout.Seconds()*1000/n, "without-ms")
			b.ReportMetric(tWith.Seconds()*1000/n, "with-ms")
			b.ReportMetric(100*(float64(tWith)/float64(tWithout)-1), "overhead-%")
			b.ReportMetric(float64(sWithout.Evaluations), "probes-without")
			b.ReportMetric(float64(sWith.Evaluations), "probes-with")
		})
	}
}

var authzScaleYAMLs sync.Map // [2]int{n, policies} → []byte

// authzScaleYAML is the generator's YAML for n workloads (seed 1), with or
// without its AuthorizationPolicies.
func authzScaleYAML(n int, policies bool) []byte {
	k := [2]int{n, 0}
	if policies {
		k[1] = 1
	}
	if y, ok := authzScaleYAMLs.Load(k); ok {
		return y.([]byte)
	}
	o := meshgen.Generate(meshgen.Options{Workloads: n, Seed: 1})
	if !policies {
		o.AuthorizationPolicies = nil
	}
	y := o.YAML()
	authzScaleYAMLs.Store(k, y)
	return y
}
