package sim_test

import (
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

func TestTransportSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reason string
		in     []sim.Transport
		want   string
		list   []sim.Transport
	}{
		{name: "empty", reason: "the zero set is none", want: "none"},
		{name: "none ignored", reason: "NoTransport is not a transport that flows", in: []sim.Transport{sim.NoTransport}, want: "none"},
		{name: "out of range ignored", reason: "values beyond TLS are not transports", in: []sim.Transport{sim.Transport(9)}, want: "none"},
		{name: "order", reason: "members render in Transport order whatever the input order",
			in: []sim.Transport{sim.TLS, sim.Plaintext, sim.MTLS, sim.Plaintext}, want: "plaintext+mtls+tls",
			list: []sim.Transport{sim.Plaintext, sim.MTLS, sim.TLS}},
		{name: "one", reason: "a single member renders alone", in: []sim.Transport{sim.MTLS}, want: "mtls", list: []sim.Transport{sim.MTLS}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := sim.TransportSetOf(tc.in...)
			if got := s.String(); got != tc.want {
				t.Errorf("%s: String() = %q, want %q", tc.reason, got, tc.want)
			}
			if d := gocmp.Diff(tc.list, s.Transports()); d != "" {
				t.Errorf("%s: Transports() (-want +got):\n%s", tc.reason, d)
			}
			for _, tr := range []sim.Transport{sim.NoTransport, sim.Plaintext, sim.MTLS, sim.TLS, sim.Transport(7)} {
				if got, want := s.Has(tr), slices.Contains(tc.list, tr); got != want {
					t.Errorf("%s: Has(%v) = %v, want %v", tc.reason, tr, got, want)
				}
			}
		})
	}
}

func TestOutcomeAndNodeStrings(t *testing.T) {
	t.Parallel()
	id := mesh.WorkloadID{Namespace: "shop", Name: "web"}
	tests := []struct {
		name, reason string
		got, want    string
	}{
		{"allow", "an allowed outcome names its transport", sim.Outcome{Allowed: true, Transport: sim.MTLS}.String(), "allow mtls"},
		{"deny", "a denied outcome does not name what was sent", sim.Outcome{Transport: sim.Plaintext}.String(), "deny"},
		{"undecided", "as Result.Outcome", sim.Outcome{Undecided: true, Transport: sim.Plaintext}.String(), "undecided"},
		{"workload", "a workload node is its ID", sim.WorkloadNode(id).String(), "shop/web"},
		{"external", "an external node is prefixed", sim.ExternalNode("api.example.com").String(), "external:api.example.com"},
		{"outside", "the outside client", sim.OutsideNode().String(), "outside"},
		{"kind", "an unknown kind renders its number", sim.NodeKind(7).String(), "NodeKind(7)"},
		{"namespace", "only workloads have a namespace", sim.ExternalNode("x").Namespace() + "|" + sim.WorkloadNode(id).Namespace(), "|shop"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %s: got %q, want %q", tc.name, tc.reason, tc.got, tc.want)
		}
	}
	nodes := []sim.Node{sim.OutsideNode(), sim.ExternalNode("b"), sim.WorkloadNode(mesh.WorkloadID{Namespace: "z", Name: "a"}),
		sim.ExternalNode("a"), sim.WorkloadNode(id)}
	slices.SortFunc(nodes, sim.Node.Compare)
	want := []sim.Node{sim.WorkloadNode(id), sim.WorkloadNode(mesh.WorkloadID{Namespace: "z", Name: "a"}),
		sim.ExternalNode("a"), sim.ExternalNode("b"), sim.OutsideNode()}
	if d := gocmp.Diff(want, nodes); d != "" {
		t.Errorf("Node.Compare orders workloads, then external hosts, then outside (-want +got):\n%s", d)
	}
}

func TestFilterMatch(t *testing.T) {
	t.Parallel()
	web := mesh.WorkloadID{Namespace: "shop", Name: "web"}
	db := mesh.WorkloadID{Namespace: "data", Name: "db"}
	cell := sim.Cell{From: web, To: sim.WorkloadNode(db), Port: 5432, Host: "db.data.svc.cluster.local", ViaPort: 5432,
		Default: sim.Outcome{Allowed: true, Transport: sim.MTLS}}
	denied := cell
	denied.Default = sim.Outcome{Transport: sim.Plaintext}
	undecided := cell
	undecided.Default = sim.Outcome{Transport: sim.MTLS, Undecided: true}
	ext := cell
	ext.To = sim.ExternalNode("api.example.com")
	tests := []struct {
		name   string
		reason string
		f      sim.Filter
		c      sim.Cell
		want   bool
	}{
		{"zero", "the zero Filter selects everything", sim.Filter{}, cell, true},
		{"from namespace", "the client's namespace", sim.Filter{FromNamespace: "shop"}, cell, true},
		{"other from namespace", "a client of another namespace", sim.Filter{FromNamespace: "data"}, cell, false},
		{"to namespace", "the destination's namespace", sim.Filter{ToNamespace: "data"}, cell, true},
		{"external to namespace", "external hosts have no namespace", sim.Filter{ToNamespace: "data"}, ext, false},
		{"from", "the client", sim.Filter{From: db}, cell, false},
		{"to", "the destination node", sim.Filter{To: sim.WorkloadNode(db)}, cell, true},
		{"port", "the destination port", sim.Filter{Port: 80}, cell, false},
		{"transport", "the default transport", sim.Filter{Transport: sim.MTLS}, cell, true},
		{"transport of a denied cell", "what was sent, for a denied cell", sim.Filter{Transport: sim.Plaintext}, denied, true},
		{"allowed", "allowed cells", sim.Filter{Status: sim.StatusAllowed}, denied, false},
		{"denied", "denied cells", sim.Filter{Status: sim.StatusDenied}, denied, true},
		{"undecided is not denied", "StatusDenied keeps cells denied for sure", sim.Filter{Status: sim.StatusDenied}, undecided, false},
		{"undecided", "StatusUndecided keeps undecided cells", sim.Filter{Status: sim.StatusUndecided}, undecided, true},
		{"all fields", "every set field must match", sim.Filter{FromNamespace: "shop", ToNamespace: "data", From: web,
			To: sim.WorkloadNode(db), Port: 5432, Transport: sim.MTLS, Status: sim.StatusAllowed}, cell, true},
	}
	for _, tc := range tests {
		if got := tc.f.Match(tc.c); got != tc.want {
			t.Errorf("%s: %s: Match = %v, want %v", tc.name, tc.reason, got, tc.want)
		}
	}
}

// TestQueriesRejectUnknownNodes checks that queries about nodes the mesh
// does not have answer nothing instead of panicking.
func TestQueriesRejectUnknownNodes(t *testing.T) {
	t.Parallel()
	mx := paymentsMatrix()
	ghost := sim.WorkloadNode(mesh.WorkloadID{Namespace: "shop", Name: "ghost"})
	api := sim.WorkloadNode(mesh.WorkloadID{Namespace: "app", Name: "api"})
	for name, got := range map[string]any{
		"WhoCanReach ghost":     mx.WhoCanReach(ghost, 0),
		"WhoCanReach outside":   mx.WhoCanReach(sim.OutsideNode(), 0),
		"ReachableFrom ghost":   mx.ReachableFrom(ghost),
		"ReachableFrom zero":    mx.ReachableFrom(sim.Node{}),
		"ReachableFrom ext":     mx.ReachableFrom(sim.ExternalNode("api.stripe.com")),
		"Paths from ghost":      mx.Paths(ghost, api, sim.PathOptions{}),
		"Paths to outside":      mx.Paths(api, sim.OutsideNode(), sim.PathOptions{}),
		"Paths to self":         mx.Paths(api, api, sim.PathOptions{}),
		"Paths negative hops":   mx.Paths(sim.OutsideNode(), api, sim.PathOptions{MaxHops: -1}),
		"Cells from ghost":      slices.Collect(mx.Cells(sim.Filter{From: ghost.Workload})),
		"Exposure of ghost":     mx.Exposure(sim.Filter{To: ghost}),
		"Summary to no one":     mx.Summary(sim.Filter{ToNamespace: "nowhere"}),
		"Paths over no edge":    mx.Paths(sim.OutsideNode(), api, sim.PathOptions{Transport: sim.TLS}),
		"Components over no tr": mx.Components(sim.TLS),
	} {
		if !isEmpty(got) {
			t.Errorf("%s = %v, want nothing", name, got)
		}
	}
	if _, ok := mx.ClassOf(ghost.Workload); ok {
		t.Error("ClassOf(ghost) found a class")
	}
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case []sim.ReachGroup:
		return len(x) == 0
	case []sim.Path:
		return len(x) == 0
	case []sim.Cell:
		return len(x) == 0
	case []sim.Exposure:
		return len(x) == 0
	case []sim.Summary:
		return len(x) == 0
	case [][]mesh.WorkloadID:
		return len(x) == 0
	}
	return false
}

// TestOddMeshes runs every query on meshes with nothing to reach, and
// checks that probes the matrix cannot run are reported, not panicked on.
func TestOddMeshes(t *testing.T) {
	t.Parallel()
	web := mesh.WorkloadID{Namespace: "shop", Name: "web"}
	tests := []struct {
		name    string
		reason  string
		build   func(b *mesh.Builder)
		cells   int
		errored bool
	}{{
		name: "empty", reason: "a mesh without workloads has no cells",
		build: func(b *mesh.Builder) {},
	}, {
		name: "no Services", reason: "direct pod calls are not cells",
		build: func(b *mesh.Builder) {
			b.AddWorkload(mesh.Workload{ID: web, Kind: "Deployment", Ports: []mesh.ContainerPort{{Number: 8080}}})
		},
	}, {
		name: "Service without selector", reason: "a Service without endpoints gives no cell",
		build: func(b *mesh.Builder) {
			b.AddWorkload(mesh.Workload{ID: web, Kind: "Deployment"})
			b.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: "shop", Name: "db"}, Ports: []mesh.ServicePort{{Port: 5432}}})
		},
	}, {
		name: "port out of range", reason: "a probe the engine refuses is an error of the matrix, not a panic", errored: true,
		build: func(b *mesh.Builder) {
			b.AddWorkload(mesh.Workload{ID: web, Kind: "Deployment", Labels: map[string]string{"app": "web"}})
			b.AddService(mesh.Service{Ref: mesh.Ref{Kind: "Service", Namespace: "shop", Name: "web"}, Selector: map[string]string{"app": "web"},
				Ports: []mesh.ServicePort{{Port: 70000}, {Port: 80}}})
		},
		cells: 1,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := &mesh.Builder{}
			tc.build(b)
			m, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			mx := sim.New(m).Matrix()
			if got := len(slices.Collect(mx.Cells(sim.Filter{}))); got != tc.cells {
				t.Errorf("%s: %d cells, want %d", tc.reason, got, tc.cells)
			}
			if got := len(mx.Errors()) > 0; got != tc.errored {
				t.Errorf("%s: Errors() = %v", tc.reason, mx.Errors())
			}
			mx.Summary(sim.Filter{})
			mx.Exposure(sim.Filter{})
			mx.Components(sim.NoTransport)
			mx.ReachableFrom(sim.OutsideNode())
			mx.WhoCanReach(sim.WorkloadNode(web), 0)
			mx.Paths(sim.OutsideNode(), sim.WorkloadNode(web), sim.PathOptions{Limit: 3})
			mx.Graph(sim.Filter{})
		})
	}
}
