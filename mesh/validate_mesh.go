package mesh

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// crossObjectWarnings reports what is legal in each object but suspicious
// in the whole mesh. It runs when manifests were loaded, after the mesh
// configuration (and so the root namespace) is known.
func (b *Builder) crossObjectWarnings() {
	root := b.Config().RootNamespace

	// Of several Sidecars without workloadSelector in a namespace, Istio
	// uses the oldest (creationTimestamp, then name)
	// (pilot/pkg/model/push_context.go initSidecarScopes,
	// config.go configCompareByCreationTime; sidecar-injection-egress.md §2).
	var sidecars []oldest
	for _, s := range b.sidecars {
		if s.Selector == nil {
			sidecars = append(sidecars, oldest{s.Ref, s.Created, s.Pos})
		}
	}
	for _, g := range groupByNamespace(sidecars) {
		for _, o := range g[1:] {
			b.AddWarning(&Error{Pos: o.pos, Ref: o.ref, Err: fmt.Errorf(
				"another Sidecar without workloadSelector in namespace %s, %s (%s), is older: Istio uses only that one",
				o.ref.Namespace, g[0].ref.Name, orUnknown(g[0].pos))})
		}
	}

	// Only the oldest namespace-level (mesh-level in the root namespace)
	// PeerAuthentication counts; later ones are ignored with an istiod
	// warning (pilot/pkg/model/authentication.go addPeerAuthentication;
	// mtls-authn-authz.md §1.3). A selector PeerAuthentication in the root
	// namespace is ignored (policy_applier.go ComposePeerAuthentication; §1.1).
	var peerAuths []oldest
	for _, p := range b.peerAuths {
		switch {
		case len(p.Selector) == 0:
			peerAuths = append(peerAuths, oldest{p.Ref, p.Created, p.Pos})
		case p.Ref.Namespace == root:
			b.AddWarning(&Error{Pos: p.Pos, Ref: p.Ref, Path: "spec.selector", Err: fmt.Errorf(
				"a PeerAuthentication with a selector in the root namespace %s is ignored by Istio", root)})
		}
	}
	for _, g := range groupByNamespace(peerAuths) {
		level := "namespace-level"
		if g[0].ref.Namespace == root {
			level = "mesh-level"
		}
		for _, o := range g[1:] {
			b.AddWarning(&Error{Pos: o.pos, Ref: o.ref, Err: fmt.Errorf(
				"another %s PeerAuthentication, %s (%s), is older: Istio ignores this one",
				level, g[0].ref.Name, orUnknown(g[0].pos))})
		}
	}
}

// oldest is an object ordered as configCompareByCreationTime orders them.
type oldest struct {
	ref     Ref
	created time.Time
	pos     Pos
}

// groupByNamespace returns, for each namespace with several objects, the
// objects oldest first (creationTimestamp, then name).
func groupByNamespace(objs []oldest) [][]oldest {
	slices.SortStableFunc(objs, func(a, b oldest) int {
		return cmp.Or(strings.Compare(a.ref.Namespace, b.ref.Namespace), a.created.Compare(b.created),
			strings.Compare(a.ref.Name, b.ref.Name))
	})
	var out [][]oldest
	for i := 0; i < len(objs); {
		j := i + 1
		for j < len(objs) && objs[j].ref.Namespace == objs[i].ref.Namespace {
			j++
		}
		if j-i > 1 {
			out = append(out, objs[i:j])
		}
		i = j
	}
	return out
}
