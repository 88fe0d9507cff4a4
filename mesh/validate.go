package mesh

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
)

// This file ports the parts of Istio's admission validation that decide
// what meshreach models: Sidecar listeners and egress hosts, exportTo,
// DestinationRule and ServiceEntry hosts and ports, PeerAuthentication
// ports and selectors. Sources, in istio/istio @ 86c9f01
// (sidecar-injection-egress.md §3.5):
//   pkg/config/validation/validation.go   ValidateSidecar, validateExportTo,
//     ValidateDestinationRule, ValidateServiceEntry, ValidatePeerAuthentication,
//     validateWorkloadSelector, ValidateAlphaWorkloadSelector,
//     validateSidecarEgressPortBindAndCaptureMode, validateSidecarIngressPortAndBind,
//     validateSidecarOutboundTrafficPolicy, ValidatePortName, ValidateProtocol
//   pkg/config/validation/agent/validation.go   ValidateNamespaceSlashWildcardHostname,
//     validateSidecarOrGatewayHostnamePart, ValidatePartialWildCard,
//     ValidateWildcardDomain, ValidateFQDN, ValidatePort, ValidateIPSubnet
// Messages are Istio's own, so they can be looked up in its docs and issues.

// ruleError is a validation failure worded as Istio words it; errors.Is
// sees its sentinel.
type ruleError struct {
	kind error
	msg  string
}

func (e *ruleError) Error() string { return e.msg }
func (e *ruleError) Unwrap() error { return e.kind }

func rule(format string, args ...any) error {
	return &ruleError{kind: ErrInvalidValue, msg: fmt.Sprintf(format, args...)}
}

// badValue reports a value with Istio's reasons.
func badValue(v string, reasons []string) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidValue, v, strings.Join(reasons, "; "))
}

// istioLabel is Istio's DNS-1123 label (pkg/config/labels IsDNS1123Label):
// upper case is allowed, unlike Kubernetes'.
var istioLabel = regexp.MustCompile(`^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$`)

func isIstioLabel(s string) bool { return len(s) <= 63 && istioLabel.MatchString(s) }

// istioWildcardLabel is IsWildcardDNS1123Label: "*", or a label with an
// optional "*" or "*-" prefix.
var istioWildcardLabel = regexp.MustCompile(`^(\*|(\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$`)

func isIstioWildcardLabel(s string) bool { return len(s) <= 63 && istioWildcardLabel.MatchString(s) }

// dnsPreconditions is CheckDNS1123Preconditions.
func dnsPreconditions(name string) string {
	switch {
	case len(name) > 255:
		return fmt.Sprintf("domain name %q too long (max 255)", name)
	case name == "":
		return "empty domain name not allowed"
	}
	return ""
}

// dnsLabels is ValidateDNS1123Labels.
func dnsLabels(domain string) string {
	parts := strings.Split(domain, ".")
	if tld := parts[len(parts)-1]; tld != "" {
		if _, err := strconv.Atoi(tld); err == nil {
			return fmt.Sprintf("domain name %q invalid (top level domain %q cannot be all-numeric)", domain, tld)
		}
	}
	for i, l := range parts {
		if i == len(parts)-1 && l == "" {
			return "" // a trailing dot is allowed
		}
		if !isIstioLabel(l) {
			return fmt.Sprintf("domain name %q invalid (label %q invalid)", domain, l)
		}
	}
	return ""
}

// wildcardDomain is ValidateWildcardDomain: an FQDN with an optional
// wildcard first label.
func wildcardDomain(domain string) string {
	if msg := dnsPreconditions(domain); msg != "" {
		return msg
	}
	first, rest, more := strings.Cut(domain, ".")
	if !isIstioWildcardLabel(first) {
		return fmt.Sprintf("domain name %q invalid (label %q invalid)", domain, first)
	}
	if more {
		return dnsLabels(rest)
	}
	return ""
}

// fqdn is ValidateFQDN.
func fqdn(name string) string {
	if msg := dnsPreconditions(name); msg != "" {
		return msg
	}
	return dnsLabels(name)
}

// partialWildcard is ValidatePartialWildCard.
func partialWildcard(host string) string {
	if strings.Contains(host, "*") && len(host) != 1 && !strings.HasPrefix(host, "*.") {
		return fmt.Sprintf("partial wildcard %q not allowed", host)
	}
	return ""
}

// egressHost is ValidateNamespaceSlashWildcardHostname for a Sidecar
// (isGateway false). The namespace may carry a "~" prefix: since Istio 1.31
// (commit 4c3c712, PR #60581) "~ns/…" excludes and a bare "~" is any
// namespace (sidecar-injection-egress.md §3.1); up to 1.30 "~ns/…" was
// rejected with `invalid namespace value "~ns" in sidecar`.
func egressHost(host string) []string {
	ns, dns, ok := strings.Cut(host, "/")
	if !ok {
		return []string{"host must be of form namespace/dnsName"}
	}
	var out []string
	if ns == "" || dns == "" {
		out = append(out, "config namespace and dnsName in host entry cannot be empty")
	}
	if n := strings.TrimPrefix(ns, "~"); n != "" && n != "*" && n != "." && !isIstioLabel(n) {
		out = append(out, fmt.Sprintf("invalid namespace value %q in sidecar", ns))
	}
	// validateSidecarOrGatewayHostnamePart
	if dns != "*" && !strings.Contains(dns, ".") {
		out = append(out, "short names (non FQDN) are not allowed")
	}
	if msg := wildcardDomain(dns); msg != "" {
		out = append(out, msg)
	}
	if msg := partialWildcard(dns); msg != "" {
		out = append(out, msg)
	}
	return out
}

// portNumber is ValidatePort.
func portNumber(at *locator, p string, n int) {
	if n < 1 || n > 65535 {
		at.fail(p, rule("port number %d must be in the range 1..65535", n))
	}
}

// portName is ValidatePortName.
func portName(at *locator, p, name string) {
	if !isIstioLabel(name) {
		at.fail(p, rule("invalid port name: %s", name))
	}
}

// istioProtocols are the names pkg/config/protocol Parse knows (compared
// case-insensitively).
var istioProtocols = []string{"tcp", "udp", "grpc", "grpc-web", "http", "http_proxy", "http2", "https", "tls", "mongo", "redis", "mysql"}

// protocolName is ValidateProtocol: empty (sniffed) or a known protocol.
func protocolName(at *locator, p, proto string) {
	if proto != "" && !slices.Contains(istioProtocols, strings.ToLower(proto)) {
		at.fail(p, rule("unsupported protocol: %s", proto))
	}
}

// ipAddress is ValidateIPAddress.
func ipAddress(at *locator, p, addr string) {
	if _, err := netip.ParseAddr(addr); err != nil {
		at.fail(p, rule("%s is not a valid IP", addr))
	}
}

// unixAddress is ValidateUnixAddress.
func unixAddress(at *locator, p, addr string) {
	switch {
	case addr == "":
		at.fail(p, rule("unix address must not be empty"))
	case strings.HasPrefix(addr, "@"):
	case !path.IsAbs(addr) || strings.HasSuffix(addr, "/"):
		at.fail(p, rule("%s is not an absolute path to a file", addr))
	}
}

// alphaSelector is ValidateAlphaWorkloadSelector (Sidecar, ServiceEntry):
// errors for empty keys and wildcards; an empty label set is a warning.
func alphaSelector(at *locator, p string, sel *networking.WorkloadSelector, what string) {
	if sel == nil {
		return
	}
	selectorLabels(at, p+".labels", sel.GetLabels())
	if len(sel.GetLabels()) == 0 {
		at.warn(p, fmt.Errorf("%s: workload selector specified without labels, will be applied to all services in namespace", what))
	}
}

func selectorLabels(at *locator, p string, labels map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		kp := p + "[" + k + "]"
		if k == "" {
			at.fail(kp, rule("empty key is not supported in selector: %q", k+"="+v))
		}
		if strings.Contains(k, "*") || strings.Contains(v, "*") {
			at.fail(kp, rule("wildcard is not supported in selector: %q", k+"="+v))
		}
	}
}

// validateSidecar is ValidateSidecar.
func validateSidecar(at *locator, namespace string, s *networking.Sidecar) {
	alphaSelector(at, "spec.workloadSelector", s.GetWorkloadSelector(), "sidecar")
	if len(s.GetEgress()) == 0 && len(s.GetIngress()) == 0 && s.GetOutboundTrafficPolicy() == nil && s.GetInboundConnectionPool() == nil {
		at.fail("spec", rule("sidecar: empty configuration provided"))
		return
	}

	ports := map[uint32]bool{}
	for i, in := range s.GetIngress() {
		ip := index("spec.ingress", i)
		port := in.GetPort()
		if port == nil {
			at.fail(ip, &ruleError{kind: ErrMissingField, msg: "sidecar: port is required for ingress listeners"})
			continue
		}
		if port.GetTargetPort() > 0 { //nolint:staticcheck // deprecated field, still rejected
			at.fail(ip+".port.targetPort", rule("targetPort has no impact on Sidecars"))
		}
		// validateSidecarIngressPortAndBind
		if port.GetName() != "" {
			portName(at, ip+".port.name", port.GetName())
		}
		protocolName(at, ip+".port.protocol", port.GetProtocol())
		portNumber(at, ip+".port.number", int(port.GetNumber()))
		if b := in.GetBind(); b != "" {
			ipAddress(at, ip+".bind", b)
		}
		if ports[port.GetNumber()] {
			at.fail(ip+".port.number", rule("sidecar: ports on IP bound listeners must be unique"))
		}
		ports[port.GetNumber()] = true
		if ep := in.GetDefaultEndpoint(); ep != "" {
			sidecarDefaultEndpoint(at, ip+".defaultEndpoint", ep)
		}
	}

	clear(ports)
	uds := map[string]bool{}
	catchAll := false
	egress := s.GetEgress()
	for i, e := range egress {
		ep := index("spec.egress", i)
		// There can be only one catch-all listener (no port), and it must
		// be the last one.
		if e.GetPort() == nil {
			if catchAll {
				at.fail(ep, rule("sidecar: egress can have only one listener with empty port"))
				continue
			}
			if i == len(egress)-1 {
				catchAll = true
			} else {
				at.fail(ep, rule("sidecar: the egress listener with empty port should be the last listener in the list"))
			}
		} else {
			port := e.GetPort()
			if port.GetTargetPort() > 0 { //nolint:staticcheck // deprecated field, still rejected
				at.fail(ep+".port.targetPort", rule("targetPort has no impact on Sidecars"))
			}
			sidecarEgressPort(at, ep, port, e.GetBind(), e.GetCaptureMode())
			if port.GetNumber() == 0 {
				if uds[e.GetBind()] {
					at.fail(ep+".bind", rule("sidecar: unix domain socket values for listeners must be unique"))
				}
				uds[e.GetBind()] = true
			} else {
				if ports[port.GetNumber()] {
					at.fail(ep+".port.number", rule("sidecar: ports on IP bound listeners must be unique"))
				}
				ports[port.GetNumber()] = true
			}
		}
		hosts := e.GetHosts()
		if len(hosts) == 0 {
			at.fail(ep+".hosts", &ruleError{kind: ErrMissingField, msg: "sidecar: egress listener must contain at least one host"})
			continue
		}
		seen := map[string]map[string]bool{}
		for j, h := range hosts {
			hp := index(ep+".hosts", j)
			if ns, svc, ok := strings.Cut(h, "/"); ok && !strings.HasPrefix(ns, "~") {
				if ns == "." {
					ns = namespace
				}
				if seen[ns] == nil {
					seen[ns] = map[string]bool{}
				}
				if (svc != "*" && (seen[ns][svc] || seen[ns]["*"])) || (svc == "*" && len(seen[ns]) != 0) {
					at.warn(hp, fmt.Errorf("duplicated egress host: %s", h))
				}
				seen[ns][svc] = true
			}
			if reasons := egressHost(h); len(reasons) > 0 {
				at.fail(hp, badValue(h, reasons))
			}
		}
		if seen["*"]["*"] && len(seen) != 1 {
			at.warn(ep+".hosts", errors.New("`*/*` host select all resources, no other hosts can be added"))
		}
	}

	// validateSidecarOutboundTrafficPolicy. Its rejection of MeshConfig's
	// ALLOW_ANY_DYNAMIC_DNS (3) is not ported: the CRD's enum lists only
	// REGISTRY_ONLY and ALLOW_ANY, so the walker already refuses it.
	if tp := s.GetOutboundTrafficPolicy(); tp != nil {
		if ep := tp.GetEgressProxy(); ep != nil {
			switch {
			case tp.GetMode() != networking.OutboundTrafficPolicy_ALLOW_ANY:
				at.fail("spec.outboundTrafficPolicy.egressProxy", rule("sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode"))
			case ep.GetPort() == nil:
				at.fail("spec.outboundTrafficPolicy.egressProxy", &ruleError{kind: ErrMissingField, msg: "sidecar: egress_proxy port must be non-nil"})
			default:
				if msg := fqdn(ep.GetHost()); msg != "" {
					at.fail("spec.outboundTrafficPolicy.egressProxy.host", rule("%s", msg))
				}
			}
		}
	}
}

// sidecarEgressPort is validateSidecarEgressPortBindAndCaptureMode.
func sidecarEgressPort(at *locator, ep string, port *networking.SidecarPort, bind string, mode networking.CaptureMode) {
	if port.GetName() != "" {
		portName(at, ep+".port.name", port.GetName())
	}
	protocolName(at, ep+".port.protocol", port.GetProtocol())
	if port.GetNumber() == 0 {
		after, ok := strings.CutPrefix(bind, "unix://")
		if !ok {
			at.fail(ep+".bind", rule("sidecar: ports with 0 value must have a unix domain socket bind address"))
		} else {
			unixAddress(at, ep+".bind", after)
		}
		if mode != networking.CaptureMode_DEFAULT && mode != networking.CaptureMode_NONE {
			at.fail(ep+".captureMode", rule("sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners"))
		}
		return
	}
	portNumber(at, ep+".port.number", int(port.GetNumber()))
	if bind != "" {
		ipAddress(at, ep+".bind", bind)
	}
}

// sidecarDefaultEndpoint checks an ingress defaultEndpoint (ValidateSidecar).
func sidecarDefaultEndpoint(at *locator, p, ep string) {
	if after, ok := strings.CutPrefix(ep, "unix://"); ok {
		unixAddress(at, p, after)
		return
	}
	host, port, ok := splitHostPort(ep)
	if !ok {
		at.fail(p, rule("address %s: missing port in address", ep))
		return
	}
	if host != "" && host != "127.0.0.1" && host != "0.0.0.0" && host != "::1" && host != "::" {
		at.fail(p, rule("sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset"))
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		at.fail(p, rule("sidecar: defaultEndpoint port (%s) is not a number: %v", port, err))
		return
	}
	portNumber(at, p, n)
}

func splitHostPort(s string) (host, port string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", false
	}
	host, port = s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	} else if strings.Contains(host, ":") {
		return "", "", false
	}
	return host, port, true
}

// validateExportTo is validateExportTo: entries are ".", "*", a namespace
// name, or (ServiceEntry only) "~"; no duplicates; "*" and "~" alone.
func validateExportTo(at *locator, namespace string, exportTo []string, isServiceEntry, drWithSelector bool) {
	if len(exportTo) == 0 {
		return
	}
	set := map[string]bool{}
	for i, e := range exportTo {
		ep := index("spec.exportTo", i)
		key := e
		if e == "." {
			key = namespace
		}
		switch {
		case set[key] && key != e:
			at.fail(ep, rule("duplicate entries in exportTo: . and current namespace %s", namespace))
		case set[key]:
			at.fail(ep, rule("duplicate entries in exportTo for entry %s", e))
		case isServiceEntry && e == "~":
			set[key] = true
		case key == "~":
			at.fail(ep, rule("exportTo ~ (none) is not allowed for Istio configuration objects"))
		case key != "*" && key != "." && !isIstioLabel(key):
			at.fail(ep, rule("only .,*, or a valid DNS 1123 label is allowed as exportTo entry"))
		default:
			set[key] = true
		}
	}
	if drWithSelector && len(set) > 0 {
		if set[namespace] {
			if len(set) > 1 {
				at.fail("spec.exportTo", rule("destination rule with workload selector cannot have multiple entries in exportTo"))
			}
		} else {
			at.fail("spec.exportTo", rule("destination rule with workload selector cannot have exportTo beyond current namespace"))
		}
	}
	if set["*"] && len(exportTo) > 1 {
		at.fail("spec.exportTo", rule("cannot have both public (*) and non-public exportTo values for a resource"))
	}
	if set["~"] && len(exportTo) > 1 {
		at.fail("spec.exportTo", rule("cannot export service entry to no one (~) and someone"))
	}
}

// validateDestinationRule is the part of ValidateDestinationRule that
// concerns hosts, ports, subsets, exportTo and the selector.
func validateDestinationRule(at *locator, namespace string, d *networking.DestinationRule) {
	switch h := d.GetHost(); {
	case h == "":
		at.fail("spec.host", ErrMissingField)
	default:
		if msg := wildcardDomain(h); msg != "" {
			at.fail("spec.host", badValue(h, []string{msg}))
		}
	}
	trafficPolicyPorts(at, "spec.trafficPolicy", d.GetTrafficPolicy())
	names := map[string]bool{}
	for i, s := range d.GetSubsets() {
		sp := index("spec.subsets", i)
		if names[s.GetName()] {
			at.fail(sp+".name", rule("duplicate subset names: %s", s.GetName()))
		}
		names[s.GetName()] = true
		trafficPolicyPorts(at, sp+".trafficPolicy", s.GetTrafficPolicy())
	}
	validateExportTo(at, namespace, d.GetExportTo(), false, d.GetWorkloadSelector() != nil)
	if sel := d.GetWorkloadSelector(); sel != nil {
		selectorLabels(at, "spec.workloadSelector.matchLabels", sel.GetMatchLabels())
		if len(sel.GetMatchLabels()) == 0 {
			at.warn("spec.workloadSelector", errors.New("workload selector specified without labels"))
		}
	}
}

// trafficPolicyPorts is validatePortTrafficPolicies.
func trafficPolicyPorts(at *locator, p string, tp *networking.TrafficPolicy) {
	for i, pl := range tp.GetPortLevelSettings() {
		pp := index(p+".portLevelSettings", i)
		if pl.GetPort() == nil {
			at.fail(pp, &ruleError{kind: ErrMissingField, msg: "portTrafficPolicy must have valid port"})
			continue
		}
		portNumber(at, pp+".port.number", int(pl.GetPort().GetNumber()))
	}
}

// validateServiceEntry is the part of ValidateServiceEntry that concerns
// hosts, addresses, ports, exportTo and the selector.
func validateServiceEntry(at *locator, namespace string, s *networking.ServiceEntry) {
	alphaSelector(at, "spec.workloadSelector", s.GetWorkloadSelector(), "service entry")
	if s.GetWorkloadSelector() != nil && s.Endpoints != nil {
		at.fail("spec.endpoints", rule("only one of WorkloadSelector or Endpoints is allowed in Service Entry"))
	}
	if len(s.GetHosts()) == 0 {
		at.fail("spec.hosts", &ruleError{kind: ErrMissingField, msg: "service entry must have at least one host"})
	}
	res := s.GetResolution()
	for i, h := range s.GetHosts() {
		hp := index("spec.hosts", i)
		if h == "*" {
			at.fail(hp, rule("invalid host %s", h))
			continue
		}
		if msg := wildcardDomain(h); msg != "" {
			at.fail(hp, badValue(h, []string{msg}))
		}
		if msg := partialWildcard(h); msg != "" && res != networking.ServiceEntry_DYNAMIC_DNS {
			at.warn(hp, errors.New(msg))
		}
	}
	cidr := false
	for i, a := range s.GetAddresses() {
		ap := index("spec.addresses", i)
		if strings.Count(a, "/") == 1 {
			cidr = true
			if _, err := netip.ParsePrefix(a); err != nil {
				at.fail(ap, rule("%s is not a valid CIDR block", a))
			}
		} else {
			ipAddress(at, ap, a)
		}
	}
	if cidr && res != networking.ServiceEntry_NONE && res != networking.ServiceEntry_STATIC {
		at.fail("spec.addresses", rule("CIDR addresses are allowed only for NONE/STATIC resolution types"))
	}
	names, numbers := map[string]bool{}, map[uint32]bool{}
	for i, p := range s.GetPorts() {
		pp := index("spec.ports", i)
		if names[p.GetName()] {
			at.fail(pp+".name", rule("service entry port name %q already defined", p.GetName()))
		}
		names[p.GetName()] = true
		if numbers[p.GetNumber()] {
			at.fail(pp+".number", rule("service entry port %d already defined", p.GetNumber()))
		}
		numbers[p.GetNumber()] = true
		if p.GetTargetPort() != 0 {
			portNumber(at, pp+".targetPort", int(p.GetTargetPort()))
		}
		portName(at, pp+".name", p.GetName())
		protocolName(at, pp+".protocol", p.GetProtocol())
		portNumber(at, pp+".number", int(p.GetNumber()))
	}
	if (res == networking.ServiceEntry_DNS || res == networking.ServiceEntry_DNS_ROUND_ROBIN) && len(s.GetEndpoints()) == 0 {
		for i, h := range s.GetHosts() {
			if msg := fqdn(h); msg != "" {
				at.fail(index("spec.hosts", i), rule("hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode %s, %s", res, msg))
				break
			}
		}
	}
	validateExportTo(at, namespace, s.GetExportTo(), true, false)
}

// validatePeerAuthentication is ValidatePeerAuthentication. Port-level
// mTLS needs a selector: Istio rejects it otherwise, both in the webhook
// and in the CRD's CEL rule "portLevelMtls requires selector"
// (security/v1beta1/peer_authentication.proto; mtls-authn-authz.md §1.4).
func validatePeerAuthentication(at *locator, p *security.PeerAuthentication) {
	emptySelector := p.GetSelector() == nil || len(p.GetSelector().GetMatchLabels()) == 0
	if emptySelector && len(p.GetPortLevelMtls()) != 0 {
		at.fail("spec.portLevelMtls", rule("mesh/namespace peer authentication cannot have port level mTLS"))
	}
	if p.PortLevelMtls != nil && len(p.PortLevelMtls) == 0 {
		at.fail("spec.portLevelMtls", rule("port level mTLS, if defined, must have at least one element"))
	}
	ports := make([]uint32, 0, len(p.GetPortLevelMtls()))
	for port := range p.GetPortLevelMtls() {
		ports = append(ports, port)
	}
	slices.Sort(ports)
	for _, port := range ports {
		if port == 0 || port > 65535 {
			at.fail("spec.portLevelMtls["+strconv.FormatUint(uint64(port), 10)+"]", rule("port must be in range 1..65535"))
		}
	}
	if sel := p.GetSelector(); sel != nil {
		selectorLabels(at, "spec.selector.matchLabels", sel.GetMatchLabels())
		if len(sel.GetMatchLabels()) == 0 {
			at.warn("spec.selector", errors.New("workload selector specified without labels"))
		}
	}
}
