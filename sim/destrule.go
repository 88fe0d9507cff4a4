package sim

// DestinationRule lookup and the traffic policy that applies to one
// cluster (mtls-authn-authz.md §3.3).

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// consolidatedDR is one entry of istiod's DestinationRule index: a rule,
// possibly with others for the same host merged into it
// (pilot/pkg/model/destination_rule.go mergeDestinationRule,
// ConsolidatedDestRule).
type consolidatedDR struct {
	host     string            // resolved host
	selector map[string]string // the first rule's workloadSelector; nil = none
	tp       *mesh.TrafficPolicy
	subsets  []mesh.Subset
	from     []*mesh.DestinationRule // merged rules, first is the base
	exportTo []string                // sorted, deduplicated
}

// drBucket holds the rules of one index (namespace-local, exported, or
// root-local) by resolved host.
type drBucket struct {
	specific map[string][]*consolidatedDR
	wildcard map[string][]*consolidatedDR
	// wildHosts lists the wildcard hosts most specific first
	// (pkg/config/host/names.go MoreSpecific), so lookups never depend on
	// map order.
	wildHosts []string
}

func newDRBucket() *drBucket {
	return &drBucket{specific: map[string][]*consolidatedDR{}, wildcard: map[string][]*consolidatedDR{}}
}

// destRules is istiod's destinationRuleIndex
// (pilot/pkg/model/push_context.go setDestinationRules).
type destRules struct {
	root           string
	namespaceLocal map[string]*drBucket
	exported       map[string]*drBucket
	rootLocal      *drBucket
}

// resolveDRHost resolves a short DestinationRule host against the rule's
// namespace (pilot/pkg/model/config.go ResolveShortnameToFQDN): "*" and IP
// addresses stay as written, a name without a dot becomes
// name.<ns>.svc.<domainSuffix>.
func resolveDRHost(h, ns, suffix string) string {
	if h == "*" || h == "" || strings.Contains(h, ".") {
		return h
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return h
	}
	return h + "." + ns + ".svc." + suffix
}

func exportSet(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// supersetOf reports whether every element of b is in a.
func supersetOf(a, b []string) bool {
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

// compareDR is sortConfigBySelectorAndCreationTime
// (push_context.go): rules with a workloadSelector first, then oldest,
// then by name, then by namespace.
func compareDR(a, b *mesh.DestinationRule) int {
	switch {
	case a.Selector != nil && b.Selector == nil:
		return -1
	case a.Selector == nil && b.Selector != nil:
		return 1
	}
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	if c := strings.Compare(a.Ref.Name, b.Ref.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Ref.Namespace, b.Ref.Namespace)
}

func newDestRules(m *mesh.Mesh, cfg mesh.Config) *destRules {
	all := m.DestinationRules()
	drs := make([]*mesh.DestinationRule, len(all))
	for i := range all {
		drs[i] = &all[i]
	}
	slices.SortStableFunc(drs, compareDR)
	idx := &destRules{
		root:           cfg.RootNamespace,
		namespaceLocal: map[string]*drBucket{},
		exported:       map[string]*drBucket{},
		rootLocal:      newDRBucket(),
	}
	// exportToDefaults.destinationRule: the mesh default, "*" when unset
	// (push_context.go initDefaultExportMaps).
	defaults := cfg.DefaultDestinationRuleExportTo
	if defaults == nil {
		defaults = []string{"*"}
	}
	bucket := func(m map[string]*drBucket, ns string) *drBucket {
		b := m[ns]
		if b == nil {
			b = newDRBucket()
			m[ns] = b
		}
		return b
	}
	for _, dr := range drs {
		ns := dr.Ref.Namespace
		host := resolveDRHost(dr.Host, ns, cfg.DomainSuffix)
		if host == "" {
			continue
		}
		// "destination rules with workloadSelector should not be exported
		// to other namespaces" (setDestinationRules).
		export := []string{"."}
		if dr.Selector == nil {
			export = exportSet(dr.ExportTo)
		}
		if len(export) == 0 || slices.Contains(export, "*") || slices.Contains(export, ".") || slices.Contains(export, ns) {
			bucket(idx.namespaceLocal, ns).merge(dr, host, export)
		}
		// "No exportTo in destinationRule. Use the global default. We only
		// honor . and *" (setDestinationRules).
		private := (len(export) == 0 && slices.Contains(defaults, ".")) ||
			(len(export) == 1 && (export[0] == "." || export[0] == ns))
		switch {
		case !private:
			bucket(idx.exported, ns).merge(dr, host, export)
		case ns == idx.root:
			idx.rootLocal.merge(dr, host, export)
		}
	}
	for _, b := range idx.namespaceLocal {
		b.sortWildcards()
	}
	for _, b := range idx.exported {
		b.sortWildcards()
	}
	idx.rootLocal.sortWildcards()
	return idx
}

func (b *drBucket) sortWildcards() {
	b.wildHosts = slices.Collect(maps.Keys(b.wildcard))
	// Longest first, then alphabetical (host.MoreSpecific).
	slices.SortFunc(b.wildHosts, func(x, y string) int {
		if len(x) != len(y) {
			return len(y) - len(x)
		}
		return strings.Compare(x, y)
	})
}

// merge adds dr to the bucket as mergeDestinationRule does with
// ENABLE_ENHANCED_DESTINATIONRULE_MERGE (default true): rules for one host
// with equal exportTo and compatible selectors merge; the first top-level
// trafficPolicy wins whole, subsets are concatenated and a duplicate subset
// name keeps the first (pilot/pkg/model/destination_rule.go
// mergeDestinationRule).
func (b *drBucket) merge(dr *mesh.DestinationRule, host string, export []string) {
	m := b.specific
	if strings.HasPrefix(host, "*") {
		m = b.wildcard
	}
	fresh := func() *consolidatedDR {
		return &consolidatedDR{host: host, selector: dr.Selector, tp: dr.TrafficPolicy,
			subsets: slices.Clone(dr.Subsets), from: []*mesh.DestinationRule{dr}, exportTo: export}
	}
	list, ok := m[host]
	if !ok {
		m[host] = []*consolidatedDR{fresh()}
		return
	}
	appendSeparately := true
	for _, mdr := range list {
		switch {
		case slices.Equal(export, mdr.exportTo):
			appendSeparately = false
		case len(mdr.exportTo) > 0 && supersetOf(export, mdr.exportTo):
			// "If the new exportTo is superset of existing, merge and also
			// append as a standalone one".
			appendSeparately = true
		default:
			appendSeparately = true
			continue
		}
		bothWithout := dr.Selector == nil && mdr.selector == nil
		bothWith := dr.Selector != nil && mdr.selector != nil
		selectorsMatch := maps.Equal(dr.Selector, mdr.selector)
		if bothWith && !selectorsMatch {
			appendSeparately = true
			continue
		}
		if bothWithout || (bothWith && selectorsMatch) {
			appendSeparately = false
		}
		mdr.from = append(mdr.from, dr)
		for _, s := range dr.Subsets {
			if !slices.ContainsFunc(mdr.subsets, func(x mesh.Subset) bool { return x.Name == s.Name }) {
				mdr.subsets = append(mdr.subsets, s)
			}
		}
		if mdr.tp == nil && dr.TrafficPolicy != nil {
			mdr.tp = dr.TrafficPolicy
		}
	}
	if appendSeparately {
		m[host] = append(m[host], fresh())
	}
}

// lookup is MostSpecificHostMatch (pilot/pkg/model/config.go): an exact
// host first, else the longest matching wildcard. A wildcard needle (a
// wildcard ServiceEntry host) matches the same wildcard exactly first.
func (b *drBucket) lookup(needle string) (string, []*consolidatedDR, bool) {
	if b == nil {
		return "", nil, false
	}
	if strings.HasPrefix(needle, "*") {
		if v, ok := b.wildcard[needle]; ok {
			return needle, v, true
		}
		needle = needle[1:]
	} else if v, ok := b.specific[needle]; ok {
		return needle, v, true
	}
	for _, h := range b.wildHosts {
		if strings.HasSuffix(needle, h[1:]) {
			return h, b.wildcard[h], true
		}
	}
	return "", nil, false
}

// drChoice is the DestinationRule that applies to a client's cluster.
type drChoice struct {
	dr    *consolidatedDR // nil: none applies
	where string          // which lookup step found it
	match string          // the host pattern that matched
}

// lookup finds the DestinationRule a client in namespace clientNS with
// labels clientLabels uses for host (a service of namespace svcNS):
// push_context.go destinationRule (client namespace, then the service's
// namespace, then the root namespace; first hit wins, no merging across
// steps) and sidecar.go SidecarScope.DestinationRule (a selector rule of
// the client's namespace matching the client wins, else the last
// selector-less one).
func (ix *destRules) lookup(clientNS string, clientLabels map[string]string, host, svcNS string) drChoice {
	var list []*consolidatedDR
	var where, match string
	var ok bool
	if clientNS != ix.root {
		match, list, ok = ix.namespaceLocal[clientNS].lookup(host)
		where = "the client's namespace " + clientNS
	} else {
		match, list, ok = ix.rootLocal.lookup(host)
		where = "the root namespace's private rules"
	}
	exported := func(ns string) bool {
		m, l, found := ix.exported[ns].lookup(host)
		if !found {
			return false
		}
		var out []*consolidatedDR
		for _, mdr := range l {
			if len(mdr.exportTo) == 0 || slices.Contains(mdr.exportTo, "*") || slices.Contains(mdr.exportTo, clientNS) {
				out = append(out, mdr)
			}
		}
		if len(out) == 0 {
			return false
		}
		list, match = out, m
		return true
	}
	if !ok && svcNS != "" && exported(svcNS) {
		ok, where = true, "the service's namespace "+svcNS
	}
	if !ok && exported(ix.root) {
		ok, where = true, "the root namespace "+ix.root
	}
	if !ok {
		return drChoice{}
	}
	var catchAll *consolidatedDR
	for _, mdr := range list {
		if mdr.selector == nil {
			catchAll = mdr
			continue
		}
		if mdr.from[0].Ref.Namespace == clientNS && subsetOf(mdr.selector, clientLabels) {
			return drChoice{dr: mdr, where: where, match: match}
		}
	}
	return drChoice{dr: catchAll, where: where, match: match}
}

// describe renders the choice for a trace.
func (c drChoice) describe(host string) string {
	if c.dr == nil {
		if c.where != "" {
			return fmt.Sprintf("the DestinationRules for %s in %s select other workloads: none applies", host, c.where)
		}
		return fmt.Sprintf("no DestinationRule matches %s", host)
	}
	s := fmt.Sprintf("DestinationRule host %q applies to %s (found in %s", c.match, host, c.where)
	if len(c.dr.from) > 1 {
		names := make([]string, 0, len(c.dr.from)-1)
		for _, d := range c.dr.from[1:] {
			names = append(names, d.Ref.Namespace+"/"+d.Ref.Name)
		}
		s += "; merged with " + strings.Join(names, ", ")
	}
	return s + ")"
}

// clusterPolicy is the part of a traffic policy that decides transport
// for one cluster.
type clusterPolicy struct {
	tls           mesh.TLSMode
	lbPassthrough bool
	from          string // where tls came from, for traces
}

// portLevel is GetPortLevelTrafficPolicy (pilot/pkg/networking/util/util.go):
// a portLevelSettings entry for the service port replaces the policy
// wholesale (fields it omits are unset, not inherited).
func portLevel(tp *mesh.TrafficPolicy, port uint32, what string) (*clusterPolicy, bool) {
	if tp == nil {
		return nil, false
	}
	for _, p := range tp.PortLevel {
		if p.Port == port {
			return &clusterPolicy{tls: p.TLS, from: fmt.Sprintf("%s portLevelSettings[%d]", what, port)}, true
		}
	}
	return &clusterPolicy{tls: tp.TLS, lbPassthrough: tp.LBPassthrough, from: what + " trafficPolicy"}, false
}

// policyFor is the effective policy of the cluster for svcPort and subset
// (cluster_builder.go applyDestinationRule, buildSubsetCluster;
// util.go MergeSubsetTrafficPolicy): the rule's port-level policy, then
// the subset's (its own port-level entry replacing it wholesale)
// overriding field by field. ok is false when the subset is not defined.
func (c *consolidatedDR) policyFor(svcPort uint32, subset string) (pol clusterPolicy, ok bool) {
	var base *clusterPolicy
	if c != nil {
		base, _ = portLevel(c.tp, svcPort, "top-level")
	}
	if subset == "" {
		if base == nil {
			return clusterPolicy{}, true
		}
		return *base, true
	}
	s := c.subset(subset)
	if s == nil {
		return clusterPolicy{}, false
	}
	sp, hasPortLevel := portLevel(s.TrafficPolicy, svcPort, "subset "+subset)
	switch {
	case sp == nil && base == nil:
		return clusterPolicy{}, true
	case sp == nil:
		return *base, true
	case base == nil:
		return *sp, true
	}
	// model.MergeTrafficPolicy: a subset field overrides when set, or
	// always when it comes from a port-level entry.
	out := *base
	if sp.tls != mesh.TLSUnset || hasPortLevel {
		out.tls, out.from = sp.tls, sp.from
	}
	if sp.lbPassthrough || hasPortLevel {
		out.lbPassthrough = sp.lbPassthrough
	}
	return out, true
}

func (c *consolidatedDR) subset(name string) *mesh.Subset {
	if c == nil {
		return nil
	}
	for i := range c.subsets {
		if c.subsets[i].Name == name {
			return &c.subsets[i]
		}
	}
	return nil
}

// endpointTLSMode is tlsModeForDestinationRule
// (pilot/pkg/xds/endpoints/mtls_checker.go): the tls mode the endpoint
// builder sees, where a port-level entry without tls falls back to the
// top-level tls (unlike the cluster builder), and a subset's mode falls back
// to the rule's. TLSUnset means none applies.
func (c *consolidatedDR) endpointTLSMode(svcPort uint32, subset string) mesh.TLSMode {
	if c == nil {
		return mesh.TLSUnset
	}
	forPort := func(tp *mesh.TrafficPolicy) mesh.TLSMode {
		if tp == nil {
			return mesh.TLSUnset
		}
		mode := tp.TLS
		for _, p := range tp.PortLevel {
			if p.Port == svcPort && p.TLS != mesh.TLSUnset {
				mode = p.TLS
				break
			}
		}
		return mode
	}
	if subset == "" {
		return forPort(c.tp)
	}
	s := c.subset(subset)
	if s == nil {
		return mesh.TLSUnset
	}
	if m := forPort(s.TrafficPolicy); m != mesh.TLSUnset {
		return m
	}
	return forPort(c.tp)
}
