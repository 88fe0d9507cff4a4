package mesh_test

import (
	"errors"
	"testing"

	"github.com/meshreach/meshreach/mesh"
)

// FuzzApplyPatch: a patch never panics; a rejected patch reports
// positioned errors in the patch file and leaves the Builder building the
// base mesh; an accepted one builds or reports errors, never both.
func FuzzApplyPatch(f *testing.F) {
	f.Add([]byte(patchStrictAndDelete))
	f.Add([]byte("apiVersion: meshreach.io/v1\nkind: Delete\nobjects:\n- {kind: Workload, namespace: shop, name: web}\n"))
	f.Add([]byte("apiVersion: meshreach.io/v1\nkind: Delete\nobjects: {}\n---\n: bad\n"))
	f.Add([]byte("kind: Delete\n---\nkind: Delete\nobjects: [1, [2], {kind: Namespace, name: x, namespace: y}]\n"))
	f.Add([]byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio-injection: disabled}}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		base, err := mesh.Load(editBase)
		if err != nil {
			t.Fatal(err)
		}
		b := base.Edit()
		err = b.ApplyPatch("patch.yaml", src)
		if err != nil {
			var l mesh.ErrorList
			if !errors.As(err, &l) || len(l) == 0 {
				t.Fatalf("ApplyPatch error %v is not a non-empty ErrorList", err)
			}
			for _, e := range l {
				if e.Pos.File != "patch.yaml" {
					t.Errorf("error %q is not positioned in the patch", e)
				}
			}
			if _, err := b.Build(); err != nil {
				t.Errorf("after a rejected patch the base does not build: %v", err)
			}
			return
		}
		m, err := b.Build()
		if (m == nil) == (err == nil) {
			t.Errorf("Build() = %v, %v: want a mesh or an error", m, err)
		}
	})
}
