package sim

import (
	"sync"

	"github.com/meshreach/meshreach/mesh"
)

// index holds the lookups every stage shares. It is built once by New and
// only read afterwards.
type index struct {
	m      *mesh.Mesh
	cfg    mesh.Config
	ns     map[string]*mesh.Namespace
	wl     map[mesh.WorkloadID]*mesh.Workload
	wls    []*mesh.Workload            // sorted by ID
	wlByNS map[string][]*mesh.Workload // sorted by ID
	// services by FQDN hostname (name.ns.svc.<suffix>).
	svcByHost map[string]*service
	services  []*service // sorted by namespace, name
	svcByNS   map[string][]*service
	// ServiceEntries by host; several namespaces may declare one host.
	seByHost   map[string][]*mesh.ServiceEntry
	entries    []*mesh.ServiceEntry
	sidecars   map[string][]*mesh.Sidecar            // by namespace, in declaration order
	peerAuths  map[string][]*mesh.PeerAuthentication // by namespace
	destRules  map[string][]*mesh.DestinationRule    // by namespace
	allDRs     []*mesh.DestinationRule
	allSidecar []*mesh.Sidecar
	// httpListeners memoises httpListenerOn (egress.go); safe for
	// concurrent probes.
	httpListeners sync.Map
	// egressMemo memoises egressOf (scope_sidecar.go) by scopeKey.
	egressMemo sync.Map
	// portKeys memoises portListenerKeys (egress.go).
	portKeys sync.Map
}

// service is a Kubernetes Service with its endpoints resolved.
type service struct {
	svc       *mesh.Service
	host      string           // FQDN
	endpoints []*mesh.Workload // workloads its selector picks in its namespace, sorted
	// alone is what candidates returns for the Service when no
	// ServiceEntry declares its host: read-only.
	alone [][]*registryService
}

func newIndex(m *mesh.Mesh) *index {
	ix := &index{
		m:         m,
		cfg:       m.Config(),
		ns:        map[string]*mesh.Namespace{},
		wl:        map[mesh.WorkloadID]*mesh.Workload{},
		wlByNS:    map[string][]*mesh.Workload{},
		svcByHost: map[string]*service{},
		svcByNS:   map[string][]*service{},
		seByHost:  map[string][]*mesh.ServiceEntry{},
		sidecars:  map[string][]*mesh.Sidecar{},
		peerAuths: map[string][]*mesh.PeerAuthentication{},
		destRules: map[string][]*mesh.DestinationRule{},
	}
	for _, n := range m.Namespaces() {
		ix.ns[n.Name] = &n
	}
	for _, w := range m.Workloads() {
		ix.wl[w.ID] = &w
		ix.wls = append(ix.wls, &w)
		ix.wlByNS[w.ID.Namespace] = append(ix.wlByNS[w.ID.Namespace], &w)
	}
	for _, s := range m.Services() {
		sv := &service{svc: &s, host: serviceHost(s.Ref.Name, s.Ref.Namespace, ix.cfg.DomainSuffix)}
		if s.Selector != nil {
			for _, w := range ix.wlByNS[s.Ref.Namespace] {
				if subsetOf(s.Selector, w.Labels) && len(s.Selector) > 0 {
					sv.endpoints = append(sv.endpoints, w)
				}
			}
		}
		r := serviceRegistry(sv)
		sv.alone = [][]*registryService{{&r}}
		ix.svcByHost[sv.host] = sv
		ix.services = append(ix.services, sv)
		ix.svcByNS[s.Ref.Namespace] = append(ix.svcByNS[s.Ref.Namespace], sv)
	}
	for _, e := range m.ServiceEntries() {
		ix.entries = append(ix.entries, &e)
		for _, h := range e.Hosts {
			ix.seByHost[h] = append(ix.seByHost[h], &e)
		}
	}
	for _, s := range m.Sidecars() {
		ix.sidecars[s.Ref.Namespace] = append(ix.sidecars[s.Ref.Namespace], &s)
		ix.allSidecar = append(ix.allSidecar, &s)
	}
	for _, p := range m.PeerAuthentications() {
		ix.peerAuths[p.Ref.Namespace] = append(ix.peerAuths[p.Ref.Namespace], &p)
	}
	for _, d := range m.DestinationRules() {
		ix.destRules[d.Ref.Namespace] = append(ix.destRules[d.Ref.Namespace], &d)
		ix.allDRs = append(ix.allDRs, &d)
	}
	return ix
}

// serviceHost is the hostname Istio gives a Kubernetes Service:
// name.ns.svc.<domainSuffix> (pilot/pkg/serviceregistry/kube/conversion.go
// ServiceHostname).
func serviceHost(name, ns, suffix string) string {
	return name + "." + ns + ".svc." + suffix
}

// subsetOf reports whether every label in sel is in labels with the same
// value (labels.Instance.SubsetOf). An empty sel is a subset of everything.
func subsetOf(sel, labels map[string]string) bool {
	for k, v := range sel {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

// targetPort resolves a Service port to the container port it lands on for
// workload w: a numeric targetPort, a named one looked up in w's container
// ports, or the service port itself when targetPort is unset. ok is false
// when a named port does not exist on w (Kubernetes then has no endpoint).
func targetPort(sp mesh.ServicePort, w *mesh.Workload) (uint32, bool) {
	if sp.TargetName != "" {
		for _, cp := range w.Ports {
			if cp.Name == sp.TargetName {
				return cp.Number, true
			}
		}
		return 0, false
	}
	if sp.TargetPort != 0 {
		return sp.TargetPort, true
	}
	return sp.Port, true
}
