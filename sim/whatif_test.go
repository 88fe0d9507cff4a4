package sim_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// randomEdit applies one edit drawn from r to b, and names it.
func randomEdit(r *rand.Rand, m *mesh.Mesh, b *mesh.Builder) string {
	pick := func(n int) int { return r.IntN(max(n, 1)) }
	nss := m.Namespaces()
	ns := nss[pick(len(nss))].Name
	wls := m.Workloads()
	w := wls[pick(len(wls))]
	svcs := m.Services()
	modes := []mesh.Mode{mesh.ModeStrict, mesh.ModePermissive, mesh.ModeDisable}
	switch k := r.IntN(20); k {
	case 0:
		mode := modes[pick(3)]
		b.SetPeerAuthentication(mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: ns, Name: "default"}, Mode: mode})
		return fmt.Sprintf("PeerAuthentication %s/default %s", ns, mode)
	case 1:
		v := []string{"enabled", "disabled"}[pick(2)]
		b.SetNamespaceLabel(ns, "istio-injection", v)
		return "namespace " + ns + " istio-injection=" + v
	case 2:
		b.DeleteNamespaceLabel(ns, "istio-injection")
		return "namespace " + ns + " without istio-injection"
	case 3:
		v := []string{"true", "false"}[pick(2)]
		b.SetWorkloadLabel(w.ID, "sidecar.istio.io/inject", v)
		return "workload " + w.ID.String() + " sidecar.istio.io/inject=" + v
	case 4:
		b.SetWorkloadLabel(w.ID, "app", "moved")
		return "workload " + w.ID.String() + " app=moved (leaves its Service)"
	case 5:
		var refs []mesh.Ref
		for _, x := range svcs {
			refs = append(refs, x.Ref)
		}
		for _, x := range m.PeerAuthentications() {
			refs = append(refs, x.Ref)
		}
		for _, x := range m.DestinationRules() {
			refs = append(refs, x.Ref)
		}
		for _, x := range m.Sidecars() {
			refs = append(refs, x.Ref)
		}
		for _, x := range m.ServiceEntries() {
			refs = append(refs, x.Ref)
		}
		for _, x := range m.AuthorizationPolicies() {
			refs = append(refs, x.Ref)
		}
		refs = append(refs, w.Ref())
		ref := refs[pick(len(refs))]
		b.Remove(ref)
		return "remove " + ref.String()
	case 6:
		s := svcs[pick(len(svcs))]
		tls := []mesh.TLSMode{mesh.TLSDisable, mesh.TLSIstioMutual, mesh.TLSSimple}[pick(3)]
		host := s.Ref.Name + "." + s.Ref.Namespace + ".svc.cluster.local"
		b.SetDestinationRule(mesh.DestinationRule{Ref: mesh.Ref{Kind: "DestinationRule", Namespace: ns, Name: "dr-" + s.Ref.Name},
			Host: host, TrafficPolicy: &mesh.TrafficPolicy{TLS: tls}})
		return fmt.Sprintf("DestinationRule in %s for %s %s", ns, host, tls)
	case 7:
		sc := mesh.Sidecar{Ref: mesh.Ref{Kind: "Sidecar", Namespace: ns, Name: "default"},
			Egress: []mesh.EgressListener{{Hosts: []string{"./*", "istio-system/*"}}}}
		if r.IntN(2) == 0 {
			sc.Outbound = mesh.OutboundRegistryOnly
		}
		b.SetSidecar(sc)
		return fmt.Sprintf("Sidecar %s/default ./* (outbound %s)", ns, sc.Outbound)
	case 8:
		b.UpdateConfig(func(c *mesh.Config) { c.Outbound = mesh.OutboundRegistryOnly })
		return "mesh REGISTRY_ONLY"
	case 9:
		b.SetPeerAuthentication(mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: "istio-system", Name: "default"}, Mode: mesh.ModeStrict})
		return "mesh-wide STRICT"
	case 10:
		b.SetServiceEntry(mesh.ServiceEntry{Ref: mesh.Ref{Kind: "ServiceEntry", Namespace: ns, Name: "ext"}, Hosts: []string{"api.example.org"},
			Ports: []mesh.ServiceEntryPort{{Number: 443, Protocol: "TLS", Name: "tls"}}, Resolution: "DNS"})
		return "ServiceEntry " + ns + "/ext api.example.org:443"
	case 11:
		s := svcs[pick(len(svcs))]
		if len(s.Ports) > 0 {
			s.Ports = slices.Clone(s.Ports)
			s.Ports[0].Port += 1000
		}
		b.SetService(s)
		return "Service " + s.Ref.String() + " first port +1000"
	case 12:
		mode := modes[pick(3)]
		b.SetPeerAuthentication(mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: w.ID.Namespace, Name: "wl-" + w.ID.Name},
			Selector: w.Labels, Mode: mode})
		return fmt.Sprintf("workload PeerAuthentication for %s %s", w.ID, mode)
	case 14:
		ns2 := nss[pick(len(nss))].Name
		b.SetDestinationRule(mesh.DestinationRule{Ref: mesh.Ref{Kind: "DestinationRule", Namespace: ns, Name: "wild"},
			Host: "*." + ns2 + ".svc.cluster.local", TrafficPolicy: &mesh.TrafficPolicy{TLS: mesh.TLSDisable}})
		return "DestinationRule in " + ns + " for *." + ns2 + " DISABLE"
	case 15:
		b.SetServiceEntry(mesh.ServiceEntry{Ref: mesh.Ref{Kind: "ServiceEntry", Namespace: ns, Name: "wild"}, Hosts: []string{"*.example.org"},
			Ports: []mesh.ServiceEntryPort{{Number: 443, Protocol: "TLS", Name: "tls"}}, Resolution: "NONE"})
		return "ServiceEntry " + ns + "/wild *.example.org:443"
	case 16:
		s := svcs[pick(len(svcs))]
		s.ExportTo = []string{"."}
		b.SetService(s)
		return "Service " + s.Ref.String() + " exportTo ."
	case 17:
		w.ServiceAccount = "sa-other"
		b.SetWorkload(w)
		return "workload " + w.ID.String() + " service account sa-other"
	case 18:
		b.SetAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: mesh.Ref{Kind: "AuthorizationPolicy", Namespace: ns, Name: "deny-ip"},
			Action: mesh.ActionDeny, Rules: []mesh.AuthzRule{{From: []mesh.AuthzSource{{IPBlocks: []string{"10.0.0.0/8"}}}}}})
		return "AuthorizationPolicy DENY ipBlocks in " + ns
	case 19:
		b.SetAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: mesh.Ref{Kind: "AuthorizationPolicy", Namespace: ns, Name: "allow-ns"},
			Rules: []mesh.AuthzRule{{From: []mesh.AuthzSource{{Namespaces: []string{w.ID.Namespace}}}}}})
		return "AuthorizationPolicy ALLOW from " + w.ID.Namespace + " in " + ns
	default:
		w.Annotations = map[string]string{"traffic.sidecar.istio.io/excludeOutboundPorts": "80,9090"}
		b.SetWorkload(w)
		return "workload " + w.ID.String() + " excludes outbound 80,9090"
	}
}

// TestWhatIfEqualsFullRebuild is the contract of the incremental what-if:
// on generated meshes and random edits, WhatIf gives exactly the changes
// of a diff against a matrix built from scratch. MESHREACH_WHATIF_SEEDS
// sets the number of meshes (12; 4 with -short).
func TestWhatIfEqualsFullRebuild(t *testing.T) {
	t.Parallel()
	seeds := 12
	if v, err := strconv.Atoi(os.Getenv("MESHREACH_WHATIF_SEEDS")); err == nil && v > 0 {
		seeds = v
	}
	if testing.Short() {
		seeds = 4
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			n := 40 + seed%12*7
			base, err := meshgen.Generate(meshgen.Options{Workloads: n, Seed: uint64(seed)}).Mesh()
			if err != nil {
				t.Fatal(err)
			}
			bm := sim.New(base).Matrix()
			r := rand.New(rand.NewPCG(uint64(seed), 99))
			for round := range 4 {
				b := base.Edit()
				var edits []string
				for range 1 + r.IntN(3) {
					edits = append(edits, randomEdit(r, base, b))
				}
				after, err := b.Build()
				if err != nil {
					t.Fatalf("round %d %v: %v", round, edits, err)
				}
				inc := sim.WhatIf(bm, after)
				full := sim.Diff(bm, sim.New(after).Matrix())
				got, want := slices.Collect(inc.Changes()), slices.Collect(full.Changes())
				if d := gocmp.Diff(want, got); d != "" {
					t.Errorf("round %d, edits %q: WhatIf differs from a full rebuild (-full +incremental):\n%s", round, edits, d)
				}
				if inc.Len() != len(want) {
					t.Errorf("round %d: Len() = %d, want %d", round, inc.Len(), len(want))
				}
			}
		})
	}
}

// TestWhatIfNoChange: an edit that changes nothing the engine reads gives
// an empty delta, and evaluates nothing.
func TestWhatIfNoChange(t *testing.T) {
	t.Parallel()
	base, err := meshgen.Generate(meshgen.Options{Workloads: 60, Seed: 3}).Mesh()
	if err != nil {
		t.Fatal(err)
	}
	bm := sim.New(base).Matrix()
	after, err := base.Edit().Build()
	if err != nil {
		t.Fatal(err)
	}
	d := sim.WhatIf(bm, after)
	if d.Len() != 0 || d.Stats().Probes != 0 || !d.Stats().Incremental {
		t.Errorf("WhatIf(unchanged) = %d changes, stats %+v; want none, no probes, incremental", d.Len(), d.Stats())
	}
}
