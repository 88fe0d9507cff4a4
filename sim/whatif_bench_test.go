package sim_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// BenchmarkWhatIf compares the incremental what-if with a full rebuild
// (a new matrix and a diff) on one generated mesh, for three edits of one
// namespace. The mesh has 1,000 workloads, or MESHREACH_BENCH_WORKLOADS.
func BenchmarkWhatIf(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("MESHREACH_BENCH_WORKLOADS")); err == nil && v > 0 {
		n = v
	}
	base, err := meshgen.Generate(meshgen.Options{Workloads: n, Seed: 1}).Mesh()
	if err != nil {
		b.Fatal(err)
	}
	bm := sim.New(base).Matrix()
	ns := "ns-002"
	edits := []struct {
		name string
		edit func(*mesh.Builder)
	}{
		{"namespace-disable", func(b *mesh.Builder) {
			b.SetPeerAuthentication(mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: ns, Name: "default"}, Mode: mesh.ModeDisable})
		}},
		{"injection-disabled", func(b *mesh.Builder) { b.SetNamespaceLabel(ns, "istio-injection", "disabled") }},
		{"sidecar-scope", func(b *mesh.Builder) {
			b.SetSidecar(mesh.Sidecar{Ref: mesh.Ref{Kind: "Sidecar", Namespace: ns, Name: "default"},
				Egress: []mesh.EgressListener{{Hosts: []string{"./*", "istio-system/*"}}}})
		}},
	}
	for _, e := range edits {
		eb := base.Edit()
		e.edit(eb)
		after, err := eb.Build()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(e.name+"/incremental", func(b *testing.B) {
			for b.Loop() {
				d := sim.WhatIf(bm, after)
				b.ReportMetric(float64(d.Len()), "changes")
				b.ReportMetric(float64(d.Stats().Probes), "probes")
			}
		})
		b.Run(e.name+"/full", func(b *testing.B) {
			for b.Loop() {
				d := sim.Diff(bm, sim.New(after).Matrix())
				b.ReportMetric(float64(d.Len()), "changes")
			}
		})
	}
}
