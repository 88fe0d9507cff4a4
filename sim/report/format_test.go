package report_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/report"
)

func TestParseFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		in           string
		want         report.Format
		wantErr      bool
	}{
		{"empty", "no -o means text", "", report.Text, false},
		{"md", "md is the short name of markdown", "md", report.Markdown, false},
		{"case", "names are case-insensitive", "HTML", report.HTML, false},
		{"every name", "String round-trips", "csv", report.CSV, false},
		{"unknown", "yaml is not a format", "yaml", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := report.ParseFormat(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseFormat(%q) = %v, %v; want %v, error %v (%s)", tt.in, got, err, tt.want, tt.wantErr, tt.reason)
			}
		})
	}
	for _, f := range report.Formats() {
		if got, err := report.ParseFormat(f.String()); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", f.String(), got, err, f)
		}
	}
}

func port(p uint32, def sim.Outcome, can ...sim.Transport) sim.PortEdge {
	return sim.PortEdge{Port: p, Default: def, Transports: sim.TransportSetOf(can...)}
}

var (
	allowMTLS  = sim.Outcome{Allowed: true, Transport: sim.MTLS}
	allowPlain = sim.Outcome{Allowed: true, Transport: sim.Plaintext}
	allowTLS   = sim.Outcome{Allowed: true, Transport: sim.TLS}
	denyPlain  = sim.Outcome{Transport: sim.Plaintext}
)

// TestDOTStyle pins how an edge is drawn: by the weakest transport that
// flows as configured, else the weakest that could flow, or by the
// transport a path was asked over.
func TestDOTStyle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		ports        []sim.PortEdge
		only         sim.Transport
		want         string // the edge statement's attribute block
	}{
		{
			name: "mtls", reason: "mTLS as configured is a solid green line",
			ports: []sim.PortEdge{port(8080, allowMTLS, sim.MTLS)},
			want:  `color="#2e7d32" fontcolor="#2e7d32" style=solid label="8080 mtls"`,
		},
		{
			name: "plaintext", reason: "plaintext is dashed orange",
			ports: []sim.PortEdge{port(8080, allowPlain, sim.Plaintext)},
			want:  `color="#e65100" fontcolor="#e65100" style=dashed label="8080 plaintext"`,
		},
		{
			name: "tls", reason: "TLS that is not Istio mTLS is solid blue",
			ports: []sim.PortEdge{port(443, allowTLS, sim.TLS, sim.Plaintext)},
			want:  `color="#1565c0" fontcolor="#1565c0" style=solid label="443 tls [plaintext+tls]"`,
		},
		{
			name: "more could flow", reason: "mTLS as configured stays solid although plaintext could flow too; the label says so",
			ports: []sim.PortEdge{port(8080, allowMTLS, sim.MTLS, sim.Plaintext)},
			want:  `color="#2e7d32" fontcolor="#2e7d32" style=solid label="8080 mtls [plaintext+mtls]"`,
		},
		{
			name: "weakest port", reason: "one plaintext port makes the edge plaintext",
			ports: []sim.PortEdge{port(8080, allowMTLS, sim.MTLS), port(9090, allowPlain, sim.Plaintext)},
			want:  `color="#e65100" fontcolor="#e65100" style=dashed label="8080 mtls, 9090 plaintext"`,
		},
		{
			name: "denied as configured", reason: "when nothing flows as configured, what could flow decides",
			ports: []sim.PortEdge{port(8080, denyPlain, sim.MTLS)},
			want:  `color="#2e7d32" fontcolor="#2e7d32" style=solid label="8080 denied [mtls]"`,
		},
		{
			name: "path over plaintext", reason: "a path asked over plaintext is drawn as plaintext",
			ports: []sim.PortEdge{port(8080, allowMTLS, sim.MTLS, sim.Plaintext)},
			only:  sim.Plaintext,
			want:  `color="#e65100" fontcolor="#e65100" style=dashed label="8080 mtls [plaintext+mtls]"`,
		},
	}
	a, b := sim.WorkloadNode(mesh.WorkloadID{Namespace: "a", Name: "x"}), sim.WorkloadNode(mesh.WorkloadID{Namespace: "b", Name: "y"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &report.PathsReport{From: a, To: b, Options: sim.PathOptions{Transport: tt.only},
				Paths: []sim.Path{{Hops: []sim.Edge{{From: a, To: b, Ports: tt.ports}}}}}
			var buf bytes.Buffer
			if err := report.Write(&buf, r, report.Options{Format: report.DOT}); err != nil {
				t.Fatal(err)
			}
			got := attrs(t, buf.String())
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("edge attributes (%s) mismatch (-want +got):\n%s\n%s", tt.reason, d, buf.String())
			}
		})
	}
}

// attrs returns the attributes of the only edge of a DOT graph, on one
// line.
func attrs(t *testing.T, dot string) string {
	t.Helper()
	_, block, ok := strings.Cut(dot, `"a/x" -> "b/y" [`)
	if !ok {
		t.Fatalf("no edge a/x -> b/y in:\n%s", dot)
	}
	block = block[:strings.LastIndex(block, "]")]
	return strings.Join(strings.Fields(block), " ")
}

// TestDeniedEdges checks that pairs between which nothing flows are drawn
// only when asked for.
func TestDeniedEdges(t *testing.T) {
	t.Parallel()
	r := &report.ExposureReport{Exposures: []sim.Exposure{
		{Workload: mesh.WorkloadID{Namespace: "a", Name: "open"}, Port: 80, Accepted: true},
		{Workload: mesh.WorkloadID{Namespace: "a", Name: "shut"}, Port: 80},
	}}
	for _, denied := range []bool{false, true} {
		var buf bytes.Buffer
		if err := report.Write(&buf, r, report.Options{Format: report.DOT, Denied: denied}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), `outside -> "a/open"`) {
			t.Errorf("denied=%v: the accepted exposure is not drawn:\n%s", denied, buf.String())
		}
		if got := strings.Contains(buf.String(), `outside -> "a/shut"`); got != denied {
			t.Errorf("denied=%v: refused exposure drawn = %v:\n%s", denied, got, buf.String())
		}
	}
}

// TestTabular checks the text alignment, the Markdown escaping and the CSV
// quoting on cells that need them.
func TestTabular(t *testing.T) {
	t.Parallel()
	r := &report.ExposureReport{Exposures: []sim.Exposure{
		{Workload: mesh.WorkloadID{Namespace: "a", Name: "web"}, Port: 8080, Accepted: true,
			Services: []mesh.Ref{{Kind: "Service", Namespace: "a", Name: "web|1"}, {Kind: "Service", Namespace: "a", Name: "web,2"}}},
		{Workload: mesh.WorkloadID{Namespace: "long-namespace", Name: "x"}, Port: 80},
	}}
	write := func(f report.Format) string {
		var buf bytes.Buffer
		if err := report.Write(&buf, r, report.Options{Format: f}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	wantText := `== workload ports and plaintext from outside the mesh
WORKLOAD          PORT  PLAINTEXT  SERVICES
a/web             8080  accepted   a/web|1, a/web,2
long-namespace/x    80  refused
`
	if d := cmp.Diff(wantText, write(report.Text)); d != "" {
		t.Errorf("text mismatch (-want +got):\n%s", d)
	}
	md := write(report.Markdown)
	for _, want := range []string{`| a/web | 8080 | accepted | a/web\|1, a/web,2 |`, `|---|--:|---|---|`} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(write(report.CSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"workload", "port", "accepted", "undecided", "services", "findings"}, {"a/web", "8080", "true", "false", "a/web|1 a/web,2", ""}, {"long-namespace/x", "80", "false", "false", "", ""}}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("CSV mismatch (-want +got):\n%s", d)
	}
}

// TestWriteErrors: a nil report and a report without its matrix are
// errors, not panics.
func TestWriteErrors(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := report.Write(&buf, nil, report.Options{}); err == nil {
		t.Error("Write(nil) succeeded")
	}
	if err := report.Write(&buf, &report.MatrixReport{}, report.Options{}); err == nil {
		t.Error("Write(MatrixReport without a Matrix) succeeded")
	}
	if err := report.Write(&buf, &report.GroupsReport{}, report.Options{Format: report.Format(99)}); err == nil {
		t.Error("Write in an unknown format succeeded")
	}
}

// TestZeroReports renders reports holding nothing, without a matrix, in
// every format: no panic, no error, and the JSON lists are empty, not null.
func TestZeroReports(t *testing.T) {
	t.Parallel()
	for _, r := range []report.Report{
		&report.WhoCanReachReport{}, &report.ReachableFromReport{}, &report.PathsReport{},
		&report.ExposureReport{}, &report.GroupsReport{},
	} {
		for _, f := range report.Formats() {
			var buf bytes.Buffer
			if err := report.Write(&buf, r, report.Options{Format: f}); err != nil {
				t.Errorf("%s as %s: %v", r.Kind(), f, err)
			}
			if f == report.JSON && strings.Contains(buf.String(), "null") {
				t.Errorf("%s as JSON has a null:\n%s", r.Kind(), buf.String())
			}
		}
	}
}

// TestUndecided renders a matrix whose cells depend on what meshreach does
// not model (a CUSTOM AuthorizationPolicy): they are neither allowed nor
// denied in any format.
func TestUndecided(t *testing.T) {
	t.Parallel()
	msh, err := mesh.Load("testdata/undecided.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := sim.New(msh).Matrix()
	write := func(f report.Format) string {
		var buf bytes.Buffer
		if err := report.Write(&buf, &report.MatrixReport{Matrix: m}, report.Options{Format: f}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	for _, tt := range []struct {
		format report.Format
		want   []string
	}{
		{report.Text, []string{"undecided", "UNDECIDED"}},
		{report.JSON, []string{`"undecided": true`, `"undecided": 2`}},
		{report.HTML, []string{`<details class="undecided">`, "2 undecided"}},
	} {
		got := write(tt.format)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", tt.format, w, got)
			}
		}
	}
	var buf bytes.Buffer
	r := &report.PathsReport{Paths: []sim.Path{{Hops: []sim.Edge{{From: sim.OutsideNode(), To: sim.WorkloadNode(mesh.WorkloadID{Namespace: "shop", Name: "api"}),
		Ports: []sim.PortEdge{{Port: 8080, Default: sim.Outcome{Undecided: true, Transport: sim.MTLS}, Transports: sim.TransportSetOf(sim.MTLS)}}}}}}}
	if err := report.Write(&buf, r, report.Options{Format: report.DOT}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `label="8080 undecided [mtls]"`) {
		t.Errorf("DOT label of an undecided port:\n%s", buf.String())
	}
}
