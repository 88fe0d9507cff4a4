// Package meshgen generates synthetic meshes for tests and benchmarks:
// deterministic from a seed, as [mesh.Builder] objects or as the
// Kubernetes and Istio YAML the loader reads.
//
// A mesh of N workloads has max(1, N/20) namespaces (ns-000, ns-001, …)
// plus istio-system, where istiod runs without a sidecar. About one
// namespace in ten has no injection label; every workload has one to
// three container ports and a Service of its own. On top of that, drawn
// from the seed: a mesh-wide PeerAuthentication, namespace-wide,
// workload-level and port-level ones; Sidecars with egress scopes in about
// 30% of namespaces, some with REGISTRY_ONLY, some selecting workloads by
// label, a few with a port listener; DestinationRules for about 10% of
// Services (some selecting clients, some port-level); external
// ServiceEntries and mesh-internal ones with workload endpoints; and a few
// workloads with interception annotations, sidecar.istio.io/inject=false,
// app-level mTLS, headless or namespace-private Services.
package meshgen

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/meshreach/meshreach/mesh"
)

// Options selects the mesh to generate.
type Options struct {
	Workloads int    // workloads outside istio-system; at least 1
	Seed      uint64 // the same seed and size give the same mesh
}

// Objects is a generated mesh, each list sorted by namespace and name.
type Objects struct {
	Config              mesh.Config
	Namespaces          []mesh.Namespace
	Workloads           []mesh.Workload
	Services            []mesh.Service
	ServiceEntries      []mesh.ServiceEntry
	Sidecars            []mesh.Sidecar
	PeerAuthentications []mesh.PeerAuthentication
	DestinationRules    []mesh.DestinationRule
	// AuthorizationPolicies are namespace-scoped: an ALLOW for the data
	// tier from the namespace itself and one of the next three, a DENY of
	// the front-tier service account of one of the next three namespaces
	// on one workload's first port.
	AuthorizationPolicies []mesh.AuthorizationPolicy
}

// portSpec is a container port and the Service port in front of it.
type portSpec struct {
	name     string // Service port name, which declares the protocol
	svcPort  uint32
	ctrPort  uint32
	ctrName  string
	byName   bool // the Service targets the container port by name
	protocol string
}

var portCatalog = []portSpec{
	{name: "http", svcPort: 80, ctrPort: 8080, ctrName: "http"},
	{name: "grpc", svcPort: 9090, ctrPort: 9090, ctrName: "grpc"},
	{name: "tcp-postgres", svcPort: 5432, ctrPort: 5432, ctrName: "pg"},
	{name: "https", svcPort: 443, ctrPort: 8443, ctrName: "https"},
	{name: "redis", svcPort: 6379, ctrPort: 6379, ctrName: "redis"},
	{name: "metrics", svcPort: 9100, ctrPort: 9100, ctrName: "metrics"},
}

var tiers = []string{"front", "back", "data"}

// Generate builds the mesh o describes.
func Generate(o Options) *Objects {
	n := max(o.Workloads, 1)
	r := rand.New(rand.NewPCG(o.Seed, uint64(n)))
	out := &Objects{Config: mesh.DefaultConfig()}
	ref := func(kind, ns, name string) mesh.Ref { return mesh.Ref{Kind: kind, Namespace: ns, Name: name} }
	chance := func(p float64) bool { return r.Float64() < p }
	modes := []mesh.Mode{mesh.ModeStrict, mesh.ModePermissive, mesh.ModeDisable}

	// istio-system: istiod without a sidecar, maybe a mesh-wide
	// PeerAuthentication and DestinationRule.
	root := out.Config.RootNamespace
	out.Namespaces = append(out.Namespaces, mesh.Namespace{Name: root})
	out.Workloads = append(out.Workloads, mesh.Workload{ID: mesh.WorkloadID{Namespace: root, Name: "istiod"}, Kind: "Deployment",
		Labels: map[string]string{"app": "istiod"}, ServiceAccount: "istiod",
		Ports: []mesh.ContainerPort{{Name: "grpc-xds", Number: 15010, Protocol: "TCP"}, {Name: "https-dns", Number: 15012, Protocol: "TCP"}, {Name: "http-monitoring", Number: 15014, Protocol: "TCP"}}})
	out.Services = append(out.Services, mesh.Service{Ref: ref("Service", root, "istiod"), Selector: map[string]string{"app": "istiod"},
		Ports: []mesh.ServicePort{{Name: "grpc-xds", Port: 15010, Protocol: "TCP"}, {Name: "https-dns", Port: 15012, Protocol: "TCP"}, {Name: "http-monitoring", Port: 15014, Protocol: "TCP"}}})
	switch r.IntN(3) {
	case 1:
		out.PeerAuthentications = append(out.PeerAuthentications, mesh.PeerAuthentication{Ref: ref("PeerAuthentication", root, "default"), Mode: mesh.ModePermissive})
	case 2:
		out.PeerAuthentications = append(out.PeerAuthentications, mesh.PeerAuthentication{Ref: ref("PeerAuthentication", root, "default"), Mode: mesh.ModeStrict})
	}
	if chance(0.5) {
		out.DestinationRules = append(out.DestinationRules, mesh.DestinationRule{Ref: ref("DestinationRule", root, "default"), Host: "*.local",
			TrafficPolicy: &mesh.TrafficPolicy{TLS: mesh.TLSIstioMutual}})
	}

	nns := max(1, n/20)
	nsName := func(i int) string { return fmt.Sprintf("ns-%03d", i) }
	for i := range nns {
		ns := nsName(i)
		// force makes sure the first namespaces show every feature, so that
		// meshes of 200 workloads and more have each at least once.
		force := func(k int) bool { return i == k }
		injected := !(chance(0.1) || force(1))
		nsObj := mesh.Namespace{Name: ns, Labels: map[string]string{"team": tiers[i%len(tiers)]}}
		if injected {
			nsObj.Labels["istio-injection"] = "enabled"
		}
		out.Namespaces = append(out.Namespaces, nsObj)

		count := n / nns
		if i < n%nns {
			count++
		}
		var apps []string
		var appPorts [][]portSpec
		for j := range count {
			app := fmt.Sprintf("w-%03d", j)
			apps = append(apps, app)
			tier := tiers[r.IntN(len(tiers))]
			w := mesh.Workload{ID: mesh.WorkloadID{Namespace: ns, Name: app}, Kind: "Deployment",
				Labels:         map[string]string{"app": app, "tier": tier, "version": "v1"},
				ServiceAccount: "sa-" + tier}
			at := func(k int) bool { return force(0) && j == k }
			switch {
			case injected && (chance(0.04) || at(1)):
				w.Labels["sidecar.istio.io/inject"] = "false"
			case injected && (chance(0.04) || at(2)):
				w.Annotations = map[string]string{"traffic.sidecar.istio.io/excludeOutboundPorts": "5432"}
			case injected && (chance(0.03) || at(3)):
				w.Annotations = map[string]string{"traffic.sidecar.istio.io/excludeInboundPorts": "8080"}
			case !injected && (chance(0.2) || j == 0):
				w.AppMTLS = true
				w.Annotations = map[string]string{"meshreach.io/app-mtls": "true"}
			}
			var ps []portSpec
			for _, k := range r.Perm(len(portCatalog))[:1+r.IntN(3)] {
				p := portCatalog[k]
				p.byName = chance(0.2)
				ps = append(ps, p)
			}
			slices.SortFunc(ps, func(a, b portSpec) int { return int(a.svcPort) - int(b.svcPort) })
			appPorts = append(appPorts, ps)
			for _, p := range ps {
				w.Ports = append(w.Ports, mesh.ContainerPort{Name: p.ctrName, Number: p.ctrPort, Protocol: "TCP"})
			}
			out.Workloads = append(out.Workloads, w)

			svc := mesh.Service{Ref: ref("Service", ns, app), Selector: map[string]string{"app": app}}
			for _, p := range ps {
				sp := mesh.ServicePort{Name: p.name, Port: p.svcPort, Protocol: "TCP"}
				switch {
				case p.byName:
					sp.TargetName = p.ctrName
				case p.ctrPort != p.svcPort:
					sp.TargetPort = p.ctrPort
				}
				svc.Ports = append(svc.Ports, sp)
			}
			switch {
			case chance(0.05) || at(6):
				svc.ExportTo = []string{"."}
				svc.Annotations = map[string]string{"networking.istio.io/exportTo": "."}
			case chance(0.03) || at(7):
				svc.Headless = true
			}
			out.Services = append(out.Services, svc)

			// DestinationRules for about 10% of Services.
			if chance(0.1) || at(4) || at(5) {
				dr := mesh.DestinationRule{Ref: ref("DestinationRule", ns, app), Host: app,
					TrafficPolicy: &mesh.TrafficPolicy{TLS: []mesh.TLSMode{mesh.TLSIstioMutual, mesh.TLSDisable, mesh.TLSSimple, mesh.TLSUnset}[r.IntN(4)]}}
				switch {
				case chance(0.3) || at(4):
					dr.Selector = map[string]string{"tier": tiers[r.IntN(len(tiers))]}
				case chance(0.3) || at(5):
					dr.TrafficPolicy.PortLevel = []mesh.PortTrafficPolicy{{Port: ps[0].svcPort, TLS: mesh.TLSDisable}}
				case chance(0.2):
					dr.ExportTo = []string{"."}
				}
				out.DestinationRules = append(out.DestinationRules, dr)
			}
		}

		// PeerAuthentications.
		if chance(0.25) || force(6) {
			out.PeerAuthentications = append(out.PeerAuthentications, mesh.PeerAuthentication{Ref: ref("PeerAuthentication", ns, "default"),
				Mode: modes[r.IntN(len(modes))]})
		}
		if chance(0.2) || force(6) {
			k := r.IntN(len(apps))
			pa := mesh.PeerAuthentication{Ref: ref("PeerAuthentication", ns, apps[k]), Selector: map[string]string{"app": apps[k]},
				Mode: modes[r.IntN(len(modes))]}
			if chance(0.5) || force(6) {
				pa.PortModes = map[uint32]mesh.Mode{appPorts[k][0].ctrPort: modes[r.IntN(len(modes))]}
			}
			out.PeerAuthentications = append(out.PeerAuthentications, pa)
		}
		if chance(0.1) {
			out.PeerAuthentications = append(out.PeerAuthentications, mesh.PeerAuthentication{Ref: ref("PeerAuthentication", ns, "data-tier"),
				Selector: map[string]string{"tier": "data"}, Mode: mesh.ModeStrict})
		}

		// AuthorizationPolicies in about 10% of namespaces.
		if chance(0.1) || force(4) {
			out.AuthorizationPolicies = append(out.AuthorizationPolicies, mesh.AuthorizationPolicy{Ref: ref("AuthorizationPolicy", ns, "data-from"),
				Selector: map[string]string{"tier": "data"},
				Rules:    []mesh.AuthzRule{{From: []mesh.AuthzSource{{Namespaces: []string{ns, nsName((i + 1 + r.IntN(3)) % nns)}}}}}})
		}
		if chance(0.05) || force(5) {
			k := r.IntN(len(apps))
			out.AuthorizationPolicies = append(out.AuthorizationPolicies, mesh.AuthorizationPolicy{Ref: ref("AuthorizationPolicy", ns, "deny-front"),
				Selector: map[string]string{"app": apps[k]}, Action: mesh.ActionDeny,
				Rules: []mesh.AuthzRule{{From: []mesh.AuthzSource{{Principals: []string{"cluster.local/ns/" + nsName((i+1+r.IntN(3))%nns) + "/sa/sa-front"}}},
					To: []mesh.AuthzOperation{{Ports: []string{fmt.Sprint(appPorts[k][0].ctrPort)}}}}}})
		}

		// Sidecars in about 30% of namespaces.
		if chance(0.3) || force(2) || force(3) {
			hosts := []string{"./*", root + "/*"}
			if nns > 1 && (chance(0.5) || force(3)) {
				hosts = append(hosts, nsName(r.IntN(nns))+"/*")
			}
			if chance(0.2) {
				hosts = append(hosts, "*/*.example.com")
			}
			sc := mesh.Sidecar{Ref: ref("Sidecar", ns, "default"), Egress: []mesh.EgressListener{{Hosts: hosts, CaptureMode: "DEFAULT"}}}
			if chance(0.35) || force(2) {
				sc.Outbound = mesh.OutboundRegistryOnly
			}
			if chance(0.1) || force(2) {
				sc.Egress = append([]mesh.EgressListener{{Port: &mesh.SidecarPort{Number: 9090, Protocol: "GRPC", Name: "grpc"}, Hosts: []string{"./*"}, CaptureMode: "DEFAULT"}}, sc.Egress...)
			}
			out.Sidecars = append(out.Sidecars, sc)
			if chance(0.3) || force(2) || force(3) {
				tier := tiers[r.IntN(len(tiers))]
				out.Sidecars = append(out.Sidecars, mesh.Sidecar{Ref: ref("Sidecar", ns, tier), Selector: map[string]string{"tier": tier},
					Egress:   []mesh.EgressListener{{Hosts: []string{"./*", "~/" + apps[r.IntN(len(apps))] + "." + ns + ".svc.cluster.local"}, CaptureMode: "DEFAULT"}},
					Outbound: mesh.OutboundRegistryOnly})
			}
		}

		// ServiceEntries: an external API every fifth namespace, a
		// mesh-internal host with workload endpoints every seventh.
		if i%5 == 0 {
			se := mesh.ServiceEntry{Ref: ref("ServiceEntry", ns, "external"), Hosts: []string{fmt.Sprintf("api-%d.example.com", i)},
				Ports: []mesh.ServiceEntryPort{{Number: 443, Protocol: "HTTPS", Name: "https"}}, Resolution: "DNS"}
			if chance(0.3) {
				se.ExportTo = []string{"."}
			}
			out.ServiceEntries = append(out.ServiceEntries, se)
		}
		if i%7 == 3 {
			app := apps[r.IntN(len(apps))]
			out.ServiceEntries = append(out.ServiceEntries, mesh.ServiceEntry{Ref: ref("ServiceEntry", ns, "internal"),
				Hosts: []string{app + ".internal.example"}, MeshInternal: true, Resolution: "STATIC",
				Ports:            []mesh.ServiceEntryPort{{Number: 7070, Protocol: "TCP", Name: "tcp", TargetPort: 8080}},
				WorkloadSelector: map[string]string{"app": app}})
		}
	}
	sortObjects(out)
	return out
}

func sortObjects(o *Objects) {
	byRef := func(a, b mesh.Ref) int {
		if a.Namespace != b.Namespace {
			if a.Namespace < b.Namespace {
				return -1
			}
			return 1
		}
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	}
	slices.SortFunc(o.Namespaces, func(a, b mesh.Namespace) int { return byRef(mesh.Ref{Name: a.Name}, mesh.Ref{Name: b.Name}) })
	slices.SortFunc(o.Workloads, func(a, b mesh.Workload) int { return a.ID.Compare(b.ID) })
	slices.SortFunc(o.Services, func(a, b mesh.Service) int { return byRef(a.Ref, b.Ref) })
	slices.SortFunc(o.ServiceEntries, func(a, b mesh.ServiceEntry) int { return byRef(a.Ref, b.Ref) })
	slices.SortFunc(o.Sidecars, func(a, b mesh.Sidecar) int { return byRef(a.Ref, b.Ref) })
	slices.SortFunc(o.PeerAuthentications, func(a, b mesh.PeerAuthentication) int { return byRef(a.Ref, b.Ref) })
	slices.SortFunc(o.DestinationRules, func(a, b mesh.DestinationRule) int { return byRef(a.Ref, b.Ref) })
	slices.SortFunc(o.AuthorizationPolicies, func(a, b mesh.AuthorizationPolicy) int { return byRef(a.Ref, b.Ref) })
}

// Builder returns a Builder holding the objects.
func (o *Objects) Builder() *mesh.Builder {
	b := &mesh.Builder{}
	b.SetConfig(o.Config)
	for _, x := range o.Namespaces {
		b.AddNamespace(x)
	}
	for _, x := range o.Workloads {
		b.AddWorkload(x)
	}
	for _, x := range o.Services {
		b.AddService(x)
	}
	for _, x := range o.ServiceEntries {
		b.AddServiceEntry(x)
	}
	for _, x := range o.Sidecars {
		b.AddSidecar(x)
	}
	for _, x := range o.PeerAuthentications {
		b.AddPeerAuthentication(x)
	}
	for _, x := range o.DestinationRules {
		b.AddDestinationRule(x)
	}
	for _, x := range o.AuthorizationPolicies {
		b.AddAuthorizationPolicy(x)
	}
	return b
}

// Mesh builds the objects into a Mesh.
func (o *Objects) Mesh() (*mesh.Mesh, error) { return o.Builder().Build() }
