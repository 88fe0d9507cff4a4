package mesh

import (
	"slices"
	"strconv"

	security "istio.io/api/security/v1beta1"
)

// convertAuthorizationPolicy turns a checked AuthorizationPolicy spec into
// the model. A dry-run annotation that strconv.ParseBool does not accept
// was already rejected; istiod would treat it as false
// (pilot/pkg/security/authz/builder/builder.go isDryRun).
func convertAuthorizationPolicy(at *locator, p *security.AuthorizationPolicy, m *meta) AuthorizationPolicy {
	out := AuthorizationPolicy{
		Ref:      Ref{Kind: "AuthorizationPolicy", Namespace: m.namespace, Name: m.name},
		Selector: selector(p.GetSelector() != nil, p.GetSelector().GetMatchLabels()),
		Action:   AuthzAction(p.GetAction()),
		Provider: p.GetProvider().GetName(),
		Created:  m.created,
		Pos:      m.pos,
	}
	if v, ok := m.annotations[dryRunAnnotation]; ok {
		out.DryRun, _ = strconv.ParseBool(v)
	}
	// model.GetTargetRefs: targetRefs, else the legacy targetRef.
	refs := p.GetTargetRefs()
	if len(refs) == 0 && p.GetTargetRef() != nil {
		refs = append(refs, p.GetTargetRef())
	}
	for _, r := range refs {
		out.TargetRefs = append(out.TargetRefs, PolicyTargetRef{Group: r.GetGroup(), Kind: r.GetKind(), Name: r.GetName(), Namespace: r.GetNamespace()})
	}
	for i, r := range p.GetRules() {
		rule := AuthzRule{Pos: at.pos(index("spec.rules", i))}
		for _, f := range r.GetFrom() {
			s := f.GetSource()
			rule.From = append(rule.From, AuthzSource{
				Principals: clone(s.GetPrincipals()), NotPrincipals: clone(s.GetNotPrincipals()),
				RequestPrincipals: clone(s.GetRequestPrincipals()), NotRequestPrincipals: clone(s.GetNotRequestPrincipals()),
				Namespaces: clone(s.GetNamespaces()), NotNamespaces: clone(s.GetNotNamespaces()),
				ServiceAccounts: clone(s.GetServiceAccounts()), NotServiceAccounts: clone(s.GetNotServiceAccounts()),
				IPBlocks: clone(s.GetIpBlocks()), NotIPBlocks: clone(s.GetNotIpBlocks()),
				RemoteIPBlocks: clone(s.GetRemoteIpBlocks()), NotRemoteIPBlocks: clone(s.GetNotRemoteIpBlocks()),
				TrustDomains: clone(s.GetTrustDomains()), NotTrustDomains: clone(s.GetNotTrustDomains()),
			})
		}
		for _, t := range r.GetTo() {
			o := t.GetOperation()
			rule.To = append(rule.To, AuthzOperation{
				Hosts: clone(o.GetHosts()), NotHosts: clone(o.GetNotHosts()),
				Ports: clone(o.GetPorts()), NotPorts: clone(o.GetNotPorts()),
				Methods: clone(o.GetMethods()), NotMethods: clone(o.GetNotMethods()),
				Paths: clone(o.GetPaths()), NotPaths: clone(o.GetNotPaths()),
			})
		}
		for _, c := range r.GetWhen() {
			rule.When = append(rule.When, AuthzCondition{Key: c.GetKey(), Values: clone(c.GetValues()), NotValues: clone(c.GetNotValues())})
		}
		out.Rules = append(out.Rules, rule)
	}
	return out
}

// clone copies a list, keeping nil for an absent one.
func clone(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
