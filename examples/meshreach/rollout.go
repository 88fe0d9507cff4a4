package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/meshreach/meshreach/sim"
)

const rolloutUsage = `Usage: meshreach rollout -f PATH... NAMESPACE[/WORKLOAD] [-o text|json]

Plans STRICT mTLS for a namespace (its namespace-wide PeerAuthentication) or
one workload (a PeerAuthentication selecting its labels): lists the clients it
would break and why (no sidecar; passthrough, outside their Sidecar's scope; a
DestinationRule whose TLS is not ISTIO_MUTUAL; auto mTLS reading a DISABLE
namespace or switched off), the narrowest edit that keeps each working
(inject the workload, else its namespace; a DestinationRule with
ISTIO_MUTUAL; a port-level PERMISSIVE on the server), and what still breaks
once every fix is applied, from a fresh diff.

Flags (before or after the argument):
` + commonFlags + `
Exits 0 when the goal breaks nothing, 1 when it breaks something (the fixes
are listed), 2 on bad input.
`

func runRollout(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("rollout", rolloutUsage)
	pos, code, done := c.parse(args, 1, "one NAMESPACE or NAMESPACE/WORKLOAD", stdout, stderr)
	if done {
		return code
	}
	m, err := loadMesh(c.files, "", stdin, stderr)
	if err != nil {
		printErrors(stderr, err)
		return exitBadInput
	}
	goal := sim.StrictGoal{Namespace: pos[0]}
	if ns, w, ok := strings.Cut(pos[0], "/"); ok {
		goal = sim.StrictGoal{Namespace: ns, Workload: w}
	}
	p, err := sim.PlanStrict(sim.New(m).Matrix(), goal)
	if err != nil {
		return c.fail(stderr, err.Error())
	}
	code = exitOK
	if len(p.Breaks) > 0 {
		code = exitMismatch
	}
	if c.out == "json" {
		if c := writeJSON(stdout, stderr, rolloutView(p)); c != exitOK {
			return c
		}
		return code
	}
	ew := &errWriter{w: stdout}
	fmt.Fprintf(ew, "goal: %s\n%s\n", p.Goal, summaryLine(p.Delta))
	if len(p.Breaks) == 0 {
		fmt.Fprintln(ew, "nothing breaks")
	} else {
		fmt.Fprintln(ew, "\nbreaks:")
		for _, b := range p.Breaks {
			c := b.Change
			fmt.Fprintf(ew, "  %s -> %s:%d (%s:%d): %s -> %s: %s\n", c.From, c.Host, c.ViaPort, c.To, c.Port, c.Before.Default, c.After.Default, b.Reason)
		}
		fmt.Fprintln(ew, "\nfixes:")
		for _, f := range p.Fixes {
			fmt.Fprintf(ew, "  %s: %s (for %s)\n", f.Kind, f.Detail, joinIDs(f))
		}
		fmt.Fprintf(ew, "\nwith the fixes: %s; %d broken\n", summaryLine(p.Verified), len(p.Remaining))
		for _, c := range p.Remaining {
			fmt.Fprintf(ew, "  still broken: %s\n", c)
		}
	}
	if ew.err != nil {
		fmt.Fprintf(stderr, "meshreach: %v\n", ew.err)
		return exitBadInput
	}
	return code
}

func joinIDs(f sim.Fix) string {
	parts := make([]string, len(f.For))
	for i, id := range f.For {
		parts[i] = id.String()
	}
	return strings.Join(parts, ", ")
}

type rolloutJSON struct {
	Goal      string         `json:"goal"`
	Summary   map[string]int `json:"summary"` // the goal alone, as in diff
	Breaks    []breakJSON    `json:"breaks"`
	Fixes     []fixJSON      `json:"fixes"`
	Remaining []string       `json:"remaining"` // broken with every fix applied
}

type breakJSON struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Port   uint32 `json:"port"`
	Host   string `json:"host"`
	Via    uint32 `json:"viaPort"`
	Before string `json:"before"`
	After  string `json:"after"`
	Reason string `json:"reason"`
}

type fixJSON struct {
	Kind   string   `json:"kind"`
	Target refJSON  `json:"target"`
	Detail string   `json:"detail"`
	For    []string `json:"for"`
}

func rolloutView(p *sim.RolloutPlan) rolloutJSON {
	out := rolloutJSON{Goal: p.Goal.String(), Summary: deltaView(p.Delta).Summary, Breaks: []breakJSON{}, Fixes: []fixJSON{}, Remaining: []string{}}
	for _, b := range p.Breaks {
		c := b.Change
		out.Breaks = append(out.Breaks, breakJSON{From: c.From.String(), To: c.To.String(), Port: c.Port, Host: c.Host, Via: c.ViaPort,
			Before: c.Before.Default.String(), After: c.After.Default.String(), Reason: b.Reason.String()})
	}
	for _, f := range p.Fixes {
		fj := fixJSON{Kind: f.Kind.String(), Target: *refView(f.Target), Detail: f.Detail}
		for _, id := range f.For {
			fj.For = append(fj.For, id.String())
		}
		out.Fixes = append(out.Fixes, fj)
	}
	for _, c := range p.Remaining {
		out.Remaining = append(out.Remaining, c.String())
	}
	return out
}
