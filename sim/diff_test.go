package sim_test

import (
	stdcmp "cmp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// TestDiffSameSlots covers the cells Diff compares by their codes: a
// ServiceEntry host declared in two namespaces, each copy selecting its
// own namespace's workload. A client routes to the copy of its own
// namespace (sidecar.go selectServices), so before the edit the client in
// "a" lands on a/api and the one in "b" on b/api: the matrices have both
// slots. Removing a's copy moves the clients in "a" (a/api is one too) to
// b/api: a cell appears on a slot both matrices have (added), and its old
// one goes (removed).
func TestDiffSameSlots(t *testing.T) {
	t.Parallel()
	se := func(ns string) mesh.ServiceEntry {
		return mesh.ServiceEntry{Ref: mesh.Ref{Kind: "ServiceEntry", Namespace: ns, Name: "api"}, Hosts: []string{"api.internal.example"},
			Ports: []mesh.ServiceEntryPort{{Number: 8080, Protocol: "TCP", Name: "tcp"}}, MeshInternal: true, Resolution: "STATIC",
			WorkloadSelector: map[string]string{"app": "api"}}
	}
	b := &mesh.Builder{}
	for _, ns := range []string{"a", "b"} {
		b.AddNamespace(mesh.Namespace{Name: ns, Labels: map[string]string{"istio-injection": "enabled"}})
		b.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: ns, Name: "api"}, Kind: "Deployment", Labels: map[string]string{"app": "api"},
			Ports: []mesh.ContainerPort{{Number: 8080}}})
		b.AddWorkload(mesh.Workload{ID: mesh.WorkloadID{Namespace: ns, Name: "client"}, Kind: "Deployment", Labels: map[string]string{"app": "client"}})
		b.AddServiceEntry(se(ns))
	}
	before, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	eb := before.Edit()
	eb.Remove(mesh.Ref{Kind: "ServiceEntry", Namespace: "a", Name: "api"})
	after, err := eb.Build()
	if err != nil {
		t.Fatal(err)
	}
	d := sim.Diff(sim.New(before).Matrix(), sim.New(after).Matrix())
	type change struct {
		Kind     sim.ChangeKind
		From, To string
	}
	var got []change
	for c := range d.Changes() {
		got = append(got, change{c.Kind, c.From.String(), c.To.String()})
	}
	want := []change{
		{sim.Removed, "a/api", "a/api"},
		{sim.Removed, "a/client", "a/api"},
		{sim.Added, "a/api", "b/api"},
		{sim.Added, "a/client", "b/api"},
	}
	if diff := cmp.Diff(want, got, cmp.Transformer("sort", func(in []change) []change {
		out := slices.Clone(in)
		slices.SortFunc(out, func(x, y change) int {
			return stdcmp.Or(int(x.Kind)-int(y.Kind), strings.Compare(x.From, y.From), strings.Compare(x.To, y.To))
		})
		return out
	})); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
}
