package mesh

// Edits for what-if analysis: add-or-replace by reference, label changes
// that copy the maps they touch, and manifest patches (patch.go).

import (
	"maps"
	"slices"
)

// Workload kinds a workload reference may name; "Workload" matches any of
// them.
var workloadKinds = []string{"Workload", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod"}

// IsWorkloadKind reports whether kind names a workload controller (or is
// "Workload", which [Builder.Remove] and patches match against any of them).
func IsWorkloadKind(kind string) bool { return slices.Contains(workloadKinds, kind) }

// Has reports whether the Builder holds an object with reference r:
// namespaces by name, workloads by namespace and name (whatever their kind
// when r.Kind is "Workload", else of that kind), other objects by the exact
// reference.
func (b *Builder) Has(r Ref) bool {
	switch {
	case r.Kind == "Namespace":
		return slices.ContainsFunc(b.namespaces, func(x Namespace) bool { return x.Name == r.Name })
	case IsWorkloadKind(r.Kind):
		return slices.ContainsFunc(b.workloads, func(x Workload) bool {
			return (r.Kind == "Workload" || r.Kind == x.Kind) && x.ID == WorkloadID{Namespace: r.Namespace, Name: r.Name}
		})
	}
	has := func(ref Ref) bool { return ref == r }
	return slices.ContainsFunc(b.services, func(x Service) bool { return has(x.Ref) }) ||
		slices.ContainsFunc(b.entries, func(x ServiceEntry) bool { return has(x.Ref) }) ||
		slices.ContainsFunc(b.sidecars, func(x Sidecar) bool { return has(x.Ref) }) ||
		slices.ContainsFunc(b.peerAuths, func(x PeerAuthentication) bool { return has(x.Ref) }) ||
		slices.ContainsFunc(b.destRules, func(x DestinationRule) bool { return has(x.Ref) }) ||
		slices.ContainsFunc(b.authz, func(x AuthorizationPolicy) bool { return has(x.Ref) })
}

// SetNamespace adds ns, replacing a namespace of the same name.
func (b *Builder) SetNamespace(ns Namespace) {
	b.namespaces = upsert(b.namespaces, ns, func(x Namespace) bool { return x.Name == ns.Name })
}

// SetWorkload adds w, replacing the workload with the same ID whatever its
// kind (two workloads cannot share an ID).
func (b *Builder) SetWorkload(w Workload) {
	b.workloads = upsert(b.workloads, w, func(x Workload) bool { return x.ID == w.ID })
}

// SetService adds s, replacing the Service with the same reference.
func (b *Builder) SetService(s Service) {
	b.services = upsert(b.services, s, func(x Service) bool { return x.Ref == s.Ref })
}

// SetServiceEntry adds s, replacing the ServiceEntry with the same
// reference.
func (b *Builder) SetServiceEntry(s ServiceEntry) {
	b.entries = upsert(b.entries, s, func(x ServiceEntry) bool { return x.Ref == s.Ref })
}

// SetSidecar adds s, replacing the Sidecar with the same reference.
func (b *Builder) SetSidecar(s Sidecar) {
	b.sidecars = upsert(b.sidecars, s, func(x Sidecar) bool { return x.Ref == s.Ref })
}

// SetPeerAuthentication adds p, replacing the PeerAuthentication with the
// same reference.
func (b *Builder) SetPeerAuthentication(p PeerAuthentication) {
	b.peerAuths = upsert(b.peerAuths, p, func(x PeerAuthentication) bool { return x.Ref == p.Ref })
}

// SetDestinationRule adds d, replacing the DestinationRule with the same
// reference.
func (b *Builder) SetDestinationRule(d DestinationRule) {
	b.destRules = upsert(b.destRules, d, func(x DestinationRule) bool { return x.Ref == d.Ref })
}

// SetAuthorizationPolicy adds p, replacing the AuthorizationPolicy with the
// same reference.
func (b *Builder) SetAuthorizationPolicy(p AuthorizationPolicy) {
	b.authz = upsert(b.authz, p, func(x AuthorizationPolicy) bool { return x.Ref == p.Ref })
}

// upsert replaces every element same matches with x (keeping the first
// one's place), or appends x.
func upsert[T any](list []T, x T, same func(T) bool) []T {
	i := slices.IndexFunc(list, same)
	if i < 0 {
		return append(list, x)
	}
	list[i] = x
	rest := slices.DeleteFunc(list[i+1:], same)
	return list[:i+1+len(rest)]
}

// SetNamespaceLabel sets label key to value on namespace ns, declaring the
// namespace (without other labels) when the Builder has none of that name,
// as for a namespace the loader only implied. An empty value is a label
// with an empty value; use [Builder.DeleteNamespaceLabel] to remove one.
// The label map is copied, so a Mesh the Builder came from never changes.
//
// Injection is a namespace label: istio-injection=enabled turns it on,
// istio-injection=disabled off, istio.io/rev=REV selects a revision
// (pkg/kube/inject/webhook.go; sidecar-injection-egress.md T1).
func (b *Builder) SetNamespaceLabel(ns, key, value string) {
	i := slices.IndexFunc(b.namespaces, func(x Namespace) bool { return x.Name == ns })
	if i < 0 {
		b.namespaces = append(b.namespaces, Namespace{Name: ns})
		i = len(b.namespaces) - 1
	}
	n := &b.namespaces[i]
	n.Labels = withLabel(n.Labels, key, value, true)
}

// DeleteNamespaceLabel removes label key from namespace ns. It reports
// whether the namespace had it.
func (b *Builder) DeleteNamespaceLabel(ns, key string) bool {
	i := slices.IndexFunc(b.namespaces, func(x Namespace) bool { return x.Name == ns })
	if i < 0 {
		return false
	}
	n := &b.namespaces[i]
	if _, ok := n.Labels[key]; !ok {
		return false
	}
	n.Labels = withLabel(n.Labels, key, "", false)
	return true
}

// SetWorkloadLabel sets pod-template label key to value on workload id.
// It reports whether the workload exists. The label map is copied.
//
// sidecar.istio.io/inject=true or false overrides the namespace's
// injection for the workload (T1).
func (b *Builder) SetWorkloadLabel(id WorkloadID, key, value string) bool {
	i := slices.IndexFunc(b.workloads, func(x Workload) bool { return x.ID == id })
	if i < 0 {
		return false
	}
	w := &b.workloads[i]
	w.Labels = withLabel(w.Labels, key, value, true)
	return true
}

// DeleteWorkloadLabel removes pod-template label key from workload id. It
// reports whether the workload had it.
func (b *Builder) DeleteWorkloadLabel(id WorkloadID, key string) bool {
	i := slices.IndexFunc(b.workloads, func(x Workload) bool { return x.ID == id })
	if i < 0 {
		return false
	}
	w := &b.workloads[i]
	if _, ok := w.Labels[key]; !ok {
		return false
	}
	w.Labels = withLabel(w.Labels, key, "", false)
	return true
}

// withLabel returns a copy of labels with key set (or deleted).
func withLabel(labels map[string]string, key, value string, set bool) map[string]string {
	out := maps.Clone(labels)
	if out == nil {
		out = map[string]string{}
	}
	if set {
		out[key] = value
	} else {
		delete(out, key)
	}
	return out
}

// UpdateConfig changes the mesh configuration in place: f receives a copy
// of the current one (slices included), and what it leaves becomes the
// Builder's configuration.
func (b *Builder) UpdateConfig(f func(*Config)) {
	c := b.Config()
	c.DefaultServiceExportTo = slices.Clone(c.DefaultServiceExportTo)
	c.DefaultDestinationRuleExportTo = slices.Clone(c.DefaultDestinationRuleExportTo)
	c.TrustDomainAliases = slices.Clone(c.TrustDomainAliases)
	c.Injection.Revisions = slices.Clone(c.Injection.Revisions)
	c.Injection.NeverInjectSelector = slices.Clone(c.Injection.NeverInjectSelector)
	c.Injection.AlwaysInjectSelector = slices.Clone(c.Injection.AlwaysInjectSelector)
	f(&c)
	b.config = &c
}
