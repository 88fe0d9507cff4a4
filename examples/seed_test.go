package examples_test

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/examples/seed"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/expect"
)

// TestSeedScenarios checks every expectation of every scenario of the seed
// lesson. The expectations were worked out from ../shared/semantics by
// hand; a failure here means the engine and the semantics disagree.
func TestSeedScenarios(t *testing.T) {
	t.Parallel()
	for _, sc := range seed.Scenarios() {
		t.Run(sc.Dir, func(t *testing.T) {
			t.Parallel()
			m, err := sc.Mesh()
			if err != nil {
				t.Fatalf("loading the manifests: %v", err)
			}
			for _, w := range m.Warnings() {
				t.Errorf("manifest warning: %v", w)
			}
			exps, err := sc.Expectations()
			if err != nil {
				t.Fatalf("loading the expectations: %v", err)
			}
			if len(exps) == 0 {
				t.Fatal("no expectations")
			}
			for _, x := range exps {
				if x.Note == "" {
					t.Errorf("%s: %s has no note: every probe says which statement it shows", x.Pos, x.Ref())
				}
			}
			r := expect.Check(sim.New(m), exps)
			for _, res := range r.Results {
				if res.Pass {
					continue
				}
				x := res.Expectation
				if res.Err != nil {
					t.Errorf("%v", res.Err)
					continue
				}
				t.Errorf("%s: %s: %s: %s\nnote: %s\n%s", x.Pos, x.Ref(), x.Probe, res.Reason, x.Note, res.Verdict.Explain())
			}
		})
	}
}

// TestSeedLayout keeps the list of scenarios and the embedded directories
// in step.
func TestSeedLayout(t *testing.T) {
	t.Parallel()
	entries, err := fs.ReadDir(seed.FS(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var dirs, listed []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	for _, sc := range seed.Scenarios() {
		listed = append(listed, sc.Dir)
		if _, err := fs.Stat(seed.FS(), path.Join(sc.Dir, seed.ExpectFile)); err != nil {
			t.Errorf("scenario %s: %v", sc.Dir, err)
		}
	}
	slices.Sort(listed)
	if d := cmp.Diff(dirs, listed); d != "" {
		t.Errorf("embedded directories vs Scenarios() (-dirs +listed):\n%s", d)
	}
}

// TestRegistryOnlyIsPaymentsSidecar checks that registry-only/ is
// payments-sidecar/ plus the mesh config and nothing else, so the two
// scenarios differ only in outboundTrafficPolicy.
func TestRegistryOnlyIsPaymentsSidecar(t *testing.T) {
	t.Parallel()
	read := func(dir string) map[string]string {
		out := map[string]string{}
		for _, sc := range seed.Scenarios() {
			if sc.Dir != dir {
				continue
			}
			paths, err := sc.Manifests()
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range paths {
				b, err := fs.ReadFile(seed.FS(), p)
				if err != nil {
					t.Fatal(err)
				}
				out[path.Base(p)] = string(b)
			}
		}
		return out
	}
	want := read("payments-sidecar")
	got := read("registry-only")
	if !strings.Contains(got["mesh-config.yaml"], "mode: REGISTRY_ONLY") {
		t.Errorf("registry-only/mesh-config.yaml does not set REGISTRY_ONLY")
	}
	delete(got, "mesh-config.yaml")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("registry-only differs from payments-sidecar beyond mesh-config.yaml (-payments-sidecar +registry-only):\n%s", d)
	}
}

// seedText is the lesson itself, from the shared directory beside the
// repository (CI runs with ../shared in place).
func seedText(t *testing.T) string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "..", "shared", "seed", "*.txt"))
	if len(paths) == 0 {
		t.Skip("../shared/seed is not beside the repository")
	}
	var b strings.Builder
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(src)
	}
	return b.String()
}

// TestSeedManifestsVerbatim checks that the Istio resources the lesson
// shows are used exactly as written.
func TestSeedManifestsVerbatim(t *testing.T) {
	t.Parallel()
	text := seedText(t)
	for _, file := range []string{
		"payments-sidecar/sidecar.yaml",
		"registry-only/sidecar.yaml",
		"peer-sidecar/peer-sidecar.yaml",
		"bookinfo-ratings/sidecar.yaml",
	} {
		src, err := fs.ReadFile(seed.FS(), file)
		if err != nil {
			t.Fatal(err)
		}
		// Leave out the explanatory comment lines at the top.
		body := string(src)
		for strings.HasPrefix(body, "#") {
			_, body, _ = strings.Cut(body, "\n")
		}
		if !strings.Contains(text, body) {
			t.Errorf("%s is not verbatim from the lesson:\n%s", file, body)
		}
	}
}

// TestOutcomeTableRows checks that each row of the lesson's outcome table
// is quoted, configuration and effect, by a note in outcome-table/.
func TestOutcomeTableRows(t *testing.T) {
	t.Parallel()
	text := seedText(t)
	rows := []struct{ config, effect string }{
		{"Default (Sidecar injected, PeerAuthentication PERMISSIVE)", "Envoy intercepts traffic; both plaintext and mTLS are accepted."},
		{"Sidecar injection disabled, PeerAuthentication PERMISSIVE", "No Envoy proxy present; plaintext works, mTLS enforcement not applied via Istio."},
		{"Sidecar injection enabled, PeerAuthentication STRICT", "Istio requires mTLS using Envoy-managed certificates for clients with sidecars."},
		{"Sidecar resource restricting egress", "Limits outbound destinations from workloads to the declared hosts only."},
	}
	var exps []expect.Expectation
	for _, sc := range seed.Scenarios() {
		if sc.Dir == "outcome-table" {
			var err error
			if exps, err = sc.Expectations(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, row := range rows {
		// The page renders each row as configuration and effect run together.
		if !strings.Contains(text, row.config+row.effect) {
			t.Errorf("row %q is not in the lesson's table", row.config)
		}
		quoted := row.config + " | " + row.effect
		if !slices.ContainsFunc(exps, func(x expect.Expectation) bool { return strings.Contains(x.Note, quoted) }) {
			t.Errorf("no note in outcome-table/expect.yaml quotes %q", quoted)
		}
	}
}
