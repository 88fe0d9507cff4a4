package sim

// PeerAuthentication resolution (DT1) and the namespace-level mode client
// auto mTLS reads (DT2). See ../shared/semantics/mtls-authn-authz.md §1.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// peerAuths indexes PeerAuthentications the way istiod does
// (pilot/pkg/model/authentication.go addPeerAuthentication).
type peerAuths struct {
	root string
	// meshPA is the oldest selector-less PA of the root namespace; nil when
	// there is none.
	meshPA *mesh.PeerAuthentication
	// nsPA is the oldest selector-less PA of each other namespace.
	nsPA map[string]*mesh.PeerAuthentication
	// shadowed lists, per namespace, the selector-less PAs that lost to an
	// older one (istiod logs "already defined … Ignore"), oldest first.
	shadowed map[string][]*mesh.PeerAuthentication
	// workload lists, per non-root namespace, the PAs with a non-empty
	// selector, oldest first.
	workload map[string][]*mesh.PeerAuthentication
	// rootSelector lists the PAs with a non-empty selector in the root
	// namespace, which never apply to sidecars.
	rootSelector []*mesh.PeerAuthentication
}

// comparePA orders PAs oldest first, then by name, then by namespace
// (pilot/pkg/model/config.go configCompareByCreationTime); the first in
// this order wins among PAs of one level (mtls-authn-authz.md §1.3).
func comparePA(a, b *mesh.PeerAuthentication) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	if c := strings.Compare(a.Ref.Name, b.Ref.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Ref.Namespace, b.Ref.Namespace)
}

func newPeerAuths(m *mesh.Mesh, root string) *peerAuths {
	pa := &peerAuths{
		root:     root,
		nsPA:     map[string]*mesh.PeerAuthentication{},
		shadowed: map[string][]*mesh.PeerAuthentication{},
		workload: map[string][]*mesh.PeerAuthentication{},
	}
	all := m.PeerAuthentications()
	ptrs := make([]*mesh.PeerAuthentication, len(all))
	for i := range all {
		ptrs[i] = &all[i]
	}
	// initAuthenticationPolicies sorts with sortConfigByCreationTime before
	// indexing (authentication.go addPeerAuthentication).
	slices.SortFunc(ptrs, comparePA)
	for _, p := range ptrs {
		ns := p.Ref.Namespace
		switch {
		// "Mesh & namespace level policy are those that have empty
		// selector" (addPeerAuthentication); only the oldest per namespace
		// is kept (seenNamespaceOrMeshConfig).
		case len(p.Selector) == 0 && ns == root:
			if pa.meshPA == nil {
				pa.meshPA = p
			} else {
				pa.shadowed[ns] = append(pa.shadowed[ns], p)
			}
		case len(p.Selector) == 0:
			if pa.nsPA[ns] == nil {
				pa.nsPA[ns] = p
			} else {
				pa.shadowed[ns] = append(pa.shadowed[ns], p)
			}
		// Workload level is "the one with selector and not in root
		// namespace" (policy_applier.go ComposePeerAuthentication).
		case ns == root:
			pa.rootSelector = append(pa.rootSelector, p)
		default:
			pa.workload[ns] = append(pa.workload[ns], p)
		}
	}
	return pa
}

// paStep is one PeerAuthentication step about w.
func paStep(w *mesh.Workload, by *mesh.PeerAuthentication, def, detail string) Step {
	s := Step{Stage: StagePeerAuthentication, Side: Server, Subject: w.ID, Detail: detail}
	if by != nil {
		s.By, s.Pos = by.Ref, by.Pos
	} else {
		s.Default = def
	}
	return s
}

// peerMode is the effective inbound mode of workload w on container port
// port (DT1). Steps have Stage StagePeerAuthentication, Side Server; the
// last step names the PeerAuthentication that decided, or the default.
// Earlier steps name PeerAuthentications that look relevant but are
// ignored.
func (e *engine) peerMode(w *mesh.Workload, port uint32) (mesh.Mode, []Step) {
	pa := e.sec.pa
	var steps []Step
	ignored := func(p *mesh.PeerAuthentication, why string) {
		steps = append(steps, paStep(w, p, "", "ignored: "+why))
	}

	// DT1 step 1: start PERMISSIVE, the result when nothing applies
	// (policy_applier.go ComposePeerAuthentication, test "no config").
	mode := mesh.ModePermissive
	var by *mesh.PeerAuthentication
	why := "no PeerAuthentication applies, so the mode is PERMISSIVE"
	var inherited []string

	if p := pa.meshPA; p != nil {
		if p.Mode == mesh.ModeUnset {
			// Mesh-level UNSET is PERMISSIVE (addPeerAuthentication "UNSET is
			// treated as permissive for mesh-policy"; ComposePeerAuthentication
			// keeps its PERMISSIVE start value).
			by, why = p, "the mesh-wide PeerAuthentication leaves the mode UNSET, which is PERMISSIVE at mesh level"
		} else {
			mode, by, why = p.Mode, p, fmt.Sprintf("the mesh-wide PeerAuthentication (root namespace %s) sets %s", pa.root, p.Mode)
		}
	}
	for _, p := range pa.shadowed[pa.root] {
		ignored(p, fmt.Sprintf("a newer mesh-wide PeerAuthentication; the oldest, %s, is used (authentication.go addPeerAuthentication)", pa.meshPA.Ref.Name))
	}

	// DT1 step 2: the namespace level, absent in the root namespace where
	// the selector-less PA is the mesh one.
	ns := w.ID.Namespace
	if ns != pa.root {
		if p := pa.nsPA[ns]; p != nil {
			if p.Mode == mesh.ModeUnset {
				inherited = append(inherited, fmt.Sprintf("namespace-wide %s is UNSET and inherits", p.Ref.Name))
			} else {
				mode, by, why = p.Mode, p, fmt.Sprintf("the namespace-wide PeerAuthentication of %s sets %s", ns, p.Mode)
			}
		}
		for _, p := range pa.shadowed[ns] {
			ignored(p, fmt.Sprintf("a newer namespace-wide PeerAuthentication in %s; the oldest, %s, is used (authentication.go addPeerAuthentication)", ns, pa.nsPA[ns].Ref.Name))
		}
	}

	// Root-namespace selector PAs never apply to sidecars
	// (ComposePeerAuthentication; test "ignore non-emptypb selector in root
	// namespace").
	for _, p := range pa.rootSelector {
		if subsetOf(p.Selector, w.Labels) {
			ignored(p, "PeerAuthentications with a selector in the root namespace do not apply (policy_applier.go ComposePeerAuthentication)")
		}
	}

	// DT1 step 3: the oldest matching selector PA of the pod's namespace
	// (ComposePeerAuthentication keeps the first in creation order).
	var wl *mesh.PeerAuthentication
	if ns != pa.root {
		for _, p := range pa.workload[ns] {
			if !subsetOf(p.Selector, w.Labels) {
				continue
			}
			if wl == nil {
				wl = p
				continue
			}
			ignored(p, fmt.Sprintf("an older selector PeerAuthentication, %s, also selects the pod (policy_applier.go ComposePeerAuthentication)", wl.Ref.Name))
		}
	}
	if wl != nil {
		if wl.Mode == mesh.ModeUnset {
			inherited = append(inherited, fmt.Sprintf("workload %s is UNSET and inherits", wl.Ref.Name))
		} else {
			mode, by, why = wl.Mode, wl, fmt.Sprintf("the workload PeerAuthentication selecting the pod sets %s", wl.Mode)
		}
		// DT1 step 4: portLevelMtls only from the workload-level PA, keyed
		// by container port; UNSET inherits (ComposePeerAuthentication,
		// GetMutualTLSModeForPort).
		if pm, ok := wl.PortModes[port]; ok {
			if pm == mesh.ModeUnset {
				inherited = append(inherited, fmt.Sprintf("portLevelMtls[%d] is UNSET and inherits", port))
			} else {
				mode, by, why = pm, wl, fmt.Sprintf("portLevelMtls of the workload PeerAuthentication sets %s for container port %d", pm, port)
			}
		} else if len(wl.PortModes) > 0 {
			inherited = append(inherited, fmt.Sprintf("portLevelMtls has no entry for container port %d (keys are container ports: %s)", port, portKeys(wl.PortModes)))
		}
	}

	detail := fmt.Sprintf("port %d: %s", port, why)
	if len(inherited) > 0 {
		detail += " (" + strings.Join(inherited, "; ") + ")"
	}
	steps = append(steps, paStep(w, by, "PERMISSIVE when no PeerAuthentication applies (policy_applier.go ComposePeerAuthentication)", detail))
	return mode, steps
}

func portKeys(m map[uint32]mesh.Mode) string {
	keys := make([]uint32, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprint(k)
	}
	return strings.Join(parts, ", ")
}

// svcMode is the service-level mode auto mTLS infers (DT2): a mesh.Mode,
// or unknown (model.MTLSUnknown) for MESH_EXTERNAL services.
type svcMode struct {
	mode    mesh.Mode
	unknown bool
	by      mesh.Ref // the object that decided; zero for the default
	pos     mesh.Pos
	detail  string
}

// paMode is a svcMode decided by p (nil: the default).
func paMode(m mesh.Mode, p *mesh.PeerAuthentication, detail string) svcMode {
	out := svcMode{mode: m, detail: detail}
	if p != nil {
		out.by, out.pos = p.Ref, p.Pos
	}
	return out
}

// namespaceMode is GetNamespaceMutualTLSMode(ns) followed by
// BestEffortInferServiceMTLSMode's PERMISSIVE fallback: the namespace-level
// PA of ns (UNSET → mesh mode → PERMISSIVE), else the mesh PA (UNSET →
// PERMISSIVE), else PERMISSIVE (authentication.go addPeerAuthentication,
// push_context.go BestEffortInferServiceMTLSMode). Workload and port-level
// PAs are never consulted (mtls-authn-authz.md §1.5).
func (pa *peerAuths) namespaceMode(ns string) svcMode {
	meshMode := func() (mesh.Mode, *mesh.PeerAuthentication, string) {
		switch p := pa.meshPA; {
		case p == nil:
			return mesh.ModePermissive, nil, "no mesh-wide PeerAuthentication: PERMISSIVE"
		case p.Mode == mesh.ModeUnset:
			return mesh.ModePermissive, p, "mesh-wide PeerAuthentication is UNSET: PERMISSIVE"
		default:
			return p.Mode, p, "mesh-wide PeerAuthentication sets " + p.Mode.String()
		}
	}
	// namespaceMutualTLSMode holds only non-root namespaces.
	if p := pa.nsPA[ns]; p != nil && ns != pa.root {
		if p.Mode != mesh.ModeUnset {
			return paMode(p.Mode, p, "namespace-wide PeerAuthentication of "+ns+" sets "+p.Mode.String())
		}
		m, _, d := meshMode()
		return paMode(m, p, "namespace-wide PeerAuthentication of "+ns+" is UNSET, inherits: "+d)
	}
	m, by, d := meshMode()
	return paMode(m, by, d)
}
