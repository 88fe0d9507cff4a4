package expect_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/expect"
)

// shopMesh is the default install with one injected namespace (shop: web
// calls cart on 8080) and one namespace without injection (legacy: batch).
// No PeerAuthentication: every sidecar is PERMISSIVE.
func shopMesh(t *testing.T) *sim.Simulator {
	t.Helper()
	var b mesh.Builder
	b.AddNamespace(mesh.Namespace{Name: "shop", Labels: map[string]string{"istio-injection": "enabled"}})
	b.AddNamespace(mesh.Namespace{Name: "legacy"})
	b.AddWorkload(mesh.Workload{ID: wid("shop", "web"), Kind: "Deployment", Labels: map[string]string{"app": "web"}})
	b.AddWorkload(mesh.Workload{ID: wid("shop", "cart"), Kind: "Deployment", Labels: map[string]string{"app": "cart"},
		Ports: []mesh.ContainerPort{{Name: "http", Number: 8080, Protocol: "TCP"}}})
	b.AddWorkload(mesh.Workload{ID: wid("legacy", "batch"), Kind: "Deployment", Labels: map[string]string{"app": "batch"}})
	b.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: "shop", Name: "cart"},
		Selector: map[string]string{"app": "cart"},
		Ports:    []mesh.ServicePort{{Name: "http", Port: 8080, Protocol: "TCP"}}})
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return sim.New(m)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	s := shopMesh(t)
	exps, err := expect.Parse("expect.yaml", []byte(`
- {from: shop/web, to: cart, port: 8080, protocol: http, expect: allow, transport: mtls}
- {from: shop/web, to: cart, port: 8080, protocol: http, expect: allow}
- {from: legacy/batch, to: cart.shop, port: 8080, protocol: http, expect: allow, transport: mtls}
- {from: legacy/batch, to: cart.shop, port: 8080, protocol: http, expect: deny}
- {from: legacy/batch, to: cart.shop.svc.cluster.local, port: 8080, expect: allow, transport: plaintext}
- {from: shop/ghost, to: cart, port: 8080, expect: allow}
`))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Index  int
		Pass   bool
		Reason string
		Err    string
	}
	// Outcomes from mtls-authn-authz.md: T1 (sidecar to PERMISSIVE sidecar,
	// auto mTLS: mTLS) and T2 (no sidecar to PERMISSIVE sidecar: plaintext).
	want := []row{
		{1, true, "got allow mtls, as expected", ""},
		{2, true, "got allow mtls, as expected", ""},
		{3, false, "expected allow mtls, got allow plaintext", ""},
		{4, false, "expected deny, got allow plaintext", ""},
		{5, true, "got allow plaintext, as expected", ""},
		{6, false, "probe error: sim: unknown client workload shop/ghost", "expect.yaml:7: expectation 6: sim: unknown client workload shop/ghost"},
	}
	r := expect.Check(s, exps)
	var got []row
	for _, res := range r.Results {
		g := row{Index: res.Expectation.Index, Pass: res.Pass, Reason: res.Reason}
		if res.Err != nil {
			g.Err = res.Err.Error()
		}
		got = append(got, g)
		if d := cmp.Diff(res.Expectation.Probe, res.Verdict.Probe); res.Err == nil && d != "" {
			t.Errorf("expectation %d: the verdict is for another probe (-want +got):\n%s", res.Expectation.Index, d)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Check mismatch (-want +got):\n%s", d)
	}
	if r.Passed != 3 || r.Failed != 3 || r.OK() {
		t.Errorf("Passed, Failed, OK = %d, %d, %v; want 3, 3, false", r.Passed, r.Failed, r.OK())
	}
	if got, want := r.Summary(), "3 passed, 3 failed"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	errs := r.Errors()
	if len(errs) != 1 || !errors.Is(r.Results[5].Err, errs[0]) {
		t.Errorf("Errors() = %v, want the one probe error", errs)
	}
	errText := cmp.Comparer(func(a, b error) bool { return (a == nil) == (b == nil) && (a == nil || a.Error() == b.Error()) })
	if d := cmp.Diff(r, expect.Check(s, exps), errText); d != "" {
		t.Errorf("Check is not deterministic (-first +second):\n%s", d)
	}
}

func TestCheckEmpty(t *testing.T) {
	t.Parallel()
	r := expect.Check(shopMesh(t), nil)
	if !r.OK() || r.Summary() != "0 passed, 0 failed" || r.Results != nil {
		t.Errorf("Check(nil) = %+v, want an empty, passing report", r)
	}
}

// TestCheckUndecided: an outcome that depends on something meshreach does
// not model (here a CUSTOM policy's ext_authz provider) passes only
// "expect: undecided", and a failing reason says why it is undecided.
func TestCheckUndecided(t *testing.T) {
	t.Parallel()
	var b mesh.Builder
	b.AddNamespace(mesh.Namespace{Name: "shop", Labels: map[string]string{"istio-injection": "enabled"}})
	b.AddWorkload(mesh.Workload{ID: wid("shop", "web"), Kind: "Deployment", Labels: map[string]string{"app": "web"}})
	b.AddWorkload(mesh.Workload{ID: wid("shop", "cart"), Kind: "Deployment", Labels: map[string]string{"app": "cart"},
		Ports: []mesh.ContainerPort{{Name: "http", Number: 8080}}})
	b.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: "shop", Name: "cart"},
		Selector: map[string]string{"app": "cart"}, Ports: []mesh.ServicePort{{Name: "http", Port: 8080}}})
	b.AddAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: mesh.Ref{Kind: "AuthorizationPolicy", Namespace: "shop", Name: "ext"},
		Action: mesh.ActionCustom, Provider: "opa",
		Rules: []mesh.AuthzRule{{To: []mesh.AuthzOperation{{Paths: []string{"/admin*"}}}}}})
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	exps, err := expect.Parse("expect.yaml", []byte(`
- {from: shop/web, to: cart, port: 8080, protocol: http, path: /admin, expect: undecided}
- {from: shop/web, to: cart, port: 8080, protocol: http, path: /admin, expect: allow}
- {from: shop/web, to: cart, port: 8080, protocol: http, path: /admin, expect: deny}
- {from: shop/web, to: cart, port: 8080, protocol: http, path: /shop, expect: undecided}
`))
	if err != nil {
		t.Fatal(err)
	}
	undecided := `undecided (CUSTOM rule 0 of ext matches (operation.paths ["/admin*"] hold: the path is "/admin"), so the ext_authz provider "opa" decides, and its answer is not modelled)`
	want := []string{
		"got " + undecided + ", as expected",
		"expected allow, got " + undecided,
		"expected deny, got " + undecided,
		"expected undecided, got allow mtls",
	}
	var got []string
	for _, res := range expect.Check(sim.New(m), exps).Results {
		got = append(got, res.Reason)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("reasons (-want +got):\n%s", d)
	}
}
