package sim_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

var scaleYAML sync.Map // workloads → []byte

// genYAML returns the generator's YAML for n workloads (seed 1), built
// once.
func genYAML(n int) []byte {
	if y, ok := scaleYAML.Load(n); ok {
		return y.([]byte)
	}
	y := meshgen.Generate(meshgen.Options{Workloads: n, Seed: 1}).YAML()
	scaleYAML.Store(n, y)
	return y
}

// scaleSize is one mesh size of BenchmarkScale.
type scaleSize struct {
	n     int
	skip  string // why the size does not run, "" when it does
	naive int    // the naive evaluation probes every naive-th client; 0: not run
}

// scaleSizes returns the sizes BenchmarkScale runs or skips, by flags.
func scaleSizes() []scaleSize {
	short := testing.Short()
	large := !short && os.Getenv("MESHREACH_BENCH_LARGE") == "1"
	sizes := []scaleSize{
		{n: 200, naive: 1},
		{n: 1000, naive: 1},
		{n: 10000, naive: 100},
		{n: 100000},
	}
	for i := range sizes {
		switch s := &sizes[i]; {
		case s.n == 200 && !short:
			s.skip = "200 workloads run with -short only, in place of the larger sizes"
		case s.n >= 1000 && short:
			s.skip = "-short runs 200 workloads instead"
		case s.n == 100000 && !large:
			s.skip = "set MESHREACH_BENCH_LARGE=1 (without -short) for 100k workloads"
		}
	}
	return sizes
}

// BenchmarkScale measures every stage of meshreach on generated meshes
// (meshgen, seed 1) of 1k, 10k and, with MESHREACH_BENCH_LARGE=1 and
// without -short, 100k workloads; with -short, of 200 workloads instead,
// so that CI runs every stage. Each size runs these stages, each a
// sub-benchmark (go test -bench 'Scale/workloads=10000/'):
//
//   - load: mesh.Parse of the generator's YAML (MB/s by b.SetBytes);
//   - build: sim.New;
//   - matrix: Simulator.Matrix, every client class against every
//     destination; metrics classes, groups, probes and cells (Matrix.Stats);
//   - total: Parse, New and Matrix in one op, the "load + build + every
//     class pair" figure; metrics peak-RSS-MB and engine-share, the time
//     of New and Matrix over the time of Parse, both measured in the op;
//   - lookup: Matrix.Lookup of one (client, destination workload, every
//     port) pair, cycling through 1024 pairs drawn once from a fixed seed;
//     ns/op is the pair-query latency, cells/op the cells it returns, and
//     warm-ns/lookup the mean of 8 passes over the 1024 pairs before the
//     loop, after one untimed pass (with -benchtime 1x, ns/op is a single
//     cold query);
//   - namespace: the cells of the clients of one namespace (that of the
//     middle workload), expanded by Matrix.Cells; metric cells;
//   - naive (1k, 10k and 200 only): one Simulator.Probe per client
//     workload and destination (every Service port by FQDN and every
//     ServiceEntry host port, as naiveDests lists them), on GOMAXPROCS
//     goroutines as Matrix uses. At 1k and 200 every client is probed and
//     naive-s is the time of all pairs; at 10k, where all pairs take hours,
//     every 100th workload is probed and naive-est-s-1in100 is the time
//     scaled by clients/sampled clients (ns/op is the sample's time).
//     speedup is that time over the time of one Simulator.Matrix on the
//     same Simulator, run before the loop.
//
// All stages report allocations. peak-RSS-MB is the process's peak
// resident set size so far (getrusage ru_maxrss; 0 where unavailable): it
// includes every benchmark the process ran before, and the meshes and
// YAML cached for the other stages, so run one size per process for a
// figure of that size.
func BenchmarkScale(b *testing.B) {
	for _, sz := range scaleSizes() {
		n := sz.n
		b.Run(fmt.Sprintf("workloads=%d", n), func(b *testing.B) {
			if sz.skip != "" {
				b.Skip(sz.skip)
			}
			// The matrix the query stages share, built on first use.
			var shared *sim.Matrix
			matrix := func(b *testing.B) *sim.Matrix {
				if shared == nil {
					shared = sim.New(genMesh(b, n)).Matrix()
				}
				return shared
			}

			b.Run("load", func(b *testing.B) {
				src := genYAML(n)
				b.SetBytes(int64(len(src)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := mesh.Parse("scale.yaml", src); err != nil {
						b.Fatal(err)
					}
				}
			})

			b.Run("build", func(b *testing.B) {
				m := genMesh(b, n)
				b.ReportAllocs()
				for b.Loop() {
					sim.New(m)
				}
			})

			b.Run("matrix", func(b *testing.B) {
				s := sim.New(genMesh(b, n))
				b.ReportAllocs()
				var st sim.Stats
				for b.Loop() {
					st = s.Matrix().Stats()
				}
				b.ReportMetric(float64(st.Classes), "classes")
				b.ReportMetric(float64(st.Groups), "groups")
				b.ReportMetric(float64(st.Evaluations), "probes")
				b.ReportMetric(float64(st.Cells), "cells")
			})

			b.Run("total", func(b *testing.B) {
				src := genYAML(n)
				b.ReportAllocs()
				var parse, engine time.Duration
				for b.Loop() {
					t0 := time.Now()
					m, err := mesh.Parse("scale.yaml", src)
					if err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					sim.New(m).Matrix()
					engine += time.Since(t1)
					parse += t1.Sub(t0)
				}
				b.ReportMetric(engine.Seconds()/parse.Seconds(), "engine-share")
				b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
			})

			b.Run("lookup", func(b *testing.B) {
				mx := matrix(b)
				ws := mx.Simulator().Mesh().Workloads()
				r := rand.New(rand.NewPCG(1, uint64(n)))
				type pair struct {
					from mesh.WorkloadID
					to   sim.Node
				}
				pairs := make([]pair, 1024)
				for i := range pairs {
					pairs[i] = pair{ws[r.IntN(len(ws))].ID, sim.WorkloadNode(ws[r.IntN(len(ws))].ID)}
				}
				// Nine passes over the pairs first, the last eight timed,
				// after a collection of what building the matrix left: a
				// figure of warm queries that holds with -benchtime 1x.
				runtime.GC()
				const passes = 8
				var warm time.Duration
				for k := range passes + 1 {
					t := time.Now()
					for _, p := range pairs {
						mx.Lookup(p.from, p.to, 0)
					}
					if k > 0 {
						warm += time.Since(t)
					}
				}
				b.ReportAllocs()
				cells, i := 0, 0
				for b.Loop() {
					p := pairs[i&1023]
					cells += len(mx.Lookup(p.from, p.to, 0))
					i++
				}
				b.ReportMetric(float64(cells)/float64(i), "cells/op")
				b.ReportMetric(float64(warm.Nanoseconds())/float64(passes*len(pairs)), "warm-ns/lookup")
			})

			b.Run("namespace", func(b *testing.B) {
				mx := matrix(b)
				ws := mx.Simulator().Mesh().Workloads()
				f := sim.Filter{FromNamespace: ws[len(ws)/2].ID.Namespace}
				b.ReportAllocs()
				cells := 0
				for b.Loop() {
					cells = 0
					for range mx.Cells(f) {
						cells++
					}
				}
				b.ReportMetric(float64(cells), "cells")
			})

			b.Run("naive", func(b *testing.B) {
				if sz.naive == 0 {
					b.Skip("the naive evaluation runs at 1k and 10k workloads (200 with -short)")
				}
				m := genMesh(b, n)
				s := sim.New(m)
				t := time.Now()
				s.Matrix()
				matrixTime := time.Since(t)
				ws := m.Workloads()
				var clients []mesh.WorkloadID
				for i := 0; i < len(ws); i += sz.naive {
					clients = append(clients, ws[i].ID)
				}
				dests := naiveDests(m)
				b.ReportAllocs()
				var elapsed time.Duration
				ops := 0
				for b.Loop() {
					t := time.Now()
					if err := probeAll(s, clients, dests); err != nil {
						b.Fatal(err)
					}
					elapsed += time.Since(t)
					ops++
				}
				est := elapsed.Seconds() / float64(ops) * float64(len(ws)) / float64(len(clients))
				unit := "naive-s"
				if sz.naive > 1 {
					unit = fmt.Sprintf("naive-est-s-1in%d", sz.naive)
				}
				b.ReportMetric(est, unit)
				b.ReportMetric(est/matrixTime.Seconds(), "speedup")
				b.ReportMetric(float64(len(clients)*len(dests)), "probes")
			})
		})
	}
}

// probeAll runs one Simulator.Probe per client and destination on
// GOMAXPROCS goroutines, and returns the first error.
func probeAll(s *sim.Simulator, clients []mesh.WorkloadID, dests []sim.Probe) error {
	var next atomic.Int64
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(clients) || first.Load() != nil {
					return
				}
				for _, d := range dests {
					d.From = clients[i]
					if _, err := s.Probe(d); err != nil {
						first.CompareAndSwap(nil, &err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return *err
	}
	return nil
}
