package meshreach_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/meshreach/meshreach"

// TestPackageBoundaries checks the layering the packages promise: mesh owns
// every Kubernetes/Istio/YAML detail, graph knows nothing of meshes, and
// sim works on mesh's own types only.
func TestPackageBoundaries(t *testing.T) {
	t.Parallel()
	rules := []struct {
		dir    string
		reason string
		banned []string // import path prefixes
	}{
		{"mesh", "mesh is the bottom layer", []string{module + "/"}},
		{"graph", "graph is generic", []string{module + "/", "istio.io/", "sigs.k8s.io/", "go.yaml.in/", "google.golang.org/protobuf"}},
		{"sim", "sim works on mesh types, never on protos or YAML", []string{"istio.io/", "sigs.k8s.io/", "go.yaml.in/", "google.golang.org/protobuf", module + "/examples"}},
	}
	for _, r := range rules {
		imports := importsOf(t, r.dir)
		for file, paths := range imports {
			for _, p := range paths {
				for _, b := range r.banned {
					if strings.HasPrefix(p, b) || p == strings.TrimSuffix(b, "/") {
						t.Errorf("%s imports %q: %s", file, p, r.reason)
					}
				}
			}
		}
	}
}

// importsOf returns the imports of the non-test Go files directly in dir.
func importsOf(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		path := filepath.Join(dir, name)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			out[path] = append(out[path], p)
		}
	}
	return out
}

// TestTopLevel keeps the top level of the repository to the design: the
// three packages, examples, internal and testdata, and the module files.
func TestTopLevel(t *testing.T) {
	t.Parallel()
	allowed := []string{".ci", ".git", ".gitignore", "README.md", "doc.go", "examples", "go.mod", "go.sum",
		"graph", "internal", "layout_test.go", "mesh", "sim", "testdata"}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		ignored := e.Name() == "meshreach" || strings.HasSuffix(e.Name(), ".test") ||
			strings.HasSuffix(e.Name(), ".out") || strings.HasSuffix(e.Name(), ".prof") // see .gitignore
		if !ignored && !slices.Contains(allowed, e.Name()) {
			t.Errorf("unexpected top-level entry %q", e.Name())
		}
	}
}
