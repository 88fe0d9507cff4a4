package examples_test

import (
	"fmt"
	"log"

	"github.com/meshreach/meshreach/examples/seed"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/expect"
)

// scenario returns the seed scenario in directory dir.
func scenario(dir string) seed.Scenario {
	for _, sc := range seed.Scenarios() {
		if sc.Dir == dir {
			return sc
		}
	}
	panic("no seed scenario " + dir)
}

// The lesson says a Sidecar limiting payments to ./*, app/* and
// istio-system/* blocks every other destination. Under the mesh default
// (ALLOW_ANY) it does not: out-of-scope traffic leaves through the
// PassthroughCluster, in plaintext, so it reaches a PERMISSIVE namespace and
// is reset only by a STRICT one.
func Example_paymentsSidecar() {
	m, err := scenario("payments-sidecar").Mesh()
	if err != nil {
		log.Fatal(err)
	}
	s := sim.New(m)
	checkout := mesh.WorkloadID{Namespace: "payments", Name: "checkout"}
	for _, to := range []string{"ledger", "api.app", "invoices.billing", "cart.shop"} {
		v, err := s.Probe(sim.Probe{From: checkout, To: to, Port: 8080, Protocol: sim.HTTP})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(v)
	}
	// Output:
	// payments/checkout -> ledger:8080/http: allow mtls
	// payments/checkout -> api.app:8080/http: allow mtls
	// payments/checkout -> invoices.billing:8080/http: allow plaintext
	// payments/checkout -> cart.shop:8080/http: deny
}

// The same Sidecar under outboundTrafficPolicy REGISTRY_ONLY (the istio
// ConfigMap in istio-system) does block what is out of scope.
func Example_registryOnly() {
	m, err := scenario("registry-only").Mesh()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("outbound traffic policy:", m.Config().Outbound)
	v, err := sim.New(m).Probe(sim.Probe{
		From:     mesh.WorkloadID{Namespace: "payments", Name: "checkout"},
		To:       "invoices.billing",
		Port:     8080,
		Protocol: sim.HTTP,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v)
	// Output:
	// outbound traffic policy: REGISTRY_ONLY
	// payments/checkout -> invoices.billing:8080/http: deny
}

// A mesh can be built from YAML in memory. Here the lesson's
// peer-sidecar.yaml makes app STRICT: a client without a sidecar is reset,
// and a verdict also says what plaintext or mTLS from that client would do.
func Example_strictNamespace() {
	m, err := mesh.Parse("peer-sidecar.yaml", []byte(`
apiVersion: v1
kind: Namespace
metadata:
  name: app
  labels:
    istio-injection: enabled
---
apiVersion: v1
kind: Namespace
metadata:
  name: legacy
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: app
spec:
  mtls:
    mode: STRICT
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: app
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: registry.example.com/api:1.0
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: app
spec:
  selector:
    app: api
  ports:
  - name: http
    port: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cron
  namespace: legacy
spec:
  selector:
    matchLabels:
      app: cron
  template:
    metadata:
      labels:
        app: cron
    spec:
      containers:
      - name: cron
        image: registry.example.com/cron:1.0
`))
	if err != nil {
		log.Fatal(err)
	}
	v, err := sim.New(m).Probe(sim.Probe{
		From: mesh.WorkloadID{Namespace: "legacy", Name: "cron"},
		To:   "api.app",
		Port: 8080,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v)
	fmt.Println("plaintext allowed:", v.Plaintext.Allowed)
	fmt.Println("mtls allowed:", v.MTLS.Allowed)
	// Output:
	// legacy/cron -> api.app:8080/tcp: deny
	// plaintext allowed: false
	// mtls allowed: false
}

// Expectations state what each probe must do; Check compares them with the
// simulator's verdicts, here against the Bookinfo ratings Sidecar.
func Example_expectations() {
	m, err := scenario("bookinfo-ratings").Mesh()
	if err != nil {
		log.Fatal(err)
	}
	exps, err := expect.Parse("ratings.yaml", []byte(`
- from: bookinfo/ratings
  to: reviews
  port: 9080
  protocol: http
  expect: allow
  transport: mtls
  note: the port-9080 egress listener imports bookinfo/*
- from: bookinfo/ratings
  to: mongodb
  port: 27017
  expect: allow
  transport: mtls
  note: wrong on purpose - bookinfo/* is imported on 9080 only
`))
	if err != nil {
		log.Fatal(err)
	}
	r := expect.Check(sim.New(m), exps)
	for _, res := range r.Results {
		fmt.Printf("%s: %s\n", res.Expectation.Ref(), res.Reason)
	}
	fmt.Println(r.Summary())
	// Output:
	// expectation 1: got allow mtls, as expected
	// expectation 2: expected allow mtls, got allow plaintext
	// 1 passed, 1 failed
}
