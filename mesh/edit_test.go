package mesh_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/mesh"
)

const editBase = "testdata/edit/base.yaml"

func loadEditBase(t *testing.T) *mesh.Mesh {
	t.Helper()
	m, err := mesh.Load(editBase)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// snapshot is every accessor's answer, for comparing meshes.
type snapshot struct {
	Config     mesh.Config
	Namespaces []mesh.Namespace
	Workloads  []mesh.Workload
	Services   []mesh.Service
	Entries    []mesh.ServiceEntry
	Sidecars   []mesh.Sidecar
	PeerAuths  []mesh.PeerAuthentication
	DestRules  []mesh.DestinationRule
	Authz      []mesh.AuthorizationPolicy
	Warnings   []string
}

func snap(m *mesh.Mesh) snapshot {
	s := snapshot{Config: m.Config(), Namespaces: m.Namespaces(), Workloads: m.Workloads(), Services: m.Services(),
		Entries: m.ServiceEntries(), Sidecars: m.Sidecars(), PeerAuths: m.PeerAuthentications(),
		DestRules: m.DestinationRules(), Authz: m.AuthorizationPolicies()}
	for _, w := range m.Warnings() {
		s.Warnings = append(s.Warnings, w.Error())
	}
	return s
}

// TestEditLeavesBase edits a copy of a mesh in every way a Builder offers
// and checks that the mesh it came from answers exactly as a fresh load of
// the same file: edits copy the label maps and slices they change.
func TestEditLeavesBase(t *testing.T) {
	t.Parallel()
	base := loadEditBase(t)
	want := snap(loadEditBase(t))

	b := base.Edit()
	b.SetNamespaceLabel("shop", "istio-injection", "disabled")
	b.DeleteNamespaceLabel("shop", "istio-injection")
	b.SetNamespaceLabel("legacy", "istio-injection", "enabled")
	b.SetWorkloadLabel(mesh.WorkloadID{Namespace: "shop", Name: "web"}, "sidecar.istio.io/inject", "false")
	b.DeleteWorkloadLabel(mesh.WorkloadID{Namespace: "shop", Name: "web"}, "app")
	b.UpdateConfig(func(c *mesh.Config) {
		c.Outbound = mesh.OutboundRegistryOnly
		c.DefaultServiceExportTo = append(c.DefaultServiceExportTo[:0], ".")
		c.Injection.Revisions[0] = "canary"
	})
	b.SetPeerAuthentication(mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: "shop", Name: "default"}, Mode: mesh.ModeStrict})
	b.Remove(mesh.Ref{Kind: "Service", Namespace: "shop", Name: "web"})
	if err := b.ApplyPatch("patch.yaml", []byte(patchStrictAndDelete)); err != nil {
		t.Fatal(err)
	}
	edited, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, snap(base)); d != "" {
		t.Errorf("the base mesh changed (-fresh load +base after edits):\n%s", d)
	}
	if cmp.Equal(snap(edited), want) {
		t.Errorf("the edited mesh equals the base: the edits did nothing")
	}
}

const patchStrictAndDelete = `apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: shop
spec:
  mtls:
    mode: STRICT
---
apiVersion: meshreach.io/v1
kind: Delete
objects:
- kind: Deployment
  namespace: legacy
  name: cron
`

func TestLabelEdits(t *testing.T) {
	t.Parallel()
	base := loadEditBase(t)
	web := mesh.WorkloadID{Namespace: "shop", Name: "web"}
	b := base.Edit()
	b.SetNamespaceLabel("legacy", "istio-injection", "enabled")
	b.SetNamespaceLabel("new", "team", "x") // declares the namespace
	if !b.SetWorkloadLabel(web, "version", "v2") {
		t.Errorf("SetWorkloadLabel(%s) = false, want true", web)
	}
	if b.SetWorkloadLabel(mesh.WorkloadID{Namespace: "shop", Name: "nope"}, "a", "b") {
		t.Errorf("SetWorkloadLabel on a missing workload = true, want false")
	}
	if !b.DeleteNamespaceLabel("shop", "istio-injection") || b.DeleteNamespaceLabel("shop", "istio-injection") {
		t.Errorf("DeleteNamespaceLabel: want true once, then false")
	}
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, n := range m.Namespaces() {
		got[n.Name] = n.Labels
	}
	w, _ := m.Workload(web)
	got["workload "+web.String()] = w.Labels
	want := map[string]map[string]string{
		"legacy":            {"istio-injection": "enabled"},
		"new":               {"team": "x"},
		"shop":              {},
		"workload shop/web": {"app": "web", "version": "v2"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("labels (-want +got):\n%s", d)
	}
}

func refsOf(m *mesh.Mesh) []string {
	var out []string
	for _, n := range m.Namespaces() {
		out = append(out, "Namespace "+n.Name)
	}
	for _, w := range m.Workloads() {
		out = append(out, w.Ref().String())
	}
	for _, x := range m.Services() {
		out = append(out, x.Ref.String())
	}
	for _, x := range m.PeerAuthentications() {
		out = append(out, x.Ref.String()+" "+x.Mode.String())
	}
	for _, x := range m.Sidecars() {
		out = append(out, x.Ref.String())
	}
	for _, x := range m.DestinationRules() {
		out = append(out, x.Ref.String())
	}
	out = append(out, "outbound "+m.Config().Outbound.String())
	return out
}

func TestApplyPatch(t *testing.T) {
	t.Parallel()
	baseRefs := []string{"Namespace legacy", "Namespace shop", "Deployment legacy/cron", "Deployment shop/web",
		"Service shop/web", "PeerAuthentication shop/default PERMISSIVE", "outbound ALLOW_ANY"}
	tests := []struct {
		name    string
		reason  string
		patch   string
		want    []string // refsOf the patched mesh
		wantErr []string // every error, in order
	}{
		{
			name:   "replace and delete",
			reason: "an object with a reference the mesh has replaces it; a Delete document removes objects, workloads by any kind",
			patch:  patchStrictAndDelete,
			want: []string{"Namespace legacy", "Namespace shop", "Deployment shop/web",
				"Service shop/web", "PeerAuthentication shop/default STRICT", "outbound ALLOW_ANY"},
		},
		{
			name:   "add objects and the mesh config",
			reason: "new objects are added; a mesh ConfigMap replaces the mesh configuration",
			patch: `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress:
  - hosts: ["./*"]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    outboundTrafficPolicy:
      mode: REGISTRY_ONLY
`,
			want: []string{"Namespace legacy", "Namespace shop", "Deployment legacy/cron", "Deployment shop/web",
				"Service shop/web", "PeerAuthentication shop/default PERMISSIVE", "Sidecar shop/default", "outbound REGISTRY_ONLY"},
		},
		{
			name:   "workload kind is any",
			reason: "kind Workload deletes the workload whatever its controller kind",
			patch:  "apiVersion: meshreach.io/v1\nkind: Delete\nobjects:\n- {kind: Workload, namespace: shop, name: web}\n- {kind: Namespace, name: legacy}\n",
			want: []string{"Namespace legacy", "Namespace shop", "Deployment legacy/cron",
				"Service shop/web", "PeerAuthentication shop/default PERMISSIVE", "outbound ALLOW_ANY"},
		},
		{
			name:   "strict delete document",
			reason: "unknown fields, bad kinds, missing fields and a wrong apiVersion are reported with their lines, all at once",
			patch: `apiVersion: meshreach.io/v2
kind: Delete
objects:
- kind: Gateway
  namespace: shop
  name: gw
- kind: Service
  name: web
- kind: Namespace
  namespace: x
  name: legacy
- kind: Sidecar
  namespace: shop
  name: default
  nmae: typo
`,
			wantErr: []string{
				`patch.yaml:1: Delete: apiVersion: invalid value "meshreach.io/v2" (want meshreach.io/v1)`,
				`patch.yaml:4: Delete: objects[0].kind: invalid value "Gateway" (want Namespace, Service, ServiceEntry, Sidecar, PeerAuthentication, DestinationRule, AuthorizationPolicy, Workload, Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet or Pod)`,
				`patch.yaml:7: Delete: objects[1].namespace: missing field`,
				`patch.yaml:10: Delete: objects[2].namespace: invalid value: a Namespace has no namespace`,
				`patch.yaml:15: Delete: objects[3].nmae: unknown field "nmae" (want kind, namespace or name)`,
			},
		},
		{
			name:   "delete what is not there",
			reason: "a deletion that matches nothing is a mistake in the patch, not a no-op",
			patch:  "# comment\n---\napiVersion: meshreach.io/v1\nkind: Delete\nobjects:\n- {kind: PeerAuthentication, namespace: shop, name: strict}\n",
			wantErr: []string{
				`patch.yaml:6: Delete: objects[0]: invalid value: nothing to delete: no PeerAuthentication shop/strict`,
			},
		},
		{
			name:   "delete and add",
			reason: "deleting an object the same patch adds is contradictory",
			patch:  patchStrictAndDelete + "- kind: PeerAuthentication\n  namespace: shop\n  name: default\n",
			wantErr: []string{
				`patch.yaml:16: Delete: objects[1]: invalid value: PeerAuthentication shop/default is both deleted and added by the patch (added at patch.yaml:1)`,
			},
		},
		{
			name:   "duplicates in the patch",
			reason: "an object the patch declares twice is an error, as in a manifest set, not a silent last-wins",
			patch:  "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
			wantErr: []string{
				`patch.yaml:5: Namespace x: duplicate object: Namespace already declared at patch.yaml:1`,
			},
		},
		{
			name:   "loader errors keep their lines",
			reason: "ordinary documents go through the strict loader; a Delete document before them does not shift their lines",
			patch:  "apiVersion: meshreach.io/v1\nkind: Delete\nobjects: []\n---\napiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: shop}\nspec:\n  mtls:\n    mdoe: STRICT\n",
			wantErr: []string{
				`patch.yaml:10: PeerAuthentication shop/default: spec.mtls.mdoe: unknown field "mdoe"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := loadEditBase(t)
			b := base.Edit()
			err := b.ApplyPatch("patch.yaml", []byte(tc.patch))
			if tc.wantErr != nil {
				var l mesh.ErrorList
				if !errors.As(err, &l) {
					t.Fatalf("ApplyPatch() = %v, want an ErrorList (%s)", err, tc.reason)
				}
				var got []string
				for _, e := range l {
					got = append(got, e.Error())
				}
				if d := cmp.Diff(tc.wantErr, got); d != "" {
					t.Errorf("errors (-want +got) (%s):\n%s", tc.reason, d)
				}
				// A failed patch leaves the Builder as it was.
				m, err := b.Build()
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(baseRefs, refsOf(m)); d != "" {
					t.Errorf("a failed patch changed the Builder (-want +got):\n%s", d)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyPatch() = %v (%s)", err, tc.reason)
			}
			m, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, refsOf(m)); d != "" {
				t.Errorf("objects (-want +got) (%s):\n%s", tc.reason, d)
			}
		})
	}
}

func TestSetReplaces(t *testing.T) {
	t.Parallel()
	b := loadEditBase(t).Edit()
	w, _ := loadEditBase(t).Workload(mesh.WorkloadID{Namespace: "shop", Name: "web"})
	w.Kind = "StatefulSet"
	b.SetWorkload(w) // same ID, other kind: replaces
	b.SetService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: "shop", Name: "api"}})
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	got := refsOf(m)
	if !slices.Contains(got, "StatefulSet shop/web") || slices.Contains(got, "Deployment shop/web") || !slices.Contains(got, "Service shop/api") {
		t.Errorf("objects after Set* = %v; want StatefulSet shop/web replacing the Deployment, and Service shop/api added", got)
	}
}
