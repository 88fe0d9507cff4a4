package mesh

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	security "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
)

// This file ports Istio's admission validation of AuthorizationPolicy, in
// istio/istio @ 86c9f01 (mtls-authn-authz.md §5):
//   pkg/config/validation/validation.go   ValidateAuthorizationPolicy,
//     validateMetadata/checkDryRunAnnotation, validateOneOfSelectorType,
//     validateWorkloadSelector, validatePolicyTargetReference(s)
//   pkg/config/security/security.go   ValidateIPs, ValidatePorts,
//     CheckEmptyValues, CheckServiceAccount, CheckTrustDomainValues,
//     CheckWildcardValues, CheckValidPathTemplate, ValidateAttribute
// and the limits of the CRD schema (manifests/charts/base/files/
// crd-all.gen.yaml: maxItems of rules, from and targetRefs). Istio joins
// the webhook's findings into one multierror prefixed "invalid policy
// <name>.<namespace>:"; here each finding is its own error at the field it
// concerns, with Istio's wording.

// dryRunAnnotation is annotation.IoIstioDryRun.
const dryRunAnnotation = "istio.io/dry-run"

// missing is a validation failure that reports an absent value.
func missing(format string, args ...any) error {
	return &ruleError{kind: ErrMissingField, msg: fmt.Sprintf(format, args...)}
}

// validateAuthorizationPolicy is ValidateAuthorizationPolicy, preceded by
// the dry-run annotation check of validateMetadata.
func validateAuthorizationPolicy(at *locator, m *meta, p *security.AuthorizationPolicy) {
	// checkDryRunAnnotation: only ALLOW and DENY may be dry-run, with a
	// value strconv.ParseBool accepts.
	if val, ok := m.annotations[dryRunAnnotation]; ok {
		n := labelNode(m.node, "annotations", dryRunAnnotation)
		path := "metadata.annotations[" + dryRunAnnotation + "]"
		switch p.GetAction() {
		case security.AuthorizationPolicy_ALLOW, security.AuthorizationPolicy_DENY:
			if _, err := strconv.ParseBool(val); err != nil {
				at.o.fail(n, path, rule("%s/%s has annotation %s with invalid value (%s): %v", m.namespace, m.name, dryRunAnnotation, val, err))
			}
		default:
			at.o.fail(n, path, rule("the annotation %s currently only supports action ALLOW/DENY, found action %v in %s/%s",
				dryRunAnnotation, p.GetAction(), m.namespace, m.name))
		}
	}

	// validateOneOfSelectorType (also the CRD rule "only one of targetRefs
	// or selector can be set").
	set := 0
	if p.GetSelector() != nil {
		set++
	}
	if p.GetTargetRef() != nil {
		set++
	}
	if len(p.GetTargetRefs()) > 0 {
		set++
	}
	if set > 1 {
		at.fail("spec", rule("only one of targetRefs or workloadSelector can be set"))
	}
	// validateWorkloadSelector
	if sel := p.GetSelector(); sel != nil {
		selectorLabels(at, "spec.selector.matchLabels", sel.GetMatchLabels())
		if len(sel.GetMatchLabels()) == 0 {
			at.warn("spec.selector", errors.New("workload selector specified without labels"))
		}
	}
	if tr := p.GetTargetRef(); tr != nil {
		targetRef(at, "spec.targetRef", tr)
	}
	if n := len(p.GetTargetRefs()); n > 16 {
		at.fail("spec.targetRefs", tooMany(n, 16))
	}
	for i, tr := range p.GetTargetRefs() {
		targetRef(at, index("spec.targetRefs", i), tr)
	}

	action := p.GetAction()
	rules := p.GetRules()
	if n := len(rules); n > 512 {
		at.fail("spec.rules", tooMany(n, 512))
	}
	if action == security.AuthorizationPolicy_CUSTOM {
		if rules == nil {
			at.fail("spec", missing("CUSTOM action without `rules` is meaningless as it will never be triggered, "+
				"add an empty rule `{}` if you want it be triggered for every request"))
		} else if p.GetProvider() == nil || p.GetProvider().GetName() == "" {
			at.fail("spec.provider", missing("`provider.name` must not be empty"))
		}
		for i, r := range rules {
			customRule(at, index("spec.rules", i), r)
		}
	}
	if p.GetProvider() != nil && action != security.AuthorizationPolicy_CUSTOM {
		at.fail("spec.provider", rule("`provider` must not be with non CUSTOM action, found %s", action))
	}
	if action == security.AuthorizationPolicy_DENY && rules == nil {
		at.fail("spec", missing("DENY action without `rules` is meaningless as it will never be triggered, "+
			"add an empty rule `{}` if you want it be triggered for every request"))
	}

	// The webhook's "`rule` must not be nil", "`from` must not be empty"
	// and "`to` must not be empty" cannot fire here: a null list item is
	// already rejected by the schema walk, and protojson decodes an empty
	// list as an absent one.
	for i, r := range rules {
		rp := index("spec.rules", i)
		if n := len(r.GetFrom()); n > 512 {
			at.fail(rp+".from", tooMany(n, 512))
		}
		tcpInFrom, tcpInTo, fromExists, toExists := false, false, false, false
		for j, from := range r.GetFrom() {
			fp := index(rp+".from", j)
			src := from.GetSource()
			if src == nil {
				at.fail(fp, missing("`from.source` must not be nil, found at rule %d", i))
				continue
			}
			fromExists = true
			sp := fp + ".source"
			if len(src.Principals)+len(src.NotPrincipals)+len(src.Namespaces)+len(src.NotNamespaces) > 0 &&
				len(src.ServiceAccounts)+len(src.NotServiceAccounts) > 0 {
				at.fail(sp, rule("cannot set serviceAccounts with namespaces or principals, found at rule %d", i))
			}
			if sourceEmpty(src) {
				at.fail(sp, missing("`from.source` must not be empty, found at rule %d", i))
			}
			validIPs(at, sp+".ipBlocks", src.IpBlocks)
			validIPs(at, sp+".notIpBlocks", src.NotIpBlocks)
			validIPs(at, sp+".remoteIpBlocks", src.RemoteIpBlocks)
			validIPs(at, sp+".notRemoteIpBlocks", src.NotRemoteIpBlocks)
			emptyValues(at, sp+".principals", "Principals", src.Principals)
			emptyValues(at, sp+".requestPrincipals", "RequestPrincipals", src.RequestPrincipals)
			emptyValues(at, sp+".namespaces", "Namespaces", src.Namespaces)
			serviceAccounts(at, sp+".serviceAccounts", "ServiceAccounts", src.ServiceAccounts)
			trustDomainValues(at, sp+".trustDomains", "TrustDomains", src.TrustDomains)
			emptyValues(at, sp+".ipBlocks", "IpBlocks", src.IpBlocks)
			emptyValues(at, sp+".remoteIpBlocks", "RemoteIpBlocks", src.RemoteIpBlocks)
			emptyValues(at, sp+".notPrincipals", "NotPrincipals", src.NotPrincipals)
			emptyValues(at, sp+".notRequestPrincipals", "NotRequestPrincipals", src.NotRequestPrincipals)
			emptyValues(at, sp+".notNamespaces", "NotNamespaces", src.NotNamespaces)
			serviceAccounts(at, sp+".notServiceAccounts", "NotServiceAccounts", src.NotServiceAccounts)
			trustDomainValues(at, sp+".notTrustDomains", "NotTrustDomains", src.NotTrustDomains)
			emptyValues(at, sp+".notIpBlocks", "NotIpBlocks", src.NotIpBlocks)
			emptyValues(at, sp+".notRemoteIpBlocks", "NotRemoteIpBlocks", src.NotRemoteIpBlocks)
			// The TCP attributes of a source, as the webhook counts them
			// (trustDomains are not among them there).
			if src.NotPrincipals != nil || src.Principals != nil || src.IpBlocks != nil || src.NotIpBlocks != nil ||
				src.Namespaces != nil || src.NotNamespaces != nil || src.RemoteIpBlocks != nil || src.NotRemoteIpBlocks != nil ||
				src.ServiceAccounts != nil || src.NotServiceAccounts != nil {
				tcpInFrom = true
			}
		}
		for j, to := range r.GetTo() {
			tp := index(rp+".to", j)
			op := to.GetOperation()
			if op == nil {
				at.fail(tp, missing("`to.operation` must not be nil, found at rule %d", i))
				continue
			}
			toExists = true
			opp := tp + ".operation"
			if len(op.Ports) == 0 && len(op.Methods) == 0 && len(op.Paths) == 0 && len(op.Hosts) == 0 &&
				len(op.NotPorts) == 0 && len(op.NotMethods) == 0 && len(op.NotPaths) == 0 && len(op.NotHosts) == 0 {
				at.fail(opp, missing("`to.operation` must not be empty, found at rule %d", i))
			}
			validPorts(at, opp+".ports", op.Ports)
			validPorts(at, opp+".notPorts", op.NotPorts)
			emptyValues(at, opp+".ports", "Ports", op.Ports)
			emptyValues(at, opp+".methods", "Methods", op.Methods)
			emptyValues(at, opp+".paths", "Paths", op.Paths)
			emptyValues(at, opp+".hosts", "Hosts", op.Hosts)
			emptyValues(at, opp+".notPorts", "NotPorts", op.NotPorts)
			emptyValues(at, opp+".notMethods", "NotMethods", op.NotMethods)
			emptyValues(at, opp+".notPaths", "NotPaths", op.NotPaths)
			emptyValues(at, opp+".notHosts", "NotHosts", op.NotHosts)
			pathTemplates(at, opp+".paths", "Paths", op.Paths)
			pathTemplates(at, opp+".notPaths", "NotPaths", op.NotPaths)
			if op.Ports != nil || op.NotPorts != nil {
				tcpInTo = true
			}
		}
		for j, c := range r.GetWhen() {
			cp := index(rp+".when", j)
			key := c.GetKey()
			switch {
			case key == "":
				at.fail(cp+".key", missing("`key` must not be empty"))
			case len(c.GetValues()) == 0 && len(c.GetNotValues()) == 0:
				at.fail(cp, missing("at least one of `values` or `notValues` must be set for key %s", key))
			default:
				for _, f := range []struct {
					field, what string
					vals        []string
				}{{"values", "value", c.GetValues()}, {"notValues", "notValue", c.GetNotValues()}} {
					i, err := attribute(key, f.vals)
					switch {
					case err == nil:
					case i < 0 && len(f.vals) == 0:
						// ValidateAttribute is called on an empty list too and
						// reports a bad key there as well.
						at.fail(cp+".key", rule("invalid `%s` for `key` %s: %v", f.what, key, err))
					case i < 0:
						at.fail(cp+"."+f.field, rule("invalid `%s` for `key` %s: %v", f.what, key, err))
					default:
						at.fail(index(cp+"."+f.field, i), rule("invalid `%s` for `key` %s: %v", f.what, key, err))
					}
				}
			}
		}
		// A DENY rule made only of HTTP attributes denies every TCP
		// connection in its scope: the webhook warns.
		if ((fromExists && !toExists && !tcpInFrom) || (toExists && !tcpInTo)) && action == security.AuthorizationPolicy_DENY {
			at.warn(rp, errors.New("configured AuthorizationPolicy will deny all traffic "+
				"to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; "+
				"it is recommended to explicitly specify the port"))
		}
	}
}

// tooMany is the API server's message for a list over its CRD maxItems.
func tooMany(n, max int) error {
	return rule("Too many: %d: must have at most %d items", n, max)
}

// allowedTargetRefs are validatePolicyTargetReference's allowedTargetRefs,
// rendered as config.GroupVersionKind renders itself.
var allowedTargetRefs = []struct{ group, kind string }{
	{"core", "Service"}, {"networking.istio.io", "ServiceEntry"},
	{"gateway.networking.k8s.io", "Gateway"}, {"gateway.networking.k8s.io", "GatewayClass"},
}

const allowedTargetRefsText = "[core/v1/Service networking.istio.io/v1/ServiceEntry gateway.networking.k8s.io/v1/Gateway gateway.networking.k8s.io/v1/GatewayClass]"

// targetRef is validatePolicyTargetReference.
func targetRef(at *locator, p string, tr *typev1beta1.PolicyTargetReference) {
	if tr.GetName() == "" {
		at.fail(p+".name", missing("targetRef name must be set"))
	}
	if tr.GetNamespace() != "" {
		at.fail(p+".namespace", rule("targetRef namespace must not be set; cross namespace referencing is not supported"))
	}
	group := tr.GetGroup()
	if group == "" {
		group = "core"
	}
	if !slices.ContainsFunc(allowedTargetRefs, func(a struct{ group, kind string }) bool {
		return a.kind == tr.GetKind() && a.group == group
	}) {
		at.fail(p, rule("targetRef must be to one of %s but was %s/%s", allowedTargetRefsText, tr.GetGroup(), tr.GetKind()))
	}
}

// customRule holds the CUSTOM-only checks of ValidateAuthorizationPolicy:
// identity attributes are not supported with CUSTOM.
func customRule(at *locator, rp string, r *security.Rule) {
	unsupported := func(p, name string) { at.fail(p, rule("%s is currently not supported with CUSTOM action", name)) }
	for j, from := range r.GetFrom() {
		src := from.GetSource()
		if src == nil {
			continue
		}
		sp := index(rp+".from", j) + ".source"
		for _, f := range []struct {
			path, name string
			vals       []string
		}{
			{"namespaces", "From.Namespaces", src.Namespaces},
			{"notNamespaces", "From.NotNamespaces", src.NotNamespaces},
			{"serviceAccounts", "From.ServiceAccounts", src.ServiceAccounts},
			{"notServiceAccounts", "From.NotServiceAccounts", src.NotServiceAccounts},
			{"trustDomains", "From.TrustDomains", src.TrustDomains},
			{"notTrustDomains", "From.NotTrustDomains", src.NotTrustDomains},
			{"principals", "From.Principals", src.Principals},
			{"notPrincipals", "From.NotPrincipals", src.NotPrincipals},
			{"requestPrincipals", "From.RequestPrincipals", src.RequestPrincipals},
			{"notRequestPrincipals", "From.NotRequestPrincipals", src.NotRequestPrincipals},
		} {
			if len(f.vals) != 0 {
				unsupported(sp+"."+f.path, f.name)
			}
		}
	}
	for j, c := range r.GetWhen() {
		k := c.GetKey()
		if k == "source.namespace" || k == "source.serviceAccount" || k == "source.trustDomain" ||
			k == "source.principal" || strings.HasPrefix(k, "request.auth.") {
			unsupported(index(rp+".when", j)+".key", k)
		}
	}
}

func sourceEmpty(s *security.Source) bool {
	return len(s.Principals) == 0 && len(s.RequestPrincipals) == 0 && len(s.Namespaces) == 0 && len(s.IpBlocks) == 0 &&
		len(s.RemoteIpBlocks) == 0 && len(s.NotPrincipals) == 0 && len(s.NotRequestPrincipals) == 0 && len(s.NotNamespaces) == 0 &&
		len(s.NotIpBlocks) == 0 && len(s.NotRemoteIpBlocks) == 0 && len(s.ServiceAccounts) == 0 && len(s.NotServiceAccounts) == 0 &&
		len(s.TrustDomains) == 0 && len(s.NotTrustDomains) == 0
}

// ipError is ValidateIPs for one value: a CIDR when it has a slash, else
// an address.
func ipError(v string) error {
	if strings.Contains(v, "/") {
		if _, err := netip.ParsePrefix(v); err != nil {
			return fmt.Errorf("bad CIDR range (%s): %v", v, err)
		}
		return nil
	}
	if _, err := netip.ParseAddr(v); err != nil {
		return fmt.Errorf("bad IP address (%s)", v)
	}
	return nil
}

// validIPs is ValidateIPs; each bad value is reported at its item.
func validIPs(at *locator, p string, ips []string) {
	for i, v := range ips {
		if err := ipError(v); err != nil {
			at.fail(index(p, i), rule("%v", err))
		}
	}
}

// portError is ValidatePorts for one value. Istio prints the parse error
// even when there is none (a number above 65535 reads "<nil>").
func portError(v string) error {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n > 65535 {
		return fmt.Errorf("bad port (%s): %v", v, err)
	}
	return nil
}

// validPorts is ValidatePorts; each bad value is reported at its item.
func validPorts(at *locator, p string, ports []string) {
	for i, v := range ports {
		if err := portError(v); err != nil {
			at.fail(index(p, i), rule("%v", err))
		}
	}
}

// emptyValues is CheckEmptyValues: the first empty value is reported.
func emptyValues(at *locator, p, key string, vals []string) {
	if i := slices.Index(vals, ""); i >= 0 {
		at.fail(index(p, i), rule("empty value not allowed, found in %s", key))
	}
}

// serviceAccountError is CheckServiceAccount; i is the offending item, or
// -1 for the whole list.
func serviceAccountError(key string, vals []string) (int, error) {
	if len(vals) > 16 {
		return -1, errors.New("may not have more than 16 values")
	}
	for i, v := range vals {
		if v == "" {
			return i, fmt.Errorf("empty value not allowed, found in %s", key)
		}
		if strings.Contains(v, "*") {
			return i, fmt.Errorf("wildcard not allowed, found in %s", key)
		}
		if n := strings.Count(v, "/"); n != 0 && n != 1 {
			return i, fmt.Errorf("expected format 'serviceAccount' or 'namespace/serviceAccount', found %q in %s", v, key)
		}
		if len(v) > 320 {
			return i, fmt.Errorf("value cannot exceed 320 characters, found %q in %s", v, key)
		}
		if ns, sa, ok := strings.Cut(v, "/"); ok {
			if ns == "" {
				return i, fmt.Errorf("expected format 'serviceAccount' or 'namespace/serviceAccount', found empty namespace %q in %s", v, key)
			}
			if sa == "" {
				return i, fmt.Errorf("expected format 'serviceAccount' or 'namespace/serviceAccount', found empty serviceAccount %q in %s", v, key)
			}
		}
	}
	return 0, nil
}

func serviceAccounts(at *locator, p, key string, vals []string) {
	i, err := serviceAccountError(key, vals)
	switch {
	case err == nil:
	case i < 0:
		at.fail(p, rule("%v", err))
	default:
		at.fail(index(p, i), rule("%v", err))
	}
}

// wildcardError is CheckWildcardValues.
func wildcardError(key string, vals []string) (int, error) {
	for i, v := range vals {
		if v == "" {
			return i, fmt.Errorf("empty value not allowed, found in %s", key)
		}
	}
	for i, v := range vals {
		switch n := strings.Count(v, "*"); {
		case n > 1:
			return i, fmt.Errorf("at most one wildcard is allowed, found in %s: %q", key, v)
		case n == 1 && v != "*" && !strings.HasPrefix(v, "*") && !strings.HasSuffix(v, "*"):
			return i, fmt.Errorf("wildcard is only allowed at the start or end, found in %s: %q", key, v)
		}
	}
	return 0, nil
}

// trustDomainValues is CheckTrustDomainValues.
func trustDomainValues(at *locator, p, key string, vals []string) {
	i, err := wildcardError(key, vals)
	if err == nil {
		for j, v := range vals {
			if strings.Contains(v, "/") {
				i, err = j, fmt.Errorf("trust domain must not contain '/', found in %s: %q", key, v)
				break
			}
		}
	}
	if err != nil {
		at.fail(index(p, i), rule("%v", err))
	}
}

// validLiteral is security.validLiteral: an RFC 3986 pchar run.
var validLiteral = regexp.MustCompile("^[a-zA-Z0-9-._~%!$&'()+,;:@=]+$")

// pathTemplateError is CheckValidPathTemplate for one path.
func pathTemplateError(key, path string) error {
	template := strings.Contains(path, "{*}") || strings.Contains(path, "{**}")
	anySeen := false
	path = strings.Trim(path, "/")
	for _, glob := range strings.Split(path, "/") {
		switch {
		case glob == "{*}" && !anySeen:
			continue
		case glob == "{**}" && !anySeen:
			anySeen = true
			continue
		case (glob == "{**}" || glob == "{*}") && anySeen:
			return fmt.Errorf("invalid or unsupported path %s, found in %s. {**} is not the last operator", path, key)
		}
		if strings.ContainsAny(glob, "{}") {
			return fmt.Errorf("invalid or unsupported path %s, found in %s. Contains '{' or '}' beyond a supported path template", path, key)
		}
		if template && !validLiteral.MatchString(glob) {
			return fmt.Errorf("invalid or unsupported path %s, found in %s. Contains segment %s with invalid string literal", path, key, glob)
		}
	}
	return nil
}

func pathTemplates(at *locator, p, key string, paths []string) {
	for i, v := range paths {
		if err := pathTemplateError(key, v); err != nil {
			at.fail(index(p, i), rule("%v", err))
			return
		}
	}
}

// attribute is ValidateAttribute: the keys Istio knows for `when`, and the
// values each takes. i is the offending value, or -1 when the key itself
// is wrong. Istio gathers every bad address or port of a key into one
// multierror; here the first one is reported, at its item.
func attribute(key string, vals []string) (int, error) {
	if i := slices.Index(vals, ""); i >= 0 {
		return i, fmt.Errorf("empty value not allowed, found in %s", key)
	}
	each := func(check func(string) error) (int, error) {
		for i, v := range vals {
			if err := check(v); err != nil {
				return i, err
			}
		}
		return 0, nil
	}
	switch {
	case strings.HasPrefix(key, "request.headers"):
		return -1, mapKey(key)
	case key == "source.ip", key == "remote.ip", key == "destination.ip":
		return each(ipError)
	case key == "source.namespace", key == "source.principal", key == "request.auth.principal",
		key == "request.auth.audiences", key == "request.auth.presenter", key == "connection.sni":
		return 0, nil
	case key == "source.serviceAccount":
		return serviceAccountError(key, vals)
	case key == "source.trustDomain":
		return wildcardError(key, vals)
	case strings.HasPrefix(key, "request.auth.claims"):
		return -1, mapKey(key)
	case key == "destination.port":
		return each(portError)
	case strings.HasPrefix(key, "experimental.envoy.filters."):
		return -1, mapKey(key)
	case key == "destination.namespace":
		return -1, fmt.Errorf("attribute %s is replaced by the metadata.namespace", key)
	case strings.HasPrefix(key, "destination.labels"):
		return -1, fmt.Errorf("attribute %s is replaced by the workload selector", key)
	case key == "destination.name", key == "destination.user":
		return -1, fmt.Errorf("deprecated attribute %s: only supported in v1alpha1", key)
	}
	return -1, fmt.Errorf("unknown attribute: %s", key)
}

// mapKey is validateMapKey: "a[b]".
func mapKey(key string) error {
	open := strings.Index(key, "[")
	if strings.HasSuffix(key, "]") && open > 0 && open < len(key)-2 {
		return nil
	}
	return fmt.Errorf("bad key (%s): should have format a[b]", key)
}
