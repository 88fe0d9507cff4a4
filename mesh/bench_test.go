package mesh_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
)

// manifest generates a mesh of n Deployments with a Service each, spread
// over n/50 namespaces, with a Sidecar, a PeerAuthentication and a
// DestinationRule every tenth workload.
func manifest(n int) []byte {
	var b strings.Builder
	nss := max(n/50, 1)
	for i := range nss {
		fmt.Fprintf(&b, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns%d\n  labels: {istio-injection: enabled}\n---\n", i)
	}
	for i := range n {
		ns := i % nss
		fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app%[1]d
  namespace: ns%[2]d
  labels: {app: app%[1]d}
spec:
  replicas: 2
  selector: {matchLabels: {app: app%[1]d}}
  template:
    metadata:
      labels: {app: app%[1]d, version: v1}
      annotations: {prometheus.io/scrape: "true"}
    spec:
      serviceAccountName: app%[1]d
      containers:
      - name: app
        image: registry.example.com/app%[1]d:1.0.0
        ports:
        - {name: http, containerPort: 8080}
        - {name: grpc, containerPort: 9090}
        resources: {requests: {cpu: 100m, memory: 64Mi}}
        readinessProbe: {httpGet: {path: /ready, port: 8080}}
---
apiVersion: v1
kind: Service
metadata: {name: app%[1]d, namespace: ns%[2]d}
spec:
  selector: {app: app%[1]d}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: grpc, port: 9090, targetPort: 9090}
---
`, i, ns)
		if i%10 == 0 {
			fmt.Fprintf(&b, `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: app%[1]d, namespace: ns%[2]d}
spec:
  workloadSelector: {labels: {app: app%[1]d}}
  egress:
  - port: {number: 9090, protocol: GRPC, name: grpc}
    hosts: ["./*"]
  - hosts: ["./*", "istio-system/*", "ns0/app0.ns0.svc.cluster.local"]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: app%[1]d, namespace: ns%[2]d}
spec:
  selector: {matchLabels: {app: app%[1]d}}
  mtls: {mode: STRICT}
  portLevelMtls: {9090: {mode: PERMISSIVE}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: app%[1]d, namespace: ns%[2]d}
spec:
  host: app%[1]d.ns%[2]d.svc.cluster.local
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  subsets: [{name: v1, labels: {version: v1}}]
---
`, i, ns)
		}
	}
	return []byte(b.String())
}

// BenchmarkLoad parses the generator's YAML for 1k, 10k and (with
// MESHREACH_BENCH_LARGE=1, never with -short) 100k workloads (about 0.8,
// 8 and 80 MB: Namespaces, Deployments, Services and Istio resources),
// and a hand-written 3000-workload manifest. Besides time, MB/s and
// allocations, it reports the heap the resulting Mesh keeps (mesh-MB).
func BenchmarkLoad(b *testing.B) {
	for _, tc := range []struct {
		name  string
		n     int
		src   func() []byte
		large bool
	}{
		{name: "N=1k", n: 1000},
		{name: "N=10k", n: 10000},
		{name: "N=100k", n: 100000, large: true},
		{name: "N=3k-handwritten", n: 3000, src: func() []byte { return manifest(3000) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.large && (testing.Short() || os.Getenv("MESHREACH_BENCH_LARGE") == "") {
				b.Skip("set MESHREACH_BENCH_LARGE=1 (without -short) for 100k workloads")
			}
			var src []byte
			want := tc.n
			if tc.src != nil {
				src = tc.src()
			} else {
				src = meshgen.Generate(meshgen.Options{Workloads: tc.n, Seed: 1}).YAML()
				want++ // istiod
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			m, err := mesh.Parse("bench.yaml", src)
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			if got := len(m.Workloads()); got != want {
				b.Fatalf("%d workloads, want %d", got, want)
			}
			kept := float64(after.HeapAlloc) - float64(before.HeapAlloc)
			runtime.KeepAlive(m)
			m = nil
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := mesh.Parse("bench.yaml", src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(kept/1e6, "mesh-MB")
		})
	}
}
