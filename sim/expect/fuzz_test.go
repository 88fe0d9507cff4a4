package expect_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim/expect"
)

// FuzzParse checks that Parse never panics, that it returns either
// expectations or an error list whose entries name the file, and that every
// expectation it accepts is well-formed.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "examples", "seed", "*", "expect.yaml"))
	for _, p := range seeds {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("- {from: a/b, to: c/d, port: 1, expect: deny}\n"))
	f.Add([]byte("- &x {from: a/b, to: c, port: 80, expect: allow, transport: tls}\n- *x\n"))
	f.Add([]byte("- {from: a/b, to: c, port: 80, protocol: http, method: GET, path: /x, headers: {a: \"1\"}, expect: undecided}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		exps, err := expect.Parse("f.yaml", src)
		if err != nil {
			var l mesh.ErrorList
			if !errors.As(err, &l) || len(l) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty mesh.ErrorList", err, err)
			}
			if exps != nil {
				t.Fatalf("both expectations and an error")
			}
			for _, e := range l {
				if e.Pos.File != "f.yaml" {
					t.Errorf("error %q does not name the file", e)
				}
			}
			return
		}
		for i, x := range exps {
			if x.Index != i+1 || !x.Probe.From.IsValid() || x.Probe.Port == 0 || (x.Probe.To == "") == !x.Probe.ToWorkload.IsValid() {
				t.Errorf("expectation %d is malformed: %+v", i+1, x)
			}
			if err := x.Probe.Validate(); err != nil {
				t.Errorf("expectation %d: the simulator rejects its probe: %v", i+1, err)
			}
		}
	})
}
