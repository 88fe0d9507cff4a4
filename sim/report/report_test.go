package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/examples/seed"
	"github.com/meshreach/meshreach/internal/golden"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/report"
)

// seedDir is the seed scenario the golden files are rendered from: the
// payments Sidecar under ALLOW_ANY has mTLS, plaintext, TLS to an external
// host and connections a STRICT namespace resets.
const seedDir = "payments-sidecar"

// seedMatrix computes the matrix of the seed scenario, afresh on every
// call.
func seedMatrix(t testing.TB) *sim.Matrix {
	t.Helper()
	for _, sc := range seed.Scenarios() {
		if sc.Dir == seedDir {
			m, err := sc.Mesh()
			if err != nil {
				t.Fatal(err)
			}
			return sim.New(m).Matrix()
		}
	}
	t.Fatalf("no seed scenario %s", seedDir)
	return nil
}

func wl(s string) mesh.WorkloadID {
	id, err := mesh.ParseWorkloadID(s)
	if err != nil {
		panic(err)
	}
	return id
}

type namedReport struct {
	name string
	r    report.Report
}

// seedReports runs one query of each kind on m.
func seedReports(m *sim.Matrix) []namedReport {
	ledger := sim.WorkloadNode(wl("payments/ledger"))
	checkout := sim.WorkloadNode(wl("payments/checkout"))
	cart := sim.WorkloadNode(wl("shop/cart"))
	pathOpt := sim.PathOptions{Limit: 3}
	plainOpt := sim.PathOptions{Transport: sim.Plaintext, MaxHops: 3, Limit: 3}
	return []namedReport{
		{"matrix", &report.MatrixReport{Matrix: m}},
		{"matrix-payments", &report.MatrixReport{Matrix: m, Filter: sim.Filter{FromNamespace: "payments"}}},
		{"who-can-reach", &report.WhoCanReachReport{Matrix: m, Dest: ledger, Port: 8080, Groups: m.WhoCanReach(ledger, 8080)}},
		{"reachable-from", &report.ReachableFromReport{Matrix: m, Source: checkout, Groups: m.ReachableFrom(checkout)}},
		{"paths", &report.PathsReport{Matrix: m, From: sim.OutsideNode(), To: cart, Options: pathOpt, Paths: m.Paths(sim.OutsideNode(), cart, pathOpt)}},
		{"paths-plaintext", &report.PathsReport{Matrix: m, From: checkout, To: ledger, Options: plainOpt, Paths: m.Paths(checkout, ledger, plainOpt)}},
		{"exposure", &report.ExposureReport{Matrix: m, Exposures: m.Exposure(sim.Filter{})}},
		{"groups", &report.GroupsReport{Matrix: m, Groups: m.Components(sim.NoTransport)}},
	}
}

var extensions = map[report.Format]string{
	report.Text: "txt", report.JSON: "json", report.DOT: "dot", report.Markdown: "md", report.CSV: "csv", report.HTML: "html",
}

func render(t testing.TB, r report.Report, opt report.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Write(&buf, r, opt); err != nil {
		t.Fatalf("Write %s as %s: %v", r.Kind(), opt.Format, err)
	}
	return buf.Bytes()
}

// TestGolden renders every kind of report in every format and compares
// with testdata/golden/<report>.<ext> (rewritten with -update).
func TestGolden(t *testing.T) {
	if !golden.Updating() {
		t.Parallel()
	}
	m := seedMatrix(t)
	for _, nr := range seedReports(m) {
		for _, f := range report.Formats() {
			t.Run(nr.name+"/"+f.String(), func(t *testing.T) {
				got := render(t, nr.r, report.Options{Format: f})
				golden.Check(t, filepath.Join("testdata", "golden", nr.name+"."+extensions[f]), got)
			})
		}
	}
	t.Run("matrix/dot-denied", func(t *testing.T) {
		got := render(t, &report.MatrixReport{Matrix: m}, report.Options{Format: report.DOT, Denied: true})
		golden.Check(t, filepath.Join("testdata", "golden", "matrix-denied.dot"), got)
	})
}

// TestDeterministic renders every report in every format twice, each
// time from a matrix computed afresh, and wants the same bytes: no map
// order may leak into any output.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	first, second := seedReports(seedMatrix(t)), seedReports(seedMatrix(t))
	for i := range first {
		for _, f := range report.Formats() {
			for _, denied := range []bool{false, true} {
				opt := report.Options{Format: f, Denied: denied}
				a, b := render(t, first[i].r, opt), render(t, second[i].r, opt)
				if again := render(t, first[i].r, opt); !bytes.Equal(a, again) {
					t.Errorf("%s as %s (denied %v): two renderings of one report differ", first[i].name, f, denied)
				}
				if !bytes.Equal(a, b) {
					t.Errorf("%s as %s (denied %v): renderings of two matrices of one mesh differ:\n%s", first[i].name, f, denied, cmp.Diff(string(a), string(b)))
				}
			}
		}
	}
}

// TestJSONSchema checks the envelope and the shapes the package
// documentation promises, independently of the golden files.
func TestJSONSchema(t *testing.T) {
	t.Parallel()
	for _, nr := range seedReports(seedMatrix(t)) {
		t.Run(nr.name, func(t *testing.T) {
			t.Parallel()
			b := render(t, nr.r, report.Options{Format: report.JSON})
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("invalid JSON: %v", err)
			}
			if v, ok := doc["schemaVersion"].(float64); !ok || v != report.SchemaVersion {
				t.Errorf("schemaVersion = %v, want %d", doc["schemaVersion"], report.SchemaVersion)
			}
			if doc["kind"] != nr.r.Kind() {
				t.Errorf("kind = %v, want %s", doc["kind"], nr.r.Kind())
			}
			lists := map[string][]string{
				"Matrix":        {"cells", "summary", "errors"},
				"WhoCanReach":   {"groups"},
				"ReachableFrom": {"groups"},
				"Paths":         {"paths"},
				"Exposure":      {"exposures"},
				"Groups":        {"groups"},
			}[nr.r.Kind()]
			if lists == nil {
				t.Fatalf("kind %s is not documented", nr.r.Kind())
			}
			for _, k := range lists {
				l, ok := doc[k].([]any)
				if !ok {
					t.Errorf("%q is %T, want a list (never null)", k, doc[k])
				} else if len(l) == 0 && k != "errors" {
					t.Errorf("%q is empty: the seed scenario should give the query something to show", k)
				}
			}
			checkNulls(t, "", doc)
		})
	}
}

// checkNulls reports every null in a document: lists are never null and
// absent values are left out.
func checkNulls(t *testing.T, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case nil:
		t.Errorf("%s is null", path)
	case map[string]any:
		for k, e := range x {
			checkNulls(t, path+"."+k, e)
		}
	case []any:
		for i, e := range x {
			checkNulls(t, fmt.Sprintf("%s[%d]", path, i), e)
		}
	}
}

// TestDOTGraphviz feeds every DOT output to Graphviz.
func TestDOTGraphviz(t *testing.T) {
	t.Parallel()
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("graphviz is not installed (Debian package graphviz): DOT output not checked by dot -Tsvg")
	}
	for _, nr := range seedReports(seedMatrix(t)) {
		for _, denied := range []bool{false, true} {
			src := render(t, nr.r, report.Options{Format: report.DOT, Denied: denied})
			cmd := exec.Command(dot, "-Tsvg")
			cmd.Stdin = bytes.NewReader(src)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Errorf("%s (denied %v): dot -Tsvg: %v\n%s\ninput:\n%s", nr.name, denied, err, stderr.String(), src)
				continue
			}
			if !bytes.Contains(out, []byte("<svg")) {
				t.Errorf("%s: dot -Tsvg wrote no SVG", nr.name)
			}
		}
	}
}

// TestHTMLSelfContained checks that no HTML page loads anything: no
// external scripts, styles, images or fonts.
func TestHTMLSelfContained(t *testing.T) {
	t.Parallel()
	for _, nr := range seedReports(seedMatrix(t)) {
		page := string(render(t, nr.r, report.Options{Format: report.HTML}))
		for _, bad := range []string{"<link", "src=", "@import", "url(", "http://", "https://"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s: the page contains %q: it must need no network access", nr.name, bad)
			}
		}
	}
}
