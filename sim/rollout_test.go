package sim_test

import (
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// TestPlanStrict: each broken client is found with its reason, gets the
// narrowest fix that works, and the fixes together leave nothing broken.
func TestPlanStrict(t *testing.T) {
	t.Parallel()
	m, err := mesh.Load("testdata/rollout")
	if err != nil {
		t.Fatal(err)
	}
	base := sim.New(m).Matrix()
	type brk struct{ Client, Reason string }
	type fix struct{ Kind, Target string }
	tests := []struct {
		name   string
		reason string
		goal   sim.StrictGoal
		breaks []brk
		fixes  []fix
	}{
		{
			name:   "namespace",
			reason: "mtls-authn-authz.md T3 (no sidecar), T16 (passthrough), DT3 (DestinationRule DISABLE)",
			goal:   sim.StrictGoal{Namespace: "app"},
			breaks: []brk{{"billing/invoices", "destination-rule"}, {"legacy/cron", "no-sidecar"}, {"payments/checkout", "passthrough"}},
			fixes: []fix{
				{"destination-rule", "DestinationRule billing/api-plain"},
				{"inject-workload", "Workload legacy/cron"},
				{"port-permissive", "PeerAuthentication app/api-8080-permissive"},
			},
		},
		{
			name:   "workload under DISABLE",
			reason: "§3.2 / istio#56084: auto mTLS reads the namespace mode DISABLE and sends plaintext to the STRICT workload; a DestinationRule ISTIO_MUTUAL is the workaround",
			goal:   sim.StrictGoal{Namespace: "vault", Workload: "secret"},
			breaks: []brk{{"app/api", "auto-mtls-namespace-mode"}, {"billing/invoices", "auto-mtls-namespace-mode"},
				{"legacy/cron", "no-sidecar"}, {"payments/checkout", "passthrough"}, {"vault/secret", "auto-mtls-namespace-mode"}},
			fixes: []fix{
				{"destination-rule", "DestinationRule app/mtls-secret-vault-svc-cluster-local"},
				{"destination-rule", "DestinationRule billing/mtls-secret-vault-svc-cluster-local"},
				// A sidecar alone would not do: auto mTLS reads DISABLE.
				{"port-permissive", "PeerAuthentication vault/secret-9000-permissive"},
				{"destination-rule", "DestinationRule vault/mtls-secret-vault-svc-cluster-local"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := sim.PlanStrict(base, tc.goal)
			if err != nil {
				t.Fatal(err)
			}
			var breaks []brk
			for _, b := range p.Breaks {
				breaks = append(breaks, brk{b.Change.From.String(), b.Reason.String()})
			}
			if d := gocmp.Diff(tc.breaks, breaks); d != "" {
				t.Errorf("breaks (-want +got) (%s):\n%s", tc.reason, d)
			}
			var fixes []fix
			for _, f := range p.Fixes {
				fixes = append(fixes, fix{f.Kind.String(), f.Target.String()})
			}
			if d := gocmp.Diff(tc.fixes, fixes); d != "" {
				t.Errorf("fixes (-want +got) (%s):\n%s", tc.reason, d)
			}
			if len(p.Remaining) > 0 {
				t.Errorf("the fixes leave %d broken: %v", len(p.Remaining), p.Remaining)
			}
		})
	}
	// Auto mTLS off: every sidecar client sends plaintext without a
	// DestinationRule (DT2 row 5); one with ISTIO_MUTUAL fixes it.
	b := m.Edit()
	b.UpdateConfig(func(c *mesh.Config) { c.EnableAutoMTLS = false })
	off, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	p, err := sim.PlanStrict(sim.New(off).Matrix(), sim.StrictGoal{Namespace: "app"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, br := range p.Breaks {
		got = append(got, br.Change.From.String()+" "+br.Reason.String())
	}
	want := []string{"app/api auto-mtls-off", "billing/invoices destination-rule", "legacy/cron no-sidecar", "payments/checkout passthrough", "vault/secret auto-mtls-off"}
	if d := gocmp.Diff(want, got); d != "" || len(p.Remaining) > 0 {
		t.Errorf("auto mTLS off: breaks (-want +got):\n%s\nremaining: %v", d, p.Remaining)
	}
	if _, err := sim.PlanStrict(base, sim.StrictGoal{Namespace: "nope"}); err == nil {
		t.Errorf("PlanStrict on an unknown namespace: want an error")
	}
}
