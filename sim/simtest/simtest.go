// Package simtest holds assertions for Go tests of Istio configuration:
// load a mesh from testdata, check an expectations table (the format of
// meshreach check, package [expect]), assert that a change breaks nothing
// or only what is listed, and freeze today's reachability as an
// expectations file, so that a later change that alters it fails a test.
//
// Failures are reported with go-cmp diffs (-want +got) that name the
// failing probes, followed by the traces that explain them.
package simtest

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/expect"
)

// LoadMesh loads manifests as [mesh.Load] does (files and directories) and
// stops the test with every error when they do not load.
func LoadMesh(t testing.TB, paths ...string) *mesh.Mesh {
	t.Helper()
	m, err := mesh.Load(paths...)
	if err != nil {
		if l, ok := err.(mesh.ErrorList); ok {
			t.Fatalf("loading %v:\n%s", paths, l.Full())
		}
		t.Fatalf("loading %v: %v", paths, err)
	}
	return m
}

// Patch applies a manifest patch file (see [mesh.Builder.ApplyPatch]) to a
// copy of m and returns the result, stopping the test on any error. m
// does not change.
func Patch(t testing.TB, m *mesh.Mesh, path string) *mesh.Mesh {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b := m.Edit()
	if err := b.ApplyPatch(path, src); err != nil {
		t.Fatalf("patch %s: %v", path, err)
	}
	out, err := b.Build()
	if err != nil {
		t.Fatalf("patch %s: %v", path, err)
	}
	return out
}

// CheckFile checks the expectations file at path against s (see
// [Check]); an unreadable or invalid file stops the test.
func CheckFile(t testing.TB, s *sim.Simulator, path string) {
	t.Helper()
	exps, err := expect.Load(path)
	if err != nil {
		t.Fatalf("expectations %s: %v", path, err)
	}
	Check(t, s, exps)
}

// Check probes s with every expectation and fails t unless each holds.
// The failure is a go-cmp diff of the expected and actual outcomes of the
// failing probes, each named "file:line: expectation N: from ->
// to:port/proto", followed by the verdict and traces of each.
func Check(t testing.TB, s *sim.Simulator, exps []expect.Expectation) {
	t.Helper()
	r := expect.Check(s, exps)
	if r.OK() {
		return
	}
	type probe struct{ Expectation, Outcome string }
	var want, got []probe
	var why strings.Builder
	for _, res := range r.Results {
		if res.Pass {
			continue
		}
		x := res.Expectation
		name := fmt.Sprintf("%s: %s: %s", x.Pos, x.Ref(), x.Probe)
		want = append(want, probe{name, x.Want()})
		if res.Err != nil {
			got = append(got, probe{name, "error: " + res.Err.Error()})
			continue
		}
		got = append(got, probe{name, res.Verdict.Default.Outcome()})
		fmt.Fprintf(&why, "\n%s: %s: %s\n", x.Pos, x.Ref(), res.Reason)
		if x.Note != "" {
			fmt.Fprintf(&why, "  note: %s\n", x.Note)
		}
		why.WriteString(res.Verdict.Explain())
	}
	t.Errorf("%s; the failing probes (-want +got):\n%s%s", r.Summary(), cmp.Diff(want, got), why.String())
}

// ChangeLine renders a change for [AssertChanges]:
// "broken legacy/cron -> api.app.svc.cluster.local:8080 (app/api:8080)".
func ChangeLine(c sim.Change) string {
	return fmt.Sprintf("%s %s -> %s:%d (%s:%d)", c.Kind, c.From, c.Host, c.ViaPort, c.To, c.Port)
}

// AssertNoChanges fails t when d has any change, listing each with the
// traces that explain it.
func AssertNoChanges(t testing.TB, d *sim.Delta) {
	t.Helper()
	AssertChanges(t, d)
}

// AssertChanges fails t unless the changes of d are exactly want, in
// [ChangeLine] form and in any order, reporting a go-cmp diff and the
// traces of each unexpected change.
func AssertChanges(t testing.TB, d *sim.Delta, want ...string) {
	t.Helper()
	var got []string
	byLine := map[string]sim.Change{}
	for c := range d.Changes() {
		l := ChangeLine(c)
		got = append(got, l)
		byLine[l] = c
	}
	want = slices.Sorted(slices.Values(want))
	slices.Sort(got)
	diff := cmp.Diff(want, got)
	if diff == "" {
		return
	}
	var why strings.Builder
	for _, l := range got {
		if slices.Contains(want, l) {
			continue
		}
		c := byLine[l]
		before, after, err := d.Explain(c)
		fmt.Fprintf(&why, "\n%s\n", l)
		if err != nil {
			fmt.Fprintf(&why, "  (no explanation: %v)\n", err)
			continue
		}
		writeSide(&why, "before", c.Before, before)
		writeSide(&why, "after", c.After, after)
	}
	t.Errorf("changes differ (-want +got):\n%s%s", diff, why.String())
}

func writeSide(w io.Writer, title string, c sim.Cell, r sim.Result) {
	if !c.From.IsValid() {
		fmt.Fprintf(w, "  %s: absent\n", title)
		return
	}
	fmt.Fprintf(w, "  %s: %s (accepts %s)\n", title, c.Default, c.Accepts)
	for _, s := range r.Steps {
		who := s.Side.String()
		if s.Subject.IsValid() {
			who += " " + s.Subject.String()
		}
		fmt.Fprintf(w, "    - %s: %s\n", who, s)
	}
}

// Freeze returns one expectation per probe the matrix makes among the
// cells f selects (a client to a Service or ServiceEntry host and port),
// holding today's as-configured outcome: allow with its transport, deny,
// or undecided. Written with [WriteExpectations], they make a regression
// test of the mesh as it is. The order is the cells' order.
func Freeze(m *sim.Matrix, f sim.Filter) ([]expect.Expectation, error) {
	var out []expect.Expectation
	type key struct {
		from  mesh.WorkloadID
		host  string
		port  uint32
		proto sim.Protocol
	}
	seen := map[key]bool{}
	for c := range m.Cells(f) {
		k := key{c.From, c.Host, c.ViaPort, c.Proto}
		if seen[k] {
			continue
		}
		seen[k] = true
		p := c.Probe()
		v, err := m.Simulator().Probe(p)
		if err != nil {
			return nil, err
		}
		x := expect.Expectation{Probe: p, Index: len(out) + 1}
		switch d := v.Default; {
		case d.Allowed:
			x.Allow, x.Transport = true, d.Transport
		case d.Undecided != "":
			x.Undecided = true
		}
		if !v.Service.IsZero() {
			x.Note = "frozen: via " + v.Service.String()
		}
		out = append(out, x)
	}
	return out, nil
}

// WriteExpectations writes exps as an expectations file that
// [expect.Parse] reads back to the same probes and outcomes.
func WriteExpectations(w io.Writer, exps []expect.Expectation) error {
	var b strings.Builder
	if len(exps) == 0 {
		b.WriteString("[]\n")
	}
	q := strconv.Quote
	for _, x := range exps {
		p := x.Probe
		to := p.To
		if to == "" {
			to = p.ToWorkload.String()
		}
		fmt.Fprintf(&b, "- from: %s\n  to: %s\n  port: %d\n", q(p.From.String()), q(to), p.Port)
		if p.Protocol != sim.TCP {
			fmt.Fprintf(&b, "  protocol: %s\n", p.Protocol)
		}
		if p.Method != "" {
			fmt.Fprintf(&b, "  method: %s\n", q(p.Method))
		}
		if p.Path != "" {
			fmt.Fprintf(&b, "  path: %s\n", q(p.Path))
		}
		if len(p.Headers) > 0 {
			b.WriteString("  headers:\n")
			for _, k := range slices.Sorted(maps.Keys(p.Headers)) {
				fmt.Fprintf(&b, "    %s: %s\n", q(k), q(p.Headers[k]))
			}
		}
		switch {
		case x.Undecided:
			b.WriteString("  expect: undecided\n")
		case !x.Allow:
			b.WriteString("  expect: deny\n")
		default:
			b.WriteString("  expect: allow\n")
			if x.Transport != sim.NoTransport {
				fmt.Fprintf(&b, "  transport: %s\n", x.Transport)
			}
		}
		if x.Note != "" {
			fmt.Fprintf(&b, "  note: %s\n", q(x.Note))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
