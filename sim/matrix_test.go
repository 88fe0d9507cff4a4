package sim_test

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/examples/seed"
	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// testMesh is a mesh the whole-mesh tests run on.
type testMesh struct {
	name string
	m    *mesh.Mesh
}

// testMeshes returns the seed scenarios and a generated mesh of 200
// workloads, plus, with more, one of 240 workloads from another seed.
func testMeshes(t *testing.T, more bool) []testMesh {
	t.Helper()
	var out []testMesh
	for _, sc := range seed.Scenarios() {
		m, err := sc.Mesh()
		if err != nil {
			t.Fatalf("seed %s: %v", sc.Dir, err)
		}
		out = append(out, testMesh{"seed/" + sc.Dir, m})
	}
	gen := []meshgen.Options{{Workloads: 200, Seed: 1}}
	if more {
		gen = append(gen, meshgen.Options{Workloads: 240, Seed: 2})
	}
	for _, o := range gen {
		m, err := meshgen.Generate(o).Mesh()
		if err != nil {
			t.Fatalf("meshgen %+v: %v", o, err)
		}
		out = append(out, testMesh{fmt.Sprintf("meshgen/%d-seed%d", o.Workloads, o.Seed), m})
	}
	return out
}

// naiveProtocol is the protocol a client speaks to a port declared with
// name (or appProtocol) as Istio reads it: the prefix before "-".
func naiveProtocol(name string) sim.Protocol {
	prefix, _, _ := strings.Cut(strings.ToLower(name), "-")
	switch prefix {
	case "http":
		return sim.HTTP
	case "http2":
		return sim.HTTP2
	case "grpc":
		return sim.GRPC
	case "https", "tls":
		return sim.HTTPS
	}
	return sim.TCP
}

// naiveDests lists what the matrix definition says every client dials:
// every TCP port of every Service by FQDN, and every port of every
// ServiceEntry host that is not a wildcard and not a Service's.
func naiveDests(m *mesh.Mesh) []sim.Probe {
	var out []sim.Probe
	suffix := m.Config().DomainSuffix
	svcHosts := map[string]bool{}
	for _, s := range m.Services() {
		host := s.Ref.Name + "." + s.Ref.Namespace + ".svc." + suffix
		svcHosts[host] = true
		for _, p := range s.Ports {
			if p.Protocol != "" && p.Protocol != "TCP" {
				continue
			}
			name := p.Name
			if p.AppProtocol != "" {
				name = p.AppProtocol
			}
			out = append(out, sim.Probe{To: host, Port: p.Port, Protocol: naiveProtocol(name)})
		}
	}
	seen := map[string]bool{}
	for _, se := range m.ServiceEntries() {
		for _, h := range se.Hosts {
			if strings.HasPrefix(h, "*") || !strings.Contains(h, ".") || svcHosts[h] {
				continue
			}
			for _, p := range se.Ports {
				k := fmt.Sprintf("%s:%d", h, p.Number)
				if seen[k] || strings.EqualFold(p.Protocol, "UDP") {
					continue
				}
				seen[k] = true
				out = append(out, sim.Probe{To: h, Port: p.Number, Protocol: naiveProtocol(p.Protocol)})
			}
		}
	}
	return out
}

// naiveCells probes every client workload against every destination, one
// probe per pair, and returns the cells the verdicts give.
func naiveCells(t *testing.T, s *sim.Simulator) []sim.Cell {
	t.Helper()
	wls := s.Mesh().Workloads()
	dests := naiveDests(s.Mesh())
	per := make([][]sim.Cell, len(wls))
	injected := make([]bool, len(wls))
	for i, w := range wls {
		inj, _, err := s.Injected(w.ID)
		if err != nil {
			t.Fatal(err)
		}
		injected[i] = inj
	}
	var wg sync.WaitGroup
	work := make(chan int)
	var mu sync.Mutex
	var errs []error
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				for _, d := range dests {
					p := d
					p.From = wls[i].ID
					v, err := s.Probe(p)
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						continue
					}
					if v.External {
						per[i] = append(per[i], cellOf(p, v.Service, sim.ExternalNode(p.To), p.Port, v.Default, v.Plaintext, v.MTLS, injected[i]))
						continue
					}
					for _, ep := range v.Endpoints {
						per[i] = append(per[i], cellOf(p, v.Service, sim.WorkloadNode(ep.Workload), ep.TargetPort, ep.Default, ep.Plaintext, ep.MTLS, injected[i]))
					}
				}
			}
		}()
	}
	for i := range wls {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("naive probe: %v", err)
	}
	var out []sim.Cell
	for _, cs := range per {
		out = append(out, cs...)
	}
	slices.SortFunc(out, compareCells)
	return out
}

// cellOf is the cell Cell documents for a result of a probe from a client
// with or without a sidecar.
func cellOf(p sim.Probe, via mesh.Ref, to sim.Node, port uint32, def, plain, mtls sim.Result, injected bool) sim.Cell {
	c := sim.Cell{From: p.From, To: to, Port: port, Via: via, Host: p.To, ViaPort: p.Port, Proto: p.Protocol,
		Default: sim.Outcome{Allowed: def.Allowed, Transport: def.Transport, Undecided: def.Undecided != ""}}
	if plain.Allowed && !injected {
		c.Transports |= sim.TransportSetOf(sim.Plaintext)
	}
	if def.Allowed {
		c.Transports |= sim.TransportSetOf(def.Transport)
	}
	if plain.Allowed {
		c.Accepts |= sim.TransportSetOf(sim.Plaintext)
	}
	if mtls.Allowed {
		c.Accepts |= sim.TransportSetOf(sim.MTLS)
	}
	return c
}

// compareCells is the order Matrix.Cells documents.
func compareCells(a, b sim.Cell) int {
	return cmp.Or(a.From.Compare(b.From), a.To.Compare(b.To), cmp.Compare(a.Port, b.Port),
		strings.Compare(a.Host, b.Host), cmp.Compare(a.ViaPort, b.ViaPort))
}

// TestMatrixMatchesProbe is the contract of the class-based evaluation:
// for every client workload and every destination, the matrix holds
// exactly the cells one Simulator.Probe per pair gives, in the documented
// order. -short leaves out the second generated mesh.
func TestMatrixMatchesProbe(t *testing.T) {
	t.Parallel()
	for _, tm := range testMeshes(t, !testing.Short()) {
		t.Run(tm.name, func(t *testing.T) {
			t.Parallel()
			s := sim.New(tm.m)
			mx := s.Matrix()
			if errs := mx.Errors(); len(errs) > 0 {
				t.Errorf("Errors() = %v, want none", errs)
			}
			got := slices.Collect(mx.Cells(sim.Filter{}))
			if !slices.IsSortedFunc(got, compareCells) {
				t.Error("Cells are not in the documented order")
			}
			want := naiveCells(t, s)
			if d := gocmp.Diff(want, got); d != "" {
				t.Errorf("matrix differs from one probe per pair (-probe +matrix):\n%s", d)
			}
			st := mx.Stats()
			if st.Cells != len(want) || st.Workloads != len(tm.m.Workloads()) {
				t.Errorf("Stats() = %+v, want %d cells and %d workloads", st, len(want), len(tm.m.Workloads()))
			}
			if st.Classes > st.Workloads || st.Classes == 0 {
				t.Errorf("Stats() = %+v: classes out of range", st)
			}
		})
	}
}
