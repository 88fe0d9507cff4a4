package simtest_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/expect"
	"github.com/meshreach/meshreach/sim/simtest"
)

const seed = "../../examples/seed/peer-sidecar/"

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// squash collapses runs of white space, non-breaking spaces included (go-cmp
// varies them on purpose), so that failure messages can be matched.
func squash(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\u00a0", " ")), " ")
}

// record runs f with a recorder, as a test body.
func record(t *testing.T, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestCheck(t *testing.T) {
	t.Parallel()
	shop := simtest.LoadMesh(t, "../../examples/meshreach/testdata/shop/namespaces.yaml", "../../examples/meshreach/testdata/shop/shop.yaml",
		"../../examples/meshreach/testdata/shop/bank.yaml", "../../examples/meshreach/testdata/shop/payments.yaml", "../../examples/meshreach/testdata/shop/legacy.yaml")
	s := sim.New(shop)
	t.Run("passes", func(t *testing.T) {
		t.Parallel()
		r := record(t, func(tb testing.TB) { simtest.CheckFile(tb, s, "../../examples/meshreach/testdata/shop/expect.yaml") })
		if len(r.errors) > 0 {
			t.Errorf("CheckFile on the shop's own expectations failed:\n%s", strings.Join(r.errors, "\n"))
		}
	})
	t.Run("names the failing probe", func(t *testing.T) {
		t.Parallel()
		r := record(t, func(tb testing.TB) { simtest.CheckFile(tb, s, "../../examples/meshreach/testdata/wrong.yaml") })
		if len(r.errors) != 1 {
			t.Fatalf("got %d failures, want 1: %q", len(r.errors), r.errors)
		}
		msg := r.errors[0]
		for _, want := range []string{
			"1 passed, 1 failed; the failing probes (-want +got):",
			`- 		Outcome:     "allow mtls",`,
			`+ 		Outcome:     "allow plaintext",`,
			"../../examples/meshreach/testdata/wrong.yaml:7: expectation 2: expected allow mtls, got allow plaintext",
			"payments/checkout -> cart.shop:8080/http: allow plaintext",
			"note: deliberately wrong",
			"[sidecar-scope]", // the trace
		} {
			if !strings.Contains(squash(msg), squash(want)) {
				t.Errorf("failure message lacks %q:\n%s", want, msg)
			}
		}
	})
}

func TestAssertChanges(t *testing.T) {
	t.Parallel()
	base := simtest.LoadMesh(t, seed+"namespaces.yaml", seed+"workloads.yaml")
	bm := sim.New(base).Matrix()
	d := sim.WhatIf(bm, simtest.Patch(t, base, "testdata/strict-app.yaml"))
	broken := "broken legacy/cron -> api.app.svc.cluster.local:8080 (app/api:8080)"
	tightened := []string{
		"tightened app/api -> api.app.svc.cluster.local:8080 (app/api:8080)",
		"tightened billing/invoices -> api.app.svc.cluster.local:8080 (app/api:8080)",
		"tightened payments/checkout -> api.app.svc.cluster.local:8080 (app/api:8080)",
		"tightened payments/ledger -> api.app.svc.cluster.local:8080 (app/api:8080)",
	}
	tests := []struct {
		name   string
		reason string
		want   []string
		fail   []string // substrings of the failure; nil when it must pass
	}{
		{name: "exact", reason: "STRICT on app breaks the plaintext client and tightens what the others may send",
			want: append([]string{broken}, tightened...)},
		{name: "missing", reason: "an unexpected change fails with its traces", want: tightened,
			fail: []string{"+ \t\"" + broken + "\"", "before: allow plaintext", "after: deny", "PeerAuthentication app/default"}},
		{name: "none", reason: "AssertChanges with nothing is AssertNoChanges", want: nil, fail: []string{broken}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := record(t, func(tb testing.TB) { simtest.AssertChanges(tb, d, tc.want...) })
			if tc.fail == nil {
				if len(r.errors) > 0 {
					t.Errorf("AssertChanges failed (%s):\n%s", tc.reason, r.errors[0])
				}
				return
			}
			if len(r.errors) != 1 {
				t.Fatalf("got %d failures, want 1 (%s)", len(r.errors), tc.reason)
			}
			for _, f := range tc.fail {
				if !strings.Contains(squash(r.errors[0]), squash(f)) {
					t.Errorf("failure lacks %q (%s):\n%s", f, tc.reason, r.errors[0])
				}
			}
		})
	}
}

// TestFreeze: today's behaviour written as expectations reads back, holds
// on the mesh it came from, and fails on a change that alters it, naming
// the probe.
func TestFreeze(t *testing.T) {
	t.Parallel()
	base := simtest.LoadMesh(t, seed+"namespaces.yaml", seed+"workloads.yaml")
	exps, err := simtest.Freeze(sim.New(base).Matrix(), sim.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := simtest.WriteExpectations(&buf, exps); err != nil {
		t.Fatal(err)
	}
	back, err := expect.Parse("frozen.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("Parse(WriteExpectations()) = %v\n%s", err, buf.String())
	}
	if len(back) != len(exps) || len(exps) == 0 {
		t.Fatalf("read back %d expectations, wrote %d", len(back), len(exps))
	}
	for i := range back {
		back[i].Pos, exps[i].Pos = expect.Expectation{}.Pos, expect.Expectation{}.Pos
	}
	if d := cmp.Diff(exps, back); d != "" {
		t.Errorf("round trip (-written +read):\n%s", d)
	}
	if r := record(t, func(tb testing.TB) { simtest.Check(tb, sim.New(base), back) }); len(r.errors) > 0 {
		t.Errorf("frozen expectations fail on their own mesh:\n%s", r.errors[0])
	}
	strict := simtest.Patch(t, base, "testdata/strict-app.yaml")
	r := record(t, func(tb testing.TB) { simtest.Check(tb, sim.New(strict), back) })
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "legacy/cron -> api.app.svc.cluster.local:8080/http: deny\n") {
		t.Errorf("frozen expectations on the STRICT mesh: want one failure naming legacy/cron -> api.app, got %q", r.errors)
	}
}
