package sim

// What the AuthorizationPolicies of a workload port mean for the plaintext
// client outside the mesh (mtls-authn-authz.md §5.3, DT5, T25–T28;
// ISTIO-SECURITY-2021-003): identity fields compile to Envoy RBAC
// authenticated principal matchers (pilot/pkg/security/authz/model/
// principal.go principalAuthenticated), which a connection without a peer
// certificate never satisfies, so an ALLOW rule that needs one never
// admits plaintext and a DENY rule that needs one never stops it.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// FindingKind names what an [ExposureFinding] reports.
type FindingKind string

// Finding kinds.
const (
	// FindingIdentityAllow: an ALLOW rule that applies to a port accepting
	// plaintext would match the plaintext connection but for its identity
	// conditions (source.principals, namespaces, serviceAccounts,
	// trustDomains, or when source.principal/namespace/serviceAccount/
	// trustDomain), which a connection without a peer certificate never
	// satisfies: the rule never admits plaintext. Whether plaintext is
	// denied in the end is [Exposure.Accepted]; the Detail says which rule
	// admits it when one does.
	FindingIdentityAllow FindingKind = "identity-allow-denies-plaintext"
	// FindingDenyBypassed: a DENY rule on a port accepting plaintext would
	// match the plaintext connection but for its identity conditions: a
	// plaintext client, even one from a namespace or with a principal the
	// rule names, is not stopped by it (ISTIO-SECURITY-2021-003). The not*
	// forms (notNamespaces, notPrincipals, …) match plaintext, so a DENY
	// rule built on them is not reported.
	FindingDenyBypassed FindingKind = "deny-bypassed-by-plaintext"
	// FindingNotEnforced: an ALLOW, DENY or CUSTOM policy selects the
	// workload, but the pod has no sidecar or its sidecar does not capture
	// the port: nothing enforces the policy there.
	FindingNotEnforced FindingKind = "policy-not-enforced"
)

// ExposureFinding is what one AuthorizationPolicy (or one of its rules)
// means for the plaintext client outside the mesh on one workload port.
type ExposureFinding struct {
	Kind   FindingKind
	Policy mesh.Ref // the AuthorizationPolicy
	// Rule is the index of the rule in spec.rules; -1 when the finding is
	// about the policy as a whole (FindingNotEnforced).
	Rule int
	Pos  mesh.Pos // where the rule is declared, else the policy
	// Detail says, in one or two sentences, what happens and why, citing
	// the Istio source.
	Detail string
}

// exposureFindings returns what the AuthorizationPolicies that apply to
// the port of x mean for the outside client's plaintext, sorted by policy
// namespace, name, rule and kind; nil when no policy acts on the pod.
func (m *Matrix) exposureFindings(x exposure) []ExposureFinding {
	s := m.out.sim
	if s == nil {
		return nil
	}
	e := s.e
	w, client := e.wl[m.wls[x.wi].ID], e.wl[OutsideID()]
	if w == nil || client == nil {
		return nil
	}
	cands := e.az.candidates(w)
	if len(cands) == 0 {
		return nil
	}
	acting, deny, allow := actingPolicies(cands, w)
	if len(acting) == 0 {
		return nil
	}
	var out []ExposureFinding
	notEnforced := func(why, src string) []ExposureFinding {
		for _, cp := range acting {
			out = append(out, ExposureFinding{Kind: FindingNotEnforced, Policy: cp.p.Ref, Rule: -1, Pos: cp.p.Pos,
				Detail: fmt.Sprintf("%s %s selects the pod, but %s: nothing enforces it, and the app gets whatever plaintext arrives (%s)",
					cp.p.Action, cp.p.Ref.Namespace+"/"+cp.p.Ref.Name, why, src)})
		}
		return sortFindings(out)
	}
	// The same gates as engine.serverSide: no sidecar or an uncaptured
	// port hands the bytes to the app; STRICT never lets plaintext reach
	// the RBAC filters.
	if !e.injected(w) {
		return notEnforced("the pod has no sidecar", "mtls-authn-authz.md §2.2")
	}
	if ok, _ := e.inboundCaptured(w, x.port); !ok {
		return notEnforced(fmt.Sprintf("its sidecar does not capture port %d", x.port), "sidecar-injection-egress.md §6, run.go handleInboundPortsInclude")
	}
	if ok, _ := e.serverAccept(w, x.port, Plaintext); !ok {
		return nil
	}
	mode, _ := e.peerMode(w, x.port)
	accepts := fmt.Sprintf("%s on port %d accepts plaintext", mode, x.port)
	rq, _ := e.authzRequest(w, x.port, Plaintext, client, outsideProbe(w.ID, x.port))

	// The ALLOW rule that admits the outside client's plaintext, if any,
	// as engine.authorize finds it (Envoy order).
	var am azMatch
	if len(allow) > 0 {
		am, _ = evalAction(w, allow, mesh.ActionAllow, rq)
	}
	outcome := func(action mesh.AuthzAction) string {
		allowed := x.code&codeAllowed != 0
		switch {
		case x.code&codeUndecided != 0:
			return "whether plaintext from outside the mesh gets in is undecided"
		case allowed && action == mesh.ActionAllow && am.match != nil:
			return fmt.Sprintf("plaintext from outside the mesh is allowed all the same: rule %d of %s/%s matches it",
				am.match.r.index, am.match.cp.p.Ref.Namespace, am.match.cp.p.Ref.Name)
		case allowed:
			return "plaintext from outside the mesh gets in"
		case action == mesh.ActionAllow && am.match == nil:
			return "plaintext from outside the mesh is denied: no ALLOW rule matches it"
		}
		return "plaintext from outside the mesh is denied all the same, by other rules"
	}
	for _, c := range []struct {
		action mesh.AuthzAction
		ps     []*cpolicy
	}{{mesh.ActionAllow, allow}, {mesh.ActionDeny, deny}} {
		for _, cp := range c.ps {
			for _, cr := range cp.rules {
				ids, maybe := identityOnly(cr, c.action, rq)
				if len(ids) == 0 {
					continue
				}
				name := cp.p.Ref.Namespace + "/" + cp.p.Ref.Name
				f := ExposureFinding{Policy: cp.p.Ref, Rule: cr.index, Pos: cr.pos}
				if c.action == mesh.ActionAllow {
					f.Kind = FindingIdentityAllow
					f.Detail = fmt.Sprintf("ALLOW rule %d of %s needs a peer identity (%s), which a plaintext connection never has, so it never admits plaintext%s; %s, and %s (principal.go principalAuthenticated, T25)",
						cr.index, name, strings.Join(ids, ", "), maybe, accepts, outcome(c.action))
				} else {
					f.Kind = FindingDenyBypassed
					f.Detail = fmt.Sprintf("DENY rule %d of %s needs a peer identity (%s), which a plaintext connection never has, so it never stops plaintext%s: a client it names bypasses it by sending plaintext; %s, and %s (ISTIO-SECURITY-2021-003, T27; the not* forms match plaintext instead)",
						cr.index, name, strings.Join(ids, ", "), maybe, accepts, outcome(c.action))
				}
				out = append(out, f)
			}
		}
	}
	return sortFindings(out)
}

// actingPolicies sorts out the candidates that can allow or deny on w's
// sidecar, as engine.authorize does: no targetRefs
// (policyattachment.go ShouldAttachPolicy), selected, not AUDIT, not
// dry-run (builder.go isDryRun). acting holds them all (CUSTOM too), in
// candidate order; deny and allow the DENY and ALLOW ones.
func actingPolicies(cands []*cpolicy, w *mesh.Workload) (acting, deny, allow []*cpolicy) {
	for _, cp := range cands {
		switch {
		case !selects(cp, w), cp.p.Action == mesh.ActionAudit:
			continue
		case cp.p.Action == mesh.ActionCustom:
			// engine.authorize reads the dry-run annotation for ALLOW
			// and DENY only (mesh.AuthorizationPolicy.DryRun).
		case cp.p.DryRun:
			continue
		case cp.p.Action == mesh.ActionDeny:
			deny = append(deny, cp)
		default:
			allow = append(allow, cp)
		}
		acting = append(acting, cp)
	}
	return acting, deny, allow
}

// identityOnly reports whether the identity conditions of rule cr are
// what keeps it from matching the request rq for action: the rule does
// not match, and it would (or might) without its peer predicates that
// fail (pred.eval on attrPeer, evaluated by crule.eval as for any
// request). It returns those predicates as the policy spells them, and
// maybe is a note when the rule would only perhaps match. A rule that does
// not cover the port (operation.ports), left out on a TCP chain or skipped
// by istiod keeps failing without them, and is not reported.
func identityOnly(cr *crule, action mesh.AuthzAction, rq *authzReq) (ids []string, maybe string) {
	if c, _ := cr.eval(action, rq); c.v != no {
		return nil, ""
	}
	stripped := *cr
	stripped.princs = make([][]*pred, len(cr.princs))
	var seen []*pred
	for i, alt := range cr.princs {
		keep := make([]*pred, 0, len(alt))
		for _, p := range alt {
			if p.attr == attrPeer && p.eval(rq).v == no {
				if !slices.Contains(seen, p) {
					seen = append(seen, p)
					ids = append(ids, p.name+" "+quoted(p.vals))
				}
				continue
			}
			keep = append(keep, p)
		}
		stripped.princs[i] = keep
	}
	if len(seen) == 0 {
		return nil, ""
	}
	c, _ := stripped.eval(action, rq)
	switch c.v {
	case no:
		return nil, ""
	case unknown:
		maybe = " (without them the rule might match: " + c.why + ")"
	}
	return ids, maybe
}

func sortFindings(fs []ExposureFinding) []ExposureFinding {
	slices.SortStableFunc(fs, func(a, b ExposureFinding) int {
		return cmp.Or(strings.Compare(a.Policy.Namespace, b.Policy.Namespace), strings.Compare(a.Policy.Name, b.Policy.Name),
			cmp.Compare(a.Rule, b.Rule), strings.Compare(string(a.Kind), string(b.Kind)))
	})
	return fs
}
