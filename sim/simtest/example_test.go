package simtest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/simtest"
)

// printingT is the *testing.T of a real test, reduced to printing its
// failures, so that the example can show them.
type printingT struct{ testing.TB }

func (printingT) Helper() {}
func (printingT) Errorf(format string, args ...any) {
	fmt.Println("FAIL:", strings.SplitN(fmt.Sprintf(format, args...), "\n", 2)[0])
}
func (printingT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// A table-driven what-if test: each row is a patch to the mesh and the
// changes it may make. A row fails when the patch changes anything else,
// with a go-cmp diff and the traces of the unexpected changes.
func Example_whatIfTable() {
	var t printingT // in a real test: func TestRollout(t *testing.T)
	base := simtest.LoadMesh(t, seed+"namespaces.yaml", seed+"workloads.yaml")
	bm := sim.New(base).Matrix()
	tests := []struct {
		patch string
		want  []string
	}{
		{"testdata/nothing.yaml", nil},
		{"testdata/inject-legacy.yaml", []string{
			"upgraded legacy/cron -> api.app.svc.cluster.local:8080 (app/api:8080)",
			"upgraded legacy/cron -> invoices.billing.svc.cluster.local:8080 (billing/invoices:8080)",
			"upgraded legacy/cron -> ledger.payments.svc.cluster.local:8080 (payments/ledger:8080)",
		}},
		// This row forgets legacy/cron, which STRICT breaks: it fails.
		{"testdata/strict-app.yaml", []string{
			"tightened app/api -> api.app.svc.cluster.local:8080 (app/api:8080)",
			"tightened billing/invoices -> api.app.svc.cluster.local:8080 (app/api:8080)",
			"tightened payments/checkout -> api.app.svc.cluster.local:8080 (app/api:8080)",
			"tightened payments/ledger -> api.app.svc.cluster.local:8080 (app/api:8080)",
		}},
	}
	for _, tc := range tests {
		d := sim.WhatIf(bm, simtest.Patch(t, base, tc.patch))
		fmt.Printf("%s: %d changes\n", tc.patch, d.Len())
		simtest.AssertChanges(t, d, tc.want...)
	}
	// Output:
	// testdata/nothing.yaml: 0 changes
	// testdata/inject-legacy.yaml: 3 changes
	// testdata/strict-app.yaml: 5 changes
	// FAIL: changes differ (-want +got):
}
