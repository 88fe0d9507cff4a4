package examples_test

import (
	"log"
	"os"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/report"
)

// The whole mesh of the default install at once: every client workload to
// every Service port. Sidecar to sidecar is upgraded to mTLS; everything
// that involves legacy (no sidecar) is plaintext, which PERMISSIVE accepts.
func Example_matrixText() {
	m, err := scenario("default").Mesh()
	if err != nil {
		log.Fatal(err)
	}
	mx := sim.New(m).Matrix()
	if err := report.Write(os.Stdout, &report.MatrixReport{Matrix: mx}, report.Options{Format: report.Text}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// == matrix
	// FROM           TO             PORT  VIA                      DEFAULT          CAN FLOW
	// legacy/batch   legacy/ledger  8080  ledger.legacy:8080/http  allow plaintext  plaintext
	// legacy/batch   shop/cart      8080  cart.shop:8080/http      allow plaintext  plaintext
	// legacy/ledger  legacy/ledger  8080  ledger.legacy:8080/http  allow plaintext  plaintext
	// legacy/ledger  shop/cart      8080  cart.shop:8080/http      allow plaintext  plaintext
	// shop/cart      legacy/ledger  8080  ledger.legacy:8080/http  allow plaintext  plaintext
	// shop/cart      shop/cart      8080  cart.shop:8080/http      allow mtls       mtls
	// shop/web       legacy/ledger  8080  ledger.legacy:8080/http  allow plaintext  plaintext
	// shop/web       shop/cart      8080  cart.shop:8080/http      allow mtls       mtls
	//
	// == summary by namespace pair
	// FROM    TO      MTLS  TLS  PLAINTEXT  DENIED  UNDECIDED  TOTAL
	// legacy  legacy     0    0          2       0          0      2
	// legacy  shop       0    0          2       0          0      2
	// shop    legacy     0    0          2       0          0      2
	// shop    shop       2    0          0       0          0      2
}

// Who can reach the vault that a mesh-wide STRICT PeerAuthentication
// protects, as JSON: only clients with a mesh identity, over mTLS — the
// sidecar-injected auditor and the tools client whose application does
// mTLS itself. curl, without a sidecar, and the outside client are not
// listed.
func Example_whoCanReachJSON() {
	m, err := scenario("app-mtls").Mesh()
	if err != nil {
		log.Fatal(err)
	}
	mx := sim.New(m).Matrix()
	vault := sim.WorkloadNode(mesh.WorkloadID{Namespace: "secure", Name: "vault"})
	r := &report.WhoCanReachReport{Matrix: mx, Dest: vault, Port: 8080, Groups: mx.WhoCanReach(vault, 8080)}
	if err := report.Write(os.Stdout, r, report.Options{Format: report.JSON}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {
	//   "schemaVersion": 1,
	//   "kind": "WhoCanReach",
	//   "destination": "secure/vault",
	//   "port": 8080,
	//   "groups": [
	//     {
	//       "transport": "mtls",
	//       "nodes": [
	//         "secure/auditor",
	//         "tools/mtls-client"
	//       ]
	//     }
	//   ]
	// }
}
