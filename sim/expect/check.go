package expect

import (
	"fmt"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// Result is the outcome of checking one expectation.
type Result struct {
	Expectation Expectation
	// Verdict is the simulator's answer; the zero Verdict when Err is set.
	Verdict sim.Verdict
	// Err is set when the probe could not be evaluated (an unknown
	// workload, a name that resolves to nothing). It is a [*mesh.Error]
	// positioned at the expectation. A result with an error never passes.
	Err error
	// Pass reports whether the verdict matches the expectation.
	Pass bool
	// Reason says in one line why the result passed or failed, e.g.
	// "expected deny, got allow plaintext".
	Reason string
}

// Report is the outcome of checking a list of expectations.
type Report struct {
	// Results holds one entry per expectation, in the order given.
	Results []Result
	Passed  int
	Failed  int // includes results with an Err
}

// OK reports whether every expectation passed.
func (r Report) OK() bool { return r.Failed == 0 }

// Errors returns the probe errors of the report, in expectation order.
func (r Report) Errors() mesh.ErrorList {
	var l mesh.ErrorList
	for _, res := range r.Results {
		if e, ok := res.Err.(*mesh.Error); ok {
			l = append(l, e)
		}
	}
	return l
}

// Summary renders "N passed, M failed".
func (r Report) Summary() string { return fmt.Sprintf("%d passed, %d failed", r.Passed, r.Failed) }

// Check probes s with every expectation, in order, and compares each
// verdict's as-configured outcome (Verdict.Default) with it: expect allow
// needs an allowed connection (on the given transport, when one is given);
// expect deny needs a denied one; expect undecided needs an outcome that
// depends on something meshreach does not model (sim.Result.Undecided). An
// undecided outcome never passes allow or deny: its reason says why it is
// undecided. The report is deterministic.
func Check(s *sim.Simulator, exps []Expectation) Report {
	var r Report
	for _, x := range exps {
		res := check(s, x)
		if res.Pass {
			r.Passed++
		} else {
			r.Failed++
		}
		r.Results = append(r.Results, res)
	}
	return r
}

func check(s *sim.Simulator, x Expectation) Result {
	res := Result{Expectation: x}
	v, err := s.Probe(x.Probe)
	if err != nil {
		res.Err = &mesh.Error{Pos: x.Pos, Ref: x.Ref(), Err: err}
		res.Reason = "probe error: " + err.Error()
		return res
	}
	res.Verdict = v
	got := Outcome(v)
	d := v.Default
	if d.Undecided != "" {
		got += " (" + d.Undecided + ")"
	}
	switch {
	case x.Undecided != (d.Undecided != ""):
		res.Reason = fmt.Sprintf("expected %s, got %s", x.Want(), got)
	case x.Allow != d.Allowed:
		res.Reason = fmt.Sprintf("expected %s, got %s", x.Want(), got)
	case x.Allow && x.Transport != sim.NoTransport && x.Transport != d.Transport:
		res.Reason = fmt.Sprintf("expected %s, got %s", x.Want(), got)
	default:
		res.Pass = true
		res.Reason = fmt.Sprintf("got %s, as expected", got)
	}
	return res
}

// Outcome renders a verdict's as-configured outcome as expectations spell
// it: "deny", "undecided", or "allow" and the transport ("allow mtls").
func Outcome(v sim.Verdict) string { return v.Default.Outcome() }
