package sim

// Which Sidecar resource applies to a workload (T2) and what it means once
// chosen: its egress listeners and outbound traffic policy. See
// ../shared/semantics/sidecar-injection-egress.md §2 and table T2.

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/meshreach/meshreach/mesh"
)

// sidecarScope is the Sidecar configuration a proxy runs with.
type sidecarScope struct {
	sc *mesh.Sidecar // nil: the synthetic default (no Sidecar anywhere)
	// configNS is the namespace "." stands for: always the pod's namespace,
	// also for a mesh-root Sidecar (push_context.go doGetSidecarScope calls
	// convertToSidecarScope(ps, meshRootSidecarConfig, proxy.ConfigNamespace)).
	configNS string
	root     bool // sc is the root namespace's default
	// egress holds the listeners; a Sidecar without egress has one
	// catch-all listener with hosts ["*/*"] (sidecar.go
	// initSidecarScopeInternalIndexes), never its parent's egress.
	egress   []egressListener
	outbound mesh.OutboundMode // the effective mode, never OutboundUnset
	// outboundFromSidecar is true when sc sets outboundTrafficPolicy;
	// otherwise the mesh's value applies (initSidecarScopeInternalIndexes).
	outboundFromSidecar bool
	step                Step
}

// by returns the object that decided a scope-level fact, or the zero Ref
// for the synthetic default.
func (s *sidecarScope) by() (mesh.Ref, mesh.Pos) {
	if s.sc == nil {
		return mesh.Ref{}, mesh.Pos{}
	}
	return s.sc.Ref, s.sc.Pos
}

const defaultScopeSource = "no Sidecar applies: egress */* and the mesh outboundTrafficPolicy (pilot/pkg/model/push_context.go doGetSidecarScope, sidecar.go initSidecarScopeInternalIndexes)"

// compareSidecars orders Sidecars as initSidecarScopes does: by creation
// time, ties by name, then namespace (pilot/pkg/model/config.go
// configCompareByCreationTime).
func compareSidecars(a, b *mesh.Sidecar) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Ref.Name, b.Ref.Name); c != 0 {
		return c
	}
	return cmp.Compare(a.Ref.Namespace, b.Ref.Namespace)
}

// orderedSidecars returns ns's Sidecars in lookup order: those with a
// workloadSelector first, each group oldest first
// (push_context.go initSidecarScopes).
func (e *engine) orderedSidecars(ns string) []*mesh.Sidecar {
	list := slices.Clone(e.sidecars[ns])
	slices.SortStableFunc(list, compareSidecars)
	slices.SortStableFunc(list, func(a, b *mesh.Sidecar) int {
		return cmp.Compare(boolRank(a.Selector == nil), boolRank(b.Selector == nil))
	})
	return list
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scopeFor returns the Sidecar scope of the injected workload w (T2).
// Gateways, waypoints and ambient pods are not modelled as clients here.
func (e *engine) scopeFor(w *mesh.Workload) *sidecarScope {
	out := &sidecarScope{configNS: w.ID.Namespace}
	// T2 rows 1-2: the first Sidecar of the pod's own namespace, in lookup
	// order, whose selector is a subset of the pod's labels, else the first
	// selector-less one (push_context.go doGetSidecarScope). A non-nil empty
	// selector matches every pod (labels.Instance.SubsetOf).
	for _, s := range e.orderedSidecars(w.ID.Namespace) {
		if s.Selector != nil && !subsetOf(s.Selector, w.Labels) {
			continue
		}
		out.sc = s
		why := "the namespace's Sidecar without workloadSelector"
		if s.Selector != nil {
			why = fmt.Sprintf("its workloadSelector %s matches the pod's labels", renderLabels(s.Selector))
		}
		if n := e.competing(w, s); n > 0 {
			why += fmt.Sprintf(" (it is the oldest of %d that apply; ties go to the smaller name)", n+1)
		}
		out.step = Step{Detail: fmt.Sprintf("Sidecar %s applies: %s", s.Ref.Name, why)}
		break
	}
	// T2 row 3: the oldest selector-less Sidecar of the root namespace,
	// with "." meaning the pod's namespace. Root Sidecars with a selector
	// are not mesh defaults (initSidecarScopes: rootNSConfig requires
	// WorkloadSelector == nil); they only apply to pods of the root
	// namespace itself, through rows 1-2 above.
	if out.sc == nil && w.ID.Namespace != e.cfg.RootNamespace {
		for _, s := range e.orderedSidecars(e.cfg.RootNamespace) {
			if s.Selector == nil {
				out.sc, out.root = s, true
				out.step = Step{Detail: fmt.Sprintf("no Sidecar in namespace %s applies, so the mesh-wide default Sidecar %s/%s of root namespace %s does (\"./\" in it means %s)",
					w.ID.Namespace, s.Ref.Namespace, s.Ref.Name, e.cfg.RootNamespace, w.ID.Namespace)}
				break
			}
		}
	}
	if out.sc == nil {
		out.step = Step{Default: defaultScopeSource,
			Detail: fmt.Sprintf("no Sidecar applies in namespace %s or root namespace %s: the proxy sees every service exported to it", w.ID.Namespace, e.cfg.RootNamespace)}
	}
	out.step.Stage, out.step.Side, out.step.Subject = StageSidecarScope, Client, w.ID
	out.step.By, out.step.Pos = out.by()

	out.egress = e.egressOf(out.sc, out.configNS)

	// Outbound policy: the Sidecar's if the field is present (OutboundUnset
	// means absent; "{}" is REGISTRY_ONLY, mapped by the loader), else the
	// mesh's (initSidecarScopeInternalIndexes). A mesh value left unset is
	// Istio's default ALLOW_ANY (pkg/config/mesh/mesh.go DefaultMeshConfig).
	out.outbound = e.cfg.Outbound
	if out.outbound == mesh.OutboundUnset {
		out.outbound = mesh.OutboundAllowAny
	}
	if out.sc != nil && out.sc.Outbound != mesh.OutboundUnset {
		out.outbound, out.outboundFromSidecar = out.sc.Outbound, true
	}
	return out
}

// egressOf returns the parsed egress listeners of Sidecar sc (nil: no
// Sidecar applies) for a proxy whose config namespace is configNS,
// memoised: they are read-only once parsed.
func (e *engine) egressOf(sc *mesh.Sidecar, configNS string) []egressListener {
	k := scopeKey{sc, configNS}
	if v, ok := e.egressMemo.Load(k); ok {
		return v.([]egressListener)
	}
	// Egress: absent → one catch-all listener with */* (T2 "Then" row).
	var listeners []mesh.EgressListener
	if sc != nil {
		listeners = sc.Egress
	}
	var out []egressListener
	if len(listeners) == 0 {
		out = []egressListener{parseEgressListener(-1, mesh.EgressListener{Hosts: []string{"*/*"}}, configNS)}
	} else {
		for i, l := range listeners {
			out = append(out, parseEgressListener(i, l, configNS))
		}
	}
	v, _ := e.egressMemo.LoadOrStore(k, out)
	return v.([]egressListener)
}

// competing counts the other Sidecars of w's namespace that would also
// apply to w at the same precedence level as chosen.
func (e *engine) competing(w *mesh.Workload, chosen *mesh.Sidecar) int {
	n := 0
	for _, s := range e.sidecars[w.ID.Namespace] {
		if s == chosen || (s.Selector == nil) != (chosen.Selector == nil) {
			continue
		}
		if s.Selector == nil || subsetOf(s.Selector, w.Labels) {
			n++
		}
	}
	return n
}

// renderLabels renders a label map deterministically as {k=v, …}.
func renderLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, m[k]...)
	}
	return string(append(b, '}'))
}
