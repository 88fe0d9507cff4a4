package report_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshreach/meshreach/examples/seed"
	"github.com/meshreach/meshreach/internal/golden"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/report"
)

// authzExposure is the exposure report of the authz seed scenario, every
// port included: it has a finding of each kind (sim.FindingKind).
func authzExposure(t *testing.T) *report.ExposureReport {
	t.Helper()
	for _, sc := range seed.Scenarios() {
		if sc.Dir == "authz" {
			m, err := sc.Mesh()
			if err != nil {
				t.Fatal(err)
			}
			mx := sim.New(m).Matrix()
			return &report.ExposureReport{Matrix: mx, Exposures: mx.Exposure(sim.Filter{})}
		}
	}
	t.Fatal("no seed scenario authz")
	return nil
}

// TestExposureFindingsGolden renders the findings of the authz scenario
// in every format and compares with testdata/golden/exposure-authz.<ext>
// (rewritten with -update).
func TestExposureFindingsGolden(t *testing.T) {
	if !golden.Updating() {
		t.Parallel()
	}
	r := authzExposure(t)
	for _, f := range report.Formats() {
		t.Run(f.String(), func(t *testing.T) {
			golden.Check(t, filepath.Join("testdata", "golden", "exposure-authz."+extensions[f]), render(t, r, report.Options{Format: f}))
		})
	}
}

// TestExposureFindingsShown checks that every format but DOT shows every
// kind of finding, and the JSON shape the package documentation promises.
func TestExposureFindingsShown(t *testing.T) {
	t.Parallel()
	r := authzExposure(t)
	kinds := []sim.FindingKind{sim.FindingIdentityAllow, sim.FindingDenyBypassed, sim.FindingNotEnforced}
	for _, f := range report.Formats() {
		if f == report.DOT {
			continue
		}
		out := string(render(t, r, report.Options{Format: f}))
		for _, k := range kinds {
			if !strings.Contains(out, string(k)) {
				t.Errorf("%s output does not show %s", f, k)
			}
		}
	}
	var doc struct {
		Exposures []struct {
			Workload string
			Port     uint32
			Findings []map[string]any
		}
	}
	if err := json.Unmarshal(render(t, r, report.Options{Format: report.JSON}), &doc); err != nil {
		t.Fatal(err)
	}
	for _, x := range doc.Exposures {
		if x.Findings == nil {
			t.Errorf("%s:%d: findings is null or absent, want a list", x.Workload, x.Port)
		}
		for _, f := range x.Findings {
			_, hasRule := f["rule"]
			if wantRule := f["kind"] != string(sim.FindingNotEnforced); hasRule != wantRule {
				t.Errorf("%s:%d: finding %v: rule present %v, want %v (absent only for the policy as a whole)", x.Workload, x.Port, f, hasRule, wantRule)
			}
			for _, k := range []string{"kind", "policy", "pos", "detail"} {
				if _, ok := f[k]; !ok {
					t.Errorf("%s:%d: finding %v lacks %q", x.Workload, x.Port, f, k)
				}
			}
		}
	}
}
