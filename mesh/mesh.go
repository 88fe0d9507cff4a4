package mesh

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Mesh is a loaded, validated model of a cluster's mesh-relevant objects.
// It is immutable once built and safe for concurrent readers. Slices returned
// by its methods are fresh copies sorted by namespace and name; the maps
// inside the returned values are shared and must not be modified.
type Mesh struct {
	config     Config
	namespaces []Namespace
	workloads  []Workload
	services   []Service
	entries    []ServiceEntry
	sidecars   []Sidecar
	peerAuths  []PeerAuthentication
	destRules  []DestinationRule
	authz      []AuthorizationPolicy
	warnings   []*Error
	wlIndex    map[WorkloadID]int
	nsIndex    map[string]int
	implied    map[string]bool // namespaces not declared, only used
}

// Config returns the mesh configuration (defaults where the input had none).
func (m *Mesh) Config() Config {
	c := m.config
	c.DefaultServiceExportTo = slices.Clone(c.DefaultServiceExportTo)
	c.DefaultDestinationRuleExportTo = slices.Clone(c.DefaultDestinationRuleExportTo)
	c.TrustDomainAliases = slices.Clone(c.TrustDomainAliases)
	c.Injection.Revisions = slices.Clone(c.Injection.Revisions)
	return c
}

// Namespaces returns every namespace, declared or implied by an object in it,
// sorted by name.
func (m *Mesh) Namespaces() []Namespace { return slices.Clone(m.namespaces) }

// Namespace returns the named namespace.
func (m *Mesh) Namespace(name string) (Namespace, bool) {
	i, ok := m.nsIndex[name]
	if !ok {
		return Namespace{}, false
	}
	return m.namespaces[i], true
}

// Workloads returns every workload sorted by ID.
func (m *Mesh) Workloads() []Workload { return slices.Clone(m.workloads) }

// Workload returns the workload with the given ID.
func (m *Mesh) Workload(id WorkloadID) (Workload, bool) {
	i, ok := m.wlIndex[id]
	if !ok {
		return Workload{}, false
	}
	return m.workloads[i], true
}

// Services returns every Kubernetes Service sorted by namespace and name.
func (m *Mesh) Services() []Service { return slices.Clone(m.services) }

// ServiceEntries returns every ServiceEntry sorted by namespace and name.
func (m *Mesh) ServiceEntries() []ServiceEntry { return slices.Clone(m.entries) }

// Sidecars returns every Sidecar sorted by namespace and name.
func (m *Mesh) Sidecars() []Sidecar { return slices.Clone(m.sidecars) }

// PeerAuthentications returns every PeerAuthentication sorted by namespace
// and name.
func (m *Mesh) PeerAuthentications() []PeerAuthentication { return slices.Clone(m.peerAuths) }

// DestinationRules returns every DestinationRule sorted by namespace and name.
func (m *Mesh) DestinationRules() []DestinationRule { return slices.Clone(m.destRules) }

// AuthorizationPolicies returns every AuthorizationPolicy sorted by
// namespace and name.
func (m *Mesh) AuthorizationPolicies() []AuthorizationPolicy { return slices.Clone(m.authz) }

// Warnings returns legal-but-suspicious findings, sorted by position. The
// library never logs them.
func (m *Mesh) Warnings() []*Error { return slices.Clone(m.warnings) }

// Edit returns a Builder holding a copy of m's objects, for what-if changes.
// m itself never changes.
func (m *Mesh) Edit() *Builder {
	cfg := m.Config()
	b := &Builder{
		config:     &cfg,
		namespaces: slices.Clone(m.namespaces),
		workloads:  slices.Clone(m.workloads),
		services:   slices.Clone(m.services),
		entries:    slices.Clone(m.entries),
		sidecars:   slices.Clone(m.sidecars),
		peerAuths:  slices.Clone(m.peerAuths),
		destRules:  slices.Clone(m.destRules),
		authz:      slices.Clone(m.authz),
	}
	// Implied namespaces are rebuilt by Build; keep only declared ones.
	b.namespaces = slices.DeleteFunc(b.namespaces, func(n Namespace) bool { return m.implied[n.Name] })
	for _, w := range m.warnings {
		if !(w.Ref.Kind == "Namespace" && m.implied[w.Ref.Name]) {
			b.warnings = append(b.warnings, w)
		}
	}
	return b
}

// Builder assembles a Mesh. The zero value is ready to use and starts from
// [DefaultConfig]. A Builder is not safe for concurrent use.
type Builder struct {
	config     *Config
	namespaces []Namespace
	workloads  []Workload
	services   []Service
	entries    []ServiceEntry
	sidecars   []Sidecar
	peerAuths  []PeerAuthentication
	destRules  []DestinationRule
	authz      []AuthorizationPolicy
	warnings   []*Error
	manifests  *manifestState // objects AddManifest decoded but not yet folded (load.go)
}

// SetConfig replaces the mesh configuration.
func (b *Builder) SetConfig(c Config) { b.config = &c }

// Config returns the configuration the Builder will use.
func (b *Builder) Config() Config {
	if b.config == nil {
		return DefaultConfig()
	}
	return *b.config
}

// AddNamespace adds a namespace.
func (b *Builder) AddNamespace(ns Namespace) { b.namespaces = append(b.namespaces, ns) }

// AddWorkload adds a workload.
func (b *Builder) AddWorkload(w Workload) { b.workloads = append(b.workloads, w) }

// AddService adds a Kubernetes Service.
func (b *Builder) AddService(s Service) { b.services = append(b.services, s) }

// AddServiceEntry adds a ServiceEntry.
func (b *Builder) AddServiceEntry(s ServiceEntry) { b.entries = append(b.entries, s) }

// AddSidecar adds a Sidecar.
func (b *Builder) AddSidecar(s Sidecar) { b.sidecars = append(b.sidecars, s) }

// AddPeerAuthentication adds a PeerAuthentication.
func (b *Builder) AddPeerAuthentication(p PeerAuthentication) {
	b.peerAuths = append(b.peerAuths, p)
}

// AddDestinationRule adds a DestinationRule.
func (b *Builder) AddDestinationRule(d DestinationRule) { b.destRules = append(b.destRules, d) }

// AddAuthorizationPolicy adds an AuthorizationPolicy.
func (b *Builder) AddAuthorizationPolicy(p AuthorizationPolicy) { b.authz = append(b.authz, p) }

// AddWarning records a legal-but-suspicious finding.
func (b *Builder) AddWarning(w *Error) { b.warnings = append(b.warnings, w) }

// Remove deletes every object with the given reference. Workloads are
// matched by namespace and name whatever their kind when r.Kind is
// "Workload". It reports whether anything was removed.
func (b *Builder) Remove(r Ref) bool {
	n := 0
	del := func(match bool) bool {
		if match {
			n++
		}
		return match
	}
	b.namespaces = slices.DeleteFunc(b.namespaces, func(x Namespace) bool {
		return del(r.Kind == "Namespace" && r.Name == x.Name)
	})
	b.workloads = slices.DeleteFunc(b.workloads, func(x Workload) bool {
		return del((r.Kind == "Workload" || r.Kind == x.Kind) && r.Namespace == x.ID.Namespace && r.Name == x.ID.Name)
	})
	b.services = slices.DeleteFunc(b.services, func(x Service) bool { return del(x.Ref == r) })
	b.entries = slices.DeleteFunc(b.entries, func(x ServiceEntry) bool { return del(x.Ref == r) })
	b.sidecars = slices.DeleteFunc(b.sidecars, func(x Sidecar) bool { return del(x.Ref == r) })
	b.peerAuths = slices.DeleteFunc(b.peerAuths, func(x PeerAuthentication) bool { return del(x.Ref == r) })
	b.destRules = slices.DeleteFunc(b.destRules, func(x DestinationRule) bool { return del(x.Ref == r) })
	b.authz = slices.DeleteFunc(b.authz, func(x AuthorizationPolicy) bool { return del(x.Ref == r) })
	return n > 0
}

const impliedNamespacePrefix = "namespace is not declared"

// Build validates the objects and returns an immutable Mesh. Every problem is
// reported in the returned [ErrorList]; on error the Mesh is nil. The
// Builder may be reused afterwards.
func (b *Builder) Build() (*Mesh, error) {
	b.flushManifests()
	m := &Mesh{config: b.Config()}
	var errs ErrorList
	dup := func(kind string, pos, first Pos, ref Ref) {
		errs = append(errs, &Error{Pos: pos, Ref: ref, Err: fmt.Errorf("%w: %s already declared at %s", ErrDuplicate, kind, orUnknown(first))})
	}

	m.nsIndex = map[string]int{}
	nss := slices.Clone(b.namespaces)
	slices.SortStableFunc(nss, func(a, b Namespace) int { return strings.Compare(a.Name, b.Name) })
	for _, ns := range nss {
		if ns.Name == "" {
			errs = append(errs, &Error{Pos: ns.Pos, Ref: Ref{Kind: "Namespace"}, Path: "metadata.name", Err: ErrMissingField})
			continue
		}
		if i, ok := m.nsIndex[ns.Name]; ok {
			dup("Namespace", ns.Pos, m.namespaces[i].Pos, Ref{Kind: "Namespace", Name: ns.Name})
			continue
		}
		m.nsIndex[ns.Name] = len(m.namespaces)
		m.namespaces = append(m.namespaces, ns)
	}

	implied := map[string]Pos{}
	imply := func(ns string, p Pos) {
		if _, ok := m.nsIndex[ns]; ok || ns == "" {
			return
		}
		if _, ok := implied[ns]; !ok {
			implied[ns] = p
		}
	}

	m.workloads = slices.Clone(b.workloads)
	slices.SortStableFunc(m.workloads, func(a, b Workload) int { return a.ID.Compare(b.ID) })
	m.wlIndex = map[WorkloadID]int{}
	kept := m.workloads[:0]
	for _, w := range m.workloads {
		if !w.ID.IsValid() {
			errs = append(errs, &Error{Pos: w.Pos, Ref: w.Ref(), Err: fmt.Errorf("%w: workload ID %q", ErrInvalidValue, w.ID.String())})
			continue
		}
		if i, ok := m.wlIndex[w.ID]; ok {
			dup("workload "+w.ID.String(), w.Pos, kept[i].Pos, w.Ref())
			continue
		}
		m.wlIndex[w.ID] = len(kept)
		kept = append(kept, w)
		imply(w.ID.Namespace, w.Pos)
	}
	m.workloads = kept

	m.services = sortUnique(b.services, func(s Service) (Ref, Pos) { return s.Ref, s.Pos }, dup)
	m.entries = sortUnique(b.entries, func(s ServiceEntry) (Ref, Pos) { return s.Ref, s.Pos }, dup)
	m.sidecars = sortUnique(b.sidecars, func(s Sidecar) (Ref, Pos) { return s.Ref, s.Pos }, dup)
	m.peerAuths = sortUnique(b.peerAuths, func(s PeerAuthentication) (Ref, Pos) { return s.Ref, s.Pos }, dup)
	m.destRules = sortUnique(b.destRules, func(s DestinationRule) (Ref, Pos) { return s.Ref, s.Pos }, dup)
	m.authz = sortUnique(b.authz, func(s AuthorizationPolicy) (Ref, Pos) { return s.Ref, s.Pos }, dup)
	for _, s := range m.services {
		imply(s.Ref.Namespace, s.Pos)
	}

	// Namespaces that objects live in but that were not declared: Kubernetes
	// would refuse the objects, but manifest sets often leave them out. They
	// are modelled as unlabeled (so: no injection), and the caller is told.
	m.implied = map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(implied)) {
		m.implied[name] = true
		m.warnings = append(m.warnings, &Error{Pos: implied[name], Ref: Ref{Kind: "Namespace", Name: name},
			Err: fmt.Errorf("%s; modelled without labels (no sidecar injection)", impliedNamespacePrefix)})
		m.namespaces = append(m.namespaces, Namespace{Name: name})
	}
	slices.SortStableFunc(m.namespaces, func(a, b Namespace) int { return strings.Compare(a.Name, b.Name) })
	clear(m.nsIndex)
	for i, ns := range m.namespaces {
		m.nsIndex[ns.Name] = i
	}

	m.warnings = append(m.warnings, b.warnings...)
	wl := ErrorList(m.warnings)
	wl.Sort()
	m.warnings = wl
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return m, nil
}

func orUnknown(p Pos) string {
	if s := p.String(); s != "" {
		return s
	}
	return "an earlier object"
}

func sortUnique[T any](in []T, key func(T) (Ref, Pos), dup func(string, Pos, Pos, Ref)) []T {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b T) int {
		ra, _ := key(a)
		rb, _ := key(b)
		if c := strings.Compare(ra.Namespace, rb.Namespace); c != 0 {
			return c
		}
		return strings.Compare(ra.Name, rb.Name)
	})
	kept := out[:0]
	for _, x := range out {
		r, p := key(x)
		if n := len(kept); n > 0 {
			if pr, pp := key(kept[n-1]); pr == r {
				dup(r.Kind, p, pp, r)
				continue
			}
		}
		kept = append(kept, x)
	}
	return kept
}
