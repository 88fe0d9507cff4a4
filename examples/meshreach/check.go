package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/expect"
)

const checkUsage = `Usage: meshreach check -f PATH... EXPECT.yaml [-o text|json]

Probes every expectation of EXPECT.yaml against the manifests and prints each
mismatch with its explanation, then "N passed, M failed". EXPECT.yaml is never
read as a manifest, even inside a directory given with -f.

Flags (before or after the argument):
` + commonFlags + `
An expectations file is a YAML list:

  - from: payments/checkout   # namespace/workload
    to: ledger.payments       # as the client dials it; namespace/workload = pod IP
    port: 8080
    protocol: http            # tcp (default), http, http2, grpc, https
    method: GET               # optional, HTTP only; also path: /x, headers: {k: "v"}
    expect: allow             # allow, deny or undecided (not modelled: ext_authz, JWT…)
    transport: mtls           # optional: mtls, plaintext or tls
    note: why                 # optional

Exits 0 when every expectation holds, 1 when one does not, 2 on bad input.
`

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("check", checkUsage)
	pos, code, done := c.parse(args, 1, "one EXPECT.yaml", stdout, stderr)
	if done {
		return code
	}
	// Report the problems of both inputs at once.
	m, errM := loadMesh(c.files, pos[0], stdin, stderr)
	exps, errX := expect.Load(pos[0])
	if errM != nil || errX != nil {
		for _, err := range []error{errM, errX} {
			if err != nil {
				printErrors(stderr, err)
			}
		}
		return exitBadInput
	}
	r := expect.Check(sim.New(m), exps)
	code = exitOK
	switch {
	case len(r.Errors()) > 0:
		printErrors(stderr, r.Errors())
		code = exitBadInput
	case !r.OK():
		code = exitMismatch
	}
	if c.out == "json" {
		if c := writeJSON(stdout, stderr, reportView(r)); c != exitOK {
			return c
		}
		return code
	}
	writeMismatches(stdout, r)
	fmt.Fprintln(stdout, r.Summary())
	return code
}

// writeMismatches prints every failed expectation that has a verdict, with
// its note and the verdict's explanation.
func writeMismatches(w io.Writer, r expect.Report) {
	for _, res := range r.Results {
		if res.Pass || res.Err != nil {
			continue
		}
		x := res.Expectation
		fmt.Fprintf(w, "FAIL %s: %s: %s: %s\n", x.Pos, x.Ref(), x.Probe, res.Reason)
		if x.Note != "" {
			fmt.Fprintf(w, "  note: %s\n", x.Note)
		}
		for _, line := range strings.SplitAfter(strings.TrimSuffix(res.Verdict.Explain(), "\n"), "\n") {
			fmt.Fprintf(w, "  %s", line)
		}
		fmt.Fprintln(w)
	}
}

// printErrors prints every entry of a mesh.ErrorList on its own line, or
// the error itself.
func printErrors(w io.Writer, err error) {
	var l mesh.ErrorList
	if errors.As(err, &l) {
		fmt.Fprint(w, l.Full())
		return
	}
	fmt.Fprintf(w, "meshreach: %v\n", err)
}
