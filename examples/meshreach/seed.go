package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/meshreach/meshreach/examples/seed"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/expect"
	"github.com/meshreach/meshreach/sim/report"
)

// runSeed checks every scenario of the embedded seed lesson and prints its
// verdicts, one line each, the mismatches with their explanations, and the
// scenario's reachability matrix with its summary per namespace pair; it
// ends with the check summary over all scenarios.
func runSeed(stdout, stderr io.Writer) int {
	var passed, failed int
	bad := false
	for _, sc := range seed.Scenarios() {
		m, err := sc.Mesh()
		if err != nil {
			printErrors(stderr, err)
			bad = true
			continue
		}
		for _, w := range m.Warnings() {
			fmt.Fprintf(stderr, "warning: %v\n", w)
		}
		exps, err := sc.Expectations()
		if err != nil {
			printErrors(stderr, err)
			bad = true
			continue
		}
		r := expect.Check(sim.New(m), exps)
		passed += r.Passed
		failed += r.Failed
		if errs := r.Errors(); len(errs) > 0 {
			printErrors(stderr, errs)
			bad = true
		}
		fmt.Fprintf(stdout, "== %s: %s\n", sc.Dir, sc.Title)
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for _, res := range r.Results {
			got := "error"
			if res.Err == nil {
				got = expect.Outcome(res.Verdict)
			}
			if res.Pass {
				fmt.Fprintf(tw, "%s\t%s\n", res.Expectation.Probe, got)
			} else {
				fmt.Fprintf(tw, "%s\t%s\tMISMATCH: %s\n", res.Expectation.Probe, got, res.Reason)
			}
		}
		tw.Flush()
		fmt.Fprintln(stdout)
		writeMismatches(stdout, r)
		if !writeSeedMatrix(stdout, stderr, m) {
			bad = true
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	switch {
	case bad:
		return exitBadInput
	case failed > 0:
		return exitMismatch
	}
	return exitOK
}

// writeSeedMatrix prints the scenario's reachability matrix and its
// summary per namespace pair, indented under the scenario, and reports
// whether it could.
func writeSeedMatrix(stdout, stderr io.Writer, m *mesh.Mesh) bool {
	mx := sim.New(m).Matrix()
	var buf bytes.Buffer
	if err := report.Write(&buf, &report.MatrixReport{Matrix: mx}, report.Options{}); err != nil {
		fmt.Fprintf(stderr, "meshreach: %v\n", err)
		return false
	}
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if strings.TrimSpace(line) != "" {
			line = "  " + line
		}
		fmt.Fprint(stdout, line)
	}
	fmt.Fprintln(stdout)
	return len(mx.Errors()) == 0
}
