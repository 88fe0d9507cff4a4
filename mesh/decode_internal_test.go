package mesh

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDNS1123Label compares the label check with Kubernetes' expression
// (k8s.io/apimachinery validation.dns1123LabelFmt) on random strings.
func TestDNS1123Label(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	r := rand.New(rand.NewPCG(3, 4))
	const alphabet = "ab09-.A_\n"
	for range 50000 {
		b := make([]byte, r.IntN(6))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		if s := string(b); dns1123Label(s) != re.MatchString(s) {
			t.Fatalf("dns1123Label(%q) = %t, the expression says %t", s, dns1123Label(s), re.MatchString(s))
		}
	}
}

// TestSplitDocuments compares splitDocuments with a line-by-line reference
// (the loader's first version, which classified every line) on random
// streams of markers, directives, comments and content.
func TestSplitDocuments(t *testing.T) {
	t.Parallel()
	lines := []string{"---", "--- # c", "--- a: 1", "---x", "...", "... # c", "....", "%YAML 1.2", "  %x", "# c", "", "  ", "\t",
		"a: 1", " b", "-", "- x", ".5", "\ufeff---", "--- \r", "a\r", "\u00a0"}
	r := rand.New(rand.NewPCG(5, 6))
	type doc struct {
		Index, First int
		Text         string
	}
	flat := func(cs []chunk) (out []doc) {
		for _, c := range cs {
			out = append(out, doc{c.index, c.first, string(c.text)})
		}
		return out
	}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(10) {
			b.WriteString(lines[r.IntN(len(lines))])
			if r.IntN(8) > 0 {
				b.WriteByte('\n')
			}
		}
		src := []byte(b.String())
		if d := cmp.Diff(flat(splitDocumentsRef(src)), flat(splitDocuments(src))); d != "" {
			t.Fatalf("splitDocuments(%q) differs from the reference (-ref +got):\n%s", src, d)
		}
	}
}

func splitDocumentsRef(src []byte) []chunk {
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	var out []chunk
	start, startLine, line := 0, 1, 1
	content, directive := false, false
	flush := func(end int) {
		if content {
			out = append(out, chunk{index: len(out) + 1, first: startLine, text: src[start:end]})
		}
		content = false
	}
	for i := 0; i < len(src); {
		j := bytes.IndexByte(src[i:], '\n')
		next := len(src)
		if j >= 0 {
			next = i + j + 1
		}
		l := bytes.TrimRight(src[i:next], "\r\n")
		switch {
		case isMarker(l, "---"):
			// A new document starts here, unless only a directive came
			// before, which belongs to this document.
			flush(i)
			if !directive {
				start, startLine = i, line
			}
			directive = false
			if rest := strings.TrimSpace(string(l[3:])); rest != "" && !strings.HasPrefix(rest, "#") {
				content = true
			}
		case isMarker(l, "..."):
			flush(next)
			start, startLine, directive = next, line+1, false
		default:
			switch t := bytes.TrimSpace(l); {
			case len(t) == 0 || t[0] == '#':
			case t[0] == '%' && !content:
				if !directive {
					start, startLine = i, line
				}
				directive = true
			default:
				content = true
			}
		}
		i = next
		line++
	}
	flush(len(src))
	return out
}
