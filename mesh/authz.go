package mesh

import (
	"strconv"
	"strings"
	"time"
)

// AuthzAction is an AuthorizationPolicy action. The zero value is
// ActionAllow, as in Istio (security/v1beta1/authorization_policy.proto:
// "Default is ALLOW if not specified").
type AuthzAction uint8

// AuthorizationPolicy actions, in istio.io/api security/v1beta1 order.
const (
	ActionAllow AuthzAction = iota
	ActionDeny
	ActionAudit
	ActionCustom
)

var actionNames = [...]string{"ALLOW", "DENY", "AUDIT", "CUSTOM"}

// String returns the manifest spelling: "ALLOW", "DENY", "AUDIT" or "CUSTOM".
func (a AuthzAction) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "AuthzAction(" + strconv.Itoa(int(a)) + ")"
}

// PolicyTargetRef is a targetRef (or an entry of targetRefs) of a policy.
type PolicyTargetRef struct {
	Group     string // "" is the core group
	Kind      string
	Name      string
	Namespace string // always "" in a valid policy
}

// AuthorizationPolicy is an Istio AuthorizationPolicy
// (security.istio.io v1 and v1beta1).
type AuthorizationPolicy struct {
	Ref Ref
	// Selector is spec.selector.matchLabels. Nil means no selector (every
	// workload of the namespace, or of the mesh in the root namespace); a
	// non-nil empty map is a selector without labels, which also selects
	// every workload.
	Selector map[string]string
	// TargetRefs are spec.targetRefs, or spec.targetRef when targetRefs is
	// empty (model.GetTargetRefs). A policy with targetRefs never applies to
	// sidecars.
	TargetRefs []PolicyTargetRef
	Action     AuthzAction
	// Provider is spec.provider.name (CUSTOM policies).
	Provider string
	// Rules are spec.rules. A policy without rules never matches: as ALLOW
	// it allows nothing.
	Rules []AuthzRule
	// DryRun is the istio.io/dry-run annotation: the policy is evaluated
	// for logs only and never enforced (ALLOW and DENY).
	DryRun  bool
	Created time.Time
	Pos     Pos
}

// AuthzRule is one entry of AuthorizationPolicy.spec.rules. It matches when
// one of From, one of To and every When condition match; an empty list
// matches anything.
type AuthzRule struct {
	From []AuthzSource    // rules[].from[].source
	To   []AuthzOperation // rules[].to[].operation
	When []AuthzCondition
	Pos  Pos // where the rule is declared
}

// AuthzSource is rules[].from[].source. Set fields are ANDed; the values
// of one field are ORed; a Not field matches when none of its values does.
type AuthzSource struct {
	Principals, NotPrincipals               []string
	RequestPrincipals, NotRequestPrincipals []string
	Namespaces, NotNamespaces               []string
	ServiceAccounts, NotServiceAccounts     []string
	IPBlocks, NotIPBlocks                   []string
	RemoteIPBlocks, NotRemoteIPBlocks       []string
	TrustDomains, NotTrustDomains           []string
}

// AuthzOperation is rules[].to[].operation, with the same AND/OR rules as
// AuthzSource.
type AuthzOperation struct {
	Hosts, NotHosts     []string
	Ports, NotPorts     []string
	Methods, NotMethods []string
	Paths, NotPaths     []string
}

// AuthzCondition is one entry of rules[].when.
type AuthzCondition struct {
	Key       string
	Values    []string
	NotValues []string
}

// DefaultServiceAccount is the service account of a pod that names none.
const DefaultServiceAccount = "default"

// SPIFFEID returns the SPIFFE identity Istio issues to a workload of
// namespace ns running as service account sa ("" means "default"):
// spiffe://<trustDomain>/ns/<ns>/sa/<sa>, with "@" in the trust domain
// replaced by "." (pkg/spiffe/spiffe.go genSpiffeURI, sanitizeTrustDomain).
func SPIFFEID(trustDomain, ns, sa string) string {
	if sa == "" {
		sa = DefaultServiceAccount
	}
	return "spiffe://" + strings.ReplaceAll(trustDomain, "@", ".") + "/ns/" + ns + "/sa/" + sa
}

// Identity returns the SPIFFE identity of w's certificate in a mesh with
// the given trust domain (see [SPIFFEID]).
func (w Workload) Identity(trustDomain string) string {
	return SPIFFEID(trustDomain, w.ID.Namespace, w.ServiceAccount)
}
