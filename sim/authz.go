package sim

// AuthorizationPolicy on a server sidecar (DT5). See
// ../shared/semantics/mtls-authn-authz.md §5 and §6. Policies are compiled
// once, as istiod compiles them into Envoy RBAC filters
// (pilot/pkg/security/authz/model/model.go New, Generate), and evaluated
// per connection or request with three-valued logic: a condition on
// something meshreach does not model (JWT claims, an unknown IP, the
// answer of an ext_authz server) is unknown, and a decision that depends
// on it is undecided.

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// tri is a three-valued truth value.
type tri uint8

const (
	no tri = iota
	yes
	unknown
)

// cond is a truth value with the reason for it.
type cond struct {
	v   tri
	why string
}

// attr is the request or connection attribute a predicate reads.
type attr uint8

const (
	attrPeer        attr = iota // the authenticated peer principal (SPIFFE URI of the client certificate)
	attrSourceIP                // direct_remote_ip: the client pod's IP
	attrRemoteIP                // remote_ip: from X-Forwarded-For on HTTP, else the peer IP
	attrRequestAuth             // JWT claims (requestPrincipals, request.auth.*)
	attrHost                    // :authority
	attrMethod                  // :method
	attrPath                    // :path without the query
	attrHeader                  // request.headers[name]
	attrDestIP                  // destination_ip: the server pod's IP
	attrDestPort                // destination_port: the container port
	attrSNI                     // requested_server_name
	attrMetadata                // experimental.envoy.filters.*: Envoy dynamic metadata
)

// httpOnly reports whether the attribute exists only on HTTP filter chains
// (the generators return "… is HTTP only" for TCP, generator.go).
func (a attr) httpOnly() bool {
	switch a {
	case attrRequestAuth, attrHost, attrMethod, attrPath, attrHeader:
		return true
	}
	return false
}

// value is one compiled value of a predicate.
type value struct {
	raw  string
	str  strMatch
	cidr netip.Prefix
	port uint32
	bad  error // the generator rejects the value
}

// pred is one field of a source or operation, or one when condition.
type pred struct {
	name      string // as the policy spells it: "source.principals", "operation.methods", "when source.ip"
	attr      attr
	header    string // attrHeader: lower-case name
	vals, not []value
}

// crule is a compiled rule: it matches when one of perms and one of
// princs match (each an AND of predicates).
type crule struct {
	index int
	// envoyName is the rule's Envoy RBAC policy name,
	// "ns[NS]-policy[NAME]-rule[I]" (builder.go policyName). Envoy keeps the
	// policies of one RBAC filter in a map ordered by name and reports the
	// first that matches.
	envoyName string
	pos       mesh.Pos
	perms     [][]*pred
	princs    [][]*pred
	// httpOnly is the first HTTP-only field the rule uses: on TCP chains
	// an ALLOW rule with one is left out (model.go checkError).
	httpOnly string
	// broken is why istiod skips the rule on every chain (an unknown when
	// key, model.go New; an ALLOW value its generator rejects).
	broken string
}

// cpolicy is a compiled AuthorizationPolicy.
type cpolicy struct {
	p     *mesh.AuthorizationPolicy
	rules []*crule
}

// authz holds the compiled policies. It is built once by New and only read
// afterwards.
type authz struct {
	root string
	td   string
	// byNS lists each namespace's policies oldest first
	// (authorization.go GetAuthorizationPolicies, sortConfigByCreationTime).
	byNS map[string][]*cpolicy
	// withRoot lists, for each namespace other than the root with
	// policies, the root namespace's policies followed by its own.
	withRoot map[string][]*cpolicy
}

func newAuthz(m *mesh.Mesh, cfg mesh.Config) *authz {
	a := &authz{root: cfg.RootNamespace, td: cfg.TrustDomain, byNS: map[string][]*cpolicy{}}
	bundle := tdBundle(append([]string{cfg.TrustDomain}, cfg.TrustDomainAliases...))
	all := m.AuthorizationPolicies()
	for i := range all {
		p := &all[i]
		a.byNS[p.Ref.Namespace] = append(a.byNS[p.Ref.Namespace], compilePolicy(p, bundle))
	}
	a.withRoot = map[string][]*cpolicy{}
	for ns, ps := range a.byNS {
		slices.SortStableFunc(ps, func(x, y *cpolicy) int {
			return cmp.Or(x.p.Created.Compare(y.p.Created), strings.Compare(x.p.Ref.Name, y.p.Ref.Name))
		})
		if ns != a.root {
			a.withRoot[ns] = nil // filled below, once the root's list is sorted
		}
	}
	for ns := range a.withRoot {
		a.withRoot[ns] = append(slices.Clone(a.byNS[a.root]), a.byNS[ns]...)
	}
	return a
}

// compilePolicy is model.New followed by MigrateTrustDomain for every rule.
func compilePolicy(p *mesh.AuthorizationPolicy, bundle tdBundle) *cpolicy {
	cp := &cpolicy{p: p}
	for i, r := range p.Rules {
		cr := &crule{index: i, pos: r.Pos, envoyName: fmt.Sprintf("ns[%s]-policy[%s]-rule[%d]", p.Ref.Namespace, p.Ref.Name, i)}
		if !cr.pos.IsValid() {
			cr.pos = p.Pos
		}
		c := compiler{rule: cr, ns: p.Ref.Namespace, bundle: bundle, allow: p.Action == mesh.ActionAllow}
		var basePerm, basePrinc []*pred
		for _, w := range r.When {
			name := "when " + w.Key
			switch k := w.Key; {
			case k == "destination.ip":
				basePerm = c.add(basePerm, name, attrDestIP, w.Values, w.NotValues)
			case k == "destination.port":
				basePerm = c.add(basePerm, name, attrDestPort, w.Values, w.NotValues)
			case k == "connection.sni":
				basePerm = c.add(basePerm, name, attrSNI, w.Values, w.NotValues)
			case strings.HasPrefix(k, "experimental.envoy.filters."):
				basePerm = c.add(basePerm, name, attrMetadata, w.Values, w.NotValues)
			case k == "source.ip":
				basePrinc = c.add(basePrinc, name, attrSourceIP, w.Values, w.NotValues)
			case k == "remote.ip":
				basePrinc = c.add(basePrinc, name, attrRemoteIP, w.Values, w.NotValues)
			case k == "source.namespace":
				basePrinc = c.peer(basePrinc, name, 'n', w.Values, w.NotValues)
			case k == "source.trustDomain":
				basePrinc = c.peer(basePrinc, name, 't', w.Values, w.NotValues)
			case k == "source.serviceAccount":
				basePrinc = c.peer(basePrinc, name, 'a', w.Values, w.NotValues)
			case k == "source.principal":
				basePrinc = c.peer(basePrinc, name, 'p', w.Values, w.NotValues)
			case k == "request.auth.principal", k == "request.auth.audiences", k == "request.auth.presenter",
				strings.HasPrefix(k, "request.auth.claims"):
				basePrinc = c.add(basePrinc, name, attrRequestAuth, w.Values, w.NotValues)
			case strings.HasPrefix(k, "request.headers"):
				pr := c.add(nil, name, attrHeader, w.Values, w.NotValues)
				if len(pr) > 0 {
					h, ok := bracketed(strings.TrimPrefix(k, "request.headers"))
					if !ok {
						// requestHeaderGenerator fails on every value: an
						// ALLOW rule is left out, other rules lose the
						// condition (checkError).
						bad := fmt.Errorf("when key %q has no [name]", k)
						for _, vs := range [][]value{pr[0].vals, pr[0].not} {
							for i := range vs {
								vs[i].bad = bad
							}
						}
						if c.allow && cr.broken == "" {
							cr.broken = bad.Error()
						}
					}
					pr[0].header = strings.ToLower(h)
				}
				basePrinc = append(basePrinc, pr...)
			default:
				// model.New: "unknown attribute" makes istiod skip the rule.
				cr.broken = fmt.Sprintf("when key %q is not an attribute Istio knows", k)
			}
		}
		// model.New inserts each source's and operation's fields in front
		// of the when conditions, in this order.
		for _, s := range r.From {
			var l []*pred
			l = c.peer(l, "source.principals", 'p', s.Principals, s.NotPrincipals)
			l = c.add(l, "source.requestPrincipals", attrRequestAuth, s.RequestPrincipals, s.NotRequestPrincipals)
			l = c.peer(l, "source.serviceAccounts", 'a', s.ServiceAccounts, s.NotServiceAccounts)
			l = c.peer(l, "source.trustDomains", 't', s.TrustDomains, s.NotTrustDomains)
			l = c.peer(l, "source.namespaces", 'n', s.Namespaces, s.NotNamespaces)
			l = c.add(l, "source.remoteIpBlocks", attrRemoteIP, s.RemoteIPBlocks, s.NotRemoteIPBlocks)
			l = c.add(l, "source.ipBlocks", attrSourceIP, s.IPBlocks, s.NotIPBlocks)
			cr.princs = append(cr.princs, append(l, basePrinc...))
		}
		if len(r.From) == 0 {
			cr.princs = append(cr.princs, basePrinc)
		}
		for _, o := range r.To {
			var l []*pred
			l = c.add(l, "operation.hosts", attrHost, o.Hosts, o.NotHosts)
			l = c.add(l, "operation.methods", attrMethod, o.Methods, o.NotMethods)
			l = c.add(l, "operation.paths", attrPath, o.Paths, o.NotPaths)
			l = c.add(l, "operation.ports", attrDestPort, o.Ports, o.NotPorts)
			cr.perms = append(cr.perms, append(l, basePerm...))
		}
		if len(r.To) == 0 {
			cr.perms = append(cr.perms, basePerm)
		}
		cp.rules = append(cp.rules, cr)
	}
	return cp
}

// compiler builds the predicates of one rule.
type compiler struct {
	rule   *crule
	ns     string // the policy's namespace
	bundle tdBundle
	allow  bool
}

// add appends a predicate on a for vals and not (nothing when both are
// empty, as ruleList.insertFront/appendLast).
func (c compiler) add(l []*pred, name string, a attr, vals, not []string) []*pred {
	if len(vals) == 0 && len(not) == 0 {
		return l
	}
	compile := func(raw []string) []value {
		var out []value
		for _, v := range raw {
			x := value{raw: v}
			switch a {
			case attrSourceIP, attrRemoteIP, attrDestIP:
				x.cidr, x.bad = cidr(v)
			case attrDestPort:
				x.port, x.bad = port(v)
			case attrHost:
				x.str = headerMatch(v, true)
			case attrMethod, attrHeader:
				x.str = headerMatch(v, false)
			case attrPath:
				x.str, x.bad = pathMatch(v)
			case attrSNI:
				x.str = withPrefix(v, "")
			}
			if x.bad != nil && c.allow && c.rule.broken == "" {
				// checkError: an ALLOW rule with a value its generator
				// rejects is left out.
				c.rule.broken = fmt.Sprintf("%s value %q is invalid", name, v)
			}
			out = append(out, x)
		}
		return out
	}
	if a.httpOnly() && c.rule.httpOnly == "" {
		c.rule.httpOnly = name
	}
	return append(l, &pred{name: name, attr: a, vals: compile(vals), not: compile(not)})
}

// peer appends a predicate on the peer principal: kind 'p' principals
// (after trust-domain alias replacement), 'n' namespaces, 'a' service
// accounts, 't' trust domains (after alias expansion).
func (c compiler) peer(l []*pred, name string, kind byte, vals, not []string) []*pred {
	if len(vals) == 0 && len(not) == 0 {
		return l
	}
	compile := func(raw []string) []value {
		switch kind {
		case 'p':
			raw = c.bundle.replaceAliases(raw)
		case 't':
			raw = c.bundle.expandAliases(raw)
		}
		var out []value
		for _, v := range raw {
			x := value{raw: v}
			switch kind {
			case 'p':
				x.str = withPrefix(v, "spiffe://")
			case 'n':
				x.str, x.bad = namespaceMatch(v)
			case 'a':
				x.str, x.bad = serviceAccountMatch(c.ns, v)
			case 't':
				x.str, x.bad = trustDomainMatch(v)
			}
			if x.bad != nil && c.allow && c.rule.broken == "" {
				c.rule.broken = fmt.Sprintf("%s value %q is invalid", name, v)
			}
			out = append(out, x)
		}
		return out
	}
	return append(l, &pred{name: name, attr: attrPeer, vals: compile(vals), not: compile(not)})
}

// bracketed is extractNameInBrackets: "[name]" → name.
func bracketed(s string) (string, bool) {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return "", false
	}
	return s[1 : len(s)-1], true
}

// authzReq is what the server sidecar knows about one connection or
// request when its RBAC filters run.
type authzReq struct {
	tcp bool // a TCP filter chain (network RBAC filter); else an HTTP chain
	// raw is set on an HTTP chain when the client does not speak HTTP:
	// request attributes are unknown.
	raw       bool
	transport Transport
	peer      string     // the client certificate's SPIFFE URI; "" without Istio mTLS
	peerIP    netip.Addr // invalid when unknown
	xff       bool       // the request carries X-Forwarded-For
	destIP    netip.Addr
	port      uint32
	method    string
	path      string
	host      string
	hostKnown bool
	headers   map[string]string // lower-case names
}

// read returns the attribute's value for a string matcher, or ok false
// with why when it is unknown; present is false when the attribute is
// absent (no peer certificate, no such header).
func (r *authzReq) read(p *pred) (v string, present bool, why string) {
	needHTTP := func() string {
		if r.raw {
			return "the client does not speak HTTP on this HTTP port, so its request attributes are unknown"
		}
		return ""
	}
	switch p.attr {
	case attrPeer:
		return r.peer, r.peer != "", ""
	case attrHost:
		if w := needHTTP(); w != "" {
			return "", false, w
		}
		if !r.hostKnown {
			return "", false, "the Host header is unknown: the pod IP the client dials is not in the manifests"
		}
		return r.host, true, ""
	case attrMethod:
		return r.method, r.method != "", needHTTP()
	case attrPath:
		return r.path, r.path != "", needHTTP()
	case attrHeader:
		if w := needHTTP(); w != "" {
			return "", false, w
		}
		h, ok := r.headers[p.header]
		return h, ok, ""
	case attrSNI:
		if r.transport == Plaintext {
			return "", true, "" // no TLS: the server name is empty
		}
		return "", false, "the TLS server name (SNI) the client sends is not modelled"
	case attrRequestAuth:
		return "", false, "JWT claims (requestPrincipals, request.auth.*) are not modelled"
	case attrMetadata:
		return "", false, "Envoy dynamic metadata (experimental.envoy.filters.*) is not modelled"
	}
	return "", false, ""
}

// addr returns the address an IP predicate reads, or why it is unknown.
func (r *authzReq) addr(p *pred) (netip.Addr, string) {
	switch p.attr {
	case attrRemoteIP:
		if !r.tcp && r.xff {
			return netip.Addr{}, "remote.ip comes from the X-Forwarded-For header here, whose trusted hops are not modelled"
		}
		fallthrough
	case attrSourceIP:
		if !r.peerIP.IsValid() {
			return netip.Addr{}, "the client's pod IP is not in the manifests"
		}
		return r.peerIP, ""
	case attrDestIP:
		if !r.destIP.IsValid() {
			return netip.Addr{}, "the server's pod IP is not in the manifests"
		}
		return r.destIP, ""
	}
	return netip.Addr{}, ""
}

// eval evaluates one predicate: values ORed, then NOT(any of not), ANDed.
// dropHTTP leaves out HTTP-only values (a DENY or CUSTOM rule on a TCP
// chain: checkError swallows the generator's error).
func (p *pred) eval(r *authzReq) cond {
	match := func(x value) tri {
		switch p.attr {
		case attrSourceIP, attrRemoteIP, attrDestIP:
			a, why := r.addr(p)
			if why != "" {
				return unknown
			}
			return boolTri(x.cidr.Contains(a.Unmap()))
		case attrDestPort:
			return boolTri(x.port == r.port)
		}
		v, present, why := r.read(p)
		switch {
		case why != "":
			return unknown
		case !present && p.attr == attrHeader:
			return no // HeaderMatcher: an absent header matches nothing
		case !present:
			return no // no certificate: Envoy's authenticated matcher fails
		}
		return boolTri(x.str.match(v))
	}
	anyOf := func(vals []value) (tri, bool) {
		out, used := no, false
		for _, x := range vals {
			if x.bad != nil {
				continue // the generator's error: the value is left out
			}
			used = true
			switch match(x) {
			case yes:
				return yes, true
			case unknown:
				out = unknown
			}
		}
		return out, used
	}
	res := cond{v: yes}
	if t, used := anyOf(p.vals); used {
		switch t {
		case no:
			return cond{no, p.describe(r, false)}
		case unknown:
			res = cond{unknown, p.unknownWhy(r)}
		}
	}
	if t, used := anyOf(p.not); used {
		switch t {
		case yes:
			return cond{no, p.describe(r, true)}
		case unknown:
			res = cond{unknown, p.unknownWhy(r)}
		}
	}
	if res.v == yes {
		res.why = p.holds(r)
	}
	return res
}

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}

func (p *pred) unknownWhy(r *authzReq) string {
	if _, why := r.addr(p); why != "" {
		return p.name + ": " + why
	}
	_, _, why := r.read(p)
	return p.name + ": " + why
}

// subject renders what the predicate looked at.
func (p *pred) subject(r *authzReq) string {
	switch p.attr {
	case attrPeer:
		if r.peer == "" {
			return fmt.Sprintf("a %s connection has no peer certificate", r.transport)
		}
		return "the peer is " + r.peer
	case attrSourceIP, attrRemoteIP, attrDestIP:
		a, _ := r.addr(p)
		return "the address is " + a.String()
	case attrDestPort:
		return fmt.Sprintf("the connection is to container port %d", r.port)
	case attrHeader:
		if h, ok := r.headers[p.header]; ok {
			return fmt.Sprintf("header %s is %q", p.header, h)
		}
		return "header " + p.header + " is absent"
	case attrHost:
		return fmt.Sprintf("the host is %q", r.host)
	case attrMethod:
		return "the method is " + r.method
	case attrPath:
		return fmt.Sprintf("the path is %q", r.path)
	case attrSNI:
		return "there is no TLS server name"
	}
	return ""
}

// describe says why the predicate fails: its values do not match, or one
// of its not-values does.
func (p *pred) describe(r *authzReq, byNot bool) string {
	if byNot {
		return fmt.Sprintf("%s %s: %s", notName(p.name), quoted(p.not), p.subject(r))
	}
	return fmt.Sprintf("%s %s: %s", p.name, quoted(p.vals), p.subject(r))
}

// holds says why the predicate holds.
func (p *pred) holds(r *authzReq) string {
	var parts []string
	if len(p.vals) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s", p.name, quoted(p.vals)))
	}
	if len(p.not) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s", notName(p.name), quoted(p.not)))
	}
	return strings.Join(parts, " and ") + " hold: " + p.subject(r)
}

// notName is the not form of a field: "source.principals" →
// "source.notPrincipals", "when k" → "when k notValues".
func notName(name string) string {
	if strings.HasPrefix(name, "when ") {
		return name + " notValues"
	}
	i := strings.LastIndexByte(name, '.')
	return name[:i+1] + "not" + strings.ToUpper(name[i+1:i+2]) + name[i+2:]
}

func quoted(vals []value) string {
	raw := make([]string, len(vals))
	for i, v := range vals {
		raw[i] = v.raw
	}
	return fmt.Sprintf("%q", raw)
}

// and is the three-valued conjunction, keeping the reason of the first
// false (else unknown) operand; a true result joins the reasons.
func and(cs []cond) cond {
	var unk *cond
	var whys []string
	for i := range cs {
		switch cs[i].v {
		case no:
			return cs[i]
		case unknown:
			if unk == nil {
				unk = &cs[i]
			}
		default:
			if cs[i].why != "" {
				whys = append(whys, cs[i].why)
			}
		}
	}
	if unk != nil {
		return *unk
	}
	return cond{yes, strings.Join(whys, "; ")}
}

// or is the three-valued disjunction over alternatives named by label.
func or(label string, cs []cond) cond {
	var unk *cond
	var whys []string
	for i := range cs {
		switch cs[i].v {
		case yes:
			if len(cs) > 1 && cs[i].why != "" {
				return cond{yes, fmt.Sprintf("%s[%d]: %s", label, i, cs[i].why)}
			}
			return cs[i]
		case unknown:
			if unk == nil {
				unk = &cs[i]
			}
		default:
			if len(cs) > 1 {
				whys = append(whys, fmt.Sprintf("%s[%d]: %s", label, i, cs[i].why))
			} else {
				whys = append(whys, cs[i].why)
			}
		}
	}
	if unk != nil {
		return *unk
	}
	return cond{no, strings.Join(whys, "; ")}
}

// eval evaluates the rule for action on the request: model.Generate's
// permissions (to) and principals (from), both of which must match. On a
// TCP chain an ALLOW rule using an HTTP-only field is left out, and any
// other rule loses its HTTP-only fields (model.go checkError). dropped
// lists the fields left out.
func (cr *crule) eval(action mesh.AuthzAction, r *authzReq) (c cond, dropped []string) {
	if cr.broken != "" {
		return cond{no, cr.broken + ", so istiod skips the rule"}, nil
	}
	if r.tcp && action == mesh.ActionAllow && cr.httpOnly != "" {
		return cond{no, cr.httpOnly + " is HTTP only, so the rule is left out of this TCP filter chain"}, nil
	}
	group := func(label string, alts [][]*pred) cond {
		cs := make([]cond, 0, len(alts))
		for _, preds := range alts {
			ps := make([]cond, 0, len(preds))
			for _, p := range preds {
				if r.tcp && p.attr.httpOnly() {
					if !slices.Contains(dropped, p.name) {
						dropped = append(dropped, p.name)
					}
					continue
				}
				ps = append(ps, p.eval(r))
			}
			cs = append(cs, and(ps)) // no predicates: true, with no reason to give
		}
		return or(label, cs)
	}
	perm := group("to", cr.perms)
	princ := group("from", cr.princs)
	c = and([]cond{princ, perm})
	if c.v == yes && c.why == "" {
		c.why = "the rule sets no condition"
	}
	return c, dropped
}
