package sim

// The matchers AuthorizationPolicy values compile to, as Istio generates
// them for Envoy's RBAC filter (pilot/pkg/security/authz/model/generator.go,
// pilot/pkg/security/authz/matcher/*.go), and the trust-domain rewriting
// applied first (pilot/pkg/security/trustdomain/bundle.go).

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// strMatch is an Envoy StringMatcher or HeaderMatcher.
type strMatch struct {
	op   byte // 'e' exact, 'p' prefix, 's' suffix, 'c' contains, 'r' regex (full match), 'h' header present
	s    string
	re   *regexp.Regexp
	fold bool // ignore case
}

func (m strMatch) match(v string) bool {
	if m.fold {
		v = strings.ToLower(v)
	}
	switch m.op {
	case 'e':
		return v == m.s
	case 'p':
		return strings.HasPrefix(v, m.s)
	case 's':
		return strings.HasSuffix(v, m.s)
	case 'c':
		return strings.Contains(v, m.s)
	case 'r':
		return m.re.MatchString(v)
	case 'h':
		return true
	}
	return false
}

// fullRegex compiles re as Envoy's safe_regex matches it: against the whole
// string (RE2 FullMatch).
func fullRegex(re string) (*regexp.Regexp, error) { return regexp.Compile("^(?:" + re + ")$") }

// withPrefix is matcher.StringMatcherWithPrefix: "*" is any non-empty
// value (regex ".+", the prefix ignored), "*x" a suffix, "x*" a prefix,
// anything else exact; prefix is prepended to the value.
func withPrefix(v, prefix string) strMatch {
	switch {
	case v == "*":
		return strMatch{op: 'r', re: regexp.MustCompile(`^(?:.+)$`)}
	case strings.HasPrefix(v, "*"):
		if prefix == "" {
			return strMatch{op: 's', s: v[1:]}
		}
		return strMatch{op: 'r', re: regexp.MustCompile("^(?:" + prefix + ".*" + regexp.QuoteMeta(v[1:]) + ")$")}
	case strings.HasSuffix(v, "*"):
		return strMatch{op: 'p', s: prefix + strings.TrimSuffix(v, "*")}
	}
	return strMatch{op: 'e', s: prefix + v}
}

// headerMatch is matcher.HeaderMatcher (fold false) and HostMatcher (fold
// true): "*" is presence, "*x" a suffix, "x*" a prefix, else exact.
func headerMatch(v string, fold bool) strMatch {
	if fold {
		v = strings.ToLower(v)
	}
	switch {
	case v == "*":
		return strMatch{op: 'h'}
	case strings.HasPrefix(v, "*"):
		return strMatch{op: 's', s: v[1:], fold: fold}
	case strings.HasSuffix(v, "*"):
		return strMatch{op: 'p', s: v[:len(v)-1], fold: fold}
	}
	return strMatch{op: 'e', s: v, fold: fold}
}

// The characters of one path segment and of several, in Envoy's URI
// templates (extensions/path/uri_template_lib: kPathGlobRegex,
// kTextGlobRegex).
const (
	segmentGlob = `[a-zA-Z0-9-._~%!$&'()+,;:@=]+`
	pathGlob    = `[a-zA-Z0-9-._~%!$&'()+,;:@=/]*`
)

// pathMatch is generator.go pathGenerator: a URI template when the path
// holds {*} or {**} (matcher.PathTemplateMatcher), else
// matcher.PathMatcher(StringMatcher(path)).
func pathMatch(v string) (strMatch, error) {
	if !strings.Contains(v, "{*}") && !strings.Contains(v, "{**}") {
		return withPrefix(v, ""), nil
	}
	var b strings.Builder
	for i, seg := range strings.Split(v, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		switch seg {
		case "{*}":
			b.WriteString(segmentGlob)
		case "{**}":
			b.WriteString(pathGlob)
		default:
			b.WriteString(regexp.QuoteMeta(seg))
		}
	}
	re, err := fullRegex(b.String())
	if err != nil {
		return strMatch{}, err
	}
	return strMatch{op: 'r', re: re}, nil
}

// namespaceMatch is srcNamespaceGenerator: the regex .*/ns/<ns>/.* on the
// peer's SPIFFE URI, "*" in ns standing for ".*".
//
// Without "*" the regex is a substring test: "/ns/<ns>/" anywhere in a
// URI without line breaks (Envoy's RE2 "." matches anything but "\n";
// SPIFFE IDs never hold one), which is much cheaper to evaluate.
func namespaceMatch(v string) (strMatch, error) {
	if !strings.Contains(v, "*") {
		return strMatch{op: 'c', s: "/ns/" + v + "/"}, nil
	}
	parts := strings.Split(v, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	re, err := fullRegex(".*/ns/" + strings.Join(parts, ".*") + "/.*")
	return strMatch{op: 'r', re: re}, err
}

// serviceAccountMatch is srcServiceAccountGenerator (serviceAccountRegex):
// "sa" or "ns/sa", the namespace defaulting to the policy's.
func serviceAccountMatch(policyNS, v string) (strMatch, error) {
	ns, sa, ok := strings.Cut(v, "/")
	if !ok {
		ns, sa = policyNS, v
	}
	re, err := fullRegex(fmt.Sprintf("spiffe://.+/ns/%s/(.+/|)sa/%s(/.+)?", regexp.QuoteMeta(ns), regexp.QuoteMeta(sa)))
	return strMatch{op: 'r', re: re}, err
}

// trustDomainMatch is srcTrustDomainGenerator.
func trustDomainMatch(v string) (strMatch, error) {
	switch {
	case v == "*":
		return strMatch{op: 'p', s: "spiffe://"}, nil
	case !strings.Contains(v, "*"):
		return strMatch{op: 'p', s: "spiffe://" + v + "/"}, nil
	}
	p0, p1, _ := strings.Cut(v, "*")
	re, err := fullRegex("spiffe://" + regexp.QuoteMeta(p0) + "[^/]*" + regexp.QuoteMeta(p1) + "/.*")
	return strMatch{op: 'r', re: re}, err
}

// cidr is util.AddrStrToCidrRange: an address or a CIDR.
func cidr(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		return netip.ParsePrefix(v)
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// port is convertToPort.
func port(v string) (uint32, error) {
	p, err := strconv.ParseUint(v, 10, 32)
	if err != nil || p > 65535 {
		return 0, fmt.Errorf("invalid port %q", v)
	}
	return uint32(p), nil
}

// tdBundle is trustdomain.Bundle: the mesh trust domain first, then its
// aliases.
type tdBundle []string

// replaceAliases is Bundle.ReplaceTrustDomainAliases: a principal whose
// trust domain is in the bundle (or is "cluster.local", the pointer to the
// local trust domain) is expanded to every trust domain of the bundle;
// others, and "*/ns/…", stay as written.
func (b tdBundle) replaceAliases(principals []string) []string {
	var out []string
	for _, p := range principals {
		parts := strings.Split(p, "/")
		if len(parts) != 5 || parts[0] == "*" {
			out = append(out, p)
			continue
		}
		td := parts[0]
		if !tdStringMatch(td, b) && td != "cluster.local" {
			out = append(out, p)
			continue
		}
		var forAliases []string
		for _, t := range b {
			np := p
			if !tdSuffixMatch(t, td) {
				np = t + "/" + strings.Join(parts[1:], "/")
			}
			if !slices.Contains(forAliases, np) {
				forAliases = append(forAliases, np)
			}
		}
		out = append(out, forAliases...)
	}
	return out
}

// expandAliases is Bundle.ExpandTrustDomainAliases: a value naming a trust
// domain of the bundle stands for all of them.
func (b tdBundle) expandAliases(vals []string) []string {
	var out []string
	for _, v := range vals {
		add := []string{v}
		if slices.Contains(b, v) {
			add = b
		}
		for _, a := range add {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// tdStringMatch is trustdomain.stringMatch: exact, "*", prefix or suffix
// patterns on either side.
func tdStringMatch(a string, list []string) bool {
	for _, s := range list {
		if a == s || s == "*" || tdPrefixMatch(a, s) || tdPrefixMatch(s, a) || tdSuffixMatch(a, s) || tdSuffixMatch(s, a) {
			return true
		}
	}
	return false
}

func tdPrefixMatch(a, pattern string) bool {
	p, ok := strings.CutSuffix(pattern, "*")
	return ok && strings.HasPrefix(a, p)
}

func tdSuffixMatch(a, pattern string) bool {
	p, ok := strings.CutPrefix(pattern, "*")
	return ok && strings.HasSuffix(a, p)
}
