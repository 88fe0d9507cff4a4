package sim

// The server sidecar's authorization decision for one connection or
// request (DT5): which AuthorizationPolicies apply (§5.1), the filter
// chain they run on, and CUSTOM → DENY → ALLOW (§5.2).

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// azStep is an authorization step about server w, decided by policy cp
// (nil: a built-in rule, named by def) at pos.
func azStep(w *mesh.Workload, cp *cpolicy, pos mesh.Pos, def, detail string) Step {
	s := Step{Stage: StageAuthorization, Side: Server, Subject: w.ID, Detail: detail}
	if cp == nil {
		s.Default = def
		return s
	}
	s.By, s.Pos = cp.p.Ref, pos
	if !s.Pos.IsValid() {
		s.Pos = cp.p.Pos
	}
	return s
}

// candidates are the policies of the root namespace and of w's namespace
// (authorization.go ListAuthorizationPolicies), in that order. The result
// is shared: do not modify it.
func (a *authz) candidates(w *mesh.Workload) []*cpolicy {
	if c, ok := a.withRoot[w.ID.Namespace]; ok {
		return c
	}
	return a.byNS[a.root]
}

// selects reports whether cp applies to the sidecar of w: no targetRefs,
// and no selector or one whose labels w has (policyattachment.go
// ShouldAttachPolicy, isSelected). A selector of a root-namespace policy
// matches workloads of every namespace, unlike PeerAuthentication.
func selects(cp *cpolicy, w *mesh.Workload) bool {
	return len(cp.p.TargetRefs) == 0 && (cp.p.Selector == nil || subsetOf(cp.p.Selector, w.Labels))
}

// unenforced returns a step naming the policies that select w when no
// sidecar enforces them (no sidecar, or a port iptables does not capture);
// nil when none does.
func (e *engine) unenforced(w *mesh.Workload, why string) []Step {
	var names []string
	var first *cpolicy
	for _, cp := range e.az.candidates(w) {
		if selects(cp, w) {
			names = append(names, cp.p.Ref.Namespace+"/"+cp.p.Ref.Name)
			if first == nil {
				first = cp
			}
		}
	}
	if first == nil {
		return nil
	}
	return []Step{azStep(w, first, first.p.Pos, "",
		fmt.Sprintf("AuthorizationPolicy %s selects the pod, but %s: nothing enforces it", strings.Join(names, ", "), why))}
}

// azRule is one rule of an applicable policy.
type azRule struct {
	cp *cpolicy
	r  *crule
}

// outcome of evaluating the rules of one action.
type azMatch struct {
	match   *azRule // the first rule that matches, in Envoy order
	unknown *cond   // the first undecidable rule's condition, when none matches
	unkRule *azRule
	dropped []string // HTTP-only fields left out of the matching rule
	why     cond
}

// evalAction evaluates the rules of the policies ps for action and returns
// per-policy steps, in policy order.
func evalAction(w *mesh.Workload, ps []*cpolicy, action mesh.AuthzAction, rq *authzReq) (azMatch, []Step) {
	var rules []azRule
	for _, cp := range ps {
		for _, r := range cp.rules {
			rules = append(rules, azRule{cp, r})
		}
	}
	slices.SortStableFunc(rules, func(a, b azRule) int { return strings.Compare(a.r.envoyName, b.r.envoyName) })
	var m azMatch
	results := make([]cond, len(rules))
	for i := range rules {
		c, dropped := rules[i].r.eval(action, rq)
		results[i] = c
		switch {
		case c.v == yes && m.match == nil:
			m.match, m.dropped, m.why = &rules[i], dropped, c
		case c.v == unknown && m.unknown == nil:
			cc := c
			m.unknown, m.unkRule = &cc, &rules[i]
		}
	}
	var steps []Step
	for _, cp := range ps {
		if m.match != nil && m.match.cp == cp {
			continue // the decision step names it
		}
		label := fmt.Sprintf("%s policy", action)
		if cp.p.Action == mesh.ActionCustom && cp.p.Provider != "" {
			label = fmt.Sprintf("CUSTOM policy (provider %q)", cp.p.Provider)
		}
		if len(cp.rules) == 0 {
			steps = append(steps, azStep(w, cp, cp.p.Pos, "",
				label+" without rules: it never matches (builder.go rbacPolicyMatchNever)"))
			continue
		}
		var parts []string
		undecided := false
		for _, r := range cp.rules {
			c := results[slices.IndexFunc(rules, func(x azRule) bool { return x.r == r })]
			switch c.v {
			case unknown:
				undecided = true
				parts = append(parts, fmt.Sprintf("rule %d may match: %s", r.index, c.why))
			default:
				parts = append(parts, fmt.Sprintf("rule %d: %s", r.index, c.why))
			}
		}
		verdict := "no rule matches"
		if undecided {
			verdict = "no rule surely matches"
		}
		steps = append(steps, azStep(w, cp, cp.p.Pos, "", fmt.Sprintf("%s: %s (%s)", label, verdict, strings.Join(parts, "; "))))
	}
	return m, steps
}

// authorize decides whether the AuthorizationPolicies of the injected
// server w let through what arrived on captured container port port over
// transport t, after the PeerAuthentication step accepted it: a connection
// from client dialled as p (DT5). ok false with undecided set means the
// outcome depends on something meshreach does not model. No steps when no
// AuthorizationPolicy is in the root namespace or w's namespace.
func (e *engine) authorize(w *mesh.Workload, port uint32, t Transport, client *mesh.Workload, p Probe) (ok bool, undecided string, steps []Step) {
	cands := e.az.candidates(w)
	if len(cands) == 0 {
		return true, "", nil
	}
	rq, chain := e.authzRequest(w, port, t, client, p)

	var custom, deny, allow []*cpolicy
	for _, cp := range cands {
		switch {
		case len(cp.p.TargetRefs) > 0:
			if cp.p.Selector == nil || subsetOf(cp.p.Selector, w.Labels) {
				steps = append(steps, azStep(w, cp, cp.p.Pos, "",
					fmt.Sprintf("ignored: it has targetRefs (%s), which attach policies to gateways and waypoints only; a sidecar skips it (policyattachment.go ShouldAttachPolicy)", targetRefs(cp.p.TargetRefs))))
			}
		case !selects(cp, w):
		case cp.p.Action == mesh.ActionAudit:
			steps = append(steps, azStep(w, cp, cp.p.Pos, "",
				"AUDIT only marks matching requests for audit logging; it never allows or denies (authorization_policy.proto)"))
		case cp.p.Action == mesh.ActionCustom:
			custom = append(custom, cp)
		case cp.p.DryRun:
			steps = append(steps, azStep(w, cp, cp.p.Pos, "",
				fmt.Sprintf("dry-run (istio.io/dry-run): its %s rules are shadow rules that are logged, never enforced (builder.go isDryRun)", cp.p.Action)))
		case cp.p.Action == mesh.ActionDeny:
			deny = append(deny, cp)
		default:
			allow = append(allow, cp)
		}
	}
	if len(custom)+len(deny)+len(allow) == 0 {
		return true, "", append(steps, azStep(w, nil, mesh.Pos{}, "no AuthorizationPolicy applies (authorization.go ListAuthorizationPolicies)",
			"no AuthorizationPolicy applies to the pod: allowed"))
	}
	denied := `the request gets HTTP 403 "RBAC: access denied"`
	if rq.tcp {
		denied = "the connection is closed right after it is accepted"
	}
	on := " (" + chain + ")"
	decide := func(by *azRule, def, detail string) Step {
		if by == nil {
			return azStep(w, nil, mesh.Pos{}, def, detail+on)
		}
		return azStep(w, by.cp, by.r.pos, "", detail+on)
	}
	dropNote := func(d []string) string {
		if len(d) == 0 {
			return ""
		}
		return fmt.Sprintf("; %s left out on this TCP filter chain, which makes the rule match more (model.go checkError)", strings.Join(d, ", "))
	}

	// 1. CUSTOM: a matching rule hands the request to the ext_authz
	// provider (builder.go buildHTTP/buildTCP). With an HTTP provider the
	// TCP chain skips it, and an unknown provider denies; neither is known
	// here, as meshConfig.extensionProviders is not modelled.
	cm, cSteps := evalAction(w, custom, mesh.ActionCustom, rq)
	steps = append(steps, cSteps...)
	var customWhy string
	switch {
	case cm.match != nil:
		customWhy = fmt.Sprintf("CUSTOM rule %d of %s matches (%s), so the ext_authz provider %q decides, and its answer is not modelled",
			cm.match.r.index, cm.match.cp.p.Ref.Name, cm.why.why, cm.match.cp.p.Provider)
		steps = append(steps, azStep(w, cm.match.cp, cm.match.r.pos, "", customWhy+dropNote(cm.dropped)))
	case cm.unknown != nil:
		customWhy = fmt.Sprintf("CUSTOM rule %d of %s may match (%s); if it does, the ext_authz provider %q decides",
			cm.unkRule.r.index, cm.unkRule.cp.p.Ref.Name, cm.unknown.why, cm.unkRule.cp.p.Provider)
	}

	// 2. DENY: any matching rule denies (the RBAC DENY filter).
	dm, dSteps := evalAction(w, deny, mesh.ActionDeny, rq)
	steps = append(steps, dSteps...)
	if dm.match != nil {
		return false, "", append(steps, decide(dm.match, "",
			fmt.Sprintf("DENY rule %d matches (%s%s): denied, %s", dm.match.r.index, dm.why.why, dropNote(dm.dropped), denied)))
	}

	// 3–5. ALLOW: none applies → allowed; else a rule must match.
	var am azMatch
	if len(allow) > 0 {
		var aSteps []Step
		am, aSteps = evalAction(w, allow, mesh.ActionAllow, rq)
		steps = append(steps, aSteps...)
		if am.match == nil && am.unknown == nil {
			first := &azRule{cp: allow[0], r: &crule{pos: allow[0].p.Pos}}
			return false, "", append(steps, decide(first, "",
				fmt.Sprintf("ALLOW policies apply to the pod (%s) and none of their rules matches: denied, %s", policyNames(allow), denied)))
		}
	}
	switch {
	case dm.unknown != nil:
		why := fmt.Sprintf("DENY rule %d of %s may match: %s", dm.unkRule.r.index, dm.unkRule.cp.p.Ref.Name, dm.unknown.why)
		return false, why, append(steps, decide(dm.unkRule, "", "undecided: "+why))
	case len(allow) > 0 && am.match == nil:
		why := fmt.Sprintf("ALLOW rule %d of %s may match: %s", am.unkRule.r.index, am.unkRule.cp.p.Ref.Name, am.unknown.why)
		return false, why, append(steps, decide(am.unkRule, "", "undecided: "+why))
	case customWhy != "":
		by := cm.match
		if by == nil {
			by = cm.unkRule
		}
		if am.match != nil {
			steps = append(steps, decide(am.match, "", fmt.Sprintf("ALLOW rule %d matches (%s)", am.match.r.index, am.why.why)))
		}
		return false, customWhy, append(steps, decide(by, "", "undecided: "+customWhy))
	case am.match != nil:
		return true, "", append(steps, decide(am.match, "",
			fmt.Sprintf("ALLOW rule %d matches (%s): allowed", am.match.r.index, am.why.why)))
	}
	return true, "", append(steps, decide(nil, "builder.go build: without ALLOW policies there is no ALLOW filter (authorization_policy.proto rule 3)",
		"no DENY rule matches and no ALLOW policy applies to the pod: allowed"))
}

func policyNames(ps []*cpolicy) string {
	names := make([]string, len(ps))
	for i, cp := range ps {
		names[i] = cp.p.Ref.Namespace + "/" + cp.p.Ref.Name
	}
	return strings.Join(names, ", ")
}

func targetRefs(refs []mesh.PolicyTargetRef) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.Kind + " " + r.Name
	}
	return strings.Join(parts, ", ")
}

// authzRequest describes what the server sidecar sees, and names the
// filter chain: HTTP for ports declared HTTP (HTTP/1.1, HTTP/2, gRPC) and
// for HTTP on sniffed ports, TCP otherwise (mtls-authn-authz.md §5.3 last
// item; listener_inbound.go buildInboundChainConfigs). TLS that is not
// Istio mTLS is forwarded as opaque TCP. Only Istio mTLS carries a peer
// identity: the client workload's SPIFFE ID in the mesh trust domain (§6).
func (e *engine) authzRequest(w *mesh.Workload, port uint32, t Transport, client *mesh.Workload, p Probe) (*authzReq, string) {
	rq := &authzReq{transport: t, port: port, tcp: true}
	decl := e.portProtocol(w, port)
	lp := listenerProtocol(decl.istio)
	switch {
	case t == TLS:
	case lp == 'h':
		rq.tcp = false
	case lp == 'a':
		rq.tcp = !p.Protocol.IsHTTP()
	}
	chain := "TCP filter chain"
	if !rq.tcp {
		chain = "HTTP filter chain"
		rq.raw = !p.Protocol.IsHTTP()
	}
	chain += " of container port " + strconv.FormatUint(uint64(port), 10) + ": " + decl.detail
	if t == MTLS {
		rq.peer = client.Identity(e.cfg.TrustDomain)
	}
	if a, err := netip.ParseAddr(client.IP); err == nil {
		rq.peerIP = a.Unmap()
	}
	if a, err := netip.ParseAddr(w.IP); err == nil {
		rq.destIP = a.Unmap()
	}
	if rq.tcp || rq.raw {
		return rq, chain
	}
	rq.method = p.Method
	if rq.method == "" {
		rq.method = "GET"
		if p.Protocol == GRPC {
			rq.method = "POST"
		}
	}
	rq.path = p.Path
	if i := strings.IndexAny(rq.path, "?#"); i >= 0 {
		rq.path = rq.path[:i]
	}
	if rq.path == "" {
		rq.path = "/"
	}
	rq.headers = make(map[string]string, len(p.Headers))
	for k, v := range p.Headers {
		rq.headers[strings.ToLower(k)] = v
	}
	_, rq.xff = rq.headers["x-forwarded-for"]
	switch h, ok := rq.headers["host"]; {
	case ok:
		rq.host, rq.hostKnown = h, true
	case p.To != "":
		rq.host, rq.hostKnown = p.To, true
	case rq.destIP.IsValid():
		rq.host, rq.hostKnown = rq.destIP.String(), true
	}
	if _, given := rq.headers["host"]; rq.hostKnown && !given && p.Port != 80 {
		rq.host += ":" + strconv.FormatUint(uint64(p.Port), 10)
	}
	return rq, chain
}

// Validate reports whether the probe is well-formed on its own, without a
// mesh: a port in 1..65535, and request fields only on HTTP probes, where
// the method and header names are HTTP tokens (RFC 9110 §5.6.2), the path
// is absolute, no header value holds a line break and no header is given
// twice in different case. [Simulator.Probe] returns its error.
func (p Probe) Validate() error {
	if p.Port == 0 || p.Port > 65535 {
		return fmt.Errorf("sim: invalid port %d", p.Port)
	}
	return checkRequest(p)
}

func checkRequest(p Probe) error {
	if p.Method == "" && p.Path == "" && len(p.Headers) == 0 {
		return nil
	}
	if !p.Protocol.IsHTTP() {
		return fmt.Errorf("sim: method, path and headers need an HTTP protocol (http, http2 or grpc), not %s", p.Protocol)
	}
	if p.Method != "" && !isToken(p.Method) {
		return fmt.Errorf("sim: invalid method %q", p.Method)
	}
	if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
		return fmt.Errorf("sim: invalid path %q (want an absolute path, starting with /)", p.Path)
	}
	seen := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(p.Headers)) {
		if !isToken(k) {
			return fmt.Errorf("sim: invalid header name %q", k)
		}
		if strings.ContainsAny(p.Headers[k], "\r\n\x00") {
			return fmt.Errorf("sim: invalid value for header %q: it contains a line break or NUL", k)
		}
		if prev, dup := seen[strings.ToLower(k)]; dup {
			return fmt.Errorf("sim: header %q given twice (as %q and %q)", strings.ToLower(k), prev, k)
		}
		seen[strings.ToLower(k)] = k
	}
	return nil
}

// isToken reports whether s is an HTTP token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
