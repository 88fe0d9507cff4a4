package sim_test

import (
	"fmt"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// finding is the part of an ExposureFinding the table compares; Detail is
// checked for the phrases each row names.
type finding struct {
	Port     uint32
	Accepted bool
	Kind     sim.FindingKind
	Policy   string
	Rule     int
}

// TestExposureFindings checks what AuthorizationPolicies mean for the
// plaintext client outside the mesh (mtls-authn-authz.md §5.3, DT5,
// T25–T28, ISTIO-SECURITY-2021-003). The server is bank/vault, injected
// and PERMISSIVE unless edit changes it, with TCP container ports 8080 and
// 9090.
func TestExposureFindings(t *testing.T) {
	t.Parallel()
	vault := mesh.WorkloadID{Namespace: "bank", Name: "vault"}
	ap := func(name string, action mesh.AuthzAction, rules ...mesh.AuthzRule) mesh.AuthorizationPolicy {
		return mesh.AuthorizationPolicy{Ref: mesh.Ref{Kind: "AuthorizationPolicy", Namespace: "bank", Name: name},
			Selector: map[string]string{"app": "vault"}, Action: action, Rules: rules,
			Pos: mesh.Pos{File: "authz.yaml", Line: len(name)}}
	}
	from := func(s mesh.AuthzSource) mesh.AuthzRule { return mesh.AuthzRule{From: []mesh.AuthzSource{s}} }
	principals := from(mesh.AuthzSource{Principals: []string{"cluster.local/ns/shop/sa/web"}})
	legacy := from(mesh.AuthzSource{Namespaces: []string{"legacy"}})
	strict := mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: "bank", Name: "default"}, Mode: mesh.ModeStrict}
	tests := []struct {
		name   string
		reason string
		edit   func(b *mesh.Builder, w *mesh.Workload)
		want   []finding
		detail []string // phrases the first finding's Detail holds
	}{{
		name:   "ALLOW principals on PERMISSIVE",
		reason: "source.principals compiles to an authenticated principal matcher that plaintext never satisfies: the ALLOW rule never admits it and, being the only one, plaintext is denied (§5.3, T25)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			b.AddAuthorizationPolicy(ap("allow-web", mesh.ActionAllow, principals))
		},
		want: []finding{
			{Port: 8080, Kind: sim.FindingIdentityAllow, Policy: "allow-web", Rule: 0},
			{Port: 9090, Kind: sim.FindingIdentityAllow, Policy: "allow-web", Rule: 0},
		},
		detail: []string{`source.principals ["cluster.local/ns/shop/sa/web"]`, "PERMISSIVE on port 8080 accepts plaintext", "denied: no ALLOW rule matches it"},
	}, {
		name:   "ALLOW with an identity rule and an empty rule",
		reason: "rule 0 needs an identity and never admits plaintext, but rule 1 sets no condition and admits it: reported, and the Detail says plaintext is allowed by rule 1 (DT5 step 5)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			b.AddAuthorizationPolicy(ap("allow-mixed", mesh.ActionAllow, principals, mesh.AuthzRule{}))
		},
		want: []finding{
			{Port: 8080, Accepted: true, Kind: sim.FindingIdentityAllow, Policy: "allow-mixed", Rule: 0},
			{Port: 9090, Accepted: true, Kind: sim.FindingIdentityAllow, Policy: "allow-mixed", Rule: 0},
		},
		detail: []string{"allowed all the same: rule 1 of bank/allow-mixed matches it"},
	}, {
		name:   "ALLOW serviceAccounts and trustDomains in one source",
		reason: "every identity field of the source fails on plaintext; both are named (§5.3)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			b.AddAuthorizationPolicy(ap("allow-sa", mesh.ActionAllow, from(mesh.AuthzSource{ServiceAccounts: []string{"shop/web"}, TrustDomains: []string{"cluster.local"}})))
		},
		want: []finding{
			{Port: 8080, Kind: sim.FindingIdentityAllow, Policy: "allow-sa", Rule: 0},
			{Port: 9090, Kind: sim.FindingIdentityAllow, Policy: "allow-sa", Rule: 0},
		},
		detail: []string{`source.serviceAccounts ["shop/web"], source.trustDomains ["cluster.local"]`},
	}, {
		name:   "DENY namespaces on PERMISSIVE",
		reason: "DENY from namespaces [legacy] never matches plaintext: a plaintext client from legacy bypasses it (ISTIO-SECURITY-2021-003, T27)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			b.AddAuthorizationPolicy(ap("deny-legacy", mesh.ActionDeny, legacy))
		},
		want: []finding{
			{Port: 8080, Accepted: true, Kind: sim.FindingDenyBypassed, Policy: "deny-legacy", Rule: 0},
			{Port: 9090, Accepted: true, Kind: sim.FindingDenyBypassed, Policy: "deny-legacy", Rule: 0},
		},
		detail: []string{`source.namespaces ["legacy"]`, "ISTIO-SECURITY-2021-003", "gets in"},
	}, {
		name:   "DENY on a when source.namespace condition",
		reason: "when source.namespace compiles to the same authenticated matcher as source.namespaces (model.go New): plaintext bypasses it",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			b.AddAuthorizationPolicy(ap("deny-when", mesh.ActionDeny, mesh.AuthzRule{When: []mesh.AuthzCondition{{Key: "source.namespace", Values: []string{"legacy"}}}}))
		},
		want: []finding{
			{Port: 8080, Accepted: true, Kind: sim.FindingDenyBypassed, Policy: "deny-when", Rule: 0},
			{Port: 9090, Accepted: true, Kind: sim.FindingDenyBypassed, Policy: "deny-when", Rule: 0},
		},
		detail: []string{`when source.namespace ["legacy"]`},
	}, {
		name:   "DENY notNamespaces",
		reason: "notNamespaces is NOT(no match) on plaintext, which is true: the DENY rule matches and denies plaintext, so nothing is bypassed (§5.3, T28)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			b.AddAuthorizationPolicy(ap("deny-others", mesh.ActionDeny, from(mesh.AuthzSource{NotNamespaces: []string{"bank"}})))
		},
		want: nil,
	}, {
		name:   "DENY namespaces, plaintext denied by another policy",
		reason: "the bypass is reported, and the Detail says plaintext is denied all the same by the ALLOW policy (DT5)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			b.AddAuthorizationPolicy(ap("deny-legacy", mesh.ActionDeny, legacy))
			b.AddAuthorizationPolicy(ap("allow-web", mesh.ActionAllow, principals))
		},
		want: []finding{
			{Port: 8080, Kind: sim.FindingIdentityAllow, Policy: "allow-web", Rule: 0},
			{Port: 8080, Kind: sim.FindingDenyBypassed, Policy: "deny-legacy", Rule: 0},
			{Port: 9090, Kind: sim.FindingIdentityAllow, Policy: "allow-web", Rule: 0},
			{Port: 9090, Kind: sim.FindingDenyBypassed, Policy: "deny-legacy", Rule: 0},
		},
	}, {
		name:   "DENY namespaces and an ipBlock the outside client's unknown address may be in",
		reason: "without its identity condition the rule may match (the client IP is unknown): still a bypass, said to be possible (§5.3)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			b.AddAuthorizationPolicy(ap("deny-net", mesh.ActionDeny, from(mesh.AuthzSource{Namespaces: []string{"legacy"}, IPBlocks: []string{"10.0.0.0/8"}})))
		},
		want: []finding{
			{Port: 8080, Accepted: true, Kind: sim.FindingDenyBypassed, Policy: "deny-net", Rule: 0},
			{Port: 9090, Accepted: true, Kind: sim.FindingDenyBypassed, Policy: "deny-net", Rule: 0},
		},
		detail: []string{"without them the rule might match", "source.ipBlocks"},
	}, {
		name:   "STRICT",
		reason: "STRICT builds TLS chains only: plaintext is reset before any RBAC filter, so no policy meets it (DT4)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			b.AddPeerAuthentication(strict)
			b.AddAuthorizationPolicy(ap("allow-web", mesh.ActionAllow, principals))
			b.AddAuthorizationPolicy(ap("deny-legacy", mesh.ActionDeny, legacy))
		},
		want: nil,
	}, {
		name:   "dry-run",
		reason: "a dry-run ALLOW or DENY is a shadow rule, never enforced (builder.go isDryRun)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			a, d := ap("allow-web", mesh.ActionAllow, principals), ap("deny-legacy", mesh.ActionDeny, legacy)
			a.DryRun, d.DryRun = true, true
			b.AddAuthorizationPolicy(a)
			b.AddAuthorizationPolicy(d)
		},
		want: nil,
	}, {
		name:   "AUDIT",
		reason: "AUDIT never allows or denies (authorization_policy.proto)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			b.AddAuthorizationPolicy(ap("audit-legacy", mesh.ActionAudit, legacy))
		},
		want: nil,
	}, {
		name:   "targetRefs",
		reason: "a policy with targetRefs attaches to gateways and waypoints, never to a sidecar (policyattachment.go ShouldAttachPolicy)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			a := ap("allow-web", mesh.ActionAllow, principals)
			a.Selector, a.TargetRefs = nil, []mesh.PolicyTargetRef{{Kind: "Service", Name: "vault"}}
			b.AddAuthorizationPolicy(a)
		},
		want: nil,
	}, {
		name:   "a selector that picks another workload",
		reason: "the policy does not apply to vault (policyattachment.go isSelected)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			a := ap("allow-web", mesh.ActionAllow, principals)
			a.Selector = map[string]string{"app": "ledger"}
			b.AddAuthorizationPolicy(a)
		},
		want: nil,
	}, {
		name:   "rules on ports that do not cover the port",
		reason: "operation.ports [9090] does not match port 8080: the rules fail there whatever the identity, so only 9090 is reported (generator.go destPortGenerator)",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			r := principals
			r.To = []mesh.AuthzOperation{{Ports: []string{"9090"}}}
			d := legacy
			d.To = []mesh.AuthzOperation{{Ports: []string{"9090"}}}
			b.AddAuthorizationPolicy(ap("allow-web", mesh.ActionAllow, r))
			b.AddAuthorizationPolicy(ap("deny-legacy", mesh.ActionDeny, d))
		},
		want: []finding{
			{Port: 9090, Kind: sim.FindingIdentityAllow, Policy: "allow-web", Rule: 0},
			{Port: 9090, Kind: sim.FindingDenyBypassed, Policy: "deny-legacy", Rule: 0},
		},
	}, {
		name:   "an ALLOW rule with an HTTP-only field on a TCP port",
		reason: "on a TCP chain the ALLOW rule is left out whatever the identity (model.go checkError): identity is not what keeps plaintext out, so nothing is reported",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			r := principals
			r.To = []mesh.AuthzOperation{{Methods: []string{"GET"}}}
			b.AddAuthorizationPolicy(ap("allow-get", mesh.ActionAllow, r))
		},
		want: nil,
	}, {
		name:   "an ALLOW rule with one identity source and one that matches plaintext",
		reason: "the second source sets no identity and the rule matches plaintext: nothing to report",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			b.AddAuthorizationPolicy(ap("allow-port", mesh.ActionAllow, mesh.AuthzRule{
				From: []mesh.AuthzSource{{Principals: []string{"cluster.local/ns/shop/sa/web"}}, {NotNamespaces: []string{"legacy"}}}}))
		},
		want: nil,
	}, {
		name:   "a port the sidecar does not capture",
		reason: "excludeInboundPorts hands port 9090 to the app: nothing enforces the policy there (sidecar-injection-egress.md §6); 8080 is captured",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			w.Annotations = map[string]string{"traffic.sidecar.istio.io/excludeInboundPorts": "9090"}
			b.AddAuthorizationPolicy(ap("allow-web", mesh.ActionAllow, principals))
		},
		want: []finding{
			{Port: 8080, Kind: sim.FindingIdentityAllow, Policy: "allow-web", Rule: 0},
			{Port: 9090, Accepted: true, Kind: sim.FindingNotEnforced, Policy: "allow-web", Rule: -1},
		},
	}, {
		name:   "no sidecar",
		reason: "without a sidecar no AuthorizationPolicy is enforced (§2.2); AUDIT and dry-run ones would not be anyway and are left out",
		edit: func(b *mesh.Builder, w *mesh.Workload) {
			w.Labels["sidecar.istio.io/inject"] = "false"
			d := ap("deny-dry", mesh.ActionDeny, legacy)
			d.DryRun = true
			b.AddAuthorizationPolicy(d)
			b.AddAuthorizationPolicy(ap("audit", mesh.ActionAudit, legacy))
			b.AddAuthorizationPolicy(ap("deny-legacy", mesh.ActionDeny, legacy))
		},
		want: []finding{
			{Port: 8080, Accepted: true, Kind: sim.FindingNotEnforced, Policy: "deny-legacy", Rule: -1},
			{Port: 9090, Accepted: true, Kind: sim.FindingNotEnforced, Policy: "deny-legacy", Rule: -1},
		},
		detail: []string{"the pod has no sidecar"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := &mesh.Builder{}
			b.AddNamespace(mesh.Namespace{Name: "bank", Labels: map[string]string{"istio-injection": "enabled"}})
			b.AddNamespace(mesh.Namespace{Name: "istio-system"})
			w := mesh.Workload{ID: vault, Kind: "Deployment", Labels: map[string]string{"app": "vault"},
				Ports: []mesh.ContainerPort{{Name: "tcp-app", Number: 8080}, {Name: "tcp-admin", Number: 9090}}}
			tc.edit(b, &w)
			b.AddWorkload(w)
			m, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			mx := sim.New(m).Matrix()
			xs := mx.Exposure(sim.Filter{})
			var got []finding
			var details []string
			for _, x := range xs {
				for _, f := range x.Findings {
					got = append(got, finding{Port: x.Port, Accepted: x.Accepted, Kind: f.Kind, Policy: f.Policy.Name, Rule: f.Rule})
					details = append(details, f.Detail)
					if f.Policy.Kind != "AuthorizationPolicy" || f.Policy.Namespace != "bank" || !f.Pos.IsValid() {
						t.Errorf("finding %+v: want an AuthorizationPolicy of bank with a position", f)
					}
				}
			}
			if d := gocmp.Diff(tc.want, got); d != "" {
				t.Errorf("%s: findings (-want +got):\n%s", tc.reason, d)
			}
			for _, p := range tc.detail {
				if len(details) == 0 || !strings.Contains(details[0], p) {
					t.Errorf("%s: first Detail %q does not say %q", tc.reason, details, p)
				}
			}
			if errs := mx.Errors(); len(errs) > 0 {
				t.Errorf("Errors() = %v", errs)
			}
		})
	}
}

// TestExposureFindingsAgreeWithProbes checks a finding's claim against the
// engine: where an ALLOW rule needing an identity is the only rule, the
// outside client's probe is denied; where a DENY rule is bypassed, a
// plaintext client of the named namespace without a sidecar gets in, and
// the same client with a sidecar (mTLS) is denied (T25, T27).
func TestExposureFindingsAgreeWithProbes(t *testing.T) {
	t.Parallel()
	b := &mesh.Builder{}
	b.AddNamespace(mesh.Namespace{Name: "bank", Labels: map[string]string{"istio-injection": "enabled"}})
	b.AddNamespace(mesh.Namespace{Name: "legacy"})
	b.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: "bank", Name: "vault"}, Kind: "Deployment", Labels: map[string]string{"app": "vault"},
		Ports: []mesh.ContainerPort{{Name: "tcp", Number: 8080}}})
	b.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: "bank", Name: "vault"}, Selector: map[string]string{"app": "vault"},
		Ports: []mesh.ServicePort{{Name: "tcp", Port: 8080}}})
	b.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: "legacy", Name: "batch"}, Kind: "Deployment"})
	b.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: "legacy", Name: "cron"}, Kind: "Deployment",
		Labels: map[string]string{"sidecar.istio.io/inject": "true"}})
	b.AddAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: mesh.Ref{Kind: "AuthorizationPolicy", Namespace: "bank", Name: "deny-legacy"},
		Action: mesh.ActionDeny, Rules: []mesh.AuthzRule{{From: []mesh.AuthzSource{{Namespaces: []string{"legacy"}}}}}})
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	s := sim.New(m)
	xs := s.Matrix().Exposure(sim.Filter{})
	if len(xs) != 1 || len(xs[0].Findings) != 1 || xs[0].Findings[0].Kind != sim.FindingDenyBypassed || !xs[0].Accepted {
		t.Fatalf("Exposure = %+v; want vault:8080 accepted with one %s finding", xs, sim.FindingDenyBypassed)
	}
	for _, tc := range []struct {
		from string
		want bool
	}{{"batch", true}, {"cron", false}} {
		v, err := s.Probe(sim.Probe{From: mesh.WorkloadID{Namespace: "legacy", Name: tc.from}, To: "vault.bank", Port: 8080})
		if err != nil || v.Default.Allowed != tc.want {
			t.Errorf("legacy/%s → vault.bank:8080 = %v, %v; want allowed %v (T27)", tc.from, v, err, tc.want)
		}
	}
}

// A DENY rule on the namespace of the caller does not stop plaintext
// (ISTIO-SECURITY-2021-003): the exposure of the port says so.
func ExampleMatrix_Exposure_findings() {
	b := &mesh.Builder{}
	b.AddNamespace(mesh.Namespace{Name: "bank", Labels: map[string]string{"istio-injection": "enabled"}})
	b.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: "bank", Name: "vault"}, Kind: "Deployment",
		Ports: []mesh.ContainerPort{{Name: "tcp", Number: 8080}}})
	b.AddAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: mesh.Ref{Kind: "AuthorizationPolicy", Namespace: "bank", Name: "deny-legacy"},
		Action: mesh.ActionDeny, Rules: []mesh.AuthzRule{{From: []mesh.AuthzSource{{Namespaces: []string{"legacy"}}}}}})
	m, err := b.Build()
	if err != nil {
		panic(err)
	}
	for _, x := range sim.New(m).Matrix().Exposure(sim.Filter{}) {
		for _, f := range x.Findings {
			fmt.Printf("%s:%d accepted=%v %s %s/%s rule %d\n", x.Workload, x.Port, x.Accepted, f.Kind, f.Policy.Namespace, f.Policy.Name, f.Rule)
		}
	}
	// Output:
	// bank/vault:8080 accepted=true deny-bypassed-by-plaintext bank/deny-legacy rule 0
}
