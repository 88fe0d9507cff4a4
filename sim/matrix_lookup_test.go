package sim_test

import (
	"fmt"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/examples/seed"
	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// lookupMeshes returns the seed scenarios, every pair of which the Lookup
// test checks, and a generated mesh of 300 workloads, sampled.
func lookupMeshes(t *testing.T) []testMesh {
	t.Helper()
	var out []testMesh
	for _, sc := range seed.Scenarios() {
		m, err := sc.Mesh()
		if err != nil {
			t.Fatalf("seed %s: %v", sc.Dir, err)
		}
		out = append(out, testMesh{"seed/" + sc.Dir, m})
	}
	m, err := meshgen.Generate(meshgen.Options{Workloads: 300, Seed: 1}).Mesh()
	if err != nil {
		t.Fatalf("meshgen: %v", err)
	}
	return append(out, testMesh{"meshgen/300-seed1", m})
}

// lookupCase is one query of Matrix.Lookup and the cells it must return.
type lookupCase struct {
	name   string
	reason string
	from   mesh.WorkloadID
	to     sim.Node
	port   uint32
	want   []sim.Cell // nil when the pair has no cell at the port
}

// lookupCases lists, for the pairs of clients and nodes picked by every
// stride-th client and node, the query of every port (0 and each port the
// pair has cells at), wanting what Cells yields for the same Filter; then
// the queries that name no cell.
func lookupCases(mx *sim.Matrix, stride int) []lookupCase {
	var clients []mesh.WorkloadID
	var nodes []sim.Node
	seen := map[sim.Node]bool{}
	for _, w := range mx.Simulator().Mesh().Workloads() {
		clients = append(clients, w.ID)
		nodes = append(nodes, sim.WorkloadNode(w.ID))
		seen[sim.WorkloadNode(w.ID)] = true
	}
	// External hosts are nodes only through the cells that land on them.
	for c := range mx.Cells(sim.Filter{From: clients[0]}) {
		if !seen[c.To] {
			seen[c.To] = true
			nodes = append(nodes, c.To)
		}
	}
	nodes = append(nodes, sim.OutsideNode())

	var out []lookupCase
	for i := 0; i < len(clients); i += stride {
		from := clients[i]
		for j := i % stride; j < len(nodes); j += stride {
			to := nodes[j]
			f := sim.Filter{From: from, To: to}
			all := slices.Collect(mx.Cells(f))
			out = append(out, lookupCase{name: fmt.Sprintf("%v->%v", from, to), reason: "every port: the cells Cells yields for the pair", from: from, to: to, want: all})
			var ports []uint32
			for _, c := range all {
				ports = append(ports, c.Port)
			}
			slices.Sort(ports)
			for _, p := range slices.Compact(ports) {
				f.Port = p
				out = append(out, lookupCase{name: fmt.Sprintf("%v->%v:%d", from, to, p), reason: "one port: the cells Cells yields for the pair at that port", from: from, to: to, port: p, want: slices.Collect(mx.Cells(f))})
			}
		}
	}

	a, b := clients[0], clients[len(clients)-1]
	return append(out,
		lookupCase{name: "unknown client", reason: "a workload the mesh does not have is no client", from: mesh.WorkloadID{Namespace: "nowhere", Name: "ghost"}, to: sim.WorkloadNode(b)},
		lookupCase{name: "outside client", reason: "the client outside the mesh has no cells in the matrix (Exposure covers it)", from: sim.OutsideID(), to: sim.WorkloadNode(b)},
		lookupCase{name: "zero client", reason: "a zero client is not a wildcard", to: sim.WorkloadNode(b)},
		lookupCase{name: "unknown workload node", reason: "a workload the mesh does not have is no node", from: a, to: sim.WorkloadNode(mesh.WorkloadID{Namespace: "nowhere", Name: "ghost"})},
		lookupCase{name: "unknown external node", reason: "a host no ServiceEntry declares is no node", from: a, to: sim.ExternalNode("ghost.example.invalid")},
		lookupCase{name: "zero node", reason: "a zero node is not a wildcard", from: a},
		lookupCase{name: "outside node", reason: "nothing of the matrix lands on the client outside the mesh", from: a, to: sim.OutsideNode()},
		lookupCase{name: "port without cells", reason: "no workload of these meshes listens on port 1", from: a, to: sim.WorkloadNode(b), port: 1},
	)
}

// TestMatrixLookup checks Lookup against Cells with the same client, node
// and port: every pair of the seed meshes, a sample of the generated one,
// and queries that name no cell, which must give nil.
func TestMatrixLookup(t *testing.T) {
	t.Parallel()
	for _, tm := range lookupMeshes(t) {
		t.Run(tm.name, func(t *testing.T) {
			t.Parallel()
			mx := sim.New(tm.m).Matrix()
			stride := 1
			if len(tm.m.Workloads()) > 50 {
				stride = 7
			}
			withCells := 0
			for _, tc := range lookupCases(mx, stride) {
				got := mx.Lookup(tc.from, tc.to, tc.port)
				if d := gocmp.Diff(tc.want, got); d != "" {
					t.Errorf("%s (%s): Lookup(%v, %v, %d) differs from Cells (-want +got):\n%s", tc.name, tc.reason, tc.from, tc.to, tc.port, d)
				}
				if len(tc.want) == 0 && got != nil {
					t.Errorf("%s (%s): Lookup(%v, %v, %d) = %#v, want nil", tc.name, tc.reason, tc.from, tc.to, tc.port, got)
				}
				if len(tc.want) > 0 {
					withCells++
				}
			}
			if withCells == 0 {
				t.Error("no query had cells: the comparison with Cells checked nothing")
			}
		})
	}
}

// TestMatrixLookupAllocs checks the allocation contract: none for a pair
// without cells, one for a pair with cells. It does not run in parallel:
// testing.AllocsPerRun counts the allocations of every goroutine.
func TestMatrixLookupAllocs(t *testing.T) {
	mx := paymentsMatrix()
	checkout := mesh.WorkloadID{Namespace: "payments", Name: "checkout"}
	istiod := sim.WorkloadNode(mesh.WorkloadID{Namespace: "istio-system", Name: "istiod"})
	for _, tc := range []struct {
		name   string
		reason string
		port   uint32
		want   float64
	}{
		{name: "no cell", reason: "istiod listens on no port 1: nil, nothing allocated", port: 1, want: 0},
		{name: "cells", reason: "istiod has four cells for checkout: one slice", port: 0, want: 1},
	} {
		got := testing.AllocsPerRun(100, func() { mx.Lookup(checkout, istiod, tc.port) })
		if got != tc.want {
			t.Errorf("%s (%s): Lookup allocates %v times, want %v", tc.name, tc.reason, got, tc.want)
		}
	}
}

// The cells of payments/checkout on istiod, then on its port 15017 alone:
// istiod's Service maps port 443 there.
func ExampleMatrix_Lookup() {
	mx := paymentsMatrix()
	checkout := mesh.WorkloadID{Namespace: "payments", Name: "checkout"}
	istiod := sim.WorkloadNode(mesh.WorkloadID{Namespace: "istio-system", Name: "istiod"})
	for _, c := range mx.Lookup(checkout, istiod, 0) {
		fmt.Printf("%v:%d via %s:%d (%s): %v\n", c.To, c.Port, c.Host, c.ViaPort, c.Proto, c.Default)
	}
	for _, c := range mx.Lookup(checkout, istiod, 15017) {
		fmt.Printf("port 15017: via %s:%d\n", c.Host, c.ViaPort)
	}
	fmt.Println(mx.Lookup(checkout, istiod, 8080) == nil)
	// Output:
	// istio-system/istiod:15010 via istiod.istio-system.svc.cluster.local:15010 (grpc): allow plaintext
	// istio-system/istiod:15012 via istiod.istio-system.svc.cluster.local:15012 (https): allow tls
	// istio-system/istiod:15014 via istiod.istio-system.svc.cluster.local:15014 (http): allow plaintext
	// istio-system/istiod:15017 via istiod.istio-system.svc.cluster.local:443 (https): allow tls
	// port 15017: via istiod.istio-system.svc.cluster.local:443
	// true
}
