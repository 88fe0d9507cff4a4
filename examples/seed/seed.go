// Package seed is the lesson meshreach started from, reproduced as
// scenarios: each a directory of Kubernetes and Istio manifests plus an
// expect.yaml that states, probe by probe, what Istio does with them.
//
// The lesson (a course page on sidecar injection, the Sidecar resource and
// PeerAuthentication) is reproduced statement by statement. Where its prose
// disagrees with Istio's source, the expectation follows the source and its
// note says why; the main case is "Any other egress destinations are blocked
// by the sidecar configuration", which holds only under REGISTRY_ONLY (see
// payments-sidecar/ and registry-only/).
//
// Statements about features other than reachability (load balancing,
// retries, circuit breaking, mirroring, observability) are outside what
// meshreach models.
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
