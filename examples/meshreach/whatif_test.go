package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/internal/golden"
)

const peerSidecar = "../seed/peer-sidecar"

// TestWhatIfCommands runs diff and whatif in-process: exit codes (0 when
// nothing changes, 1 when something does, 2 on bad input) and, where
// golden is set, stdout and stderr against testdata/golden.
func TestWhatIfCommands(t *testing.T) {
	if !golden.Updating() {
		t.Parallel()
	}
	tests := []struct {
		name   string
		reason string
		args   []string
		code   int
		golden bool
	}{{
		name:   "whatif-peer-sidecar-json",
		reason: "the seed's peer-sidecar.yaml on the PERMISSIVE mesh around it: legacy/cron's plaintext breaks, payments' calls out of scope go plaintext",
		args:   []string{"whatif", "-f", peerSidecar, peerSidecar + "/peer-sidecar.yaml", "-o", "json"},
		code:   1,
		golden: true,
	}, {
		name:   "whatif-peer-sidecar-text",
		reason: "the text view: a summary, then where each change's traces part",
		args:   []string{"whatif", "-f", peerSidecar, peerSidecar + "/peer-sidecar.yaml"},
		code:   1,
		golden: true,
	}, {
		name:   "whatif-disable-injection-markdown",
		reason: "injection off in billing: its client loses mTLS to the STRICT namespace, its server stops accepting mTLS",
		args:   []string{"whatif", "-f", peerSidecar, "../whatif/disable-injection.yaml", "-o", "markdown"},
		code:   1,
		golden: true,
	}, {
		name:   "whatif-registry-only",
		reason: "moving the mesh to REGISTRY_ONLY blocks what payments' Sidecar scope does not import",
		args:   []string{"whatif", "-f", "../seed/registry-only", "../seed/registry-only/mesh-config.yaml"},
		code:   1,
		golden: true,
	}, {
		name:   "whatif-no-change",
		reason: "a patch that restates an object as it is changes nothing: exit 0",
		args:   []string{"whatif", "-f", peerSidecar, "testdata/whatif/same-legacy.yaml"},
		code:   0,
		golden: true,
	}, {
		name:   "whatif-bad-patch",
		reason: "every problem of the patch, positioned, and exit 2",
		args:   []string{"whatif", "-f", peerSidecar, "testdata/whatif/bad-patch.yaml"},
		code:   2,
		golden: true,
	}, {
		name:   "whatif-missing-patch",
		reason: "a patch file that does not exist is bad input",
		args:   []string{"whatif", "-f", peerSidecar, "testdata/whatif/nope.yaml"},
		code:   2,
	}, {
		name:   "whatif-no-patch",
		reason: "the patch argument is required",
		args:   []string{"whatif", "-f", peerSidecar},
		code:   2,
	}, {
		name:   "whatif-bad-output",
		reason: "only text, json and markdown",
		args:   []string{"whatif", "-f", peerSidecar, "../whatif/disable-injection.yaml", "-o", "dot"},
		code:   2,
	}, {
		name:   "rollout-app",
		reason: "STRICT on app breaks legacy/cron (no sidecar); injecting it is the fix, and the re-run diff leaves nothing broken",
		args:   []string{"rollout", "-f", peerSidecar + "/namespaces.yaml", "-f", peerSidecar + "/workloads.yaml", "app"},
		code:   1,
		golden: true,
	}, {
		name:   "rollout-workload-json",
		reason: "a workload-level goal, as JSON",
		args:   []string{"rollout", "-f", "../../sim/testdata/rollout", "vault/secret", "-o", "json"},
		code:   1,
		golden: true,
	}, {
		name:   "rollout-safe",
		reason: "STRICT where no workload has a sidecar changes nothing: exit 0",
		args:   []string{"rollout", "-f", peerSidecar + "/namespaces.yaml", "-f", peerSidecar + "/workloads.yaml", "legacy"},
		code:   0,
		golden: true,
	}, {
		name:   "rollout-unknown",
		reason: "an unknown namespace is bad input",
		args:   []string{"rollout", "-f", peerSidecar, "nope"},
		code:   2,
	}, {
		name:   "diff-same",
		reason: "the same manifests on both sides: nothing changes",
		args:   []string{"diff", "-f", peerSidecar, "--after", peerSidecar},
		code:   0,
	}, {
		name:   "diff-no-after",
		reason: "--after is required",
		args:   []string{"diff", "-f", peerSidecar},
		code:   2,
	}, {
		name:   "diff-bad-after",
		reason: "a bad manifest after is bad input",
		args:   []string{"diff", "-f", peerSidecar, "--after", "testdata/typo"},
		code:   2,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !golden.Updating() {
				t.Parallel()
			}
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (%s)\nstderr:\n%s", code, tc.code, tc.reason, stderr.String())
			}
			if tc.golden {
				golden.Check(t, filepath.Join("testdata", "golden", tc.name+".stdout"), stdout.Bytes())
				golden.Check(t, filepath.Join("testdata", "golden", tc.name+".stderr"), stderr.Bytes())
			}
		})
	}
}

// TestDiffEqualsWhatIf: diff of the manifests before and after a patch
// gives the JSON whatif gives for the patch.
func TestDiffEqualsWhatIf(t *testing.T) {
	t.Parallel()
	var w, d, stderr bytes.Buffer
	if code := run([]string{"whatif", "-f", peerSidecar, peerSidecar + "/peer-sidecar.yaml", "-o", "json"}, nil, &w, &stderr); code != 1 {
		t.Fatalf("whatif exit %d: %s", code, stderr.String())
	}
	if code := run([]string{"diff", "-f", peerSidecar + "/namespaces.yaml", "-f", peerSidecar + "/workloads.yaml",
		"--after", peerSidecar, "-o", "json"}, nil, &d, &stderr); code != 1 {
		t.Fatalf("diff exit %d: %s", code, stderr.String())
	}
	var wj, dj deltaJSON
	if err := json.Unmarshal(w.Bytes(), &wj); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(d.Bytes(), &dj); err != nil {
		t.Fatal(err)
	}
	if wj.Summary["broken"] != 1 || wj.Summary["changes"] != 7 {
		t.Errorf("whatif summary = %v; want 7 changes, 1 broken (legacy/cron -> api.app, the seed's expectation)", wj.Summary)
	}
	if d := cmp.Diff(wj, dj); d != "" {
		t.Errorf("diff and whatif disagree (-whatif +diff):\n%s", d)
	}
}
