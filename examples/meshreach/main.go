// Command meshreach answers Istio sidecar-mode reachability questions
// offline: does a connection from workload A to B on port P get through,
// as mTLS or plaintext, and why.
//
// Usage:
//
//	meshreach                                   run the embedded seed lesson
//	meshreach probe -f PATH... FROM TO PORT     one verdict with its trace
//	meshreach check -f PATH... EXPECT.yaml      check an expectations file
//	meshreach matrix -f PATH...                 every workload pair × port
//	meshreach who-can-reach -f PATH... DEST[:PORT]
//	meshreach reachable-from -f PATH... SRC
//	meshreach paths -f PATH... SRC DST          lateral movement, hop by hop
//	meshreach exposure -f PATH...               ports open to plaintext from outside
//	meshreach groups -f PATH...                 workloads that all reach each other
//	meshreach diff -f BEFORE... --after AFTER...  what changes between two mesh states
//	meshreach whatif -f BASE... PATCH.yaml      what a patch would change
//	meshreach rollout -f PATH... NAMESPACE[/WORKLOAD]  plan STRICT: who breaks, what fixes it
//
// The whole-mesh commands (matrix and after) write text, json, dot,
// markdown, csv or html (-o).
//
// Flags may come before or after the positional arguments, -f repeats and
// takes files, directories or "-" for standard input. Every command takes
// --help. check exits 0 when every expectation holds, 1 when one does not,
// and 2 on bad input; diff and whatif exit 0 when nothing changes, 1 when
// something does, and 2 on bad input.
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

Whole-mesh commands (-o text, json, dot, markdown, csv or html):
  matrix          every client workload to every Service port, and a
                  summary per namespace pair
  who-can-reach   the clients of DEST[:PORT], by transport
  reachable-from  what SRC reaches, by transport
  paths           multi-hop paths SRC to DST (--plaintext-only, --mtls-only,
                  --max-hops N)
  exposure        workload ports that accept plaintext from outside the mesh
  groups          groups of workloads that can all reach each other

What-if commands (-o text, json or markdown; exit 1 when something changes):
  diff     meshreach diff -f BEFORE... --after AFTER...
  whatif   meshreach whatif -f BASE... PATCH.yaml
  rollout  meshreach rollout -f PATH... NAMESPACE[/WORKLOAD]   (STRICT: who breaks, the fixes)

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
	case "matrix":
		return runMatrix(rest, stdin, stdout, stderr)
	case "who-can-reach":
		return runWhoCanReach(rest, stdin, stdout, stderr)
	case "reachable-from":
		return runReachableFrom(rest, stdin, stdout, stderr)
	case "paths":
		return runPaths(rest, stdin, stdout, stderr)
	case "exposure":
		return runExposure(rest, stdin, stdout, stderr)
	case "groups":
		return runGroups(rest, stdin, stdout, stderr)
	case "diff":
		return runDiff(rest, stdin, stdout, stderr)
	case "whatif":
		return runWhatIf(rest, stdin, stdout, stderr)
	case "rollout":
		return runRollout(rest, stdin, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "meshreach: unknown command %q\n\n%s", cmd, usage)
		return exitBadInput
	}
}
