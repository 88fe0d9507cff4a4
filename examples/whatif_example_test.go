package examples_test

import (
	"fmt"
	"log"
	"os"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// loadExcept loads a seed scenario directory without the files named.
func loadExcept(dir string, skip ...string) *mesh.Mesh {
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	var files []string
outer:
	for _, e := range entries {
		for _, s := range append(skip, "expect.yaml") {
			if e.Name() == s {
				continue outer
			}
		}
		files = append(files, dir+"/"+e.Name())
	}
	m, err := mesh.Load(files...)
	if err != nil {
		log.Fatal(err)
	}
	return m
}

// whatIf applies a patch file to m and prints what changes.
func whatIf(m *mesh.Mesh, patch string) {
	src, err := os.ReadFile(patch)
	if err != nil {
		log.Fatal(err)
	}
	b := m.Edit()
	if err := b.ApplyPatch(patch, src); err != nil {
		log.Fatal(err)
	}
	after, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	d := sim.WhatIf(sim.New(m).Matrix(), after)
	fmt.Println(d.Len(), "changes")
	for c := range d.Changes() {
		fmt.Println(c)
	}
}

// The seed's peer-sidecar.yaml (PeerAuthentication app/default STRICT and
// the payments Sidecar) applied to the PERMISSIVE mesh around it. What
// breaks: legacy/cron, without a sidecar, sends plaintext to STRICT app.
// What gets weaker: payments' calls to billing leave its Sidecar scope and
// go through PassthroughCluster in plaintext. The sidecar clients of app
// keep mTLS but could no longer fall back to plaintext (tightened).
func Example_whatIfPeerSidecar() {
	m := loadExcept("seed/peer-sidecar", "peer-sidecar.yaml")
	whatIf(m, "seed/peer-sidecar/peer-sidecar.yaml")
	// Output:
	// 7 changes
	// tightened: app/api -> api.app.svc.cluster.local:8080/http (app/api:8080): allow mtls (accepts plaintext+mtls) -> allow mtls (accepts mtls)
	// tightened: billing/invoices -> api.app.svc.cluster.local:8080/http (app/api:8080): allow mtls (accepts plaintext+mtls) -> allow mtls (accepts mtls)
	// broken: legacy/cron -> api.app.svc.cluster.local:8080/http (app/api:8080): allow plaintext (accepts plaintext) -> deny (accepts none)
	// tightened: payments/checkout -> api.app.svc.cluster.local:8080/http (app/api:8080): allow mtls (accepts plaintext+mtls) -> allow mtls (accepts mtls)
	// downgraded: payments/checkout -> invoices.billing.svc.cluster.local:8080/http (billing/invoices:8080): allow mtls (accepts plaintext+mtls) -> allow plaintext (accepts plaintext+mtls)
	// tightened: payments/ledger -> api.app.svc.cluster.local:8080/http (app/api:8080): allow mtls (accepts plaintext+mtls) -> allow mtls (accepts mtls)
	// downgraded: payments/ledger -> invoices.billing.svc.cluster.local:8080/http (billing/invoices:8080): allow mtls (accepts plaintext+mtls) -> allow plaintext (accepts plaintext+mtls)
}

// Turning injection off in billing (a patch that replaces the Namespace)
// on the peer-sidecar mesh: invoices loses its sidecar, so its calls to
// STRICT app break, everything it sends or receives is plaintext, and
// payments, already sending it plaintext, could no longer use mTLS to it
// (changed: only the mTLS answer differs).
func Example_whatIfDisableInjection() {
	m := loadExcept("seed/peer-sidecar")
	whatIf(m, "whatif/disable-injection.yaml")
	// Output:
	// 6 changes
	// downgraded: app/api -> invoices.billing.svc.cluster.local:8080/http (billing/invoices:8080): allow mtls (accepts plaintext+mtls) -> allow plaintext (accepts plaintext)
	// broken: billing/invoices -> api.app.svc.cluster.local:8080/http (app/api:8080): allow mtls (accepts mtls) -> deny (accepts none)
	// downgraded: billing/invoices -> invoices.billing.svc.cluster.local:8080/http (billing/invoices:8080): allow mtls (accepts plaintext+mtls) -> allow plaintext (accepts plaintext)
	// downgraded: billing/invoices -> ledger.payments.svc.cluster.local:8080/http (payments/ledger:8080): allow mtls (accepts plaintext+mtls) -> allow plaintext (accepts plaintext)
	// changed: payments/checkout -> invoices.billing.svc.cluster.local:8080/http (billing/invoices:8080): allow plaintext (accepts plaintext+mtls) -> allow plaintext (accepts plaintext)
	// changed: payments/ledger -> invoices.billing.svc.cluster.local:8080/http (billing/invoices:8080): allow plaintext (accepts plaintext+mtls) -> allow plaintext (accepts plaintext)
}

// Moving the registry-only scenario's mesh to REGISTRY_ONLY (its mesh
// ConfigMap as the patch): what payments' Sidecar does not import, which
// passed through before, is now blackholed.
func Example_whatIfRegistryOnly() {
	m := loadExcept("seed/registry-only", "mesh-config.yaml")
	whatIf(m, "seed/registry-only/mesh-config.yaml")
	// Output:
	// 4 changes
	// broken: payments/checkout -> invoices.billing.svc.cluster.local:8080/http (billing/invoices:8080): allow plaintext (accepts plaintext+mtls) -> deny (accepts none)
	// changed: payments/checkout -> cart.shop.svc.cluster.local:8080/http (shop/cart:8080): deny (accepts mtls) -> deny (accepts none)
	// broken: payments/ledger -> invoices.billing.svc.cluster.local:8080/http (billing/invoices:8080): allow plaintext (accepts plaintext+mtls) -> deny (accepts none)
	// changed: payments/ledger -> cart.shop.svc.cluster.local:8080/http (shop/cart:8080): deny (accepts mtls) -> deny (accepts none)
}

// Planning app STRICT on the PERMISSIVE peer-sidecar mesh: legacy/cron
// would break for want of a sidecar; labelling it for injection keeps it
// working, and the re-run diff shows nothing left broken.
func Example_planStrict() {
	m := loadExcept("seed/peer-sidecar", "peer-sidecar.yaml")
	p, err := sim.PlanStrict(sim.New(m).Matrix(), sim.StrictGoal{Namespace: "app"})
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range p.Breaks {
		fmt.Printf("breaks %s -> %s: %s\n", b.Change.From, b.Change.Host, b.Reason)
	}
	for _, f := range p.Fixes {
		fmt.Printf("fix %s: %s (for %v)\n", f.Kind, f.Detail, f.For)
	}
	fmt.Println("still broken:", len(p.Remaining))
	// Output:
	// breaks legacy/cron -> api.app.svc.cluster.local: no-sidecar
	// fix inject-workload: label the pods of legacy/cron sidecar.istio.io/inject=true (for [legacy/cron])
	// still broken: 0
}
