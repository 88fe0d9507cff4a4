package sim

import (
	"fmt"
	"testing"

	"github.com/meshreach/meshreach/internal/meshgen"
)

// TestSparseViews checks the two facts the sparse views rest on, on
// generated meshes: where a class is not special, its generic view is its
// full view; and every class special in a group is found by the inverted
// indexes (or the identity tables) and has a view of its own there.
func TestSparseViews(t *testing.T) {
	t.Parallel()
	for _, n := range []int{200, 600} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			m, err := meshgen.Generate(meshgen.Options{Workloads: n, Seed: uint64(n)}).Mesh()
			if err != nil {
				t.Fatal(err)
			}
			mx := New(m).Matrix()
			cf := newClassifier(mx.e)
			specials := 0
			for gi, g := range mx.groups {
				for _, cl := range mx.classes {
					_, listed := g.special[cl.id]
					if cl.specialIn(g) {
						specials++
						if !listed {
							t.Errorf("group %d: class %d is special (%q) but no index lists it", gi, cl.id, cl.fullView(cf, g))
						}
						continue
					}
					if got, want := cl.genericView(g), cl.fullView(cf, g); got != want {
						t.Errorf("group %d: class %d: generic view %q, full view %q", gi, cl.id, got, want)
					}
					if !listed && g.generic[cl.generic] < 0 {
						t.Errorf("group %d: class %d has no view", gi, cl.id)
					}
				}
			}
			if specials == 0 {
				t.Errorf("no class is special in any group: the mesh does not exercise the indexes")
			}
		})
	}
}
