// Command meshreach answers Istio sidecar-mode reachability questions
// offline: does a connection from workload A to B on port P get through,
// as mTLS or plaintext, and why.
//
// Usage:
//
//	meshreach                                   run the embedded seed lesson
//	meshreach probe -f PATH... FROM TO PORT     one verdict with its trace
//	meshreach check -f PATH... EXPECT.yaml      check an expectations file
//
// Flags may come before or after the positional arguments, -f repeats and
// takes files, directories or "-" for standard input. Every command takes
// --help. check exits 0 when every expectation holds, 1 when one does not,
// and 2 on bad input.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK       = 0 // success; every expectation holds
	exitMismatch = 1 // an expectation does not hold
	exitBadInput = 2 // bad arguments, manifests, expectations or probes
)

const usage = `Usage: meshreach [COMMAND] [FLAGS] [ARGS]

meshreach simulates Istio sidecar-mode reachability offline: does a connection
from workload A to B on port P get through, as mTLS or plaintext, and why.

Commands:
  (none)   run the embedded seed lesson: every scenario's verdicts, checked
  probe    one connection: meshreach probe -f PATH... FROM TO PORT
  check    an expectations file: meshreach check -f PATH... EXPECT.yaml

Run "meshreach COMMAND --help" for a command's flags and arguments.
`

// run is the whole command: it parses args, reads stdin only for "-f -",
// writes results to stdout and problems to stderr, and returns the exit
// code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runSeed(stdout, stderr)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "probe":
		return runProbe(rest, stdin, stdout, stderr)
	case "check":
		return runCheck(rest, stdin, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "meshreach: unknown command %q\n\n%s", cmd, usage)
		return exitBadInput
	}
}
