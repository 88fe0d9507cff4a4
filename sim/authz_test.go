package sim_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// The rows below are test cases T25–T34 of
// ../shared/semantics/mtls-authn-authz.md, and the DT5 rules no numbered
// case reaches, run end to end through Simulator.Probe. The topology is
// the one of tls_test.go plus ports: Service svc in namespace b maps port
// 80 (named "http") to container port 8080 and ports 9000 and 9001 (named
// "tcp-…") to themselves; the client a/c runs a sidecar as service account
// x, a/naked has no sidecar. Namespace b has a PERMISSIVE
// PeerAuthentication unless a row says otherwise.

// azTopo is a variant of that topology.
type azTopo struct {
	policies    []mesh.AuthorizationPolicy
	pas         []mesh.PeerAuthentication
	serverNaked bool
	clientIP    string // a/c's pod IP; "" unknown
	config      func(*mesh.Config)
}

func (tp azTopo) build(t testing.TB) *sim.Simulator {
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
	b.AddWorkload(mesh.Workload{ID: clientID, Kind: "Deployment", Labels: map[string]string{"app": "c"}, ServiceAccount: "x", IP: tp.clientIP})
	b.AddWorkload(mesh.Workload{ID: nakedID, Kind: "Deployment", Labels: map[string]string{"app": "naked", "sidecar.istio.io/inject": "false"}})
	server := mesh.Workload{ID: serverID, Kind: "Deployment", Labels: map[string]string{"app": "w"},
		Ports: []mesh.ContainerPort{{Number: 8080}, {Number: 9000}, {Number: 9001}}}
	if tp.serverNaked {
		server.Labels = map[string]string{"app": "w", "sidecar.istio.io/inject": "false"}
	}
	b.AddWorkload(server)
	b.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: "b", Name: "svc"}, Selector: appW,
		Ports: []mesh.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}, {Name: "tcp-a", Port: 9000}, {Name: "tcp-b", Port: 9001}}})
	pas := tp.pas
	if pas == nil {
		pas = []mesh.PeerAuthentication{peerAuth("b", "default", mesh.ModePermissive, nil)}
	}
	for _, p := range pas {
		b.AddPeerAuthentication(p)
	}
	for _, p := range tp.policies {
		b.AddAuthorizationPolicy(p)
	}
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return sim.New(m)
}

func azRef(ns, name string) mesh.Ref {
	return mesh.Ref{Kind: "AuthorizationPolicy", Namespace: ns, Name: name}
}

// policy is an AuthorizationPolicy in ns selecting app=w.
func policy(ns, name string, action mesh.AuthzAction, rules ...mesh.AuthzRule) mesh.AuthorizationPolicy {
	return mesh.AuthorizationPolicy{Ref: azRef(ns, name), Selector: appW, Action: action, Rules: rules,
		Created: epoch, Pos: mesh.Pos{File: "authz.yaml", Line: 1}}
}

func from(s mesh.AuthzSource) mesh.AuthzRule { return mesh.AuthzRule{From: []mesh.AuthzSource{s}} }

func to(o mesh.AuthzOperation) mesh.AuthzRule { return mesh.AuthzRule{To: []mesh.AuthzOperation{o}} }

func when(key string, vals ...string) mesh.AuthzRule {
	return mesh.AuthzRule{When: []mesh.AuthzCondition{{Key: key, Values: vals}}}
}

// azOutcome is what a Result says, with whether it is undecided.
type azOutcome struct {
	Allowed   bool
	Transport sim.Transport
	Undecided bool
}

var (
	azMTLS      = azOutcome{Allowed: true, Transport: sim.MTLS}
	azPlain     = azOutcome{Allowed: true, Transport: sim.Plaintext}
	azDeniedM   = azOutcome{Transport: sim.MTLS}
	azDeniedP   = azOutcome{Transport: sim.Plaintext}
	azUndecided = azOutcome{Transport: sim.MTLS, Undecided: true}
)

type azCase struct {
	name, reason string
	topo         azTopo
	probe        sim.Probe // From defaults to a/c, To to svc.b, Port to 80, Protocol to HTTP
	want         azOutcome
	// wantBy is the object the last authorization step of the Default
	// trace names (zero Ref: a built-in default); unchecked when nil.
	wantBy *mesh.Ref
	// wantDetail must occur in the Detail of some authorization step.
	wantDetail string
}

func refp(r mesh.Ref) *mesh.Ref { return &r }

func runAzCases(t *testing.T, tests []azCase) {
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
			if p.Protocol == sim.TCP && p.Port == 80 {
				p.Protocol = sim.HTTP
			}
			v, err := s.Probe(p)
			if err != nil {
				t.Fatal(err)
			}
			got := azOutcome{v.Default.Allowed, v.Default.Transport, v.Default.Undecided != ""}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("%s\nDefault (-want +got):\n%s\n%s", tc.reason, d, v.Explain())
			}
			var last *sim.Step
			var details []string
			for i, st := range v.Default.Steps {
				if st.Stage == sim.StageAuthorization {
					last = &v.Default.Steps[i]
					details = append(details, st.Detail)
				}
			}
			if tc.wantBy != nil {
				if last == nil {
					t.Errorf("%s\nno authorization step\n%s", tc.reason, v.Explain())
				} else if d := cmp.Diff(*tc.wantBy, last.By); d != "" {
					t.Errorf("%s\ndeciding object (-want +got):\n%s\n%s", tc.reason, d, v.Explain())
				}
			}
			if tc.wantDetail != "" && !strings.Contains(strings.Join(details, "\n"), tc.wantDetail) {
				t.Errorf("%s\nno authorization step says %q\n%s", tc.reason, tc.wantDetail, v.Explain())
			}
		})
	}
}

func TestAuthzCases(t *testing.T) {
	t.Parallel()
	naked := func(p sim.Probe) sim.Probe { p.From = nakedID; return p }
	allowNSA := policy("b", "allow-a", mesh.ActionAllow, from(mesh.AuthzSource{Namespaces: []string{"a"}}))
	denyNSA := policy("b", "deny-a", mesh.ActionDeny, from(mesh.AuthzSource{Namespaces: []string{"a"}}))
	denyPlain := policy("b", "deny-plaintext", mesh.ActionDeny, from(mesh.AuthzSource{NotPrincipals: []string{"*"}}))
	allowGet := policy("b", "allow-get", mesh.ActionAllow, to(mesh.AuthzOperation{Methods: []string{"GET"}}))
	denyPost9000 := policy("b", "deny-post", mesh.ActionDeny, to(mesh.AuthzOperation{Methods: []string{"POST"}, Ports: []string{"9000"}}))
	allowNothing := mesh.AuthorizationPolicy{Ref: azRef("b", "allow-nothing"), Created: epoch}
	allowAll := mesh.AuthorizationPolicy{Ref: azRef("b", "allow-all"), Rules: []mesh.AuthzRule{{}}, Created: epoch}
	allowPort := func(p string) mesh.AuthorizationPolicy {
		return policy("b", "allow-port", mesh.ActionAllow, to(mesh.AuthzOperation{Ports: []string{p}}))
	}
	targetRefs := allowNothing
	targetRefs.Ref.Name = "waypoint-only"
	targetRefs.TargetRefs = []mesh.PolicyTargetRef{{Kind: "Service", Name: "svc"}}
	allowPrincipal := func(p string) mesh.AuthorizationPolicy {
		return policy("b", "allow-x", mesh.ActionAllow, from(mesh.AuthzSource{Principals: []string{p}}))
	}
	tdNew := func(aliases ...string) func(*mesh.Config) {
		return func(c *mesh.Config) { c.TrustDomain, c.TrustDomainAliases = "td-new", aliases }
	}
	tcp9000 := sim.Probe{Port: 9000, Protocol: sim.TCP}
	tests := []azCase{
		{name: "T25", reason: "T25: ALLOW namespaces [a]; a plaintext client in a is accepted by PERMISSIVE, then denied (no peer identity)",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowNSA}}, probe: naked(sim.Probe{}), want: azDeniedP,
			wantBy: refp(azRef("b", "allow-a")), wantDetail: "a plaintext connection has no peer certificate"},
		{name: "T26", reason: "T26: same with a sidecar client: auto mTLS carries spiffe://cluster.local/ns/a/sa/x",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowNSA}}, want: azMTLS,
			wantBy: refp(azRef("b", "allow-a")), wantDetail: "spiffe://cluster.local/ns/a/sa/x"},
		{name: "T27", reason: "T27 (ISTIO-SECURITY-2021-003): DENY namespaces [a] never matches plaintext: the client in a gets through",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{denyNSA}}, probe: naked(sim.Probe{}), want: azPlain,
			wantDetail: "a plaintext connection has no peer certificate"},
		{name: "T27/sidecar", reason: "T27 control: over mTLS the same DENY matches",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{denyNSA}}, want: azDeniedM, wantBy: refp(azRef("b", "deny-a"))},
		{name: "T28/plaintext", reason: "T28: DENY notPrincipals [*] denies plaintext",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{denyPlain}}, probe: naked(sim.Probe{}), want: azDeniedP,
			wantBy: refp(azRef("b", "deny-plaintext"))},
		{name: "T28/mtls", reason: "T28: … and lets mTLS through",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{denyPlain}}, want: azMTLS},
		{name: "T29/tcp", reason: "T29: the only ALLOW rule uses methods (HTTP only): it is left out of TCP chains, so TCP to 9000 is denied",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowGet}}, probe: tcp9000, want: azDeniedM,
			wantDetail: "operation.methods is HTTP only, so the rule is left out of this TCP filter chain"},
		{name: "T29/http-get", reason: "T29: HTTP GET on the HTTP port is allowed",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowGet}}, want: azMTLS, wantBy: refp(azRef("b", "allow-get"))},
		{name: "T29/http-post", reason: "T29: HTTP POST is not",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowGet}}, probe: sim.Probe{Method: "POST"}, want: azDeniedM},
		{name: "T30/tcp-9000", reason: "T30: DENY POST on port 9000 loses its method on TCP chains: every TCP connection to 9000 is denied",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{denyPost9000}}, probe: tcp9000, want: azDeniedM,
			wantBy: refp(azRef("b", "deny-post")), wantDetail: "operation.methods left out on this TCP filter chain"},
		{name: "T30/tcp-9001", reason: "T30: other ports are unaffected",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{denyPost9000}}, probe: sim.Probe{Port: 9001, Protocol: sim.TCP}, want: azMTLS},
		{name: "T30/http-post-8080", reason: "T30: an HTTP POST to 8080 does not match ports [9000]",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{denyPost9000}}, probe: sim.Probe{Method: "POST"}, want: azMTLS},
		{name: "T31/allow-nothing", reason: "T31: spec: {} in b is allow-nothing: denied",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowNothing}}, want: azDeniedM, wantBy: refp(azRef("b", "allow-nothing")),
			wantDetail: "never matches"},
		{name: "T31/allow-nothing-plaintext", reason: "T31: plaintext too",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowNothing}}, probe: naked(tcp9000), want: azDeniedP},
		{name: "T31/allow-all", reason: "T31: rules: [{}] matches everything: allowed",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowAll}}, probe: naked(sim.Probe{}), want: azPlain, wantBy: refp(azRef("b", "allow-all"))},
		{name: "T32", reason: "T32: ALLOW ports [80] (the Service port) never matches: the port is the container port 8080",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowPort("80")}}, want: azDeniedM, wantDetail: "container port 8080"},
		{name: "T32/control", reason: "T32 control: ports [8080] matches",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowPort("8080")}}, want: azMTLS},
		{name: "T33", reason: "T33: a policy with targetRefs is ignored by sidecars: allowed",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{targetRefs}}, want: azMTLS,
			wantDetail: "ignored: it has targetRefs (Service svc)"},
		{name: "T34", reason: "T34: trust domain td-new with alias cluster.local; principal cluster.local/ns/a/sa/x is expanded to td-new",
			topo: azTopo{config: tdNew("cluster.local"), policies: []mesh.AuthorizationPolicy{allowPrincipal("cluster.local/ns/a/sa/x")}}, want: azMTLS,
			wantDetail: "spiffe://td-new/ns/a/sa/x"},
		{name: "T34/cluster-local-without-alias", reason: "bundle.go: cluster.local always points to the local trust domain, alias or not",
			topo: azTopo{config: tdNew(), policies: []mesh.AuthorizationPolicy{allowPrincipal("cluster.local/ns/a/sa/x")}}, want: azMTLS},
		{name: "T34/foreign-domain", reason: "bundle.go: a trust domain outside the bundle stays as written and does not match",
			topo: azTopo{config: tdNew("cluster.local"), policies: []mesh.AuthorizationPolicy{allowPrincipal("other/ns/a/sa/x")}}, want: azDeniedM},
		{name: "T34/alias-principal", reason: "bundle.go: a principal in an alias domain is expanded to the mesh trust domain",
			topo: azTopo{config: tdNew("old-td"), policies: []mesh.AuthorizationPolicy{allowPrincipal("old-td/ns/a/sa/x")}}, want: azMTLS},
		{name: "T34/wrong-sa", reason: "T34 control: another service account does not match",
			topo: azTopo{config: tdNew("cluster.local"), policies: []mesh.AuthorizationPolicy{allowPrincipal("cluster.local/ns/a/sa/y")}}, want: azDeniedM},
	}
	runAzCases(t, tests)
}

// TestAuthzRules covers the DT5 and §5 rules no numbered case reaches:
// scope, evaluation order, dry-run and AUDIT, CUSTOM, attributes meshreach
// does not know (undecided), and each kind of condition.
func TestAuthzRules(t *testing.T) {
	t.Parallel()
	naked := func(p sim.Probe) sim.Probe { p.From = nakedID; return p }
	tcp9000 := sim.Probe{Port: 9000, Protocol: sim.TCP}
	allowNothingIn := func(ns string, sel map[string]string) mesh.AuthorizationPolicy {
		return mesh.AuthorizationPolicy{Ref: azRef(ns, "allow-nothing"), Selector: sel, Created: epoch}
	}
	dryRun := func(p mesh.AuthorizationPolicy) mesh.AuthorizationPolicy { p.DryRun = true; return p }
	custom := policy("b", "ext-authz", mesh.ActionCustom, to(mesh.AuthzOperation{Paths: []string{"/admin*"}}))
	custom.Provider = "opa"
	denyAll := policy("b", "deny-all", mesh.ActionDeny, mesh.AuthzRule{})
	allowAll := policy("b", "allow-all", mesh.ActionAllow, mesh.AuthzRule{})
	src := func(name string, s mesh.AuthzSource) mesh.AuthorizationPolicy {
		return policy("b", name, mesh.ActionAllow, from(s))
	}
	op := func(name string, o mesh.AuthzOperation) mesh.AuthorizationPolicy {
		return policy("b", name, mesh.ActionAllow, to(o))
	}
	tests := []azCase{
		// Scope (§5.1).
		{name: "no-policy", reason: "no AuthorizationPolicy: no authorization step, allowed",
			want: azMTLS},
		{name: "root-selector-applies-mesh-wide", reason: "authorization.go ListAuthorizationPolicies: a selector policy in the root namespace applies in every namespace (unlike PeerAuthentication)",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowNothingIn("istio-system", appW)}}, want: azDeniedM,
			wantBy: refp(azRef("istio-system", "allow-nothing"))},
		{name: "root-namespace-wide", reason: "a selector-less policy in the root namespace applies to the whole mesh",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowNothingIn("istio-system", nil)}}, want: azDeniedM},
		{name: "other-namespace", reason: "a policy in a namespace other than the root and the server's does not apply",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowNothingIn("a", nil)}}, want: azMTLS},
		{name: "selector-mismatch", reason: "policyattachment.go isSelected: a selector the pod's labels do not satisfy",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowNothingIn("b", map[string]string{"app": "other"})}}, want: azMTLS,
			wantBy: refp(mesh.Ref{}), wantDetail: "no AuthorizationPolicy applies to the pod"},
		{name: "empty-selector", reason: "isSelected: an empty matchLabels is a subset of every label set",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowNothingIn("b", map[string]string{})}}, want: azDeniedM},
		{name: "no-sidecar", reason: "§2.2: without a sidecar nothing enforces the policy; the trace says so",
			topo: azTopo{serverNaked: true, policies: []mesh.AuthorizationPolicy{allowNothingIn("b", nil)}}, want: azPlain,
			wantDetail: "selects the pod, but the pod has no sidecar: nothing enforces it"},

		// Order and actions (§5.2).
		{name: "deny-before-allow", reason: "builder.go build: a matching DENY wins over a matching ALLOW",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{allowAll, denyAll}}, want: azDeniedM, wantBy: refp(azRef("b", "deny-all"))},
		{name: "dry-run-deny", reason: "builder.go isDryRun: a dry-run DENY is a shadow rule and never denies",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{dryRun(denyAll)}}, want: azMTLS, wantDetail: "dry-run"},
		{name: "dry-run-allow-nothing", reason: "a dry-run ALLOW leaves no enforced ALLOW policy: allowed",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{dryRun(allowNothingIn("b", nil))}}, want: azMTLS},
		{name: "audit", reason: "AUDIT never changes the decision",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{policy("b", "audit", mesh.ActionAudit, mesh.AuthzRule{})}}, want: azMTLS,
			wantDetail: "AUDIT only marks"},
		{name: "custom-match", reason: "DT5 step 1: a matching CUSTOM rule leaves the decision to the ext_authz provider: undecided",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{custom}}, probe: sim.Probe{Path: "/admin/users"}, want: azUndecided,
			wantBy: refp(azRef("b", "ext-authz"))},
		{name: "custom-no-match", reason: "a CUSTOM rule that does not match does not call the provider",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{custom}}, probe: sim.Probe{Path: "/public"}, want: azMTLS},
		{name: "custom-then-deny", reason: "whatever the provider answers, a matching DENY denies",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{custom, denyAll}}, probe: sim.Probe{Path: "/admin"}, want: azDeniedM},
		{name: "custom-then-allow-nothing", reason: "… and so does an ALLOW set that matches nothing",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{custom, allowNothingIn("b", nil)}}, probe: sim.Probe{Path: "/admin"}, want: azDeniedM},
		{name: "custom-tcp-broadened", reason: "builder.go: CUSTOM rules are built as DENY, so on TCP the HTTP-only paths are left out and the rule matches every connection",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{custom}}, probe: tcp9000, want: azUndecided},

		// HTTP-only fields on TCP chains (§5.3).
		{name: "allow-request-principals-tcp", reason: "model.go checkError: an ALLOW rule with requestPrincipals is left out on TCP",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{src("jwt", mesh.AuthzSource{RequestPrincipals: []string{"*"}})}}, probe: tcp9000, want: azDeniedM},
		{name: "allow-request-principals-http", reason: "on HTTP the rule depends on JWT claims, which are not modelled: undecided",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{src("jwt", mesh.AuthzSource{RequestPrincipals: []string{"*"}})}}, want: azUndecided,
			wantDetail: "JWT claims"},
		{name: "deny-hosts-tcp", reason: "#24845: a DENY rule with only hosts denies every TCP connection",
			topo:  azTopo{policies: []mesh.AuthorizationPolicy{policy("b", "deny-host", mesh.ActionDeny, to(mesh.AuthzOperation{Hosts: []string{"admin.example.com"}}))}},
			probe: tcp9000, want: azDeniedM},
		{name: "deny-hosts-http", reason: "… while on HTTP it compares the Host header",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{policy("b", "deny-host", mesh.ActionDeny, to(mesh.AuthzOperation{Hosts: []string{"admin.example.com"}}))}},
			want: azMTLS},
		{name: "raw-tcp-on-http-port", reason: "on an HTTP chain a client that does not speak HTTP has no request attributes: undecided",
			topo:  azTopo{policies: []mesh.AuthorizationPolicy{op("get", mesh.AuthzOperation{Methods: []string{"GET"}})}},
			probe: sim.Probe{Protocol: sim.HTTPS}, want: azUndecided},

		// Peer identity.
		{name: "service-accounts", reason: "generator.go serviceAccountRegex: a bare name is in the policy's namespace",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{src("sa", mesh.AuthzSource{ServiceAccounts: []string{"x"}})}}, want: azDeniedM},
		{name: "service-accounts-ns", reason: "ns/sa names the client's namespace",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{src("sa", mesh.AuthzSource{ServiceAccounts: []string{"a/x"}})}}, want: azMTLS},
		{name: "trust-domains", reason: "srcTrustDomainGenerator: trust domain prefix of the peer URI",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{src("td", mesh.AuthzSource{TrustDomains: []string{"cluster.*"}})}}, want: azMTLS},
		{name: "trust-domains-alias", reason: "ExpandTrustDomainAliases: an alias stands for the mesh trust domain",
			topo: azTopo{config: func(c *mesh.Config) { c.TrustDomain, c.TrustDomainAliases = "td-new", []string{"old"} },
				policies: []mesh.AuthorizationPolicy{src("td", mesh.AuthzSource{TrustDomains: []string{"old"}})}}, want: azMTLS},
		{name: "principal-suffix", reason: "StringMatcherWithPrefix: *suffix matches the end of the URI",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{src("p", mesh.AuthzSource{Principals: []string{"*/sa/x"}})}}, want: azMTLS},
		{name: "namespace-wildcard", reason: "srcNamespaceGenerator: * in a namespace is .*",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{src("ns", mesh.AuthzSource{Namespaces: []string{"*"}})}}, want: azMTLS},
		{name: "not-namespaces-plaintext", reason: "§5.3: a not* identity field holds for plaintext",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{src("notns", mesh.AuthzSource{NotNamespaces: []string{"a"}})}}, probe: naked(sim.Probe{}), want: azPlain},

		// Addresses.
		{name: "ip-unknown", reason: "ipBlocks need the client's pod IP; without it the outcome is undecided",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{src("ip", mesh.AuthzSource{IPBlocks: []string{"10.0.0.0/8"}})}}, want: azUndecided,
			wantDetail: "the client's pod IP is not in the manifests"},
		{name: "ip-known-in", reason: "direct_remote_ip in the block",
			topo: azTopo{clientIP: "10.1.2.3", policies: []mesh.AuthorizationPolicy{src("ip", mesh.AuthzSource{IPBlocks: []string{"10.0.0.0/8"}})}}, want: azMTLS},
		{name: "ip-known-out", reason: "direct_remote_ip outside the block",
			topo: azTopo{clientIP: "192.168.0.1", policies: []mesh.AuthorizationPolicy{src("ip", mesh.AuthzSource{IPBlocks: []string{"10.0.0.0/8"}})}}, want: azDeniedM},
		{name: "remote-ip-xff", reason: "remote.ip on HTTP comes from X-Forwarded-For: undecided when the request has one",
			topo:  azTopo{clientIP: "10.1.2.3", policies: []mesh.AuthorizationPolicy{src("rip", mesh.AuthzSource{RemoteIPBlocks: []string{"10.0.0.0/8"}})}},
			probe: sim.Probe{Headers: map[string]string{"X-Forwarded-For": "1.2.3.4"}}, want: azUndecided},
		{name: "ip-unknown-but-decided", reason: "three-valued logic: an unknown IP does not matter when another field already fails",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{src("ip", mesh.AuthzSource{IPBlocks: []string{"10.0.0.0/8"}, Namespaces: []string{"b"}})}}, want: azDeniedM},

		// Request attributes (HTTP chains).
		{name: "path-template", reason: "Envoy URI template {*} matches one segment",
			topo:  azTopo{policies: []mesh.AuthorizationPolicy{op("p", mesh.AuthzOperation{Paths: []string{"/api/{*}/items"}})}},
			probe: sim.Probe{Path: "/api/v1/items?page=2"}, want: azMTLS},
		{name: "path-template-two-segments", reason: "… and not two",
			topo:  azTopo{policies: []mesh.AuthorizationPolicy{op("p", mesh.AuthzOperation{Paths: []string{"/api/{*}/items"}})}},
			probe: sim.Probe{Path: "/api/v1/x/items"}, want: azDeniedM},
		{name: "path-prefix", reason: "StringMatcher: x* is a prefix",
			topo:  azTopo{policies: []mesh.AuthorizationPolicy{op("p", mesh.AuthzOperation{Paths: []string{"/static*"}})}},
			probe: sim.Probe{Path: "/static/app.js"}, want: azMTLS},
		{name: "host-default", reason: "the Host header is the dialled name, with the port when it is not 80; HostMatcher ignores case",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{op("h", mesh.AuthzOperation{Hosts: []string{"SVC.B"}})}}, want: azMTLS},
		{name: "header", reason: "request.headers[x-user] is matched on the header, names case-insensitively",
			topo:  azTopo{policies: []mesh.AuthorizationPolicy{policy("b", "hdr", mesh.ActionAllow, when("request.headers[x-user]", "alice"))}},
			probe: sim.Probe{Headers: map[string]string{"X-User": "alice"}}, want: azMTLS},
		{name: "header-absent", reason: "HeaderMatcher: an absent header matches nothing",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{policy("b", "hdr", mesh.ActionAllow, when("request.headers[x-user]", "*"))}},
			want: azDeniedM},
		{name: "grpc-method", reason: "gRPC requests are POST",
			topo:  azTopo{policies: []mesh.AuthorizationPolicy{op("m", mesh.AuthzOperation{Methods: []string{"POST"}})}},
			probe: sim.Probe{Protocol: sim.GRPC}, want: azMTLS},
		{name: "when-destination-port", reason: "when destination.port is the container port",
			topo:  azTopo{policies: []mesh.AuthorizationPolicy{policy("b", "port", mesh.ActionAllow, when("destination.port", "9000"))}},
			probe: tcp9000, want: azMTLS},
		{name: "when-sni-plaintext", reason: "a plaintext connection has an empty server name: connection.sni never matches",
			topo:  azTopo{policies: []mesh.AuthorizationPolicy{policy("b", "sni", mesh.ActionAllow, when("connection.sni", "*"))}},
			probe: naked(tcp9000), want: azDeniedP},
		{name: "deny-bad-header-key", reason: "checkError: a DENY condition whose generator fails is left out, so the rule matches more",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{policy("b", "bad", mesh.ActionDeny, when("request.headers", "x"))}},
			want: azDeniedM},
		{name: "allow-bad-header-key", reason: "checkError: an ALLOW rule whose generator fails is left out",
			topo:  azTopo{policies: []mesh.AuthorizationPolicy{policy("b", "bad", mesh.ActionAllow, when("request.headers", "x"))}},
			probe: sim.Probe{Headers: map[string]string{"x": "x"}}, want: azDeniedM},
		{name: "unknown-when-key", reason: "model.New: an unknown when key makes istiod skip the rule",
			topo: azTopo{policies: []mesh.AuthorizationPolicy{policy("b", "bad", mesh.ActionAllow, when("destination.labels[app]", "w"))}},
			want: azDeniedM},
	}
	runAzCases(t, tests)
}

// TestAuthzProbeValidation: request fields belong to HTTP probes and are
// checked before anything else.
func TestAuthzProbeValidation(t *testing.T) {
	t.Parallel()
	s := azTopo{}.build(t)
	for _, tc := range []struct {
		name, reason string
		probe        sim.Probe
		want         string
	}{
		{"tcp-method", "a method needs HTTP", sim.Probe{Method: "GET"},
			"sim: method, path and headers need an HTTP protocol (http, http2 or grpc), not tcp"},
		{"bad-method", "a method is a token", sim.Probe{Protocol: sim.HTTP, Method: "GE T"}, `sim: invalid method "GE T"`},
		{"relative-path", "a path is absolute", sim.Probe{Protocol: sim.HTTP, Path: "x"}, `sim: invalid path "x" (want an absolute path, starting with /)`},
		{"header-twice", "header names are case-insensitive", sim.Probe{Protocol: sim.HTTP, Headers: map[string]string{"X-A": "1", "x-a": "2"}},
			`sim: header "x-a" given twice (as "X-A" and "x-a")`},
		{"header-newline", "no line breaks in values", sim.Probe{Protocol: sim.HTTP, Headers: map[string]string{"x": "a\nb"}},
			`sim: invalid value for header "x": it contains a line break or NUL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.probe
			p.From, p.To, p.Port = clientID, "svc.b", 80
			_, err := s.Probe(p)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("%s: error %q, want %q", tc.reason, got, tc.want)
			}
		})
	}
}
