package sim

import (
	"fmt"
	"iter"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/internal/meshgen"
)

// TestMatrixEqualsNaive compares, for every pair of a generated mesh of
// 1,000 workloads, the class-based matrix with the naive one: one class
// per workload, one view per class, and every probe decided afresh
// without precomputed or memoised decisions. Under the race detector (or
// -short) the mesh has 300 workloads: the naive pass makes 2 M
// evaluations at 1,000, which the detector slows to minutes; .ci/run runs
// the 1,000-workload case without it.
func TestMatrixEqualsNaive(t *testing.T) {
	t.Parallel()
	n := 1000
	if raceEnabled || testing.Short() {
		n = 300
	}
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprintf("workloads=%d/seed=%d", n, seed), func(t *testing.T) {
			t.Parallel()
			m, err := meshgen.Generate(meshgen.Options{Workloads: n, Seed: seed}).Mesh()
			if err != nil {
				t.Fatal(err)
			}
			s := New(m)
			classes, naive := s.buildMatrix(false), s.buildMatrix(true)
			if len(naive.classes) != len(m.Workloads()) {
				t.Fatalf("the naive matrix has %d classes for %d workloads", len(naive.classes), len(m.Workloads()))
			}
			if len(classes.classes) >= len(naive.classes) {
				t.Fatalf("the class-based matrix has %d classes for %d workloads: nothing is shared", len(classes.classes), len(naive.classes))
			}
			for _, mx := range []*Matrix{classes, naive} {
				if errs := mx.Errors(); len(errs) > 0 {
					t.Fatalf("matrix errors: %v", errs)
				}
			}
			nextGot, stopGot := iter.Pull(classes.Cells(Filter{}))
			defer stopGot()
			nextWant, stopWant := iter.Pull(naive.Cells(Filter{}))
			defer stopWant()
			cells, diffs := 0, 0
			for {
				got, okGot := nextGot()
				want, okWant := nextWant()
				if !okGot && !okWant {
					break
				}
				if okGot != okWant || got != want {
					if diffs++; diffs <= 5 {
						t.Errorf("cell %d (-naive +classes):\n%s", cells, cmp.Diff(want, got))
					}
				}
				cells++
			}
			if diffs > 0 {
				t.Errorf("%d of %d cells differ", diffs, cells)
			}
			if got, want := classes.Stats().Cells, naive.Stats().Cells; got != want || got != cells {
				t.Errorf("Stats().Cells = %d (classes), %d (naive); %d cells walked", got, want, cells)
			}
			t.Logf("%d cells; %d classes, %d probes (naive: %d probes)", cells, len(classes.classes), classes.Stats().Evaluations, naive.Stats().Evaluations)
		})
	}
}
