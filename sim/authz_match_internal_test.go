package sim

import (
	"regexp"
	"testing"
)

// TestNamespaceMatchIsTheRegex checks the substring form of namespaceMatch
// against the regex Istio generates for source.namespaces
// (srcNamespaceGenerator: .*/ns/<ns>/.*, fully anchored by Envoy).
func TestNamespaceMatchIsTheRegex(t *testing.T) {
	t.Parallel()
	values := []string{
		"spiffe://cluster.local/ns/shop/sa/web",
		"spiffe://cluster.local/ns/shop2/sa/web",
		"spiffe://cluster.local/ns/sho/sa/web",
		"spiffe://td/ns/a/ns/shop/sa/x",
		"spiffe://cluster.local/ns/shop",
		"/ns/shop/",
		"ns/shop/",
		"",
	}
	for _, ns := range []string{"shop", "a", "sho", "shop.x"} {
		got, err := namespaceMatch(ns)
		if err != nil {
			t.Fatal(err)
		}
		if got.op != 'c' {
			t.Errorf("namespaceMatch(%q).op = %q, want the substring form 'c'", ns, got.op)
		}
		re := regexp.MustCompile("^(?:.*/ns/" + regexp.QuoteMeta(ns) + "/.*)$")
		for _, v := range values {
			if want := re.MatchString(v); got.match(v) != want {
				t.Errorf("namespace %q on %q: match = %v, the regex says %v", ns, v, !want, want)
			}
		}
	}
}
