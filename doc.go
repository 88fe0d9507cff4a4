// Package meshreach answers, offline, the question every Istio operator
// asks: if workload A opens a connection to B on port P, does it get
// through, does it travel as mTLS or as plaintext, and why?
//
// The module is a library in three layers; this root package holds only
// this overview.
//
//   - [github.com/meshreach/meshreach/mesh] is the model: namespaces,
//     workloads, Services, ServiceEntries, Sidecars, PeerAuthentications,
//     DestinationRules, AuthorizationPolicies and the mesh config, loaded
//     strictly from real Kubernetes and Istio YAML with positioned errors
//     and warnings.
//   - [github.com/meshreach/meshreach/sim] is the engine: it applies Istio's
//     sidecar-mode semantics (injection, Sidecar egress scope, outbound
//     traffic policy, PeerAuthentication, auto mTLS, DestinationRule TLS,
//     server acceptance, AuthorizationPolicy) and returns verdicts with the
//     trace of every decision, each naming the object or the Istio default
//     that made it.
//   - [github.com/meshreach/meshreach/graph] is a directed graph of
//     workloads on gonum, for whole-mesh queries.
//
// The command-line tool and runnable walkthroughs live under examples/.
//
// # Quick start
//
//	m, err := mesh.Load("manifests/") // files, directories, or "-" for stdin
//	if err != nil {
//		log.Fatal(err) // every problem, each with file:line, object and field
//	}
//	for _, w := range m.Warnings() {
//		log.Print("warning: ", w)
//	}
//	v, err := sim.New(m).Probe(sim.Probe{
//		From: mesh.WorkloadID{Namespace: "payments", Name: "api"},
//		To:   "ledger.app",
//		Port: 8080,
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	fmt.Print(v.Explain())
//
// # Faithfulness
//
// Every rule the engine encodes follows Istio's source (the 1.31 line), not
// its prose, and cites the file and function it comes from. Where Istio's
// behaviour differs by version, the current line is followed and the
// difference is stated where the rule is implemented.
package meshreach
