package mesh_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshreach/meshreach/mesh"
)

// FuzzParse feeds arbitrary bytes to the loader. It must never panic; on
// error every entry is a *mesh.Error naming the file; on success every
// workload ID is valid; and loading is deterministic.
func FuzzParse(f *testing.F) {
	err := filepath.WalkDir("testdata", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		src, err := os.ReadFile(path)
		if err == nil {
			f.Add(src)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"",
		"---\n---\n",
		"a: &a [*a]\n",
		"apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: List, items: []}]\n",
		"kind: ConfigMap\napiVersion: v1\nmetadata: {name: istio}\ndata: {mesh: \"{\"}\n",
		"a: &a {b: &b [*a, *a, *a, *a]}\nc: [*b, *b, *b, *b, *b, *b]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := mesh.Parse("fuzz.yaml", src)
		if err != nil {
			var l mesh.ErrorList
			if !errors.As(err, &l) {
				t.Fatalf("error %v (%T) is not an ErrorList", err, err)
			}
			if len(l) == 0 {
				t.Fatal("empty ErrorList returned as an error")
			}
			for _, e := range l {
				if e == nil || e.Pos.File == "" {
					t.Fatalf("entry %v has no file", e)
				}
			}
			return
		}
		for _, w := range m.Workloads() {
			if !w.ID.IsValid() {
				t.Fatalf("invalid workload ID %q", w.ID)
			}
		}
		again, err := mesh.Parse("fuzz.yaml", src)
		if err != nil {
			t.Fatalf("second Parse failed: %v", err)
		}
		if a, b := render(m), render(again); a != b {
			t.Fatalf("Parse is not deterministic:\n%s\n---\n%s", a, b)
		}
	})
}
