package sim

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
)

// TestSparseViews checks the two facts the sparse views rest on, on
// generated meshes: where a class is not special, its generic view is its
// full view; and every class special in a group is found by the inverted
// indexes (or the identity tables) and has a view of its own there.
func TestSparseViews(t *testing.T) {
	t.Parallel()
	for _, n := range []int{200, 600} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			m, err := meshgen.Generate(meshgen.Options{Workloads: n, Seed: uint64(n)}).Mesh()
			if err != nil {
				t.Fatal(err)
			}
			mx := New(m).Matrix()
			cf := newClassifier(mx.e)
			specials := 0
			for gi, g := range mx.groups {
				for _, cl := range mx.classes {
					_, listed := g.special[cl.id]
					if cl.specialIn(g) {
						specials++
						if !listed {
							t.Errorf("group %d: class %d is special (%q) but no index lists it", gi, cl.id, cl.fullView(cf, g))
						}
						continue
					}
					if got, want := cl.genericView(g), cl.fullView(cf, g); got != want {
						t.Errorf("group %d: class %d: generic view %q, full view %q", gi, cl.id, got, want)
					}
					if !listed && g.generic[cl.generic] < 0 {
						t.Errorf("group %d: class %d has no view", gi, cl.id)
					}
				}
			}
			if specials == 0 {
				t.Errorf("no class is special in any group: the mesh does not exercise the indexes")
			}
		})
	}
}

// TestPortListenerKeysScan checks that scanning only the namespaces a
// port listener names finds the listener addresses a scan of the whole
// registry finds.
func TestPortListenerKeysScan(t *testing.T) {
	t.Parallel()
	m, err := meshgen.Generate(meshgen.Options{Workloads: 600, Seed: 3}).Mesh()
	if err != nil {
		t.Fatal(err)
	}
	e := New(m).e
	checked := 0
	for _, w := range e.wls {
		if !e.injected(w) {
			continue
		}
		sc := e.scopeFor(w)
		for i := range sc.egress {
			l := &sc.egress[i]
			if l.port == 0 {
				continue
			}
			want := map[string]bool{}
			e.eachService(func(r *registryService) bool {
				if e.visible(r, sc.configNS) && l.imports(r).ok {
					want[r.listenerKey(l.protocol)] = true
				}
				return true
			})
			if got := e.scanPortListenerKeys(l, sc.configNS); !maps.Equal(got, want) {
				t.Errorf("%s: port listener %s: keys %v, a full scan finds %v", w.ID, l.name(), got, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("the generated mesh has no port listener")
	}
}

// TestIdentityTables checks the identity tables against identityBits
// rendered for every class and namespace, for policies whose values are
// indexed by namespace (exact and prefix principals, namespaces) and for
// ones that are not (suffixes, wildcards, service accounts, IP blocks), and
// for the trust domain "ns", where "/ns/<ns>/" may occur twice in a URI.
func TestIdentityTables(t *testing.T) {
	t.Parallel()
	for _, td := range []string{"cluster.local", "ns"} {
		t.Run(td, func(t *testing.T) {
			t.Parallel()
			o := meshgen.Generate(meshgen.Options{Workloads: 400, Seed: 5})
			b := o.Builder()
			cfg := mesh.DefaultConfig()
			cfg.TrustDomain = td
			b.SetConfig(cfg)
			src := func(s mesh.AuthzSource) []mesh.AuthzRule {
				return []mesh.AuthzRule{{From: []mesh.AuthzSource{s}}}
			}
			ns0, ns1 := o.Namespaces[1].Name, o.Namespaces[2].Name
			for i, r := range [][]mesh.AuthzRule{
				src(mesh.AuthzSource{Principals: []string{td + "/ns/" + ns1 + "/sa/sa-front", "other.td/ns/" + ns1 + "/sa/x"}}),
				src(mesh.AuthzSource{Principals: []string{td + "/ns/" + ns1 + "/*"}, NotPrincipals: []string{td + "/ns/" + ns0 + "/sa/sa-data"}}),
				src(mesh.AuthzSource{Namespaces: []string{ns0, "ns", ns1}}),
				src(mesh.AuthzSource{Principals: []string{"*/sa/sa-front"}}),
				src(mesh.AuthzSource{Namespaces: []string{"*-001"}}),
				src(mesh.AuthzSource{ServiceAccounts: []string{ns1 + "/sa-front"}}),
				src(mesh.AuthzSource{Principals: []string{td + "/n*"}}),
			} {
				b.AddAuthorizationPolicy(mesh.AuthorizationPolicy{Ref: mesh.Ref{Kind: "AuthorizationPolicy", Namespace: o.Namespaces[3+i].Name, Name: "p"}, Rules: r})
			}
			m, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			mx := New(m).Matrix()
			cf := newClassifier(mx.e)
			cf.initIdentity(mx.classes)
			indexed := 0
			for ns := range cf.clientPreds {
				if _, ok := cf.predNamespaces(ns); ok {
					indexed++
				}
				for _, cl := range mx.classes {
					want := string(cf.appendIdentityBits(nil, cl, ns))
					if got := cf.idTabs[ns].bits(cl.id); got != want {
						t.Errorf("namespace %s, class %d (%s): table says %q, identityBits %q", ns, cl.id, cl.uri, got, want)
					}
				}
			}
			if indexed == 0 || indexed == len(cf.clientPreds) {
				t.Errorf("%d of %d namespaces indexed: the mesh must exercise both paths", indexed, len(cf.clientPreds))
			}
		})
	}
}

// TestServerGate checks serverGate against serverSide for every container
// port of every workload: alone where no AuthorizationPolicy may apply,
// followed by authorize elsewhere (checkGate), on a generated mesh and on
// the seed scenarios.
func TestServerGate(t *testing.T) {
	t.Parallel()
	var meshes []*mesh.Mesh
	gm, err := meshgen.Generate(meshgen.Options{Workloads: 400, Seed: 9}).Mesh()
	if err != nil {
		t.Fatal(err)
	}
	meshes = append(meshes, gm)
	dirs, _ := filepath.Glob("../examples/seed/*")
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.yaml"))
		files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == "expect.yaml" })
		if len(files) == 0 {
			continue
		}
		m, err := mesh.Load(files...)
		if err != nil {
			t.Fatal(err)
		}
		meshes = append(meshes, m)
	}
	if len(meshes) < 5 {
		t.Fatalf("%d meshes: the seed scenarios did not load", len(meshes))
	}
	checked := map[[2]bool]int{}
	for _, m := range meshes {
		e := New(m).e
		for _, w := range e.wls {
			if len(e.az.candidates(w)) > 0 {
				checkGate(t, e, w)
				continue
			}
			ports := []uint32{15021, 15090}
			for _, cp := range w.Ports {
				ports = append(ports, cp.Number)
			}
			for _, port := range ports {
				_, plain, mtls := e.serverGate(w, port)
				wantP, _, _ := e.serverSide(w, port, Plaintext, nil, Probe{})
				wantM, _, _ := e.serverSide(w, port, MTLS, nil, Probe{})
				if plain != wantP || mtls != wantM {
					t.Errorf("%s port %d: serverGate accepts plaintext %v, mTLS %v; serverSide says %v, %v", w.ID, port, plain, mtls, wantP, wantM)
				}
				checked[[2]bool{plain, mtls}]++
			}
		}
	}
	if len(checked) < 3 {
		t.Errorf("outcomes seen: %v; the meshes must exercise STRICT, DISABLE and PERMISSIVE", checked)
	}
}

// checkGate checks serverGate followed by authorize against serverSide
// for a workload AuthorizationPolicies may apply to, from a client of its
// own namespace.
func checkGate(t *testing.T, e *engine, w *mesh.Workload) {
	t.Helper()
	client := e.wlByNS[w.ID.Namespace][0]
	for _, cp := range w.Ports {
		bare, plain, mtls := e.serverGate(w, cp.Number)
		for _, tr := range []Transport{Plaintext, MTLS} {
			p := Probe{From: client.ID, ToWorkload: w.ID, Port: cp.Number}
			want, _, _ := e.serverSide(w, cp.Number, tr, client, p)
			var got bool
			switch {
			case bare:
				got = tr != MTLS
			case tr == Plaintext && !plain, tr == MTLS && !mtls:
			default:
				got, _, _ = e.authorize(w, cp.Number, tr, client, p)
			}
			if got != want {
				t.Errorf("%s port %d, %s from %s: gate and authorize say %v, serverSide %v", w.ID, cp.Number, tr, client.ID, got, want)
			}
		}
	}
}
