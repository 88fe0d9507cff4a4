package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/meshreach/meshreach/examples/seed"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/expect"
)

// runSeed checks every scenario of the embedded seed lesson and prints its
// verdicts, one line each, then the mismatches with their explanations,
// and ends with the summary over all scenarios.
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
