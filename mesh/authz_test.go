package mesh_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/mesh"
)

// TestIdentity pins the SPIFFE identity of a workload
// (pkg/spiffe/spiffe.go genSpiffeURI, mtls-authn-authz.md §6).
func TestIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		td, ns, sa   string
		want         string
	}{
		{"named", "spiffe://<trust domain>/ns/<namespace>/sa/<service account>", "cluster.local", "shop", "web",
			"spiffe://cluster.local/ns/shop/sa/web"},
		{"default-sa", "a pod that names no service account runs as default", "cluster.local", "shop", "",
			"spiffe://cluster.local/ns/shop/sa/default"},
		{"at-sign", "sanitizeTrustDomain replaces @ with .", "td@corp", "a", "b", "spiffe://td.corp/ns/a/sa/b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := mesh.Workload{ID: mesh.WorkloadID{Namespace: tc.ns, Name: "w"}, ServiceAccount: tc.sa}
			if got := w.Identity(tc.td); got != tc.want {
				t.Errorf("%s: Identity(%q) = %q, want %q", tc.reason, tc.td, got, tc.want)
			}
			if got := mesh.SPIFFEID(tc.td, tc.ns, tc.sa); got != tc.want {
				t.Errorf("%s: SPIFFEID = %q, want %q", tc.reason, got, tc.want)
			}
		})
	}
}

// TestAuthorizationPolicyBuilder: policies are sorted, duplicates are
// errors, and Edit and Remove treat them like the other kinds.
func TestAuthorizationPolicyBuilder(t *testing.T) {
	t.Parallel()
	ref := func(ns, name string) mesh.Ref {
		return mesh.Ref{Kind: "AuthorizationPolicy", Namespace: ns, Name: name}
	}
	var b mesh.Builder
	b.AddAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: ref("b", "z")})
	b.AddAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: ref("a", "y"), Action: mesh.ActionDeny, Rules: []mesh.AuthzRule{{}}})
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	names := func(m *mesh.Mesh) []mesh.Ref {
		var out []mesh.Ref
		for _, p := range m.AuthorizationPolicies() {
			out = append(out, p.Ref)
		}
		return out
	}
	if d := cmp.Diff([]mesh.Ref{ref("a", "y"), ref("b", "z")}, names(m)); d != "" {
		t.Errorf("AuthorizationPolicies() not sorted by namespace and name (-want +got):\n%s", d)
	}
	e := m.Edit()
	if !e.Remove(ref("a", "y")) {
		t.Errorf("Remove found no policy a/y")
	}
	e.AddAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: ref("b", "z")})
	if _, err := e.Build(); err == nil || err.Error() != "AuthorizationPolicy b/z: duplicate object: AuthorizationPolicy already declared at an earlier object" {
		t.Errorf("a duplicate policy: error %v", err)
	}
	if d := cmp.Diff([]mesh.Ref{ref("a", "y"), ref("b", "z")}, names(m)); d != "" {
		t.Errorf("Edit changed the original mesh (-want +got):\n%s", d)
	}
	if got := mesh.ActionCustom.String(); got != "CUSTOM" {
		t.Errorf("ActionCustom.String() = %q", got)
	}
}
