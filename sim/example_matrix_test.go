package sim_test

import (
	"fmt"
	"log"

	"github.com/meshreach/meshreach/examples/seed"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// paymentsMatrix is the matrix of the seed's payments-sidecar scenario:
// payments has a Sidecar importing ./*, app/* and istio-system/* under
// ALLOW_ANY; shop is STRICT; istiod runs without a sidecar.
func paymentsMatrix() *sim.Matrix {
	for _, sc := range seed.Scenarios() {
		if sc.Dir == "payments-sidecar" {
			m, err := sc.Mesh()
			if err != nil {
				log.Fatal(err)
			}
			return sim.New(m).Matrix()
		}
	}
	log.Fatal("no payments-sidecar scenario")
	return nil
}

// The two payments workloads cannot be told apart as clients (same
// namespace, same Sidecar, nothing else reads them), so they share one
// class and every probe.
func ExampleSimulator_Matrix() {
	mx := paymentsMatrix()
	st := mx.Stats()
	fmt.Printf("%d workloads in %d client classes, %d destinations, %d probes for %d cells\n",
		st.Workloads, st.Classes, st.Destinations, st.Evaluations, st.Cells)
	for _, c := range mx.Classes() {
		fmt.Println(c.Members)
	}
	// Output:
	// 6 workloads in 5 client classes, 9 destinations, 30 probes for 54 cells
	// [app/api]
	// [billing/invoices]
	// [istio-system/istiod]
	// [payments/checkout payments/ledger]
	// [shop/cart]
}

// The cells of payments/checkout: in its Sidecar's scope (app, payments,
// istio-system) it gets mTLS to workloads with a sidecar and plaintext (or
// its app's TLS) to istiod, which has none; billing and shop are out of
// scope, so their calls leave through the PassthroughCluster in
// plaintext, which PERMISSIVE billing accepts and STRICT shop resets.
func ExampleMatrix_Cells() {
	mx := paymentsMatrix()
	checkout := mesh.WorkloadID{Namespace: "payments", Name: "checkout"}
	for c := range mx.Cells(sim.Filter{From: checkout}) {
		fmt.Printf("%v:%d via %s:%d (%s): %v, can carry %v\n", c.To, c.Port, c.Host, c.ViaPort, c.Proto, c.Default, c.Transports)
	}
	// Output:
	// app/api:8080 via api.app.svc.cluster.local:8080 (http): allow mtls, can carry mtls
	// billing/invoices:8080 via invoices.billing.svc.cluster.local:8080 (http): allow plaintext, can carry plaintext
	// istio-system/istiod:15010 via istiod.istio-system.svc.cluster.local:15010 (grpc): allow plaintext, can carry plaintext
	// istio-system/istiod:15012 via istiod.istio-system.svc.cluster.local:15012 (https): allow tls, can carry tls
	// istio-system/istiod:15014 via istiod.istio-system.svc.cluster.local:15014 (http): allow plaintext, can carry plaintext
	// istio-system/istiod:15017 via istiod.istio-system.svc.cluster.local:443 (https): allow tls, can carry tls
	// payments/ledger:8080 via ledger.payments.svc.cluster.local:8080 (http): allow mtls, can carry mtls
	// shop/cart:8080 via cart.shop.svc.cluster.local:8080 (http): deny, can carry none
	// external:api.stripe.com:443 via api.stripe.com:443 (https): allow tls, can carry tls
}

// Per namespace pair, the cells of the payments clients.
func ExampleMatrix_Summary() {
	mx := paymentsMatrix()
	for _, s := range mx.Summary(sim.Filter{FromNamespace: "payments"}) {
		fmt.Printf("%s -> %s: %d mtls, %d plaintext, %d tls, %d denied\n", s.From, s.To, s.AllowedMTLS, s.AllowedPlaintext, s.AllowedTLS, s.Denied)
	}
	// Output:
	// payments -> app: 2 mtls, 0 plaintext, 0 tls, 0 denied
	// payments -> billing: 0 mtls, 2 plaintext, 0 tls, 0 denied
	// payments -> istio-system: 0 mtls, 4 plaintext, 4 tls, 0 denied
	// payments -> payments: 2 mtls, 0 plaintext, 0 tls, 0 denied
	// payments -> shop: 0 mtls, 0 plaintext, 0 tls, 2 denied
}

// Who reaches shop/cart (STRICT): only clients whose sidecar routes the
// call with mTLS; not payments (out of scope, plaintext), not istiod (no
// sidecar), not the client outside the mesh.
func ExampleMatrix_WhoCanReach() {
	mx := paymentsMatrix()
	cart := sim.WorkloadNode(mesh.WorkloadID{Namespace: "shop", Name: "cart"})
	for _, g := range mx.WhoCanReach(cart, 8080) {
		fmt.Println(g.Transport, g.Nodes)
	}
	// Output:
	// mtls [app/api billing/invoices]
}

// What payments/checkout reaches, by what travels.
func ExampleMatrix_ReachableFrom() {
	mx := paymentsMatrix()
	checkout := sim.WorkloadNode(mesh.WorkloadID{Namespace: "payments", Name: "checkout"})
	for _, g := range mx.ReachableFrom(checkout) {
		fmt.Println(g.Transport, g.Nodes)
	}
	// Output:
	// plaintext [billing/invoices istio-system/istiod]
	// mtls [app/api payments/ledger]
	// tls [istio-system/istiod external:api.stripe.com]
}

// Lateral movement from outside the mesh to STRICT shop/cart: plaintext
// into a PERMISSIVE workload, then mTLS from its sidecar.
func ExampleMatrix_Paths() {
	mx := paymentsMatrix()
	cart := sim.WorkloadNode(mesh.WorkloadID{Namespace: "shop", Name: "cart"})
	for _, p := range mx.Paths(sim.OutsideNode(), cart, sim.PathOptions{Limit: 3}) {
		fmt.Println(p.Nodes())
		for _, h := range p.Hops {
			for _, pe := range h.Ports {
				fmt.Printf("  %v -> %v:%d %v (%v)\n", h.From, h.To, pe.Port, pe.Default, pe.Probe)
			}
		}
	}
	// Output:
	// [outside app/api shop/cart]
	//   outside -> app/api:8080 allow plaintext (~outside/client -> pod app/api:8080/tcp)
	//   app/api -> shop/cart:8080 allow mtls (app/api -> cart.shop.svc.cluster.local:8080/http)
	// [outside billing/invoices shop/cart]
	//   outside -> billing/invoices:8080 allow plaintext (~outside/client -> pod billing/invoices:8080/tcp)
	//   billing/invoices -> shop/cart:8080 allow mtls (billing/invoices -> cart.shop.svc.cluster.local:8080/http)
	// [outside app/api billing/invoices shop/cart]
	//   outside -> app/api:8080 allow plaintext (~outside/client -> pod app/api:8080/tcp)
	//   app/api -> billing/invoices:8080 allow mtls (app/api -> invoices.billing.svc.cluster.local:8080/http)
	//   billing/invoices -> shop/cart:8080 allow mtls (billing/invoices -> cart.shop.svc.cluster.local:8080/http)
}

// Plaintext from a client outside the mesh: accepted everywhere but in
// STRICT shop; Matrix.Probe explains any of them.
func ExampleMatrix_Exposure() {
	mx := paymentsMatrix()
	for _, x := range mx.Exposure(sim.Filter{}) {
		fmt.Printf("%v:%d accepted=%v services=%v\n", x.Workload, x.Port, x.Accepted, x.Services)
	}
	v, err := mx.Probe(mx.Exposure(sim.Filter{To: sim.WorkloadNode(mesh.WorkloadID{Namespace: "shop", Name: "cart"})})[0].Probe)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v)
	// Output:
	// app/api:8080 accepted=true services=[Service app/api]
	// billing/invoices:8080 accepted=true services=[Service billing/invoices]
	// istio-system/istiod:15010 accepted=true services=[Service istio-system/istiod]
	// istio-system/istiod:15012 accepted=true services=[Service istio-system/istiod]
	// istio-system/istiod:15014 accepted=true services=[Service istio-system/istiod]
	// istio-system/istiod:15017 accepted=true services=[Service istio-system/istiod]
	// payments/checkout:8080 accepted=true services=[]
	// payments/ledger:8080 accepted=true services=[Service payments/ledger]
	// shop/cart:8080 accepted=false services=[Service shop/cart]
	// ~outside/client -> pod shop/cart:8080/tcp: deny
}

// Workloads that can all reach each other. payments/checkout has no
// Service, so nothing reaches it.
func ExampleMatrix_Components() {
	mx := paymentsMatrix()
	fmt.Println("any:", mx.Components(sim.NoTransport))
	fmt.Println("mtls:", mx.Components(sim.MTLS))
	fmt.Println("plaintext:", mx.Components(sim.Plaintext))
	// Output:
	// any: [[app/api billing/invoices istio-system/istiod payments/ledger shop/cart]]
	// mtls: [[app/api billing/invoices payments/ledger shop/cart]]
	// plaintext: [[app/api billing/invoices istio-system/istiod payments/ledger]]
}

// The edges into the shop namespace.
func ExampleMatrix_Graph() {
	mx := paymentsMatrix()
	g := mx.Graph(sim.Filter{ToNamespace: "shop"})
	for _, n := range g.Nodes() {
		for _, to := range g.Successors(n) {
			e, _ := g.Edge(n, to)
			fmt.Println(e.From, "->", e.To, e.Transports())
		}
	}
	// Output:
	// app/api -> shop/cart mtls
	// billing/invoices -> shop/cart mtls
}
