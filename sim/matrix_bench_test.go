package sim_test

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

var benchMeshes sync.Map // workloads → *mesh.Mesh

// genMesh returns the generated mesh of n workloads (seed 1), built once.
func genMesh(b *testing.B, n int) *mesh.Mesh {
	b.Helper()
	if m, ok := benchMeshes.Load(n); ok {
		return m.(*mesh.Mesh)
	}
	m, err := meshgen.Generate(meshgen.Options{Workloads: n, Seed: 1}).Mesh()
	if err != nil {
		b.Fatal(err)
	}
	benchMeshes.Store(n, m)
	return m
}

// benchSizes are the mesh sizes of the matrix benchmarks: 1k and 10k
// workloads, MESHREACH_BENCH_WORKLOADS when set, 200 under -short (CI).
func benchSizes() []int {
	if v, err := strconv.Atoi(os.Getenv("MESHREACH_BENCH_WORKLOADS")); err == nil && v > 0 {
		return []int{v}
	}
	if testing.Short() {
		return []int{200}
	}
	return []int{1000, 10000}
}

// BenchmarkMatrix measures sim.New plus Simulator.Matrix on generated
// meshes, and reports the client classes, the probes run and the cells
// they stand for.
func BenchmarkMatrix(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("workloads=%d", n), func(b *testing.B) {
			m := genMesh(b, n)
			b.ReportAllocs()
			var st sim.Stats
			for b.Loop() {
				st = sim.New(m).Matrix().Stats()
			}
			b.ReportMetric(float64(st.Classes), "classes")
			b.ReportMetric(float64(st.Groups), "groups")
			b.ReportMetric(float64(st.Evaluations), "probes")
			b.ReportMetric(float64(st.Cells), "cells")
		})
	}
}

// BenchmarkPaths measures Matrix.Paths, up to 5 paths of any length,
// between fixed pairs of workloads and from the client outside the mesh.
func BenchmarkPaths(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("workloads=%d", n), func(b *testing.B) {
			m := genMesh(b, n)
			mx := sim.New(m).Matrix()
			ws := m.Workloads()
			pairs := [][2]sim.Node{
				{sim.WorkloadNode(ws[1].ID), sim.WorkloadNode(ws[len(ws)-1].ID)},
				{sim.WorkloadNode(ws[len(ws)/2].ID), sim.WorkloadNode(ws[3].ID)},
				{sim.OutsideNode(), sim.WorkloadNode(ws[len(ws)/3].ID)},
			}
			mx.Paths(pairs[2][0], pairs[2][1], sim.PathOptions{}) // evaluates the outside client's exposures once
			b.ReportAllocs()
			found := 0
			for b.Loop() {
				found = 0
				for _, p := range pairs {
					for _, t := range []sim.Transport{sim.NoTransport, sim.MTLS} {
						found += len(mx.Paths(p[0], p[1], sim.PathOptions{Transport: t, Limit: 5}))
					}
				}
			}
			b.ReportMetric(float64(found), "paths")
		})
	}
}

// BenchmarkComponents measures Matrix.Components over every edge.
func BenchmarkComponents(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("workloads=%d", n), func(b *testing.B) {
			mx := sim.New(genMesh(b, n)).Matrix()
			b.ReportAllocs()
			for b.Loop() {
				mx.Components(sim.NoTransport)
			}
		})
	}
}
