package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// TestQueriesGenerated runs every whole-mesh command on a generated mesh of
// 200 workloads written as YAML, and checks the matrix the CLI prints
// against the library's matrix of the same mesh loaded from the same file.
func TestQueriesGenerated(t *testing.T) {
	t.Parallel()
	objs := meshgen.Generate(meshgen.Options{Workloads: 200, Seed: 7})
	dir := t.TempDir()
	file := filepath.Join(dir, "mesh.yaml")
	if err := os.WriteFile(file, objs.YAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := mesh.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(m.Workloads()); got < 200 {
		t.Fatalf("generated mesh has %d workloads, want at least 200", got)
	}
	wls := m.Workloads()
	first, last := wls[0].ID.String(), wls[len(wls)-1].ID.String()
	want := 0
	for range sim.New(m).Matrix().Cells(sim.Filter{}) {
		want++
	}
	if want == 0 {
		t.Fatal("the generated mesh has an empty matrix")
	}

	for _, tt := range []struct {
		kind string
		args []string
	}{
		{"Matrix", []string{"matrix"}},
		{"WhoCanReach", []string{"who-can-reach", last}},
		{"ReachableFrom", []string{"reachable-from", first}},
		{"Paths", []string{"paths", "outside", last, "--max-hops", "3"}},
		{"Exposure", []string{"exposure"}},
		{"Groups", []string{"groups"}},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append(tt.args, "-f", file, "-o", "json")
			if code := run(args, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("%v: exit code %d: %s", tt.args, code, stderr.String())
			}
			var doc struct {
				SchemaVersion int               `json:"schemaVersion"`
				Kind          string            `json:"kind"`
				Cells         []json.RawMessage `json:"cells"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.SchemaVersion != 1 || doc.Kind != tt.kind {
				t.Errorf("envelope = {%d %s}, want {1 %s}", doc.SchemaVersion, doc.Kind, tt.kind)
			}
			if tt.kind == "Matrix" && len(doc.Cells) != want {
				t.Errorf("the CLI matrix has %d cells, the library's %d", len(doc.Cells), want)
			}
		})
	}
}
