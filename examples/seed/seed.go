// Package seed is the lesson meshreach started from, reproduced as
// scenarios: each a directory of Kubernetes and Istio manifests plus an
// expect.yaml that states, probe by probe, what Istio does with them. Every
// probe's note quotes the statement it shows.
//
// # Statements and where they are shown
//
//   - Default interception and PERMISSIVE ("plaintext clients can talk to
//     permissive mTLS-enabled servers", "regardless of whether the peer has
//     an Envoy proxy"): default/.
//   - Injection disabled ("workloads there do not receive an Envoy proxy",
//     "Traffic can still flow unless you apply policies", "without an
//     injected proxy you cannot enforce Istio mTLS", "Without an injected
//     Envoy, policies that rely on the proxy cannot be enforced"):
//     injection-disabled/.
//   - The payments Sidecar (./*, app/*, istio-system/*) and "Any other egress
//     destinations are blocked": payments-sidecar/ (ALLOW_ANY: not blocked,
//     plaintext) and registry-only/ (REGISTRY_ONLY: blocked).
//   - peer-sidecar.yaml and "clients connecting to workloads in that
//     namespace must use mTLS": peer-sidecar/.
//   - The four rows of the outcome table: outcome-table/.
//   - Application-level mTLS without a proxy, and STRICT "in the scope
//     (namespace or mesh)": app-mtls/.
//   - The Bookinfo ratings Sidecar (workloadSelector, ingress to a Unix
//     socket, port-9080 egress to bookinfo/*, catch-all istio-system/*):
//     bookinfo-ratings/.
//   - AuthorizationPolicy against plaintext clients (ISTIO-SECURITY-2021-003:
//     DENY on namespaces does not stop plaintext, ALLOW on principals
//     silently denies it, notPrincipals ["*"] denies it), and "Without an
//     injected Envoy, policies that rely on the proxy cannot be enforced":
//     authz/. This one goes beyond the lesson, which names no
//     AuthorizationPolicy.
//
// Where the lesson's prose disagrees with Istio's source, the expectation
// follows the source and its note says why; the main case is "Any other
// egress destinations are blocked by the sidecar configuration", which holds
// only under REGISTRY_ONLY. Statements about features other than
// reachability (load balancing, retries, circuit breaking, mirroring,
// observability) are outside what meshreach models.
package seed

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim/expect"
)

//go:embed */*.yaml
var files embed.FS

// ExpectFile is the name of the expectations file in every scenario
// directory; every other *.yaml file there is a manifest.
const ExpectFile = "expect.yaml"

// FS returns the embedded scenarios: one directory per [Scenario.Dir],
// holding its manifests and [ExpectFile].
func FS() fs.FS { return files }

// Scenario is one part of the lesson.
type Scenario struct {
	Dir   string // directory in [FS], e.g. "payments-sidecar"
	Title string // one line: what the scenario sets up
}

// Scenarios returns the scenarios in the lesson's order. The slice is
// fresh on every call.
func Scenarios() []Scenario {
	return []Scenario{
		{"default", "default install: injected namespaces, no PeerAuthentication (PERMISSIVE)"},
		{"injection-disabled", "sidecar injection disabled, PeerAuthentication PERMISSIVE"},
		{"payments-sidecar", "the payments Sidecar (./*, app/*, istio-system/*) under the mesh default ALLOW_ANY"},
		{"registry-only", "the payments Sidecar under outboundTrafficPolicy REGISTRY_ONLY"},
		{"peer-sidecar", "peer-sidecar.yaml: app STRICT plus the payments Sidecar"},
		{"outcome-table", "the lesson's outcome table, row by row"},
		{"app-mtls", "a client doing mTLS itself, without a sidecar, against mesh-wide STRICT"},
		{"bookinfo-ratings", "the Bookinfo ratings Sidecar"},
		{"authz", "AuthorizationPolicy and plaintext clients (ISTIO-SECURITY-2021-003)"},
	}
}

// Manifests returns the paths in [FS] of the scenario's manifests, sorted.
func (s Scenario) Manifests() ([]string, error) {
	paths, err := fs.Glob(files, path.Join(s.Dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	paths = slices.DeleteFunc(paths, func(p string) bool { return path.Base(p) == ExpectFile })
	if len(paths) == 0 {
		return nil, fmt.Errorf("seed: scenario %q has no manifests", s.Dir)
	}
	return paths, nil
}

// Mesh loads the scenario's manifests. Positions name files by their path
// in [FS] ("payments-sidecar/sidecar.yaml:3").
func (s Scenario) Mesh() (*mesh.Mesh, error) {
	paths, err := s.Manifests()
	if err != nil {
		return nil, err
	}
	return mesh.LoadFS(files, paths...)
}

// Expectations parses the scenario's [ExpectFile]; positions name it by its
// path in [FS] ("payments-sidecar/expect.yaml:12").
func (s Scenario) Expectations() ([]expect.Expectation, error) {
	name := path.Join(s.Dir, ExpectFile)
	src, err := fs.ReadFile(files, name)
	if err != nil {
		return nil, err
	}
	return expect.Parse(name, src)
}
