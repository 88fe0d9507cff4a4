package sim

// Client classes and destination groups: what lets the matrix evaluate a
// verdict once for many (client, destination) pairs.
//
// A client class is a set of workloads that no rule reading a client can
// tell apart (clientSignature). A destination group is a set of Service
// and ServiceEntry ports that share the facts under which two client
// classes may still be told apart by them (destContext). Within a group,
// classes with the same view (viewKey) get the same verdict for every
// destination of the group, so one probe per (view, destination) decides
// them all.

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// outboundAnnotations are the interception annotations a client's
// iptables apply to its outbound connections (scope_intercept.go
// intercepted); the inbound ones only matter to servers.
var outboundAnnotations = []string{annExcludeOutboundPorts, annExcludeOutboundIPRanges, annIncludeOutboundPorts, annIncludeOutboundIPRanges}

// classifier holds the per-mesh lookups clientSignature and destination
// contexts need.
type classifier struct {
	e *engine
	// drSelectors lists, per namespace, the DestinationRules with a
	// workloadSelector: they apply to the clients they select
	// (sidecar.go SidecarScope.DestinationRule), so a client's labels are
	// read through them.
	drSelectors map[string][]*mesh.DestinationRule
	// clientPreds lists, per namespace, the predicates of its compiled
	// AuthorizationPolicies that read the client (DT5): its certificate's
	// SPIFFE identity (principals, namespaces, serviceAccounts,
	// trustDomains, source.principal and source.namespace conditions) or
	// its pod IP (ipBlocks, remoteIpBlocks, source.ip, remote.ip). A
	// server of namespace n is subject to the policies of n and of the
	// root namespace (authorization.go ListAuthorizationPolicies).
	clientPreds map[string][]*pred
	// readsIP is true when some predicate reads a client's pod IP.
	readsIP bool
	// drHosts are the DestinationRules' hosts, resolved, in allDRs order;
	// drExact indexes the exact ones, drWild lists the others.
	drHosts []string
	drExact map[string][]int
	drWild  []int
	// scopes interns Sidecar scopes by Sidecar and namespace, so that
	// classes with one scope share its parsed listeners.
	scopes map[scopeKey]*sidecarScope
	// idTabs holds, per namespace whose policies read the client, every
	// class's appendIdentityBits (initIdentity).
	idTabs map[string]*idTable
}

type scopeKey struct {
	sc *mesh.Sidecar
	ns string
}

func newClassifier(e *engine) *classifier {
	c := &classifier{e: e, drSelectors: map[string][]*mesh.DestinationRule{}, clientPreds: map[string][]*pred{}, drExact: map[string][]int{},
		scopes: map[scopeKey]*sidecarScope{}}
	for _, dr := range e.allDRs {
		if dr.Selector != nil {
			c.drSelectors[dr.Ref.Namespace] = append(c.drSelectors[dr.Ref.Namespace], dr)
		}
		h := resolveDRHost(dr.Host, dr.Ref.Namespace, e.cfg.DomainSuffix)
		if h == "*" || isWildcardHost(h) {
			c.drWild = append(c.drWild, len(c.drHosts))
		} else {
			c.drExact[h] = append(c.drExact[h], len(c.drHosts))
		}
		c.drHosts = append(c.drHosts, h)
	}
	for _, ns := range slices.Sorted(maps.Keys(e.az.byNS)) {
		for _, cp := range e.az.byNS[ns] {
			for _, r := range cp.rules {
				for _, list := range slices.Concat(r.perms, r.princs) {
					for _, p := range list {
						switch p.attr {
						case attrSourceIP, attrRemoteIP:
							c.readsIP = true
							fallthrough
						case attrPeer:
							c.clientPreds[ns] = append(c.clientPreds[ns], p)
						}
					}
				}
			}
		}
	}
	return c
}

// drMatching calls f with the index of every DestinationRule whose host
// may match service host h (drMayMatch), without scanning them all when h
// is not a wildcard.
func (c *classifier) drMatching(h string, f func(i int)) {
	if isWildcardHost(h) {
		for i, p := range c.drHosts {
			if drMayMatch(p, h) {
				f(i)
			}
		}
		return
	}
	for _, i := range c.drExact[h] {
		f(i)
	}
	for _, i := range c.drWild {
		if drMayMatch(c.drHosts[i], h) {
			f(i)
		}
	}
}

// identityView renders how the AuthorizationPolicies that may apply to a
// server of one of namespaces nss see cl's identity: for every value of
// every predicate that reads the client, whether cl's SPIFFE identity or
// pod IP matches it ('1', '0', or 'u' for an unknown IP). Clients with
// equal views meet equal decisions there, whatever their namespace or
// service account; "" when no such predicate exists. Every other
// server-side rule decides by the server, the port and the transport
// alone; a new one that reads the client must be added here.
func (c *classifier) identityView(cl *clientClass, nss []string) string {
	root := c.e.cfg.RootNamespace
	v := c.idTabs[root].bits(cl.id)
	for _, ns := range nss {
		if ns != root {
			v += c.idTabs[ns].bits(cl.id) // appendIdentityBits starts with the namespace: no separator needed
		}
	}
	return v
}

// commonIdentity is identityView for the classes identityClasses does not
// list.
func (c *classifier) commonIdentity(nss []string) string {
	root := c.e.cfg.RootNamespace
	var v string
	if t := c.idTabs[root]; t != nil {
		v = t.common
	}
	for _, ns := range nss {
		if t := c.idTabs[ns]; t != nil && ns != root {
			v += t.common
		}
	}
	return v
}

// idTable holds appendIdentityBits of every class for one namespace: most
// classes share the most common value, so only the others are kept.
type idTable struct {
	common string
	other  map[int32]string // by class id
}

// bits returns the appendIdentityBits of class id; "" for a nil table (no
// predicate reads the client there).
func (t *idTable) bits(id int32) string {
	if t == nil {
		return ""
	}
	if v, ok := t.other[id]; ok {
		return v
	}
	return t.common
}

// initIdentity renders appendIdentityBits of every class for every namespace
// whose policies read the client, in parallel by namespace.
func (c *classifier) initIdentity(classes []*clientClass) {
	for _, cl := range classes {
		cl.uri = cl.rep.Identity(c.e.cfg.TrustDomain)
	}
	byNS := map[string][]*clientClass{}
	for _, cl := range classes {
		byNS[cl.ns] = append(byNS[cl.ns], cl)
	}
	nss := slices.Sorted(maps.Keys(c.clientPreds))
	tabs := make([]*idTable, len(nss))
	parallelFor(len(nss), func(i int) {
		// When every value can only match identities of a few namespaces,
		// every class outside them gets the all-zero bits: only the
		// classes of those namespaces are rendered.
		if only, ok := c.predNamespaces(nss[i]); ok {
			zero := c.zeroIdentityBits(nss[i])
			t := &idTable{common: zero, other: map[int32]string{}}
			var buf []byte
			for _, ns := range slices.Sorted(maps.Keys(only)) {
				for _, cl := range byNS[ns] {
					buf = c.appendIdentityBits(buf[:0], cl, nss[i])
					if string(buf) != zero {
						t.other[cl.id] = string(buf)
					}
				}
			}
			tabs[i] = t
			return
		}
		// Intern the values: most classes share one.
		var vals []string
		ids := map[string]int32{}
		of := make([]int32, len(classes))
		var buf []byte
		for k, cl := range classes {
			buf = c.appendIdentityBits(buf[:0], cl, nss[i])
			v, ok := ids[string(buf)]
			if !ok {
				v = int32(len(vals))
				ids[string(buf)] = v
				vals = append(vals, string(buf))
			}
			of[k] = v
		}
		count := make([]int, len(vals))
		for _, v := range of {
			count[v]++
		}
		common := int32(0)
		for v := range vals {
			if count[v] > count[common] || count[v] == count[common] && vals[v] < vals[common] {
				common = int32(v)
			}
		}
		t := &idTable{other: map[int32]string{}}
		if len(vals) > 0 {
			t.common = vals[common]
		}
		for k, v := range of {
			if v != common {
				t.other[classes[k].id] = vals[v]
			}
		}
		tabs[i] = t
	})
	c.idTabs = make(map[string]*idTable, len(nss))
	for i, ns := range nss {
		c.idTabs[ns] = tabs[i]
	}
}

// identityClasses calls f with every class whose identityView for
// namespaces nss may differ from the most common one.
func (c *classifier) identityClasses(nss []string, f func(id int32)) {
	visit := func(ns string) {
		if t := c.idTabs[ns]; t != nil {
			for id := range t.other {
				f(id)
			}
		}
	}
	root := c.e.cfg.RootNamespace
	visit(root)
	for _, ns := range nss {
		if ns != root {
			visit(ns)
		}
	}
}

// readsIdentity reports whether some AuthorizationPolicy that may apply
// to a server of one of namespaces nss reads the client (identityView is
// "" for every class otherwise).
func (c *classifier) readsIdentity(nss []string) bool {
	if len(c.clientPreds[c.e.cfg.RootNamespace]) > 0 {
		return true
	}
	for _, ns := range nss {
		if len(c.clientPreds[ns]) > 0 {
			return true
		}
	}
	return false
}

// predNamespaces returns the namespaces outside which no client
// predicate value of namespace ns's policies can match a class's identity,
// and false when some value can (an IP block, a case-insensitive or regex
// match, a prefix shorter than the namespace segment). A mesh identity is
// spiffe://<trust domain>/ns/<namespace>/sa/<service account>
// (mesh.SPIFFEID): trust domains and Kubernetes names hold no "/".
func (c *classifier) predNamespaces(ns string) (map[string]bool, bool) {
	td := strings.ReplaceAll(c.e.cfg.TrustDomain, "@", ".")
	out := map[string]bool{}
	for _, p := range c.clientPreds[ns] {
		for _, list := range [2][]value{p.vals, p.not} {
			for _, x := range list {
				if x.bad != nil {
					continue
				}
				if p.attr != attrPeer || x.str.fold {
					return nil, false
				}
				switch x.str.op {
				case 'c':
					// namespaceMatch: "/ns/<ns>/" occurs only as the
					// namespace segment, unless the trust domain is "ns".
					inner, ok := strings.CutPrefix(x.str.s, "/ns/")
					inner, ok2 := strings.CutSuffix(inner, "/")
					if !ok || !ok2 || strings.Contains(inner, "/") || td == "ns" {
						return nil, false
					}
					out[inner] = true
				case 'e', 'p':
					n, ok := spiffeNamespace(x.str.s)
					switch {
					case ok:
						out[n] = true
					case x.str.op == 'p':
						return nil, false
					}
					// An exact value that is no mesh identity matches none.
				default:
					return nil, false
				}
			}
		}
	}
	return out, true
}

// spiffeNamespace returns the namespace segment of v when v starts with
// "spiffe://<trust domain>/ns/<namespace>/".
func spiffeNamespace(v string) (string, bool) {
	rest, ok := strings.CutPrefix(v, "spiffe://")
	if !ok {
		return "", false
	}
	_, rest, ok = strings.Cut(rest, "/")
	if !ok {
		return "", false
	}
	rest, ok = strings.CutPrefix(rest, "ns/")
	if !ok {
		return "", false
	}
	n, _, ok := strings.Cut(rest, "/")
	return n, ok
}

// zeroIdentityBits is appendIdentityBits for a class no value of namespace
// ns's client predicates matches.
func (c *classifier) zeroIdentityBits(ns string) string {
	b := []byte(ns + ":")
	for _, p := range c.clientPreds[ns] {
		for _, list := range [2][]value{p.vals, p.not} {
			for _, x := range list {
				if x.bad == nil {
					b = append(b, '0')
				}
			}
		}
	}
	return string(append(b, ';'))
}

// appendIdentityBits appends the matches of cl's identity against the
// client predicates of namespace ns's policies: "ns:bits;", nothing when
// there are none.
func (c *classifier) appendIdentityBits(b []byte, cl *clientClass, ns string) []byte {
	preds := c.clientPreds[ns]
	if len(preds) == 0 {
		return b
	}
	id := cl.uri
	ip, ipErr := netip.ParseAddr(cl.ip)
	ip = ip.Unmap()
	b = append(b, ns...)
	b = append(b, ':')
	for _, p := range preds {
		for _, list := range [2][]value{p.vals, p.not} {
			for _, x := range list {
				switch {
				case x.bad != nil:
				case p.attr == attrPeer:
					b = append(b, boolByte(x.str.match(id)))
				case ipErr != nil:
					b = append(b, 'u')
				default:
					b = append(b, boolByte(x.cidr.Contains(ip)))
				}
			}
		}
	}
	return append(b, ';')
}

// clientClass is a set of workloads with one client signature, and what
// the matrix derives from it.
type clientClass struct {
	id      int32
	ns      string
	members []int32        // workload indexes, ascending
	rep     *mesh.Workload // the first member: the client probes use
	sa      string
	ip      string

	injected bool
	appMTLS  bool
	scope    *sidecarScope // nil when not injected
	// catchAll is the first catch-all egress listener of scope that can
	// see redirected traffic; nil when there is none.
	catchAll *egressListener
	// listenerPorts are the ports of scope's egress listeners bound to a
	// port that can see redirected traffic.
	listenerPorts []uint32
	drBits        string // which DestinationRule selectors of ns select the class
	annotations   string // the outbound interception annotations, rendered
	base          string // the part of every view that does not depend on the destination
	uri           string // the representative's SPIFFE identity (initIdentity)
	generic       int32  // index of the class's genericKey in the matrix
}

// clientSignature returns the signature of w as a client, and the parts the
// matrix reuses. Two workloads with the same signature get the same
// outcome from every probe they make to a Service or ServiceEntry (their
// traces differ only in the workload they name).
//
// Each input a client-side rule reads is represented here, either by the
// rule's decision (which is exact, and groups more workloads than the
// labels it reads would) or by the input itself:
//   - namespace: exportTo, "." in egress hosts, DestinationRule lookup;
//   - injection (T1: namespace labels, the pod's sidecar.istio.io/inject
//     and istio.io/rev labels, the deprecated annotation,
//     never/alwaysInjectSelector, hostNetwork, Observed), by its decision;
//   - the Sidecar that applies (T2: every Sidecar workloadSelector of the
//     namespace and of the root namespace), by its decision;
//   - every DestinationRule workloadSelector of the namespace, by whether
//     it selects w;
//   - the outbound traffic.sidecar.istio.io/* annotations (§6, T5), as
//     written (the inbound ones are read only for servers);
//   - meshreach.io/app-mtls (Workload.AppMTLS);
//   - the service account (the mesh identity a server may read) and,
//     when a rule reads source addresses, the pod IP.
//
// Labels no rule reads, and a client's container ports, never change a
// verdict it gets as a client: ports are read only when the workload is a
// destination, and the matrix evaluates destinations per endpoint.
//
// Every new rule that reads a client (a selector over client labels, an
// annotation, a field of mesh.Workload) must extend this function, and,
// when it can tell clients of different namespaces apart, viewKey too; the
// test comparing the matrix with a probe per pair fails otherwise.
func (c *classifier) clientSignature(w *mesh.Workload) (sig string, cl *clientClass) {
	e := c.e
	cl = &clientClass{ns: w.ID.Namespace, rep: w, sa: w.ServiceAccount, appMTLS: w.AppMTLS}
	if cl.sa == "" {
		cl.sa = "default"
	}
	if c.readsIP {
		cl.ip = w.IP
	}
	cl.injected = e.injected(w)

	var b strings.Builder
	field := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
		b.WriteByte(0)
	}
	field("ns", cl.ns)
	field("injected", boolString(cl.injected))
	field("hostNetwork", boolString(w.HostNetwork))
	field("appMTLS", boolString(w.AppMTLS))
	field("sa", cl.sa)
	field("ip", cl.ip)
	if cl.injected {
		// Sidecar scope, interception and DestinationRules apply only to a
		// client with a sidecar.
		cl.scope = e.scopeFor(w)
		k := scopeKey{cl.scope.sc, cl.ns}
		if sc, ok := c.scopes[k]; ok {
			cl.scope = sc
		} else {
			c.scopes[k] = cl.scope
		}
		if cl.scope.sc != nil {
			field("sidecar", cl.scope.sc.Ref.Namespace+"/"+cl.scope.sc.Ref.Name)
		}
		for i := range cl.scope.egress {
			el := &cl.scope.egress[i]
			switch {
			case el.inert != "":
			case el.port != 0:
				cl.listenerPorts = append(cl.listenerPorts, el.port)
			case cl.catchAll == nil:
				cl.catchAll = el
			}
		}
		var bits []byte
		for _, dr := range c.drSelectors[cl.ns] {
			bits = append(bits, boolByte(subsetOf(dr.Selector, w.Labels)))
		}
		cl.drBits = string(bits)
		field("dr", cl.drBits)
		var ab strings.Builder
		for _, k := range outboundAnnotations {
			if v, ok := w.Annotations[k]; ok {
				ab.WriteString(k)
				ab.WriteByte('=')
				ab.WriteString(v)
				ab.WriteByte(0)
			}
		}
		cl.annotations = ab.String()
		field("annotations", cl.annotations)
	}
	return b.String(), cl
}

func boolString(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

func boolByte(v bool) byte {
	if v {
		return '1'
	}
	return '0'
}

// destContext is what a destination group shares: the facts, beyond the
// client class, that a verdict for one of its destinations depends on.
type destContext struct {
	// nss are the namespaces of the registry services the dialled host may
	// be (the Service, ServiceEntries declaring its host), sorted: the
	// egress hosts of those namespaces decide whether a scope imports it.
	nss []string
	// names are the namespaces a client of which may be told apart from
	// other clients: nss, the root namespace, and every namespace an
	// exportTo of the candidates or of the DestinationRules they may use
	// names (push_context.go IsServiceVisible, destinationRule).
	names map[string]bool
	// drNS are the namespaces with a DestinationRule whose host may match
	// the destination: their clients look it up first (push_context.go
	// destinationRule).
	drNS map[string]bool
	// port is the destinations' port when some scope of the mesh has a
	// port listener on it, else 0: such destinations are grouped by port.
	port uint32
}

// key renders the context for grouping.
func (c *destContext) key() string {
	var b strings.Builder
	b.WriteString(strings.Join(c.nss, ","))
	b.WriteByte('|')
	b.WriteString(strings.Join(sortedKeys(c.names), ","))
	b.WriteByte('|')
	b.WriteString(strings.Join(sortedKeys(c.drNS), ","))
	b.WriteByte('|')
	b.WriteString(strconv.FormatUint(uint64(c.port), 10))
	return b.String()
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// viewKey is how a class sees the destinations of a group: two classes
// with equal keys get equal outcomes for every destination of the group.
// It covers every place a probe reads the client (engine.go Probe):
//   - without a sidecar, only the app's transport (AppMTLS; the protocol
//     is the destination's) reaches the server: no Sidecar, exportTo or
//     DestinationRule applies;
//   - with one: interception (annotations, against the destination's
//     address and port), the outbound policy, the egress hosts of the
//     catch-all listener for the candidates' namespaces and "*" (T3: a
//     service of namespace n is matched by the entries for n and for "*"
//     only, and an entry decides a host only if the host is a subset of
//     it), the client namespace where it may decide visibility, the
//     preference for a client-namespace copy of a host or a
//     DestinationRule lookup, and the DestinationRule selector bits
//     there;
//   - how the AuthorizationPolicies of the servers see the client's
//     identity and IP (identityView).
//
// Port listeners only play on their port (scope.go lookup). A scope with
// an active port listener on the group's port is shared only by the
// classes with the same scope (Sidecar and namespace): what its catch-all
// adds on that port depends on what the port listener imports from the
// whole registry (listener.go buildSidecarOutboundListeners, "locked").
//
// The view is split in two: clientView and identityView. groupViews
// renders clientView once per genericKey where classes are not special.
type viewKey struct {
	client string // clientView
	id     string // identityView
}

// specialIn reports whether group g reads more of cl than its genericKey:
// a port listener of its scope on the group's port, catch-all egress hosts
// for the namespaces of the group's services, an exact "*/host" entry for
// one of the group's hosts, or its namespace, where it
// may decide visibility or the DestinationRule lookup (see clientView).
// The matrix finds the classes special in a group through inverted
// indexes (viewIndex), so that the cost of views grows with them, not with
// classes × groups.
func (cl *clientClass) specialIn(g *destGroup) bool {
	if !cl.injected {
		return false
	}
	dc := g.ctx
	if dc.port != 0 && slices.Contains(cl.listenerPorts, dc.port) || dc.names[cl.ns] || dc.drNS[cl.ns] {
		return true
	}
	if cl.catchAll != nil {
		for _, n := range dc.nss {
			if cl.catchAll.byNS[n] != nil {
				return true
			}
		}
	}
	for _, h := range cl.exactWildNSHosts() {
		if _, ok := slices.BinarySearch(g.hosts, h); ok {
			return true
		}
	}
	return false
}

// genericKey renders what clientView reads of cl in a group where cl is
// not special: the base, and whether the scope has a catch-all listener
// and its egress hosts for namespace "*" (hostView reads their entries
// only).
func (cl *clientClass) genericKey() string {
	switch {
	case !cl.injected:
		return cl.base
	case cl.catchAll == nil:
		return cl.base + "\x00no catch-all"
	}
	hc := cl.catchAll.byNS[wildcardNamespace]
	if hc == nil {
		return cl.base + "\x00-"
	}
	// Exact hostnames decide only a group that has that host (hostSubsetOf:
	// no other host is a subset of one); specialIn covers those groups.
	wild := func(list []string) string {
		var out []string
		for _, h := range list {
			if isWildcardHost(h) {
				out = append(out, h)
			}
		}
		return strings.Join(out, ",")
	}
	return cl.base + "\x00+" + wild(hc.all) + "\x00~" + wild(hc.excluded)
}

// exactWildNSHosts returns the exact (non-wildcard) hostnames among the
// catch-all's egress hosts for namespace "*".
func (cl *clientClass) exactWildNSHosts() []string {
	if !cl.injected || cl.catchAll == nil {
		return nil
	}
	hc := cl.catchAll.byNS[wildcardNamespace]
	if hc == nil {
		return nil
	}
	var out []string
	for _, h := range slices.Concat(hc.all, hc.excluded) {
		if !isWildcardHost(h) {
			out = append(out, h)
		}
	}
	return out
}

// clientView is the part of viewKey that does not read the client's
// identity. Where cl is not special it depends on the genericKey alone.
func (cl *clientClass) clientView(cf *classifier, g *destGroup) string {
	if !cl.specialIn(g) {
		return cl.genericView(g)
	}
	return cl.fullView(cf, g)
}

// portView renders what lookup reads of cl's scope (memoised per scope in
// destGroup.portViews) on the port of group g,
// where the scope has an active port listener (scope.go lookupIn): what
// each port listener imports of the group's hosts (hostView of its
// entries for the candidates' namespaces and "*"), what the catch-all
// imports, and, for every candidate registry service of every destination
// of the group, whether the first port listener already owns that
// service's listener address ("locked": listener.go
// buildSidecarOutboundListeners). Scopes that agree on all three carry
// every destination of the group alike, whatever their Sidecar.
func (cl *clientClass) portView(b *strings.Builder, cf *classifier, g *destGroup) {
	dc := g.ctx
	var first *egressListener
	b.WriteString("#port:")
	for i := range cl.scope.egress {
		el := &cl.scope.egress[i]
		if el.inert != "" || el.port != dc.port {
			continue
		}
		if first == nil {
			first = el
		}
		b.WriteByte('[')
		g.writeListenerView(b, el)
		b.WriteByte(']')
	}
	b.WriteString("|catch-all:")
	if cl.catchAll == nil {
		b.WriteString("none")
	} else {
		g.writeListenerView(b, cl.catchAll)
	}
	b.WriteString("|locked:")
	locked := cf.e.portListenerKeys(first, cl.scope.configNS)
	for _, k := range g.locks {
		if k == "" {
			b.WriteByte('-')
		} else {
			b.WriteByte(boolByte(locked[k]))
		}
	}
}

// writeListenerView writes what egress listener el imports of the hosts
// of g: its hosts for each namespace of the group's services, then for
// "*" (T3: a service of namespace n is matched by the entries for n and
// "*" only).
func (g *destGroup) writeListenerView(b *strings.Builder, el *egressListener) {
	for _, n := range g.ctx.nss {
		b.WriteString(g.hostView(el.byNS[n]))
		b.WriteByte(';')
	}
	b.WriteString(g.hostView(el.byNS[wildcardNamespace]))
}

// genericView is fullView where cl is not special in g: no port listener
// on the group's port, no egress hosts for its services' namespaces, and
// its namespace neither names a visibility nor a DestinationRule lookup.
func (cl *clientClass) genericView(g *destGroup) string {
	if !cl.injected {
		return cl.base
	}
	var b strings.Builder
	b.WriteString(cl.base)
	if cl.catchAll == nil {
		b.WriteString("no catch-all")
	} else {
		for range g.ctx.nss {
			b.WriteString("-;") // writeListenerView: hostView(nil) for each namespace
		}
		b.WriteString(g.hostView(cl.catchAll.byNS[wildcardNamespace]))
	}
	b.WriteString("||")
	return b.String()
}

// fullView renders every input of clientView.
func (cl *clientClass) fullView(cf *classifier, g *destGroup) string {
	dc := g.ctx
	var b strings.Builder
	b.WriteString(cl.base)
	if cl.injected {
		switch {
		case dc.port != 0 && slices.Contains(cl.listenerPorts, dc.port):
			pv, ok := g.portViews[cl.scope]
			if !ok {
				var pb strings.Builder
				cl.portView(&pb, cf, g)
				pv = pb.String()
				g.portViews[cl.scope] = pv
			}
			b.WriteString(pv)
		case cl.catchAll == nil:
			b.WriteString("no catch-all")
		default:
			g.writeListenerView(&b, cl.catchAll)
		}
		b.WriteByte('|')
		if dc.names[cl.ns] {
			b.WriteString(cl.ns)
		}
		b.WriteByte('|')
		if dc.drNS[cl.ns] {
			b.WriteString(cl.ns)
			b.WriteByte(':')
			b.WriteString(cl.drBits)
		}
	}
	return b.String()
}

// initBase renders the destination-independent part of cl's views.
func (cl *clientClass) initBase() {
	if !cl.injected {
		cl.base = "bare appMTLS=" + boolString(cl.appMTLS) + "|"
		return
	}
	cl.base = "sidecar appMTLS=" + boolString(cl.appMTLS) + "|" + cl.annotations + "|outbound=" + cl.scope.outbound.String() + "|"
}

// hostView renders the entries of hc that may decide the import of a host
// of g, as a set: hostClass matching does not depend on their order, and
// an entry e decides host h only when h is a subset of e
// (hostClass.matches, excludedBy).
func (g *destGroup) hostView(hc *hostClass) string {
	if hc == nil {
		return "-"
	}
	if v, ok := g.views[hc]; ok {
		return v
	}
	var parts []string
	for _, h := range hc.all {
		if g.relevant(h) {
			parts = append(parts, "+"+h)
		}
	}
	for _, h := range hc.excluded {
		if g.relevant(h) {
			parts = append(parts, "~"+h)
		}
	}
	slices.Sort(parts)
	v := strings.Join(slices.Compact(parts), ",")
	g.views[hc] = v
	return v
}

// relevant reports whether egress host entry h may decide the import of
// some host of g.
func (g *destGroup) relevant(h string) bool {
	if v, ok := g.rel[h]; ok {
		return v
	}
	v := slices.ContainsFunc(g.hosts, func(x string) bool { return hostSubsetOf(x, h) })
	g.rel[h] = v
	return v
}
