package mesh_test

import (
	"errors"
	"fmt"

	"github.com/meshreach/meshreach/mesh"
)

func ExampleParse() {
	m, err := mesh.Parse("peer-sidecar.yaml", []byte(`
apiVersion: v1
kind: Namespace
metadata:
  name: payments
  labels: {istio-injection: enabled}
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: payments
spec:
  mtls:
    mode: STRICT
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: payments
spec:
  egress:
  - hosts: ["./*", "app/*", "istio-system/*"]
  outboundTrafficPolicy: {}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, pa := range m.PeerAuthentications() {
		fmt.Println(pa.Ref, pa.Mode, "at", pa.Pos)
	}
	for _, sc := range m.Sidecars() {
		fmt.Println(sc.Ref, sc.Egress[0].Hosts, sc.Outbound, "at", sc.Pos)
	}
	// Output:
	// PeerAuthentication payments/default STRICT at peer-sidecar.yaml:8
	// Sidecar payments/default [./* app/* istio-system/*] REGISTRY_ONLY at peer-sidecar.yaml:17
}

func ExampleParse_errors() {
	_, err := mesh.Parse("pa.yaml", []byte(`apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: app
spec:
  mtls:
    mode: STRICTT
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: payments
spec:
  egress:
  - hosts: [payments/ledger]
`))
	var list mesh.ErrorList
	if errors.As(err, &list) {
		fmt.Print(list.Full())
	}
	fmt.Println(errors.Is(err, mesh.ErrInvalidValue))
	// Output:
	// pa.yaml:8: PeerAuthentication app/default: spec.mtls.mode: invalid value "STRICTT" (want UNSET, DISABLE, PERMISSIVE or STRICT)
	// pa.yaml:17: Sidecar payments/default: spec.egress[0].hosts[0]: invalid value "payments/ledger": short names (non FQDN) are not allowed
	// true
}
